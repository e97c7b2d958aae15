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

import torch

__all__ = ["Exercise", "EXERCISES", "exercise", "check", "status", "as_number", "as_integer", "as_shape",
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
            raise ValueError(f"El ejercicio {key} ya está registrado.")
        EXERCISES[key] = Exercise(key, question, checker, hint)
        return checker
    return register


def as_number(answer):
    """La respuesta como float si es un número (7, 0.5 o un tensor de un solo número); si no, None.

    True y False no cuentan: en Python son números, pero nadie los escribe como tales.
    """
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = answer.item()
    if isinstance(answer, bool) or not isinstance(answer, numbers.Real):
        return None
    return float(answer)


def as_integer(answer):
    """La respuesta como int si es un número entero (7, 7.0 o un tensor con un 7); si no, None."""
    value = as_number(answer)
    return int(value) if value is not None and value.is_integer() else None


def as_shape(answer):
    """La respuesta como tupla de enteros si es una forma ((4, 8, 8), [4, 8, 8], torch.Size); si no, None."""
    if not isinstance(answer, (tuple, list, torch.Size)):
        return None
    sizes = [as_integer(n) for n in answer]
    return None if any(n is None for n in sizes) else tuple(sizes)


def _load_all():
    """Importa cada módulo de ejercicios de esta carpeta (se registran al importarse)."""
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("nb"):  # nb01.py, nb02.py...: un módulo por cuaderno
            importlib.import_module(f"{__name__}.{info.name}")


def _blank(answer):
    return answer is ... or answer is None


def status(key, *answers):
    """(marca, texto) del veredicto de `answers` para el ejercicio `key`, sin imprimir nada."""
    if not EXERCISES:
        _load_all()
    if key not in EXERCISES:
        raise ValueError(f"No hay ningún ejercicio {key!r}. Ejercicios: {', '.join(sorted(EXERCISES))}.")
    ex = EXERCISES[key]
    if any(_blank(a) for a in answers):
        return PENDING, (f"Ejercicio {key}: pendiente. Sustituye los `...` por tu respuesta y vuelve a "
                         "ejecutar la celda.")
    try:
        verdict = ex.checker(*answers)
    except Exception as error:  # noqa: BLE001 - una respuesta rara es un fallo del estudiante, no del cuaderno
        return WRONG, (f"Ejercicio {key}: todavía no; tu respuesta da un error al comprobarla "
                       f"({type(error).__name__}: {error}). Pista: {ex.hint}")
    if verdict is True:
        return RIGHT, f"Ejercicio {key}: ¡correcto!"
    hint = verdict if isinstance(verdict, str) and verdict else ex.hint
    return WRONG, f"Ejercicio {key}: todavía no. Pista: {hint}"


def check(key, *answers):
    """Comprueba la respuesta (o respuestas) del ejercicio `key` e imprime el veredicto.

    Nunca lanza un error por una respuesta equivocada ni por un hueco sin rellenar: así un
    cuaderno con ejercicios pendientes se ejecuta entero de arriba abajo.
    """
    mark, text = status(key, *answers)
    print(f"{mark} {text}")
