"""Ejercicios del cuaderno 08_laboratorio: uno por explorador (kernels, padding, softmax y
«dibuja tu dígito»).

Las respuestas se calculan con la red del curso y con las mismas funciones que usan los
exploradores. Antes de cargar nada se rechaza lo que no tiene el tipo pedido.
"""

import functools
import math

import numpy as np
import torch

from ..widgets.canvas import CANVAS
from . import as_array, as_integer, as_number, exercise, integer_hint, number_hint

CLOSE = 0.2  # ejercicio 8.1: «a menos del 20 % de su forma final»


@functools.lru_cache(maxsize=1)
def _run():
    from ..training import trained_model
    return trained_model("cnn", progress=False)


@exercise("8.1", "¿En qué época está conv1, por primera vez, a menos del 20 % de su forma final?",
          "Sección 2: `history[e]` son los pesos de conv1 tras la época e. Compara, para cada e, la distancia "
          "‖W_e − W_final‖ (np.linalg.norm) con el 20 % de ‖W_final − W_0‖.")
def _(epoca):
    e = as_integer(epoca)
    if e is None:
        return integer_hint(epoca, "un número de época, un entero (0 es antes de entrenar)", example=None)
    from ..inspection import kernel_history
    history = kernel_history(_run(), "conv1")
    total = np.linalg.norm(history[-1] - history[0])
    close = [k for k in range(len(history)) if np.linalg.norm(history[k] - history[-1]) < CLOSE * total]
    if e == close[0]:
        return True
    if e == len(history) - 1:
        return "La última época está a distancia 0 de sí misma: se pide la primera que ya está cerca."
    if e in close:
        return "Esa época ya está cerca, pero no es la primera: mira las anteriores."
    return False


@exercise("8.2", "Con kernels de 5x5 y stride 1 en las dos convoluciones, ¿qué padding conserva las 512 entradas "
                 "de la capa lineal?",
          "Sección 3: con la fórmula floor((n + 2p − k)/s) + 1, busca el p con el que cada convolución deja el lado "
          "igual (n = 16 y luego 8); pruébalo en el explorador de padding.")
def _(padding):
    p = as_integer(padding)
    if as_number(padding) is None:
        return integer_hint(padding, "un número entero de píxeles de padding", example="4")
    if p is None or p < 0:
        return "El padding es un número entero de píxeles, 0 o más."
    from ..shapes import conv_output_size, network_shapes
    if conv_output_size(16, 5, p, 1) > 16:  # antes de construir la red: con p = 10.000, sus mapas ocuparían GB
        return ("Con ese padding la primera convolución ya agranda el lado (de 16 a "
                f"{conv_output_size(16, 5, p, 1)}): sobran filas de ceros. Busca el p que lo deja igual.")
    table, warning = network_shapes(16, kernel_size=5, padding=p, stride=1)
    if table is not None and warning is None:
        return True
    if p == 1:
        return "padding=1 conserva el lado con kernels de 3x3; con 5x5 el kernel sobresale más por cada lado."
    return False


@exercise("8.3", "¿A partir de qué escala se desborda el softmax ingenuo con los logits de la sección 4?",
          "Sección 4: exp(x) en float32 da inf cuando x pasa de ≈ 88,7. La escala multiplica todos los logits: "
          "¿cuándo llega a ese valor el mayor de ellos?")
def _(escala):
    scale = as_number(escala)
    if scale is None:
        return number_hint(escala, "un número, la escala (puede tener decimales)")
    if not math.isfinite(scale) or scale <= 0:
        return "La escala es un número positivo."
    from ..data import load_mnist
    model = _run().model
    with torch.no_grad():
        logits = model(load_mnist(train=False, size=model.input_size, limit=4).images[:4])
    overflow = math.log(torch.finfo(torch.float32).max)  # exp(x) es inf en float32 por encima de esto
    right = overflow / float(logits.max())
    if abs(scale - right) <= 0.02 * right:
        return True
    if abs(scale - overflow) <= 1:
        return "Ese es el valor de x en que exp(x) se desborda; la escala es el número que multiplica los logits."
    return False


def _strokes(answer):
    """Los trazos como lista de listas de (x, y), o None si la respuesta no lo es.

    Un solo trazo (lista de puntos) también vale, y los trazos pueden venir como arrays o tensores.
    """
    if isinstance(answer, (np.ndarray, torch.Tensor)):
        answer = answer.tolist()
    if not isinstance(answer, (list, tuple)) or not answer:
        return None
    single = as_array(answer)
    if single is not None and single.ndim == 2:  # un solo trazo: [(x, y), ...]
        answer = [answer]
    strokes = []
    for stroke in answer:
        points = as_array(stroke)
        if points is None or points.ndim != 2 or points.shape[1] != 2:
            return None
        strokes.append([(x, y) for x, y in points.tolist()])
    return strokes


@exercise("8.4", "Los trazos de un dígito que la red lea como 7.",
          "Sección 6: cada trazo es una lista de puntos (x, y) en píxeles del lienzo de 280x280 (x hacia la "
          "derecha, y hacia abajo). Un 7 necesita una barra arriba y un trazo que baje en diagonal desde su "
          "extremo derecho.")
def _(trazos):
    strokes = _strokes(trazos)
    if strokes is None:
        return "Escribe una lista de trazos; cada trazo, una lista de puntos (x, y), p. ej. [[(10, 20), (30, 40)]]."
    if not any(0 <= x < CANVAS and 0 <= y < CANVAS for points in strokes for x, y in points):
        return f"Los puntos tienen que caer dentro del lienzo: x e y entre 0 y {CANVAS}."
    from ..inspection import predict_drawing
    from ..widgets.canvas import rasterize
    reading = predict_drawing(_run().model, rasterize(strokes))  # pintados como los pinta el lienzo
    if reading["prediction"] == 7:
        return True
    return (f"La red lee un {reading['prediction']}. Pruébalo en el explorador con explorer.draw(trazo) y "
            "corrige la forma.")
