"""Los ejercicios juzgan la respuesta, no su tipo.

Una respuesta correcta vale escrita de cualquier forma válida: 24, 24.0, np.int64(24),
torch.tensor(24) o np.array([24]) para un número; tupla, lista, torch.Size, array o tensor
para una forma; lista, array o tensor para un kernel. Una respuesta del tipo equivocado (un
número entre comillas, una forma donde se pide un número...) recibe una pista en español que
dice qué se espera, nunca el texto de un error de Python.

De dónde salen las respuestas correctas, sin escribirlas aquí (así un ejercicio nuevo queda
cubierto sin tocar esta prueba): de `soluciones/NN_*.py`, como las usa el cuaderno resuelto.

- Vía rápida: en un espacio de nombres con los `import` del cuaderno se ejecuta la celda del
  ejercicio ya rellena con su solución (`fill_notebook`), con un `check` que solo apunta lo que
  recibe. Vale para casi todos los bloques: son literales o cuentas con lo importado.
- Vía lenta (marcada `slow`): si esa celda necesita el estado del cuaderno (5.4 usa `after`,
  7.1 usa `matrix`...), falla al ejecutarla sola; entonces se ejecuta el cuaderno resuelto con
  nbclient, una vez por sesión y cuaderno, hasta su último ejercicio, con una primera celda que
  envuelve `trazos.exercises.status` para guardar (con pickle) lo que recibe cada `check`. Se
  decide al recoger las pruebas, así que no hace falta ninguna lista de claves a mano.

También son lentas las comprobaciones que cargan la red entrenada del curso (se ve en su código:
usan `trained_model`). Y, antes de nada, la propia solución tiene que dar «correcto»: si la
respuesta derivada estuviera mal, la prueba lo diría, en vez de pasar sin comprobar nada.
"""

import ast
import contextlib
import functools
import inspect
import io
import json
import numbers
import pickle
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient
from torch import nn

from trazos import exercises
from trazos.exercises import PENDING, RIGHT, WRONG, as_array, status
from trazos.exercises.solutions import CHECK, fill_notebook, notebook_cells, read_solutions

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "soluciones").glob("[0-9][0-9]_*.py"))
PYTHON_ERRORS = re.compile(r"Error|Exception|Traceback|object is not|not iterable|has no attribute|"
                           r"unsupported operand|NoneType")


# ---------------------------------------------------------------------------------------------
# Las respuestas de las soluciones

def _is_code(block):
    return any(line.strip() and not line.strip().startswith("#") for line in block.splitlines())


def _exercise_keys():
    """[(cuaderno, clave)] de cada bloque de código de cada fichero de soluciones."""
    found = []
    for path in SOLUTIONS:
        notebook = ROOT / "notebooks" / f"{path.stem}.ipynb"
        found += [(notebook, key) for key, block in read_solutions(path).items() if _is_code(block)]
    return found


@functools.lru_cache(maxsize=None)
def _filled(notebook):
    """El cuaderno con los huecos rellenos por sus soluciones (diccionario de nbformat)."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    return fill_notebook(nb, read_solutions(ROOT / "soluciones" / f"{notebook.stem}.py"))


def _python(text):
    """El código de una celda como Python normal (las líneas mágicas de IPython pasan a get_ipython())."""
    return TransformerManager().transform_cell(text)


@functools.lru_cache(maxsize=None)
def _imports(notebook):
    """Un espacio de nombres con todo lo que importan las celdas del cuaderno (y nada más)."""
    namespace = {}
    for kind, text in notebook_cells(notebook):
        if kind != "code":
            continue
        try:
            tree = ast.parse(_python(text))
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                try:
                    exec(compile(ast.Module([node], []), str(notebook), "exec"), namespace)  # noqa: S102
                except ImportError:  # si una celda lo necesita, fallará sola y se irá a la vía lenta
                    pass
    return namespace


@functools.lru_cache(maxsize=None)
def _quick_answers(notebook, key):
    """Las respuestas del ejercicio `key` ejecutando solo su celda resuelta; None si necesita el cuaderno."""
    cell = next("".join(c["source"]) for c in _filled(notebook)["cells"]
                if c["cell_type"] == "code" and key in [m["key"] for m in CHECK.finditer("".join(c["source"]))])
    recorded = {}
    namespace = dict(_imports(notebook))
    namespace["check"] = lambda k, *answers: recorded.setdefault(k, answers)
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # lo que imprime la celda no interesa aquí
            exec(compile(_python(cell), f"<{key}>", "exec"), namespace)  # noqa: S102
    except Exception:  # noqa: BLE001 - le falta el estado del cuaderno (p. ej. `after`): vía lenta
        return None
    return recorded.get(key)


RECORDER = """
import pickle as _pickle_for_test
import trazos.exercises as _exercises_for_test
_recorded_for_test, _status_for_test = {}, _exercises_for_test.status

def _picklable_for_test(answer):
    # Un explorador en vivo (hilos, widgets) no se puede guardar; su comprobación solo lee su timeline.
    if hasattr(answer, "timeline") and hasattr(answer, "play"):
        import types
        return types.SimpleNamespace(timeline=list(answer.timeline))
    return answer

def _recording_status(key, *answers):
    try:  # en el momento del check: una celda posterior podría cambiar la variable
        _recorded_for_test[key] = _pickle_for_test.dumps(tuple(_picklable_for_test(a) for a in answers))
    except Exception:
        pass
    return _status_for_test(key, *answers)

_exercises_for_test.status = _recording_status
"""

DUMP = """
with open({path!r}, "wb") as _file_for_test:
    _pickle_for_test.dump(_recorded_for_test, _file_for_test)
"""


@pytest.fixture(scope="session")
def notebook_runs(tmp_path_factory):
    """run(cuaderno) -> ({clave: respuestas}, celdas ejecutadas), con el cuaderno resuelto hasta su último
    ejercicio (una vez por cuaderno y sesión)."""
    done = {}

    def run(notebook):
        if notebook not in done:
            filled = _filled(notebook)
            last = max(i for i, c in enumerate(filled["cells"]) if c["cell_type"] == "code"
                       and CHECK.search("".join(c["source"])))
            out = tmp_path_factory.mktemp("respuestas") / f"{notebook.stem}.pickle"
            cells = [nbformat.v4.new_code_cell(RECORDER)] + filled["cells"][:last + 1] + \
                [nbformat.v4.new_code_cell(DUMP.format(path=str(out)))]
            nb = nbformat.reads(json.dumps({**filled, "cells": cells}), as_version=4)
            NotebookClient(nb, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(notebook.parent)}}).execute()
            answers = {k: pickle.loads(v) for k, v in pickle.loads(out.read_bytes()).items()}
            done[notebook] = answers, nb.cells[1:-1]  # sin la celda que graba ni la que guarda
        return done[notebook]

    return run


@pytest.fixture(scope="session")
def notebook_answers(notebook_runs):
    """answers(cuaderno) -> {clave: respuestas}, ejecutando el cuaderno resuelto (una vez por cuaderno)."""
    return lambda notebook: notebook_runs(notebook)[0]


def _uses_course_model(key):
    """¿La comprobación de `key` carga la red entrenada del curso (ella o una función suya)?"""
    exercises._load_all()
    checker = exercises.EXERCISES[key].checker
    module = sys.modules[checker.__module__]
    sources = [inspect.getsource(checker)]
    for name in checker.__code__.co_names:
        helper = getattr(module, name, None)
        if callable(helper) and getattr(helper, "__module__", None) == module.__name__:
            try:
                sources.append(inspect.getsource(helper))
            except (OSError, TypeError):
                pass
    return any("trained_model" in source for source in sources)


def _params():
    params = []
    for notebook, key in _exercise_keys():
        slow = _quick_answers(notebook, key) is None or _uses_course_model(key)
        params.append(pytest.param(notebook, key, id=key, marks=[pytest.mark.slow] if slow else []))
    return params


PARAMS = _params()


@pytest.fixture
def answers_of(notebook_answers):
    def answers(notebook, key):
        found = _quick_answers(notebook, key)
        if found is None:
            found = notebook_answers(notebook).get(key)
        assert found is not None, f"no se pudo obtener la respuesta del ejercicio {key} de su solución"
        assert status(key, *found)[0] == RIGHT, f"la solución del ejercicio {key} no da «correcto»"
        return list(found)
    return answers


# ---------------------------------------------------------------------------------------------
# Las formas de escribir una misma respuesta, y las que no son del tipo pedido

def _kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, numbers.Real):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, tuple) and value and all(isinstance(n, int) and not isinstance(n, bool) for n in value):
        return "shape"
    if isinstance(value, (list, tuple)) and as_array(value) is not None:
        return "array"
    return "other"


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value


def valid_forms(value):
    """[(nombre, forma)] de las formas válidas de escribir la respuesta `value`."""
    kind = _kind(value)
    if kind == "number":
        forms = [("float", float(value)), ("np.float64", np.float64(value)), ("np.float32", np.float32(value)),
                 ("tensor 0-d", torch.tensor(float(value))), ("tensor float64", torch.tensor(float(value),
                                                                                           dtype=torch.float64)),
                 ("tensor [1]", torch.tensor([float(value)])), ("array [1]", np.array([value])),
                 ("array 0-d", np.array(value))]
        if float(value).is_integer():
            n = int(value)
            forms += [("int", n), ("np.int64", np.int64(n)), ("np.int32", np.int32(n)), ("tensor int", torch.tensor(n)),
                      ("tensor int [1]", torch.tensor([n])), ("np.floor", np.floor(n + 0.5))]
        return forms
    if kind == "shape":
        return [("tuple", value), ("list", list(value)), ("torch.Size", torch.Size(value)),
                ("np.array", np.array(value)), ("tensor", torch.tensor(value)),
                ("tupla de np.int64", tuple(np.int64(n) for n in value))]
    if kind == "array":
        return [("list", value), ("tuple", _tuples(value)), ("np.array", np.array(value)),
                ("np.float32", np.array(value, dtype=np.float32)), ("tensor", torch.tensor(value)),
                ("tensor float", torch.tensor(value, dtype=torch.float32))]
    if kind == "bool":
        return [("bool", value), ("np.bool_", np.bool_(value)), ("tensor bool", torch.tensor(value))]
    if kind == "text":
        return [("str", value), ("con espacios", f"  {value} "), ("np.str_", np.str_(value))]
    return [("tal cual", value)]


def wrong_kinds(value):
    """[(nombre, respuesta)] del tipo equivocado para una respuesta como `value`."""
    common = [("texto", "abc"), ("vacío", ""), ("objeto", object()), ("dict", {}), ("capa", nn.Linear(2, 2))]
    kind = _kind(value)
    if kind == "number":
        return common + [("entre comillas", str(value)), ("bool", True), ("forma", (3, 4, 5)), ("lista", [value]),
                         ("tensor de 3", torch.zeros(3)), ("array 2x2", np.zeros((2, 2)))]
    if kind == "shape":
        return common + [("entre comillas", str(value)), ("número", value[0]), ("bool", True),
                         ("anidada", ((1, 2), (3, 4))), ("con decimales", (1.5, 2)), ("tensor 2x2", torch.zeros(2, 2))]
    if kind == "array":
        return common + [("número", 3), ("bool", True), ("desigual", [[1, 2], [3]]), ("textos", ["a", "b", "c"])]
    if kind == "text":
        return [("número", 3), ("decimal", 3.5), ("bool", True), ("objeto", object()), ("tupla", (value,)),
                ("capa", nn.Linear(2, 2))]
    if kind == "bool":
        return common + [("entre comillas", str(value)), ("número", 0)]
    if kind == "other":
        return [("número", 3), ("texto", "abc"), ("objeto", object()), ("tupla", (3, 4))]
    return []


def _hint(text):
    return text.split("Pista: ", 1)[1] if "Pista: " in text else text


# ---------------------------------------------------------------------------------------------
# Las pruebas generales: cada ejercicio de cada fichero de soluciones

def test_every_solution_block_is_covered():
    keys = [key for _, key in _exercise_keys()]
    assert len(keys) >= 40 and {"1.1", "2.2", "4.4", "5.4", "9.5"} <= set(keys)


@pytest.mark.parametrize("notebook,key", PARAMS)
def test_every_valid_form_of_the_answer_is_right(notebook, key, answers_of):
    answers = answers_of(notebook, key)
    wrong = []
    for i, value in enumerate(answers):
        for name, form in valid_forms(value):
            given = answers[:i] + [form] + answers[i + 1:]
            mark, text = status(key, *given)
            if mark != RIGHT:
                wrong.append(f"respuesta {i + 1} como {name} ({form!r}): {text}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("notebook,key", PARAMS)
def test_a_number_in_quotes_gets_a_hint_about_the_kind(notebook, key, answers_of):
    answers = answers_of(notebook, key)
    general = exercises.EXERCISES[key].hint
    for i, value in enumerate(answers):
        kind = _kind(value)
        if kind not in ("number", "shape"):
            continue
        quoted = str(int(value)) if kind == "number" and float(value).is_integer() else str(value)
        mark, text = status(key, *answers[:i], quoted, *answers[i + 1:])
        hint = _hint(text)
        assert mark == WRONG, f"{key}: {quoted!r} entre comillas no puede estar bien"
        assert hint != general, f"{key}: {quoted!r} recibe la pista general, no una sobre el tipo: {text}"
        assert ("número" if kind == "number" else "forma") in hint, f"{key}: la pista no dice qué se espera: {text}"
        assert not PYTHON_ERRORS.search(hint), f"{key}: {text}"
        if kind == "number" and float(value).is_integer():  # la pista no da la respuesta
            answer = rf"(?<![\d.,]){int(value)}(?![\d.,])"
            assert not re.search(answer, hint), f"{key}: la pista da la respuesta: {text}"


class LoadedTooEarly(Exception):
    pass


@pytest.mark.parametrize("notebook,key", PARAMS)
def test_wrong_kinds_get_a_spanish_hint_before_loading_anything(notebook, key, answers_of, monkeypatch):
    """Nunca el texto de un error de Python; y se rechazan sin cargar datos ni la red (es instantáneo)."""
    answers = answers_of(notebook, key)

    def too_early(*args, **kwargs):
        raise LoadedTooEarly("se ha cargado algo antes de comprobar el tipo de la respuesta")

    for name, module in list(sys.modules.items()):
        if name in ("trazos.training", "trazos.data") or name.startswith("trazos.exercises."):
            for attr in ("trained_model", "load_mnist"):
                if hasattr(module, attr):
                    monkeypatch.setattr(module, attr, too_early)
    bad = []
    for i, value in enumerate(answers):
        for name, answer in wrong_kinds(value):
            mark, text = status(key, *answers[:i], answer, *answers[i + 1:])
            if mark != WRONG or PYTHON_ERRORS.search(_hint(text)) or "LoadedTooEarly" in text:
                bad.append(f"respuesta {i + 1} como {name} ({answer!r}): {mark} {text}")
    assert not bad, "\n".join(bad)


# ---------------------------------------------------------------------------------------------
# Los casos que encontró un usuario

@pytest.mark.parametrize("answer", [np.int64(24), torch.tensor(24), np.floor((28 - 5) / 1) + 1, 24.0,
                                    np.array([24]), torch.tensor([24.0])],
                         ids=["np.int64", "tensor", "np.floor", "float", "array", "tensor [1]"])
def test_1_1_accepts_numpy_and_torch(answer):
    assert status("1.1", answer)[0] == RIGHT


def test_1_1_still_gives_its_specific_hints():
    assert "+ 1" in status("1.1", np.int64(23))[1]  # el error concreto, con el número de NumPy
    assert "suelo" in status("1.1", torch.tensor(23.5))[1]
    assert status("1.1", [24])[0] == WRONG and "un número" in status("1.1", [24])[1]


@pytest.mark.slow
def test_5_4_accepts_the_tensor_of_max_and_names_the_usual_slips():
    from trazos.exercises.nb05 import vertical_line_patch
    from trazos.training import trained_model
    conv1 = trained_model("cnn", progress=False).model.conv1
    with torch.no_grad():
        products = (conv1.weight[:, 0] * vertical_line_patch()).sum(dim=(1, 2))
        responses = products + conv1.bias
    for right in (responses.max(), np.float32(responses.max()), round(float(responses.max()), 2)):
        assert status("5.4", right)[0] == RIGHT
    slips = {"argmax": (responses.argmax(), "número del kernel"), "sin sesgo": (products.max(), "sesgo"),
             "la más negativa": (responses.min(), "más positiva"),
             "su valor absoluto": (-responses.min(), "más positiva")}
    for name, (answer, hint) in slips.items():
        mark, text = status("5.4", answer)
        assert mark == WRONG and hint in text, f"{name}: {text}"


def test_5_3_accepts_a_0d_tensor_and_hints_in_spanish():
    right = (1 / (3 * 64 * 3 * 3)) ** 0.5
    assert status("5.3", torch.tensor(right))[0] == RIGHT
    assert status("5.3", np.float32(right))[0] == RIGHT
    mark, text = status("5.3", torch.tensor(right) ** 2)  # la varianza: su pista concreta, sin TypeError
    assert mark == WRONG and "varianza" in text and "TypeError" not in text
    mark, text = status("5.3", "0.024")
    assert mark == WRONG and "número" in text and "TypeError" not in text


@pytest.mark.parametrize("answer", [torch.tensor(0), np.int64(0), 0.0, np.array([0])])
def test_2_4_accepts_tensor_and_numpy_zero(answer):
    assert status("2.4", answer)[0] == RIGHT


def test_2_4_rejects_a_real_wrong_dim():
    mark, text = status("2.4", torch.tensor(1))
    assert mark == WRONG and "dimensión" in text


def test_2_2_accepts_numpy_and_torch():
    for answer in (np.array([0.2, 0.2, 0.6]), torch.tensor([0.2, 0.2, 0.6]), (0.2, 0.2, 0.6)):
        assert status("2.2", answer)[0] == RIGHT
    assert status("2.2", np.array([0.6, 0.2, 0.2]))[1].count("orden") == 1  # mal ordenado: su pista


def test_2_1_a_count_in_quotes_gets_a_hint_about_the_kind():
    mark, text = status("2.1", "filas", "6")
    assert mark == WRONG and "comillas" in text and "número" in text
    assert "una suma por cada fila" not in text  # la pista del número de sumas sería engañosa: el 6 está bien
    assert status("2.1", "filas", np.int64(6))[0] == RIGHT


def test_5_1_a_number_instead_of_a_shape():
    mark, text = status("5.1", 7)
    assert mark == WRONG and "not iterable" not in text and "Error" not in text
    assert "tupla" in text and "forma" in text.lower()


def test_4_4_judges_what_the_line_does():
    assert status("4.4", "model.zero_grad(); loss.backward()")[0] == RIGHT
    assert status("4.4", "tiny.zero_grad(); loss.backward()")[0] == RIGHT  # con el nombre del cuaderno
    mark, text = status("4.4", "optimizer.zero_grad()")  # la que ya está: no aprende
    assert mark == WRONG and "ya está en el bucle" in text
    mark, text = status("4.4", "loss.backward(); optimizer.step()")  # un paso de más
    assert mark == WRONG and "step" in text
    for broken in ("loss.backward(", "backward()"):  # Python inválido o que falla: pista, sin el error
        mark, text = status("4.4", broken)
        assert mark == WRONG and not PYTHON_ERRORS.search(_hint(text)), text


def test_a_decimal_comma_is_explained():
    mark, text = status("2.5", (1, 61), 1.5)  # my_loss = 1,61 es una tupla en Python
    assert mark == WRONG and "punto" in text


def test_a_blank_is_pending_whatever_the_other_answers_are():
    assert status("1.5", np.int64(2), ...)[0] == PENDING
    assert status("1.5", ..., torch.tensor(1))[0] == PENDING


# ---------------------------------------------------------------------------------------------
# La respuesta no está escrita encima del ejercicio

PRINTED_NUMBER = re.compile(r"(?<![\w.,])-?\d{1,3}(?:\.\d{3})+(?![\d,])|(?<![\w.,])-?\d+(?:[.,]\d+)?(?!\d)")
REFERENCES = re.compile(r"^#+ .*$|[Ss]ecci[oó]n(?:es)? \d+|cuadernos? \d+|(?:[Ee]jercicios?|[Ee]l|[Pp]ara pensar) "
                        r"\d+\.\w+", re.M)
PRINTED_PAIR = re.compile(r"\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)")


def printed_candidates(text):
    """Los números y pares «(a, b)» de un texto, como los copiaría un estudiante: 0,075 -> 0.075; 9.930 -> 9930;
    97,4 % también como 0.974."""
    found = [(int(a), int(b)) for a, b in PRINTED_PAIR.findall(text)]
    for m in PRINTED_NUMBER.finditer(text):
        token = m.group(0)
        value = float(token.replace(".", "")) if re.fullmatch(r"-?\d{1,3}(?:\.\d{3})+", token) else \
            float(token.replace(",", "."))
        found.append(value)
        if text[m.end():m.end() + 2].strip().startswith("%"):
            found.append(value / 100)
    return found


def test_printed_candidates_reads_spanish_numbers():
    found = printed_candidates("cambian 211 de 256; eps = 0,075; 97,4 % y 9.930 parámetros; la esquina (6, 10)")
    assert {211.0, 256.0, 0.075, 97.4, 0.974, 9930.0, (6, 10)} <= {v if isinstance(v, tuple) else round(v, 6)
                                                                    for v in found}


def _window_text(cells, start, end):
    """Lo que el estudiante tiene delante entre dos ejercicios: la prosa, los comentarios del código, lo que
    imprimen las celdas y el texto alternativo de sus figuras (sin los veredictos de los ejercicios anteriores)."""
    parts = []
    for cell in cells[start:end]:
        if cell.cell_type == "markdown":  # sin títulos ni referencias («sección 8», «ejercicio 6.5», «el 03»)
            parts.append(REFERENCES.sub(" ", cell.source))
            continue
        parts += [REFERENCES.sub(" ", line.split("#", 1)[1]) for line in cell.source.splitlines() if "#" in line]
        for out in cell.get("outputs", []):
            # De una figura, su texto alternativo (lo que lee un lector de pantalla; repite sus títulos)
            parts.append(out.get("metadata", {}).get("image/png", {}).get("alt", ""))
            if {"application/vnd.jupyter.widget-view+json", "image/png"} & set(out.get("data", {})):
                continue  # un explorador o una figura: su texto («<Figure size...>») no lo lee el estudiante
            text = out.get("text") or out.get("data", {}).get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            parts += [line for line in text.splitlines() if not line.startswith((PENDING, WRONG, RIGHT))]
    return "\n".join(parts)


# Lo que se prueba como respuesta. Ninguna comprobación acepta una respuesta mil veces mayor que la buena (aceptan
# un redondeo o, a lo sumo, la misma fracción escrita en porcentaje, ×100), y probarla puede costar caro: una cifra
# tomada por un padding o un lado hace que la comprobación construya mapas de ese tamaño (con el 08, antes de que
# su 8.2 rechazara los paddings que agrandan la imagen, el proceso de pytest llegó a 23 GB y el sistema lo mató).
LARGEST = 1000


def worth_trying(candidate, answer):
    """¿Podría `candidate` (un número o un par del texto) ser la respuesta `answer`? Del mismo tipo y no más de
    LARGEST veces mayor."""
    def near(c, a):
        return abs(c) <= LARGEST * max(1.0, abs(float(a)))
    if _kind(answer) == "number":
        return not isinstance(candidate, tuple) and near(candidate, answer)
    return isinstance(candidate, tuple) and len(candidate) == len(answer) and all(map(near, candidate, answer))


def test_worth_trying_bounds_the_candidates():
    assert worth_trying(24.0, 24) and worth_trying(97.4, 0.974) and worth_trying(0.5, 0.0001)
    assert not worth_trying(60000.0, 2) and not worth_trying((6, 10), 8) and not worth_trying(8.0, (6, 10))
    assert worth_trying((6, 10), (8, 3)) and not worth_trying((6, 100000), (8, 3))


# Las cifras que están encima de su ejercicio y coinciden con la respuesta sin darla, leídas una a una (issue 22):
# {ejercicio: [(la línea donde aparecen, por qué no dan la respuesta)]}. Solo esas líneas: la misma cifra escrita
# en otro sitio vuelve a contar.
COINCIDENCES = {
    "2.1": [(r"\(6, |\[6, |\b6 (?:primeras|filas|dígitos)",
             "la segunda respuesta, cuántas sumas, es el número de filas (6) o el de columnas (10), y el cuaderno "
             "enseña los dos a propósito: lo que se pregunta es cuál de los dos (la primera respuesta)")],
    "6.3": [(r"la 0, la 1 y la 15", "son números de columna (las que fallan), no una cuenta de ventanas")],
    "7.1": [(r"confundidos con \(dígito: veces\)", "el 8 es un dígito, una clave del diccionario de la fila del 7")],
    "8.1": [(r"pesos de conv1 en cada época: \(|kernels de 3x3", "el 3 es el lado de los kernels (3x3)"),
            (r"distancia a los pesos iniciales / la final",
             "es lo recorrido desde el principio, no lo que falta hasta el final (lo que pide el 8.1): con ella se "
             "elegiría otra época")],
    "8.2": [(r"2p|2·|stride 2", "el 2 de 2p (un padding por cada lado), de las cuentas de ejemplo de la fórmula y "
                                "del stride del dibujo de ejemplo")],
    "10.4": [(r"paso \d+: \d+", "la lista de los pasos grabados (uno cada 20): la respuesta es uno de ellos por "
                              "fuerza; lo que se pregunta es cuál"),
             (r"La mitad del panel", "el paso en que la mitad del panel está en verde: otra medida, que en alguna "
                                     "máquina cae en el mismo paso (el entrenamiento es local)"),
             (r"\b160\b", "el último paso grabado, fijado por el código (10 + 150 pasos): si en una máquina el acierto "
                          "pasa del 80 % solo al final, la respuesta es ese"),
             (r"^80 %", "el umbral de la pregunta; que coincida con el paso depende de la máquina (el entrenamiento "
                        "es local)")],
}
LIST_MARKER = re.compile(r"^\s*\d+\.\s", re.M)  # «3. **Padding y stride**»: el número de una lista, no una cifra


def _explained(key, line):
    return any(re.search(pattern, line) for pattern, _ in COINCIDENCES.get(key, ()))


def printed_answers(answers, executed):
    """[(ejercicio, cifra, línea)] de las cifras que el estudiante tiene delante de un ejercicio (la prosa y las
    salidas desde el anterior) y que su comprobación da por buenas."""
    checks = [(i, m.group("key")) for i, c in enumerate(executed) if c.cell_type == "code"
              for m in CHECK.finditer(c.source)]
    found, start = [], 0
    for index, key in checks:
        text = LIST_MARKER.sub(" ", _window_text(executed, start, index))
        start = index + 1
        given = list(answers.get(key, ()))
        for position, value in enumerate(given):
            if _kind(value) not in ("number", "shape"):
                continue
            for line in text.splitlines():
                for candidate in printed_candidates(line):
                    if not worth_trying(candidate, value):
                        continue
                    trial = given[:position] + [candidate] + given[position + 1:]
                    if status(key, *trial)[0] == RIGHT and not _explained(key, line):
                        found.append((key, candidate, line.strip()))
    return found


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", sorted({nb for nb, _ in _exercise_keys()}), ids=lambda nb: nb.stem)
def test_no_answer_is_printed_above_its_exercise(notebook, notebook_runs):
    """Ningún número ni par que el estudiante tenga delante (la prosa y las salidas desde el ejercicio anterior)
    es ya la respuesta: se prueba cada uno, en el lugar de cada respuesta, con la comprobación del ejercicio."""
    found = printed_answers(*notebook_runs(notebook))
    assert not found, "\n".join(sorted({f"{key}: {candidate!r} ya está escrito encima del ejercicio: «{line}»"
                                         for key, candidate, line in found}))
