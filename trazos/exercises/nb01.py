"""Ejercicios del cuaderno 01 (padding y stride): el tamaño de lo que sale de una convolución.

Cada comprobación pregunta a PyTorch (`F.conv2d` y `F.max_pool2d` sobre una imagen de ceros), como
las celdas del cuaderno, y las pistas señalan la parte de la fórmula ⌊(n + 2p − k) / s⌋ + 1 que falla.
Con funciones y pesos de ceros, y no con capas nuevas, comprobar no gasta números aleatorios: las
celdas siguientes del cuaderno dan lo mismo con el ejercicio hecho o sin hacer. Los tensores son del
dispositivo "meta" (solo forma, sin datos): un padding de 10.000 escrito por error daría una imagen de
decenas de GB; así se calcula su lado sin reservar nada.
"""

import torch
import torch.nn.functional as F

from . import as_integer, as_number, exercise, integer_hint

META = torch.device("meta")


def _conv_side(n, kernel_size, padding=0, stride=1):
    """Lado de la salida de una convolución de PyTorch sobre una imagen de n x n."""
    image, kernel = torch.zeros(1, 1, n, n, device=META), torch.zeros(1, 1, kernel_size, kernel_size, device=META)
    return F.conv2d(image, kernel, padding=padding, stride=stride).shape[-1]


def _pooled_side(n, times):
    """Lado de una imagen de n x n tras `times` max pooling de 2x2 con stride 2."""
    x = torch.zeros(1, 1, n, n, device=META)
    for _ in range(times):
        x = F.max_pool2d(x, 2, 2)
    return x.shape[-1]


def _side_hint(answer):
    """La pista para un lado que no es un número entero, o None si lo es (24, 24.0, np.int64(24), tensor(24)...)."""
    if as_integer(answer) is not None:
        return None
    if as_number(answer) is not None:
        return "el lado es un número entero de píxeles: toma el suelo ⌊ ⌋ de la división antes de sumar 1."
    if isinstance(answer, (tuple, list, torch.Size)):
        return "basta con un número, el lado: la imagen sale cuadrada."
    return integer_hint(answer, "un número entero de píxeles, el lado de la imagen")


@exercise("1.1", "Conv2d con kernel 5, sin padding y stride 1 sobre 28x28: ¿de qué tamaño sale?",
          "usa la fórmula de la sección 4, ⌊(n + 2p − k) / s⌋ + 1, con los números de esta capa.")
def kernel_five(side):
    hint = _side_hint(side)
    if hint:
        return hint
    side = as_integer(side)
    real = _conv_side(28, 5)
    if side == real - 1:
        return "te falta el + 1 del final: la fórmula cuenta los pasos y luego la posición inicial."
    if side == _conv_side(28, 3):
        return "ese es el tamaño con un kernel de 3; este kernel es de 5."
    if side == 28:
        return "sin padding la convolución encoge: el kernel tiene que caber entero dentro de la imagen."
    return side == real


@exercise("1.2", "Con kernel 5 y stride 1, ¿qué padding conserva el lado de 28?",
          "busca p para que n + 2p − k + 1 valga n (la regla práctica de la sección 2).")
def keep_the_side(padding):
    if as_number(padding) is None:
        return integer_hint(padding, "un número entero de filas de ceros", example="4")
    padding = as_integer(padding)
    if padding is None or padding < 0:
        return "el padding es un número entero de filas de ceros, 0 o más."
    side = _conv_side(28, 5, padding=padding)
    if side == 28:
        return True
    if side > 28:
        return (f"con padding {padding} la imagen sale de {side}, más grande: los ceros se añaden por los "
                "dos lados (2p), así que cada unidad de padding suma 2 al lado.")
    return (f"con padding {padding} la imagen sale de {side}: todavía encoge. Cada unidad de padding suma 2 "
            "al lado (una fila de ceros arriba y otra abajo).")


@exercise("1.3", "Conv2d con kernel 3, padding 1 y stride 2 sobre 28x28: ¿de qué tamaño sale?",
          "con stride 2 la división ya no es exacta: ⌊(n + 2p − k) / s⌋ + 1 (sección 3).")
def stride_two(side):
    hint = _side_hint(side)
    if hint:
        return hint
    side = as_integer(side)
    real = _conv_side(28, 3, padding=1, stride=2)
    if side == 28:
        return "con stride 2 el kernel salta de dos en dos píxeles: la salida ya no conserva el lado."
    if side == real - 1:
        return "te falta el + 1 del final (la posición inicial del kernel)."
    if side == real + 1:
        return "has redondeado hacia arriba: la fórmula toma el suelo ⌊ ⌋ de la división."
    return side == real


@exercise("1.4", "Tres MaxPool2d(2, 2) seguidos sobre 28x28: ¿de qué tamaño queda?",
          "aplica la fórmula a cada pooling (k = 2, s = 2, p = 0) sobre lo que deja el anterior (sección 6).")
def three_pools(side):
    hint = _side_hint(side)
    if hint:
        return hint
    side = as_integer(side)
    if side == _pooled_side(28, 2):
        return "ese es el tamaño tras dos poolings; son tres."
    real = _pooled_side(28, 3)
    if side == real + 1:
        return ("el tercer pooling recibe un lado impar: la ventana que sobraría no cabe entera y se pierde. "
                "La fórmula toma el suelo ⌊ ⌋, no redondea hacia arriba.")
    return side == real


@exercise("1.5", "Kernel 3x3, stride 3, sin padding, sobre 7x7: ¿de qué tamaño sale y cuántas columnas no toca?",
          "escribe en qué columnas empieza el kernel (0, 3, ...) y cuáles ocupa cada vez (sección 3, n = 6).")
def stride_three(side, lost):
    hint = _side_hint(side)
    if hint:
        return hint
    side, columns = as_integer(side), as_integer(lost)
    if columns is None or columns < 0:
        if as_number(lost) is None:
            return integer_hint(lost, "en el segundo hueco un número entero de columnas", example="4")
        return "las columnas que no toca ningún kernel son un número entero, 0 o más."
    real = _conv_side(7, 3, stride=3)
    touched = 3 * (real - 1) + 3  # la última posición empieza en 3·(salida − 1) y ocupa 3 columnas
    if side != real:
        if side == real + 1:
            return "el kernel que empezaría en la columna 6 ocuparía las columnas 6, 7 y 8: no cabe."
        return "cuenta las posiciones: el kernel empieza en la columna 0, luego salta 3, y tiene que caber entero."
    if columns != 7 - touched:
        return "el tamaño está bien; ahora mira qué columnas ocupan las posiciones que sí caben."
    return True
