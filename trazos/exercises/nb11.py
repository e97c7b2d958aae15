"""Ejercicios del cuaderno 11_que_mira_la_red: oclusión a mano, Grad-CAM, el dígito que engaña,
un valor de una convolución hecho a mano y el campo receptivo.

Cada comprobación calcula la respuesta con la red del curso; antes de cargarla, rechaza lo que
ni siquiera tiene el tipo pedido.
"""

import functools

import torch

from . import as_integer, as_number, as_shape, exercise


@functools.lru_cache(maxsize=1)
def _model():
    from ..training import trained_model
    return trained_model("cnn", progress=False).model


@functools.lru_cache(maxsize=1)
def _test():
    from ..data import load_mnist
    return load_mnist(train=False, size=16)


def _first(digit):
    from ..data import examples_of
    test = _test()
    return test[examples_of(test, digit)[0]][0]


@exercise("11.1", "¿En qué esquina (fila, columna) empieza el parche de 4x4 que más baja la probabilidad del 7?",
          "Sección 2: `drops` guarda, para cada esquina, cuánto baja la probabilidad al tapar ese parche; busca "
          "la esquina con la bajada mayor (max con key=drops.get).")
def _(esquina):
    corner = as_shape(esquina)
    if corner is None or len(corner) != 2:
        return "Escribe la esquina como una forma de dos enteros, (fila, columna), sin comillas."
    from ..attribution import BLACK
    from ..runner import outputs, probabilities
    model, seven = _model(), _first(7)
    drops = {}
    for r in range(0, 13, 2):
        for c in range(0, 13, 2):
            covered = seven.clone()
            covered[:, r:r + 4, c:c + 4] = BLACK
            drops[(r, c)] = float(probabilities(outputs(model, covered))[0, 7])
    if corner not in drops:
        return "La esquina de un parche es par (0, 2, 4... hasta 12): el parche se mueve de 2 en 2 píxeles."
    return corner == min(drops, key=drops.get)


@exercise("11.2", "¿De qué lado es el mapa de Grad-CAM en conv2, la última convolución de la red del curso?",
          "Sección 3: Grad-CAM tiene el tamaño de los mapas de la capa; mira la forma de `cam`.")
def _(lado):
    side = as_integer(lado)
    if side is None:
        return "La respuesta es un número entero: el lado del mapa."
    if side == 16:
        return "16 es el lado de la imagen: el mapa de la capa es más pequeño (luego se agranda para verlo)."
    from ..attribution import grad_cam
    return side == grad_cam(_model(), _first(7)).shape[-1]


@exercise("11.3", "¿Cuánto cambia, como mucho, un píxel del 4 que engaña a la red (de 0 a 1)?",
          "Sección 4: compara los píxeles (render.digit_pixels) de `fooled.image` y de `four`: el máximo del "
          "valor absoluto de la diferencia.")
def _(cambio):
    value = as_number(cambio)
    if value is None:
        return "La respuesta es un número entre 0 y 1."
    from ..attribution import adversarial
    from ..render import digit_pixels
    four = _first(4)
    result = adversarial(_model(), four)
    right = float((digit_pixels(result.image) - digit_pixels(four)).abs().max())
    return abs(value - right) < 1e-3


@exercise("11.4", "El valor de conv1 (canal 0, fila 5, columna 5) para el 7, calculado a mano: ventana por kernel, "
                  "sumado, más el bias.",
          "Sección 6: con padding 1, el valor de la fila 5 mira las filas 4, 5 y 6 de la imagen (y las columnas "
          "4, 5 y 6); multiplica por model.conv1.weight[0, 0], suma y añade model.conv1.bias[0].")
def _(valor):
    value = as_number(valor)
    if value is None:
        return "La respuesta es un número (un float; .item() convierte un tensor de un valor)."
    model, seven = _model(), _first(7)
    with torch.no_grad():
        right = float(model.conv1(seven[None])[0, 0, 5, 5])
    if abs(value - (right - float(model.conv1.bias[0]))) < 1e-4:
        return "Casi: falta sumar el bias del canal 0."
    return abs(value - right) < 1e-4


@exercise("11.5", "¿De cuántos píxeles de lado es el trozo de la imagen que ve un valor de relu2?",
          "Sección 7: hacia atrás, como en el ejercicio 6.5: la ReLU no cambia nada, así que relu2 ve lo mismo "
          "que conv2.")
def _(lado):
    side = as_integer(lado)
    if side is None:
        return "La respuesta es un número entero de píxeles."
    from ..digit_map import receptive_field
    from ..models import CNN
    if side == 10:
        return "Ese es el de pool2: relu2 va antes del último pooling."
    return side == receptive_field(CNN(), "relu2")[0]
