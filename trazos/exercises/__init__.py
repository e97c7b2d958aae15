"""Ejercicios: comprobar la respuesta de un estudiante sin darle la solución.

En un cuaderno, cada ejercicio es una celda con un hueco (`...`) y una comprobación:

    lado = ...  # tu respuesta
    check("1.2", lado)

`check` responde con una de tres frases: *pendiente* (el hueco sigue vacío; el cuaderno
sigue adelante igual), *todavía no* con una pista que señala la idea (qué fórmula, qué
dimensión, qué sección), nunca la respuesta, o *correcto*.

Cada cuaderno registra sus ejercicios en un módulo de esta carpeta con `@exercise`: la
función de comprobación recibe la respuesta y devuelve True si es correcta, o un texto
con una pista más concreta para ese error. Las soluciones no están aquí ni en los
cuadernos: están en la carpeta `soluciones/` del repositorio, para el profesorado.
"""

import importlib
import numbers
import pkgutil
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from .. import progress, progress_sender
from ..errors import TrazosValueError

__all__ = ["Exercise", "EXERCISES", "exercise", "check", "status", "as_number", "as_integer", "as_bool",
           "registered", "as_shape", "as_array", "integer_hint", "number_hint", "shape_hint",
           "PENDING", "WRONG", "RIGHT"]

# Las marcas con que empieza cada veredicto: las buscan las pruebas y la clave de respuestas.
PENDING, WRONG, RIGHT = "⏳", "❌", "✅"


@dataclass
class Exercise:
    """Un ejercicio: su clave ("1.2"), qué pide, cómo se comprueba y la pista general."""

    key: str
    question: str
    checker: Callable
    hint: str


EXERCISES = {}


def exercise(key, question, hint):
    """Decorador: registra `checker(answer) -> True | False | "pista concreta"` como el ejercicio `key`."""
    def register(checker):
        if key in EXERCISES:
            raise TrazosValueError(f"El ejercicio {key} ya está registrado.")
        EXERCISES[key] = Exercise(key, question, checker, hint)
        return checker
    return register


def _single(answer):
    """El número que hay dentro de un escalar de NumPy, un tensor o un array de un solo elemento.

    Así 24, np.int64(24), torch.tensor(24) y np.array([24]) llegan igual a las comprobaciones:
    son la misma respuesta escrita de otra forma (la que sale al calcularla con NumPy o PyTorch).
    """
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        return answer.item()
    if isinstance(answer, (np.ndarray, np.generic)) and answer.size == 1:
        return answer.item()
    return answer


def as_number(answer):
    """La respuesta como float si es un número; si no, None.

    Vale cualquier forma de escribir un número: 7, 0.5, np.float32(0.5), np.int64(7), un tensor
    de un solo número (torch.tensor(7), también de forma [1]) o un array de un solo elemento.
    Una lista no: [7] es una lista que contiene el número, y la pista lo dice. True y False
    tampoco: en Python son números, pero nadie los escribe como tales.
    """
    answer = _single(answer)
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    return float(answer)


def as_integer(answer):
    """La respuesta como int si es un número entero (7, 7.0, np.int64(7) o un tensor con un 7); si no, None."""
    value = as_number(answer)
    return int(value) if value is not None and value.is_integer() else None


def as_bool(answer):
    """La respuesta como bool si es True o False (de Python, np.bool_ o un tensor booleano de un elemento)."""
    answer = _single(answer)
    return answer if isinstance(answer, bool) else None


def as_shape(answer):
    """La respuesta como tupla de enteros si es una forma; si no, None.

    Una forma se puede escribir como tupla, lista o torch.Size ((4, 8, 8), [4, 8, 8]) o salir de
    un cálculo como array de NumPy o tensor de una dimensión (np.array([4, 8, 8])).
    """
    if isinstance(answer, (torch.Tensor, np.ndarray)):
        if answer.ndim != 1:
            return None
        answer = answer.tolist()
    if not isinstance(answer, (tuple, list, torch.Size)):
        return None
    sizes = [as_integer(n) for n in answer]
    return None if any(n is None for n in sizes) else tuple(sizes)


def as_array(answer):
    """La respuesta como tensor float64 si es una lista (o lista de listas) de números, un array o un tensor.

    Devuelve None si no lo es: un texto, un número suelto, filas de distinta longitud, booleanos.
    """
    if isinstance(answer, np.ndarray):
        answer = torch.from_numpy(np.asarray(answer, dtype=np.float64)) if answer.dtype.kind in "iuf" else None
    if isinstance(answer, torch.Tensor):
        numeric = answer.ndim > 0 and answer.dtype != torch.bool and not answer.is_complex()
        return answer.detach().cpu().double() if numeric else None

    def plain(item):  # cada elemento, como número de Python o lista de ellos
        if isinstance(item, (torch.Tensor, np.ndarray)) and item.ndim > 0:
            item = item.tolist()
        if isinstance(item, (list, tuple)):
            return [plain(i) for i in item]
        value = as_number(item)
        if value is None:
            raise ValueError
        return value

    if not isinstance(answer, (list, tuple)) or not answer:
        return None
    try:
        return torch.tensor(plain(answer), dtype=torch.float64)
    except (ValueError, TypeError):  # un elemento que no es un número, o filas de distinta longitud
        return None


def _kind_hint(answer, expected, example, decimals):
    """La pista para una respuesta que no es `expected` («un número entero»), con un ejemplo de cómo escribirla.

    Dice qué se esperaba según lo que ha llegado (un texto, True o False, una lista, un número
    con decimales...), en vez del error de Python que daría usarlo como número. Sin `example`
    (si cualquier ejemplo podría ser la respuesta), la pista no pone ninguno.
    """
    answer = _single(answer)
    for_example = f", por ejemplo {example}" if example is not None else ""
    if isinstance(answer, str):
        return (f"Se espera {expected}: escríbelo sin comillas{for_example} "
                "(entre comillas es un texto, no un número).")
    if isinstance(answer, bool):
        return f"Se espera {expected}{for_example}: True y False no valen aquí."
    if decimals and isinstance(answer, tuple) and len(answer) == 2 and all(
            isinstance(n, int) and not isinstance(n, bool) for n in answer):
        return ("En Python los decimales se escriben con punto, como 2.5: con coma (2,5) son dos números "
                "separados, una tupla.")
    if isinstance(answer, (tuple, list, dict, set, torch.Size, torch.Tensor, np.ndarray)):
        return f"Se espera {expected}: un solo número{for_example}, no una lista, una tupla ni una forma."
    if not decimals and as_number(answer) is not None:
        return f"Se espera {expected}, sin decimales{for_example}."
    return f"Se espera {expected}{for_example}."


def integer_hint(answer, expected="un número entero", example="12"):
    """La pista para una respuesta que no es un número entero: dice qué se espera y cómo escribirlo.

    El ejemplo no debe ser la respuesta del ejercicio: cada comprobación puede elegir otro.
    """
    return _kind_hint(answer, expected, example, decimals=False)


def number_hint(answer, expected="un número", example="2.5"):
    """La pista para una respuesta que no es un número (con o sin decimales)."""
    return _kind_hint(answer, expected, example, decimals=True)


def shape_hint(answer, example="(2, 3, 4)"):
    """La pista para una respuesta que no es una forma (una tupla de números enteros)."""
    answer = _single(answer)
    if isinstance(answer, str):
        return f"Escribe la forma sin comillas, como una tupla de números enteros: {example}."
    if as_number(answer) is not None:
        return f"Una forma son varios números, uno por dimensión: escríbela como una tupla: {example}."
    if isinstance(answer, (tuple, list, torch.Size, torch.Tensor, np.ndarray)):
        return f"Cada dimensión de una forma es un número entero: escríbela como una tupla de enteros: {example}."
    return f"Escribe la forma como una tupla de números enteros: {example}."


def _load_all():
    """Importa cada módulo de ejercicios de esta carpeta (se registran al importarse)."""
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("nb"):  # nb01.py, nb02.py...: un módulo por cuaderno
            importlib.import_module(f"{__name__}.{info.name}")


def registered():
    """Las claves de todos los ejercicios del curso («1.1», «1.2»…), cargando sus módulos si hace falta."""
    if not EXERCISES:
        _load_all()
    return sorted(EXERCISES)


def _blank(answer):
    return answer is ... or answer is None


def _verdict(verdict):
    """El veredicto de una comprobación como True, False o un texto (la pista).

    Una comprobación que compara con NumPy o PyTorch devuelve np.True_ o tensor(True), que no son
    `True` pero significan lo mismo; cualquier otra cosa que no sea un texto cuenta como «no».
    """
    if isinstance(verdict, str):
        return verdict
    return _single(verdict) is True  # np.True_ y tensor(True) pasan a ser el True de Python


def status(key, *answers):
    """(marca, texto) del veredicto de `answers` para el ejercicio `key`, sin imprimir nada."""
    if not EXERCISES:
        _load_all()
    if key not in EXERCISES:
        raise TrazosValueError(f"No hay ningún ejercicio {key!r}. Ejercicios: {', '.join(sorted(EXERCISES))}.")
    ex = EXERCISES[key]
    if any(_blank(a) for a in answers):
        return PENDING, (f"Ejercicio {key}: pendiente. Sustituye los `...` por tu respuesta y vuelve a "
                         "ejecutar la celda.")
    try:
        verdict = ex.checker(*answers)
    except Exception as error:  # noqa: BLE001 - una respuesta rara es un fallo del estudiante, no del cuaderno
        return WRONG, (f"Ejercicio {key}: todavía no; tu respuesta da un error al comprobarla "
                       f"({type(error).__name__}: {error}). Pista: {ex.hint}")
    verdict = _verdict(verdict)
    if verdict is True:
        return RIGHT, f"Ejercicio {key}: ¡correcto!"
    hint = verdict if isinstance(verdict, str) and verdict else ex.hint
    return WRONG, f"Ejercicio {key}: todavía no. Pista: {hint}"


def check(key, *answers):
    """Comprueba la respuesta (o respuestas) del ejercicio `key` e imprime el veredicto.

    Nunca lanza un error por una respuesta equivocada ni por un hueco sin rellenar: así un
    cuaderno con ejercicios pendientes se ejecuta entero de arriba abajo.

    Cada comprobación queda además registrada (`trazos.progress`: veredicto, pista, intento; de
    una respuesta incorrecta, su tipo y valor, nunca el código) y, en el hub de la clase, se manda
    al servicio del profesorado desde otro hilo (`trazos.progress_sender`): la celda no espera.
    """
    mark, text = status(key, *answers)
    print(f"{mark} {text}")
    verdict = {RIGHT: "correct", WRONG: "wrong"}.get(mark, "pending")
    hint = text.split("Pista: ", 1)[1] if verdict == "wrong" and "Pista: " in text else ""
    progress_sender.submit(progress.record(key, verdict, hint, answers))
