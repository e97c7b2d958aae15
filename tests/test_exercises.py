"""El ayudante de ejercicios: pendiente con el hueco vacío, pista (nunca la respuesta) si está
mal, y correcto si está bien. Y cada ejercicio registrado se puede suspender.

Las respuestas se leen con as_number, as_integer, as_shape... que aceptan cualquier forma
válida (NumPy, PyTorch); tests/test_exercise_forms.py lo prueba en cada ejercicio del curso."""

import numpy as np
import pytest
import torch

from trazos import exercises
from trazos.exercises import (PENDING, RIGHT, WRONG, as_array, as_bool, as_integer, as_number, as_shape, check,
                              exercise, integer_hint, number_hint, shape_hint, status)


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


@pytest.mark.parametrize("verdict", [True, np.True_, torch.tensor(True), torch.tensor([True]), np.array(True)],
                         ids=["True", "np.True_", "tensor", "tensor [1]", "array 0-d"])
def test_a_boolean_verdict_of_numpy_or_torch_counts_as_right(verdict):
    """Una comprobación que compara con NumPy o PyTorch devuelve np.True_ o tensor(True): es «correcto»."""
    @exercise("99.3", "Cualquier cosa", "pista general")
    def checker(answer):
        return verdict
    try:
        assert status("99.3", 1) == (RIGHT, "Ejercicio 99.3: ¡correcto!")
    finally:
        del exercises.EXERCISES["99.3"]


@pytest.mark.parametrize("verdict", [False, np.False_, torch.tensor(False), 1, torch.tensor(1), "",
                                     torch.tensor([True, True])],
                         ids=["False", "np.False_", "tensor False", "1", "tensor 1", "texto vacío", "dos booleanos"])
def test_anything_but_a_true_boolean_is_wrong_with_the_general_hint(verdict):
    @exercise("99.3", "Cualquier cosa", "pista general")
    def checker(answer):
        return verdict
    try:
        assert status("99.3", 1) == (WRONG, "Ejercicio 99.3: todavía no. Pista: pista general")
    finally:
        del exercises.EXERCISES["99.3"]


@pytest.mark.parametrize("answer", [7, 7.0, np.int64(7), np.int32(7), np.float32(7), np.float64(7.0),
                                    torch.tensor(7), torch.tensor(7.0), torch.tensor([7]), np.array([7]),
                                    np.array(7), torch.tensor([[7]])])
def test_as_integer_reads_any_form_of_a_whole_number(answer):
    assert as_integer(answer) == 7 and type(as_integer(answer)) is int
    assert as_number(answer) == 7.0 and type(as_number(answer)) is float


@pytest.mark.parametrize("answer", ["7", [7], (7,), True, np.bool_(True), torch.tensor(True), torch.tensor([7, 7]),
                                    np.array([]), None, object(), 7 + 0j])
def test_as_number_rejects_what_is_not_one_number(answer):
    assert as_number(answer) is None and as_integer(answer) is None


def test_as_integer_rejects_decimals_and_as_number_keeps_them():
    for answer in (7.5, np.float32(7.5), torch.tensor(7.5), float("nan"), float("inf")):
        assert as_integer(answer) is None
    assert as_number(np.float32(0.25)) == 0.25 and as_number(torch.tensor([0.25])) == 0.25


@pytest.mark.parametrize("answer", [(4, 8, 8), [4, 8, 8], torch.Size([4, 8, 8]), np.array([4, 8, 8]),
                                    torch.tensor([4, 8, 8]), torch.tensor([4.0, 8.0, 8.0]),
                                    (np.int64(4), torch.tensor(8), 8.0)])
def test_as_shape_reads_any_form_of_a_shape(answer):
    assert as_shape(answer) == (4, 8, 8)


@pytest.mark.parametrize("answer", ["(4, 8, 8)", 4, (4.5, 8), ((4, 8), 8), torch.zeros(2, 2), np.array(4), {4: 8}])
def test_as_shape_rejects_what_is_not_a_shape(answer):
    assert as_shape(answer) is None


def test_as_bool_and_as_array():
    assert as_bool(np.False_) is False and as_bool(torch.tensor(True)) is True
    assert as_bool(0) is None and as_bool("True") is None
    for answer in ([[1, 2], [3, 4]], np.array([[1, 2], [3, 4]]), torch.tensor([[1., 2.], [3., 4.]]),
                   ((1, 2), (3, np.int64(4)))):
        assert torch.equal(as_array(answer), torch.tensor([[1., 2.], [3., 4.]], dtype=torch.float64))
    for answer in ("[1, 2]", 3, [], [[1, 2], [3]], ["a"], [True, False], torch.tensor(3.0), np.array(["a"])):
        assert as_array(answer) is None


@pytest.mark.parametrize("hint", [integer_hint, number_hint, shape_hint])
def test_kind_hints_say_what_is_expected_without_python_errors(hint):
    for answer in ("24", True, (2, 4), [24], object(), 2.5, torch.zeros(3)):
        text = hint(answer)
        assert ("número" in text or "forma" in text) and "Error" not in text and "object" not in text
    assert "comillas" in hint("24")
    assert "punto" in number_hint((1, 61))  # 1,61 en Python es una tupla
