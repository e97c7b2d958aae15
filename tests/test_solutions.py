"""Las soluciones viven fuera de los cuadernos: los cuadernos de los estudiantes no las
contienen, cada ejercicio y cada «Para pensar» tiene la suya, y con ellas cada cuaderno se
ejecuta de arriba abajo con todos los ejercicios correctos."""

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from trazos.classroom import web
from trazos.exercises import PENDING, RIGHT, WRONG
from trazos.exercises.solutions import (BLANK, exercise_keys, fill_notebook, notebook_cells, open_question_keys,
                                        read_solutions, solutions_path)

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WITH_EXERCISES = [nb for nb in NOTEBOOKS if exercise_keys(nb)]


def test_there_are_notebooks_with_exercises():
    assert len(NOTEBOOKS) >= 8 and WITH_EXERCISES


@pytest.mark.parametrize("notebook", WITH_EXERCISES, ids=lambda p: p.stem)
def test_every_exercise_and_question_has_a_solution(notebook):
    solutions = read_solutions(solutions_path(notebook))
    keys, questions = exercise_keys(notebook), open_question_keys(notebook)
    assert len(keys) == len(set(keys)), "un ejercicio se comprueba dos veces"
    assert sorted(set(keys) | set(questions)) == sorted(solutions), "ejercicios y soluciones no coinciden"
    for key in questions:  # las respuestas modelo son texto (comentarios), no código
        assert all(line.startswith("#") for line in solutions[key].splitlines() if line.strip()), key


@pytest.mark.parametrize("notebook", WITH_EXERCISES, ids=lambda p: p.stem)
def test_student_notebooks_have_blanks_and_no_solution(notebook):
    solutions = read_solutions(solutions_path(notebook))
    code = [text for kind, text in notebook_cells(notebook) if kind == "code"]
    for key in exercise_keys(notebook):
        cell = next(text for text in code if re.search(rf"""check\(\s*["']{re.escape(key)}["']""", text))
        assert any(BLANK.match(line) for line in cell.split("\n")), f"el ejercicio {key} no empieza en blanco"
        for line in solutions[key].split("\n"):  # ninguna línea de la solución está ya escrita
            if line.strip() and not line.strip().startswith("#"):
                assert line.strip() not in cell, f"la solución de {key} está en el cuaderno: {line.strip()}"


@pytest.mark.slow
@pytest.mark.notebooks
@pytest.mark.parametrize("notebook", WITH_EXERCISES, ids=lambda p: p.stem)
def test_solved_notebook_runs_with_every_exercise_right(notebook, executed_copies):
    student = json.loads(notebook.read_text(encoding="utf-8"))
    nb = nbformat.reads(json.dumps(fill_notebook(student, read_solutions(solutions_path(notebook)))), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(notebook.parent)}}).execute()
    # La copia ejecutada, con los ejercicios otra vez en blanco, para el sitio (tests/test_web.py).
    (executed_copies / notebook.name).write_text(json.dumps(web.student_copy(nb, student), ensure_ascii=False),
                                                 encoding="utf-8")
    verdicts = [line for cell in nb.cells if cell.cell_type == "code" for out in cell.get("outputs", [])
                if out.get("name") == "stdout" for line in out.get("text", "").splitlines()
                if line.startswith((PENDING, WRONG, RIGHT))]
    assert [v for v in verdicts if not v.startswith(RIGHT)] == []
    assert len(verdicts) == len(exercise_keys(notebook))


def test_answer_key_is_up_to_date():
    """La clave del profesorado se genera de las soluciones: si alguien las cambia, hay que regenerarla."""
    from trazos.exercises.answer_key import KEY_PATH, answer_key
    assert KEY_PATH.read_text(encoding="utf-8") == answer_key(), \
        "docs/clave_de_respuestas.md no está al día: ejecuta python -m trazos clave"
    text = KEY_PATH.read_text(encoding="utf-8")
    for notebook in WITH_EXERCISES:  # cada ejercicio y cada «Para pensar» tiene su apartado
        for key in exercise_keys(notebook):
            assert f"### Ejercicio {key}\n" in text
        for key in open_question_keys(notebook):
            assert f"### Para pensar {key}\n" in text
