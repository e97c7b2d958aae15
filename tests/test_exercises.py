"""El ayudante de ejercicios: pendiente con el hueco vacío, pista (nunca la respuesta) si está
mal, y correcto si está bien. Y cada ejercicio registrado se puede suspender."""

import pytest

from trazos import exercises
from trazos.exercises import PENDING, RIGHT, WRONG, check, exercise, status


@pytest.fixture
def doubled():
    """Un ejercicio de prueba: el doble de 21, con una pista concreta si el estudiante suma."""
    @exercise("99.1", "¿Cuánto es el doble de 21?", "multiplica, no sumes")
    def checker(answer):
        if answer == 23:
            return "has sumado 2; el doble es multiplicar por 2"
        return answer == 42
    yield
    del exercises.EXERCISES["99.1"]


def test_blank_is_pending_and_does_not_raise(doubled, capsys):
    for blank in (..., None):
        assert status("99.1", blank)[0] == PENDING
    check("99.1", ...)
    out = capsys.readouterr().out
    assert out.startswith(PENDING) and "pendiente" in out and "42" not in out


def test_wrong_gets_a_hint_never_the_answer(doubled):
    mark, text = status("99.1", 40)
    assert mark == WRONG and "Pista: multiplica, no sumes" in text and "42" not in text
    mark, text = status("99.1", 23)  # un error concreto tiene su pista concreta
    assert mark == WRONG and "has sumado 2" in text and "42" not in text
    mark, text = status("99.1", "cuarenta y dos")
    assert mark == WRONG and "42" not in text


def test_an_answer_that_breaks_the_checker_is_just_wrong(doubled):
    @exercise("99.2", "Una lista de tres números", "tres números entre corchetes")
    def checker(answer):
        return len(answer) == 3
    try:
        mark, text = status("99.2", 7)  # len(7) lanza TypeError: el cuaderno no debe romperse
        assert mark == WRONG and "TypeError" in text and "Pista: tres números" in text
        assert status("99.2", [1, 2, 3])[0] == RIGHT
    finally:
        del exercises.EXERCISES["99.2"]


def test_right_is_confirmed(doubled, capsys):
    check("99.1", 42)
    assert capsys.readouterr().out.startswith(f"{RIGHT} Ejercicio 99.1: ¡correcto!")


def test_unknown_key_and_duplicates_are_errors(doubled):
    with pytest.raises(ValueError, match="No hay ningún ejercicio"):
        status("98.7", 1)
    with pytest.raises(ValueError, match="ya está registrado"):
        exercise("99.1", "otra vez", "pista")(lambda a: True)


def test_every_registered_exercise_rejects_a_nonsense_answer():
    """Ningún ejercicio del curso da por buena cualquier cosa (un objeto sin sentido)."""
    exercises._load_all()
    assert exercises.EXERCISES, "no hay ejercicios registrados"
    for key, ex in exercises.EXERCISES.items():
        args = ex.checker.__code__.co_argcount
        mark, text = status(key, *[object()] * args)
        assert mark == WRONG, f"el ejercicio {key} acepta una respuesta sin sentido"
        assert ex.hint and "Pista" in text
