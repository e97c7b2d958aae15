"""Comprobar un argumento donde entra: un número que debe ser entero, positivo, una tasa de aprendizaje.

Sin esto, un `lr="0,01"` o un `stride=0` llegan hasta PyTorch o hasta una división y el error sale en
inglés y desde muy dentro (`could not convert string to float`, `ZeroDivisionError`), o no sale
ninguno y el resultado es absurdo (un mapa de NaN). Cada función devuelve el valor ya convertido o
lanza un `TrazosValueError` que dice qué se esperaba y qué llegó.
"""

import math
import numbers

from .errors import TrazosValueError

__all__ = ["positive_int", "positive_number", "learning_rate"]


def _comma_hint(value):
    """Una pista si `value` es un texto con coma decimal («0,01»): en Python los decimales van con punto."""
    if isinstance(value, str):
        number = value.strip().replace(",", ".", 1)
        try:
            float(number)
        except ValueError:
            return " Escribe un número, sin comillas."
        return f" Escribe el número sin comillas y con punto decimal, como en Python: {number}."
    return ""


def positive_int(value, name, maximum=None, what=""):
    """`value` como entero >= 1 (y <= `maximum` si se da); si no, un error que dice qué se esperaba."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1 \
            or (maximum is not None and value > maximum):
        rule = f"un entero entre 1 y {maximum}" if maximum is not None else "un entero mayor o igual que 1"
        raise TrazosValueError(f"{name} debe ser {rule}{what}; se recibió {value!r}.{_comma_hint(value)}")
    return int(value)


def positive_number(value, name, maximum=None, what=""):
    """`value` como float > 0 (y <= `maximum` si se da), finito; si no, un error que dice qué se esperaba."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0 \
            or (maximum is not None and value > maximum):
        rule = f"un número mayor que 0 y como mucho {maximum}" if maximum is not None else "un número mayor que 0"
        raise TrazosValueError(f"{name} debe ser {rule}{what}; se recibió {value!r}.{_comma_hint(value)}")
    return float(value)


def learning_rate(value):
    """La tasa de aprendizaje: un número positivo (0.1, 1e-3)."""
    return positive_number(value, "La tasa de aprendizaje (lr)", what=", por ejemplo 0.1 o 1e-3")
