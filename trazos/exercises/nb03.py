"""Ejercicios del cuaderno 03 (construir el modelo): formas, parámetros y una capa que no encaja.

Las comprobaciones montan las capas y las redes de la biblioteca en el dispositivo `meta` de
PyTorch: tienen formas y número de parámetros, pero no datos. Así cada comprobación es
instantánea y no gasta números aleatorios (el cuaderno sigue igual con el ejercicio hecho o no).
"""


import torch
from torch import nn

from ..models import CNN, ClassicCNN
from . import as_integer, as_shape, exercise, integer_hint, shape_hint

META = torch.device("meta")


def _count(*modules):
    return sum(p.numel() for m in modules for p in m.parameters())


@exercise("3.1", "Forma de la salida de nn.Conv2d(16, 8, kernel_size=5) con una entrada [4, 16, 12, 12].",
          "[lote, canales, alto, ancho]: el lote no cambia, los canales son el número de filtros y el lado sale de "
          "la fórmula del cuaderno 01.")
def conv_shape(shape):
    if as_shape(shape) is None:
        return shape_hint(shape, "(lote, canales, alto, ancho)")
    shape = as_shape(shape)
    with META:
        real = tuple(nn.Conv2d(16, 8, kernel_size=5)(torch.zeros(4, 16, 12, 12)).shape)
    if shape == real[1:]:
        return "falta la primera dimensión, la del lote: una capa no cambia cuántas imágenes pasan."
    if len(shape) != 4:
        return "son cuatro números: (lote, canales, alto, ancho)."
    if shape[1] == 16:
        return "los canales de salida no son los de entrada: son el número de filtros (el segundo argumento)."
    if shape[2:] == (12, 12):
        return "sin padding, un kernel de 5x5 encoge la imagen: aplica la fórmula del cuaderno 01 al lado."
    return shape == real


@exercise("3.2", "Parámetros de nn.Conv2d(8, 24, kernel_size=5).",
          "salida · (entrada · k · k) + salida: un filtro por canal de salida, con un kernel de k x k por canal de "
          "entrada, y un sesgo por filtro (sección 4).")
def conv_params(count):
    if as_integer(count) is None:
        return integer_hint(count, "un número entero de parámetros")
    count = as_integer(count)
    with META:
        real = _count(nn.Conv2d(8, 24, kernel_size=5))
    if count == 24 * 8 * 5 * 5:
        return "te faltan los sesgos: uno por cada filtro."
    if count in (24 * 5 * 5 + 24, 24 * 5 * 5):
        return "cada filtro tiene un kernel de 5x5 por cada canal de entrada, no uno solo."
    if count in (24 * 8 * 5 + 24, 24 * 8 * 5):
        return "un kernel de 5x5 tiene 5 · 5 pesos, no 5."
    return count == real


@exercise("3.3", "Si a la red compacta le pasamos imágenes de 28x28, ¿cuántos números llegan a la capa lineal?",
          "sigue el lado etapa a etapa (la convolución con padding 1 lo conserva, cada pooling lo divide entre 2) y "
          "multiplica lado · lado · canales.")
def compact_at_28(count):
    if as_integer(count) is None:
        return integer_hint(count, "un número entero, cuántos números salen de flatten")
    count = as_integer(count)
    with META:
        features = nn.Sequential(*list(CNN().children())[:-1])  # todas las etapas menos fc
        real = features(torch.zeros(1, 1, 28, 28)).shape[1]
    if count == 512:
        return "512 es lo que llega con imágenes de 16x16; aquí la imagen es de 28x28."
    if count == 64 * 7 * 7:
        return "ese es el número de la red clásica, que termina con 64 canales; la compacta termina con 32."
    return count == real


@exercise("3.4", "Parámetros de toda la red clásica si fc1 tiene 64 neuronas en lugar de 128.",
          "las convoluciones no cambian; recalcula fc1 (3136 entradas, 64 salidas) y fc2 (64 entradas, 10 salidas), "
          "cada una con sus sesgos (sección 6).")
def smaller_classic(count):
    if as_integer(count) is None:
        return integer_hint(count, "un número entero de parámetros")
    count = as_integer(count)
    with META:
        net = ClassicCNN()
        original = _count(net)
        net.fc1 = nn.Linear(7 * 7 * 64, 64)
        fc2_as_before = _count(net)
        net.fc2 = nn.Linear(64, 10)
        real = _count(net)
    if count == original:
        return "ese es el total de la red original, con 128 neuronas en fc1."
    if count == fc2_as_before:
        return "fc2 también cambia: ahora recibe 64 entradas, no 128."
    return count == real


def _wide_cnn():
    """La red compacta con padding 2 en sus dos convoluciones (en `meta`), como la describe el cuaderno."""
    net = CNN()
    net.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=2)
    net.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=2)
    return net


@exercise("3.5", "Con padding 2 en las dos convoluciones de la red compacta, escribe la capa fc que encaja.",
          "con padding 2 y kernel 3 la convolución ya no conserva el lado: síguelo etapa a etapa con la fórmula "
          "(conv1, pool1, conv2, pool2) y multiplica lado · lado · canales.")
def fix_the_linear(fc):
    if not isinstance(fc, nn.Linear):
        return "la respuesta es una capa: nn.Linear(entradas, salidas)."
    if fc.out_features != 10:
        return "las salidas no cambian: 10 puntuaciones, una por dígito."
    if fc.in_features == 512:
        return "512 es lo que recibía fc con padding 1; con padding 2 los mapas que llegan son de otro tamaño."
    with META:
        net = _wide_cnn()
        net.fc = nn.Linear(fc.in_features, fc.out_features)
        try:
            net(torch.zeros(1, 1, CNN.input_size, CNN.input_size))
        except RuntimeError:
            return False  # la pista general: seguir el lado con la fórmula
    return True
