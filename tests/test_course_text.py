"""El texto de los cuadernos: las cifras que se pueden comprobar y una sola manera de escribir los números.

- La respuesta modelo de «Para pensar 8.b» da el padding que de verdad conserva las 512 entradas.
- En la prosa de los cuadernos (fuera del código) los decimales llevan coma; los miles, punto a partir de
  cinco cifras («60.000», «421.642»; «9930», «3136» sin separador).
- Las celdas de código no formatean números con `:.Nf` ni `:.N%` (escriben punto decimal): usan
  `trazos.render.decimal` y `percent`.
- «Etapa» para las etapas de la red, también en los controles de los exploradores.
- En el 09 se elige con la validación (`val_acc`) y el test se mira una vez, después de elegir.
"""

import json
import re
from pathlib import Path

import pytest

from trazos import conv_output_size
from trazos.exercises.solutions import read_solutions

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SEGMENTS = re.compile(r"(```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$)", re.S)
EXERCISE = re.compile(r"(?:[Ee]jercicios?|el|de|y|,|Para pensar) (?:1[01]|[1-9])\.[1-9](?!\d)")
THOUSANDS = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{3})+(?!\d)(?!\.\d)")
FORMAT_SPEC = re.compile(r":[<>^=]?[+ ]?\d*\.\d+[f%]\}")


def cells(path, kind):
    return [c for c in json.loads(path.read_text(encoding="utf-8"))["cells"] if c["cell_type"] == kind]


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def point_decimals(markdown):
    """Los números con punto decimal de un texto en Markdown, fuera del código."""
    found = []
    parts = SEGMENTS.split(markdown)
    for k, part in enumerate(parts):
        if k % 2 == 1:
            if not part.startswith("`"):  # fórmula: ni ejercicios ni miles, solo {,} y {.}
                found += re.findall(r"\d+\.\d+", part)
            continue
        text = EXERCISE.sub(" ", part)
        for m in THOUSANDS.finditer(text):
            if int(m.group(0).replace(".", "")) < 10000:  # cuatro cifras se escriben sin punto
                found.append(m.group(0))
        found += re.findall(r"\d+\.\d+", THOUSANDS.sub(" ", text))
    return found


def test_point_decimals_detects_the_old_style():
    assert sorted(point_decimals("suman $11.107$ y 88.7; el 2.303")) == ["11.107", "2.303", "88.7"]
    assert point_decimals("el ejercicio 2.1, las 60.000 imágenes, $0{,}665$, `x = 0.5`, 421.642") == []
    assert point_decimals("una época sobre 2.000 ejemplos") == ["2.000"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_uses_decimal_comma(path):
    wrong = {i: point_decimals(source(c)) for i, c in enumerate(cells(path, "markdown"))}
    assert not {i: w for i, w in wrong.items() if w}, f"{path.name}: números con punto decimal en la prosa"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prose_uses_spanish_quotes(path):
    for cell in cells(path, "markdown"):
        text = re.sub(r"```.*?```|`[^`\n]*`", " ", source(cell), flags=re.S)
        assert '"' not in text, f"{path.name}: comillas rectas en «{text[:80]}...»"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_prints_use_the_library_rule(path):
    for cell in cells(path, "code"):
        specs = FORMAT_SPEC.findall(source(cell))
        assert not specs, f"{path.name}: {specs} escribe punto decimal; usa trazos.render.decimal o percent"


def test_format_spec_pattern_catches_old_prints():
    assert FORMAT_SPEC.findall('f"{x:.2%} {y:>12.4f} {g:+.2f}"') == [":.2%}", ":>12.4f}", ":+.2f}"]


def test_answer_8b_names_the_padding_that_keeps_512():
    def flat(padding):
        side = 16
        try:
            for _ in range(2):
                side = conv_output_size(side, 3, padding=padding, stride=2)
                side = conv_output_size(side, 2, stride=2)
        except ValueError:  # la imagen se queda sin píxeles antes de llegar a fc
            return 0
        return 32 * side * side

    keeping = [p for p in range(0, 10) if flat(p) == 512]
    assert keeping == [6]
    answer = read_solutions(ROOT / "soluciones" / "08_laboratorio.py")["8.b"]
    assert "padding 6" in answer and "512" in answer
    assert "No hay ninguno" not in answer
    question = next(source(c) for c in cells(ROOT / "notebooks" / "08_laboratorio.ipynb", "markdown")
                    if "Para pensar 8.b" in source(c))
    assert "stride 2" in question and "512" in question


def test_explorers_say_etapa():
    import torch
    from trazos.widgets import activation_explorer
    from trazos import CNN
    from trazos.data import Digits

    digits = Digits(torch.zeros(20, 1, 16, 16, dtype=torch.uint8), torch.arange(20) % 10)
    box = activation_explorer(CNN(), digits)
    descriptions = []

    def walk(widget):
        descriptions.append(getattr(widget, "description", ""))
        for child in getattr(widget, "children", ()):
            walk(child)

    walk(box)
    assert "etapa" in descriptions and "paso" not in descriptions


@pytest.mark.parametrize("name", ["06_activaciones", "08_laboratorio", "09_cambia_la_red"])
def test_network_stages_are_etapas(name):
    for cell in cells(ROOT / "notebooks" / f"{name}.ipynb", "markdown"):
        assert not re.search(r"\bpasos?\b", source(cell)), f"{name}: «paso» por «etapa» en {source(cell)[:80]!r}"


def test_09_chooses_by_validation_and_tests_once():
    code = [source(c) for c in cells(ROOT / "notebooks" / "09_cambia_la_red.ipynb", "code")]
    choose = [i for i, s in enumerate(code) if re.search(r"elegida = max\(.*val_acc", s)]
    assert len(choose) == 1, "una celda elige la variante por val_acc"
    tested = [i for i, s in enumerate(code) if "test_accuracy" in s or "evaluate(" in s and "test16" in s]
    assert tested and min(tested) > choose[0], "el test se mira después de elegir"
    assert not any("test_accuracy" in s or "test_acc" in s for s in code[:choose[0] + 1])


# --- Las referencias cruzadas: «sección N» y «ejercicio N.M» llevan a algo que existe ---------------------

SECTION_REF = re.compile(r"\b[Ss]ecci[oó]n (\d+)(?!\s+del (?:cuaderno|\d))")
HEADING = re.compile(r"^## (\d+)\.", re.M)
EXERCISE_REF = re.compile(r"(?<![\d.,])((?:1[01]|0?[1-9]))\.(\d{1,2})(?![\d.,]*\d)")


def sections(path):
    """{número de sección: índice de la celda de su título} de un cuaderno (los títulos «## N. ...»)."""
    found = {}
    for i, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] == "markdown":
            for m in HEADING.finditer(source(cell)):
                found[int(m.group(1))] = i
    return found


def section_of(path, index):
    """El número de la sección en la que está la celda `index` (None antes de la primera)."""
    before = [(start, n) for n, start in sections(path).items() if start <= index]
    return max(before)[1] if before else None


def prose(text):
    """El texto sin código (`...`, bloques ```), donde se escriben las referencias."""
    return re.sub(r"```.*?```|`[^`\n]*`", " ", text, flags=re.S)


def test_section_and_exercise_patterns():
    assert SECTION_REF.findall("en la sección 7, la sección 6 del cuaderno 03 y Sección 2: ") == ["7", "2"]
    found = [m.groups() for m in EXERCISE_REF.finditer("el ejercicio 6.5, el 11.2; 60.000 y 0,5; 1.234")]
    assert found == [("6", "5"), ("11", "2")]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_section_references_resolve(path):
    """Cada «sección N» de la prosa de un cuaderno es uno de sus títulos numerados («## N. ...»)."""
    numbered = sections(path)
    missing = [(m.group(0), source(c)[:60]) for c in cells(path, "markdown")
               for m in SECTION_REF.finditer(prose(source(c))) if int(m.group(1)) not in numbered]
    assert not missing, f"{path.name}: secciones que no existen: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_references_resolve(path):
    """Cada «ejercicio N.M» (o «el N.M») de la prosa es un ejercicio registrado."""
    from trazos.exercises import EXERCISES, _load_all
    _load_all()
    missing = [m.group(0) for c in cells(path, "markdown") for m in EXERCISE_REF.finditer(prose(source(c)))
               if f"{int(m.group(1))}.{m.group(2)}" not in EXERCISES]
    assert not missing, f"{path.name}: ejercicios que no existen: {missing}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_hints_point_to_their_section(path):
    """La pista de un ejercicio que empieza por «Sección N» señala la sección donde está el ejercicio."""
    from trazos.exercises import EXERCISES, _load_all
    from trazos.exercises.solutions import CHECK
    _load_all()
    notebook = json.loads(path.read_text(encoding="utf-8"))["cells"]
    wrong = []
    for i, cell in enumerate(notebook):
        for m in CHECK.finditer(source(cell)) if cell["cell_type"] == "code" else ():
            hint = re.match(r"Sección (\d+)\b", EXERCISES[m.group("key")].hint)
            if hint and int(hint.group(1)) != section_of(path, i):
                wrong.append(f"{m.group('key')}: la pista dice sección {hint.group(1)}, está en la "
                             f"{section_of(path, i)}")
    assert not wrong, f"{path.name}: {wrong}"


def test_11_text_references_the_sections_where_things_are():
    """Lo que el 11 promete «en la sección N» o «en el ejercicio 11.M» está allí."""
    from trazos.exercises.solutions import CHECK
    path = ROOT / "notebooks" / "11_que_mira_la_red.ipynb"
    notebook = json.loads(path.read_text(encoding="utf-8"))["cells"]
    where = {m.group("key"): section_of(path, i) for i, c in enumerate(notebook) if c["cell_type"] == "code"
             for m in CHECK.finditer(source(c))}
    for i, cell in enumerate(notebook):
        text = prose(source(cell)) if cell["cell_type"] == "markdown" else ""
        for m in re.finditer(r"ejercicio (11\.\d) de la sección (\d+)", text):
            assert where[m.group(1)] == int(m.group(2)), m.group(0)
    code = [source(c) for c in notebook if c["cell_type"] == "code"]
    receptive = next(i for i, c in enumerate(notebook) if "receptive_field(model, \"relu2\")" in source(c))
    assert section_of(path, receptive) == where["11.8"]
    assert any("grad_cam" in c and "layer=layer" in c for c in code)  # la rejilla de conv1 junto a la de conv2
