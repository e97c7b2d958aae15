"""Ejercicios del cuaderno 05_kernels.ipynb: la forma de los pesos de conv2, un kernel que detecta
un trazo horizontal, el tamaño de los pesos iniciales y cuánto responde un kernel aprendido a un patrón."""

import torch
import torch.nn.functional as F
from torch import nn

from ..data import MEAN, STD
from ..models import CNN
from ..training import trained_model
from . import as_array, as_number, as_shape, exercise, number_hint, shape_hint

SIDE, LINE = 9, 4  # las imágenes de prueba del ejercicio 5.2: 9x9, con el trazo en la fila (o columna) 4
CLOSE_54 = 0.005  # ejercicio 5.4: vale con dos decimales (la más alta es 3,17; la más negativa, −3,15)


def stroke_images():
    """Imágenes de prueba de 9x9 (fondo 0, trazo 1): línea horizontal, línea vertical y zona clara uniforme."""
    horizontal = torch.zeros(SIDE, SIDE)
    horizontal[LINE] = 1
    return {"horizontal": horizontal, "vertical": horizontal.T.clone(), "uniforme": torch.ones(SIDE, SIDE)}


def vertical_line_patch():
    """Un trozo de 3x3 con una línea vertical clara en la columna central, normalizado como los datos."""
    pixels = torch.tensor([[0., 1., 0.]] * 3)
    return (pixels - MEAN) / STD


def _kernel(answer):
    """(kernel de 3x3 en float32, None) o (None, pista) si la respuesta no es un kernel de 3x3.

    Vale una lista de listas, un array o un tensor; también con dimensiones de tamaño 1 delante
    (un [1, 1, 3, 3], con la forma de los pesos de una capa).
    """
    values = as_array(answer)
    if values is None:
        return None, ("Escribe el kernel como tres filas de tres números, sin comillas: "
                      "[[a, b, c], [d, e, f], [g, h, i]].")
    while values.ndim > 2 and values.shape[0] == 1:
        values = values[0]
    if tuple(values.shape) != (3, 3):
        shape = "x".join(map(str, values.shape))
        return None, f"El kernel tiene que ser de 3x3, tres filas de tres números, y el tuyo es de {shape}."
    return values.float(), None


@exercise("5.1", "¿Qué forma tiene conv2.weight, la capa nn.Conv2d(16, 32, kernel_size=3)?",
          "La forma es [filtros de salida, canales de entrada, alto, ancho] (sección 1): ¿cuántos filtros tiene "
          "conv2 y cuántos mapas le llegan de conv1?")
def _(forma):
    with torch.random.fork_rng():  # crear la red sortea pesos: sin tocar el generador del cuaderno
        right = tuple(CNN().conv2.weight.shape)
    shape = as_shape(forma)  # una tupla, una lista, un torch.Size...
    if shape is None:
        return shape_hint(forma, "(2, 3, 4, 5)")
    if len(shape) != len(right):
        return ("Son cuatro números: cada filtro tiene un kernel de 3x3 por cada canal de entrada, así que la "
                "forma es [filtros, canales de entrada, alto, ancho].")
    if shape == (right[1], right[0], *right[2:]):
        return ("Has cambiado el orden: el primer número es el de filtros de salida; el segundo, el de canales "
                "de entrada.")
    return shape == right


@exercise("5.2", "Diseña un kernel de 3x3 que detecte un trazo horizontal (claro sobre fondo oscuro).",
          "Piensa en el kernel como una plantilla (sección 2): pesos positivos donde estaría el trazo y negativos "
          "donde estaría el fondo, arriba y abajo.")
def _(kernel):
    k, hint = _kernel(kernel)
    if hint:
        return hint
    maps = {name: F.conv2d(image[None, None], k[None, None])[0, 0] for name, image in stroke_images().items()}
    peak = maps["horizontal"].max().item()
    on_line = maps["horizontal"][LINE - 1].max().item()  # la fila de la salida con el centro del kernel sobre el trazo
    if peak <= 0:
        return ("Tu kernel no da una respuesta positiva sobre la línea horizontal: pon pesos positivos donde va "
                "el trazo.")
    if on_line < peak - 1e-6:
        return ("Tu kernel responde más justo encima o debajo de la línea que sobre ella: eso es un detector de "
                "bordes (sección 2). Para un trazo, la respuesta más alta debe salir con el centro del kernel "
                "sobre la propia línea.")
    if maps["vertical"].max().item() > 0.5 * peak:
        return ("Tu kernel responde casi igual a una línea vertical. ¿En qué se diferencian una fila clara y una "
                "columna clara, vistas por los nueve pesos?")
    if maps["uniforme"].max().item() > 0.5 * peak:
        return ("Tu kernel responde también a una zona clara sin trazo: compensa con pesos negativos, de modo "
                "que la suma de los nueve pesos sea (casi) cero.")
    return True


@exercise("5.3", "Si conv2 tuviera 64 canales de entrada, ¿cuál sería la desviación típica de sus pesos "
                 "iniciales?",
          "Con la inicialización por defecto de PyTorch, Var(w) = 1/(3·n), con n lo que entra en la suma de un "
          "filtro (canales · 3 · 3); la desviación típica es la raíz de la varianza.")
def _(desviacion):
    value = as_number(desviacion)
    if value is None:
        return number_hint(desviacion, "un número, la desviación típica", example="0.5")
    with torch.random.fork_rng():  # crear la capa sortea pesos: sin tocar el generador del cuaderno
        n = nn.Conv2d(64, 32, kernel_size=3).weight[0].numel()  # lo que suma un filtro: canales de entrada · 3 · 3
    right = (1 / (3 * n)) ** 0.5

    def close(x):
        return abs(value - x) < 0.02 * x  # se acepta un 2 % de redondeo

    if close(n ** -0.5):
        return ("Ese es el límite b del sorteo uniforme entre −b y b; la desviación típica de esa uniforme "
                "es b/√3.")
    if close(1 / (3 * n)):
        return "Eso es la varianza; la desviación típica es su raíz cuadrada."
    if close((2 / n) ** 0.5):
        return "Esa sería la inicialización de Kaiming (He), Var = 2/n; la de PyTorch por defecto es 1/(3·n)."
    if close((1 / (3 * 16 * 9)) ** 0.5):
        return "Esa es la de la conv2 de verdad, con 16 canales; con 64 canales, n cambia."
    return close(right)


@exercise("5.4", "¿Cuánto vale la respuesta más alta de los kernels aprendidos de conv1 a una línea vertical clara?",
          "Calcula la respuesta de los 16 kernels sobre el patrón, como en la sección 2: la suma de peso × píxel "
          "más el sesgo de cada filtro; luego quédate con la mayor (la más positiva), su valor.")
def _(respuesta):
    value = as_number(respuesta)  # también el tensor de responses.max() o un np.float32
    if value is None:
        return number_hint(respuesta, "un número, el valor de la respuesta más alta", example="0.5")
    with torch.random.fork_rng():  # cargar la red crea una nueva (sortea pesos): sin tocar el generador del cuaderno
        conv1 = trained_model("cnn", progress=False).model.conv1  # la red del curso, de la caché, como en el cuaderno
    with torch.no_grad():
        products = (conv1.weight[:, 0] * vertical_line_patch()).sum(dim=(1, 2))
        responses = products + conv1.bias

    def close(x):  # dos decimales bastan; la más negativa, en valor absoluto, está a 0,03
        return abs(value - float(x)) <= CLOSE_54

    if close(responses.max()):
        return True
    if value == int(responses.argmax()):
        return "Ese es el número del kernel (lo que da argmax); se pide su respuesta, el valor (max)."
    if close(products.max()):
        return "Falta el sesgo: la respuesta de cada filtro es la suma de peso × píxel más su sesgo."
    if close(responses.min()) or close(-responses.min()):
        return "Esa es la respuesta más negativa (la de la línea vertical al revés): se pide la más positiva."
    return False
