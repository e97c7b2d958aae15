"""Ejercicios del cuaderno 06_activaciones: formas, max pooling, desplazamientos y cuánto ve cada valor.

Cada comprobación calcula la respuesta con la red del curso o con PyTorch; antes de cargar
nada, rechaza lo que ni siquiera tiene el tipo pedido (así una respuesta sin sentido no
obliga a cargar la red).
"""

import functools

import torch
import torch.nn.functional as F
from torch import nn

from ..models import CNN
from . import as_integer, as_shape, exercise, integer_hint, shape_hint

# La matriz del ejercicio 6.3 (el cuaderno la importa de aquí: así es la misma en los dos sitios).
GRID = torch.tensor([[0.0, 1.5, 0.2, 0.0],
                     [0.7, 0.3, 0.0, 0.9],
                     [2.1, 0.0, 0.4, 1.1],
                     [0.0, 0.6, 0.3, 0.0]])

CONV_PART = ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2")  # los pasos con mapas


@functools.lru_cache(maxsize=1)
def _model():
    from ..training import trained_model
    return trained_model("cnn", progress=False).model


@functools.lru_cache(maxsize=1)
def _test():
    from ..data import load_mnist
    return load_mnist(train=False, size=_model().input_size)


def shift_right(x):
    """`x` movido un píxel a la derecha (última dimensión); por la izquierda entra un cero."""
    return F.pad(x, (1, 0))[..., :-1]


@exercise("6.1", "¿Qué forma (canales, alto, ancho) tendría la salida de pool2 con una imagen de 28x28?",
          "Sección 1: cada convolución (con padding=1) conserva el lado y fija los canales; cada pooling de 2x2 "
          "divide el lado entre 2 y deja los canales igual.")
def _(forma):
    shape = as_shape(forma)
    if shape is None:
        return shape_hint(forma, "(canales, alto, ancho)")
    if len(shape) != 3:
        return "Escribe tres números entre paréntesis: (canales, alto, ancho), sin la dimensión del lote."
    x = torch.zeros(1, 1, 28, 28)
    net = CNN()  # solo importan las formas: no hace falta la red entrenada
    with torch.no_grad():
        for step in CONV_PART:
            x = getattr(net, step)(x)
    right = tuple(x.shape[1:])
    if shape == right:
        return True
    if shape[0] != right[0]:
        return "Los canales no dependen del tamaño de la imagen: los fija el out_channels de la última convolución."
    if shape[1:] == (4, 4):
        return "Esa es la forma con las imágenes de 16x16 del curso. Repite las divisiones empezando en 28."
    return False


@exercise("6.2", "Tres convoluciones de 3x3 seguidas, sin nada en medio, equivalen a una sola: ¿de qué lado es su "
                 "kernel?",
          "Sección 3: dos kernels de 3x3 seguidos dan uno de 5x5. Piensa en cuántos píxeles de la entrada mira un "
          "valor de la salida, y cuánto añade al lado cada convolución nueva.")
def _(lado):
    side = as_integer(lado)
    if side is None:
        return integer_hint(lado, "un número entero, el lado del kernel equivalente", example="4")
    from ..shapes import conv_output_size
    n = 28
    out = n
    for _ in range(3):  # sin padding, cada convolución encoge la imagen; la única equivalente, lo mismo
        out = conv_output_size(out, kernel_size=3)
    right = n - out + 1  # el lado k con el que una sola convolución da esa misma salida
    if side == right:
        return True
    if side == 3 * 3:
        return "Los lados no se multiplican: mira cómo dos kernels de 3 dieron uno de 5."
    return False


@exercise("6.3", "Tras mover la matriz GRID un píxel a la derecha, ¿cuántos de los 4 valores del max pooling "
                 "siguen iguales?",
          "Sección 4: el máximo de una ventana sigue en ella tras moverse un píxel a la derecha solo si estaba en "
          "su columna izquierda; si no, pasa a la ventana vecina, y a la ventana entra otra columna.")
def _(iguales):
    count = as_integer(iguales)
    if count is None:
        return integer_hint(iguales, "un número entero de ventanas (de 0 a 4)", example="3")
    before = F.max_pool2d(GRID[None, None], 2)
    after = F.max_pool2d(shift_right(GRID)[None, None], 2)
    return count == int((before == after).sum())


@exercise("6.4", "Un índice del test cuya predicción cambia al mover el dígito un píxel a la derecha.",
          "Sección 4: `original` y `moved` tienen las salidas de fc de los 1000 primeros dígitos, sin mover y "
          "movidos; busca dónde su argmax no coincide (torch.nonzero).")
def _(indice):
    i = as_integer(indice)
    if i is None:
        return integer_hint(indice, "un índice del test, un número entero")
    test = _test()
    if not 0 <= i < len(test):
        return f"El índice tiene que estar entre 0 y {len(test) - 1}."
    image, _ = test[i:i + 1]
    with torch.no_grad():
        model = _model()
        before, after = model(image).argmax(dim=1), model(torch.roll(image, shifts=1, dims=3)).argmax(dim=1)
    if before == after:
        return "Con ese dígito la red dice lo mismo antes y después de moverlo: busca uno en que cambie."
    return True


def receptive_field(model, steps=CONV_PART):
    """Lado del trozo de imagen del que depende un valor de la salida de `steps[-1]`.

    Hacia atrás paso a paso: una ventana de lado k añade (k - 1) veces la distancia en la
    imagen entre dos valores vecinos de su entrada; el stride multiplica esa distancia.
    """
    side, spacing = 1, 1
    for step in steps:
        layer = getattr(model, step)
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
            k = layer.kernel_size[0] if isinstance(layer.kernel_size, tuple) else layer.kernel_size
            s = layer.stride[0] if isinstance(layer.stride, tuple) else layer.stride
            side += (k - 1) * spacing
            spacing *= s
    return side


@exercise("6.5", "¿De cuántos píxeles de lado de la imagen depende un solo valor de pool2?",
          "Ve hacia atrás paso a paso: un valor de conv1 ve 3x3 píxeles; una ventana de pooling junta 2x2 valores "
          "vecinos, y dos valores vecinos de pool1 están a 2 píxeles de distancia en la imagen.")
def _(lado):
    side = as_integer(lado)
    if side is None:
        return integer_hint(lado, "un número entero, el lado del trozo de imagen", example="4")
    model = CNN()  # solo importan los tamaños de kernel y los strides
    if side == receptive_field(model):
        return True
    if side == receptive_field(model, CONV_PART[:4]):
        return "Ese es el trozo que ve un valor de conv2; falta el último pooling."
    if side == 16:
        return "Un solo valor no ve la imagen entera: es la capa fc la que junta todos."
    return False
