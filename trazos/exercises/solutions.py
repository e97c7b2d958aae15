"""Las soluciones, fuera de los cuadernos: leerlas y rellenar con ellas los huecos de un cuaderno.

Cada cuaderno `notebooks/NN_nombre.ipynb` tiene su fichero `soluciones/NN_nombre.py`, un
Python normal partido en bloques por líneas `# %% CLAVE`:

    # %% 1.2
    lado = 24

    # %% 1.a
    # Respuesta modelo a «Para pensar 1.a»: ...

Un bloque de código sustituye los huecos (`nombre = ...`) de la celda que llama a
`check("1.2", ...)`; un bloque de comentarios es la respuesta modelo de una pregunta abierta
(«**Para pensar 1.a**» en el cuaderno). Con esto una prueba ejecuta cada cuaderno resuelto y
la clave de respuestas del profesorado se genera sin copiar nada a mano.
"""

import copy
import json
import re
from pathlib import Path

__all__ = ["BLANK", "CHECK", "OPEN_QUESTION", "read_solutions", "notebook_cells", "exercise_keys",
           "open_question_keys", "fill_notebook", "solutions_path"]

BLANK = re.compile(r"^(?P<indent>\s*)[\w\[\]\.]+(\s*,\s*[\w\[\]\.]+)*\s*=\s*\.\.\.(\s*#.*)?$")  # `x = ...  # ...`
CHECK = re.compile(r"""check\(\s*["'](?P<key>\d+\.\d+)["']""")  # check("1.2", ...)
OPEN_QUESTION = re.compile(r"Para pensar (?P<key>\d+\.[a-z])\b")  # «Para pensar 1.a»
MARKER = re.compile(r"^# %% (?P<key>\d+\.(\d+|[a-z]))\b")


def solutions_path(notebook):
    """soluciones/NN_nombre.py del cuaderno notebooks/NN_nombre.ipynb (carpetas hermanas)."""
    notebook = Path(notebook)
    return notebook.parent.parent / "soluciones" / f"{notebook.stem}.py"


def read_solutions(path):
    """{clave: texto del bloque} de un fichero de soluciones, sin las líneas en blanco del final."""
    blocks, key = {}, None
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        found = MARKER.match(line)
        if found:
            key = found["key"]
            if key in blocks:
                raise ValueError(f"{path}: la clave {key} aparece dos veces.")
            blocks[key] = []
        elif key is not None:
            blocks[key].append(line)
    return {k: "\n".join(lines).strip("\n") for k, lines in blocks.items()}


def notebook_cells(notebook):
    """Las celdas de un cuaderno (ruta o diccionario ya leído) como [(tipo, texto)]."""
    nb = notebook if isinstance(notebook, dict) else json.loads(Path(notebook).read_text(encoding="utf-8"))
    return [(cell["cell_type"], "".join(cell["source"])) for cell in nb["cells"]]


def exercise_keys(notebook):
    """Las claves de los ejercicios que comprueba el cuaderno, en orden."""
    return [m["key"] for kind, text in notebook_cells(notebook) if kind == "code" for m in CHECK.finditer(text)]


def open_question_keys(notebook):
    """Las claves de las preguntas abiertas («Para pensar 1.a») del cuaderno, en orden."""
    return [m["key"] for kind, text in notebook_cells(notebook) if kind == "markdown"
            for m in OPEN_QUESTION.finditer(text)]


def fill_notebook(notebook, solutions):
    """Copia del cuaderno (diccionario de nbformat) con los huecos de cada ejercicio rellenos.

    En la celda que comprueba el ejercicio K, el primer hueco se sustituye por el bloque K
    (con la sangría del hueco) y los demás huecos de esa celda se quitan: el bloque los
    define todos. Una celda con huecos y sin solución, o al revés, es un error.
    """
    nb = copy.deepcopy(notebook)
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        text = "".join(cell["source"])
        keys = [m["key"] for m in CHECK.finditer(text)]
        lines = text.split("\n")
        blanks = [i for i, line in enumerate(lines) if BLANK.match(line)]
        if not keys:
            if blanks:
                raise ValueError(f"Una celda tiene huecos (`= ...`) pero no llama a check():\n{text}")
            continue
        if not blanks:
            raise ValueError(f"La celda del ejercicio {keys[0]} no tiene ningún hueco `nombre = ...`:\n{text}")
        missing = [k for k in keys if k not in solutions]
        if missing:
            raise ValueError(f"No hay solución para el ejercicio {', '.join(missing)}.")
        indent = BLANK.match(lines[blanks[0]])["indent"]
        block = "\n".join(indent + line if line else line
                          for k in dict.fromkeys(keys) for line in solutions[k].split("\n"))
        filled = lines[:blanks[0]] + [block] + [line for i, line in enumerate(lines[blanks[0] + 1:], blanks[0] + 1)
                                                  if i not in blanks]
        cell["source"] = "\n".join(filled)
    return nb
