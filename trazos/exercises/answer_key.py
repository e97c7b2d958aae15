"""La clave de respuestas del profesorado, generada de las soluciones (nunca copiada a mano).

Para cada cuaderno, en orden: cada ejercicio con lo que pide, la pista que ve quien se
equivoca y la solución; cada «Para pensar» con su pregunta y la respuesta modelo. Así la
clave no puede separarse de los cuadernos: una prueba comprueba que está al día.

    python -m trazos clave            # escribe docs/clave_de_respuestas.md
"""

import re
from pathlib import Path

from . import EXERCISES, _load_all
from .solutions import exercise_keys, notebook_cells, open_question_keys, read_solutions, solutions_path

__all__ = ["answer_key", "KEY_PATH", "add_arguments", "run"]

ROOT = Path(__file__).resolve().parents[2]
KEY_PATH = ROOT / "docs" / "clave_de_respuestas.md"


def _title(cells):
    """El primer título (# ...) del cuaderno."""
    for kind, text in cells:
        if kind == "markdown":
            found = re.search(r"^#\s+(.+)$", text, re.MULTILINE)
            if found:
                return found[1].strip()
    return ""


def _question_text(cells, key):
    """El párrafo del cuaderno que plantea «Para pensar KEY»."""
    for kind, text in cells:
        if kind == "markdown" and f"Para pensar {key}" in text:
            paragraphs = [p for p in text.split("\n\n") if f"Para pensar {key}" in p]
            return paragraphs[0].strip()
    return ""


def answer_key(notebooks=ROOT / "notebooks"):
    """El texto Markdown de la clave de respuestas de todos los cuadernos con ejercicios."""
    _load_all()
    lines = ["# Clave de respuestas", "",
             "Generada con `python -m trazos clave` a partir de `soluciones/` y de los ejercicios de "
             "`trazos/exercises/`: no la edites a mano. Para el profesorado; no la repartas.", ""]
    for notebook in sorted(Path(notebooks).glob("[0-9][0-9]_*.ipynb")):
        keys, questions = exercise_keys(notebook), open_question_keys(notebook)
        if not keys and not questions:
            continue
        cells = notebook_cells(notebook)
        solutions = read_solutions(solutions_path(notebook))
        lines += [f"## {notebook.stem}: {_title(cells)}", ""]
        for key in keys:
            ex = EXERCISES[key]
            lines += [f"### Ejercicio {key}", "", ex.question, "", f"*Pista si se equivoca:* {ex.hint}", "",
                      "```python", solutions[key], "```", ""]
        for key in questions:
            answer = "\n".join(line.lstrip("#").strip() for line in solutions[key].splitlines())
            lines += [f"### Para pensar {key}", "", _question_text(cells, key), "", "*Respuesta modelo:*", "",
                      answer.strip(), ""]
    return "\n".join(lines).rstrip() + "\n"


def add_arguments(parser):
    """Las opciones de `python -m trazos clave`."""
    parser.description = "Escribe la clave de respuestas del profesorado a partir de soluciones/."
    parser.add_argument("--out", type=Path, default=KEY_PATH, metavar="FICHERO",
                        help=f"dónde se escribe (por defecto: {KEY_PATH.relative_to(ROOT)})")


def run(args):
    """`python -m trazos clave [--out FICHERO]`: escribe la clave de respuestas; devuelve el código de salida."""
    if not (ROOT / "soluciones").is_dir():
        print(f"Error: no encuentro la carpeta soluciones/ en {ROOT}: la clave se genera desde el repositorio del "
              "curso (git clone), no desde una instalación con pip.")
        return 2
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(answer_key(), encoding="utf-8")
    print(f"Clave de respuestas escrita en {args.out}")
    return 0
