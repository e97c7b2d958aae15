"""Ejercicios del cuaderno 11_que_mira_la_red: el píxel con más saliencia, oclusión a mano, la rejilla
de Grad-CAM, cuánto cambia el 4 que engaña a la red, el «3 perfecto», el mapa de los dígitos, un valor
de una convolución hecho a mano, el campo receptivo y la red convolucional frente al perceptrón.

Cada comprobación calcula la respuesta con la red del curso (la de referencia, o las dos redes de
`shift_comparison`, que están en la caché tras ejecutar su celda); antes de cargar nada, rechaza lo
que ni siquiera tiene el tipo pedido. Las respuestas se calculan una vez (`lru_cache`).
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


def _close(value, right, tolerance=0.01):
    return abs(value - right) <= tolerance * max(abs(right), 1e-12)


def _corner(answer):
    """(fila, columna) de dos enteros, o None."""
    corner = as_shape(answer)
    return corner if corner is not None and len(corner) == 2 else None


@functools.lru_cache(maxsize=1)
def _saliency_peak():
    from ..attribution import saliency
    return divmod(int(saliency(_model(), _first(7))[0].argmax()), 16)


@exercise("11.1", "¿Qué píxel (fila, columna) del 7 tiene la saliencia más alta?",
          "Sección 1: `sal_seven` es un tensor [16, 16]; `sal_seven.argmax()` da la posición en el tensor "
          "aplanado (fila · 16 + columna), y `divmod` la separa en fila y columna.")
def _(pixel):
    corner = _corner(pixel)
    if corner is None:
        return "Escribe el píxel como una forma de dos enteros, (fila, columna), sin comillas."
    if not all(0 <= n < 16 for n in corner):
        return "La fila y la columna van de 0 a 15: la imagen es de 16x16."
    right = _saliency_peak()
    if corner == right[::-1]:
        return "Casi: la fila va primero y la columna después."
    return corner == right


@functools.lru_cache(maxsize=1)
def _occlusion_drops():
    from ..attribution import BLACK
    from ..runner import outputs, probabilities
    model, seven = _model(), _first(7)
    before = float(probabilities(outputs(model, seven))[0, 7])
    drops = {}
    for r in range(0, 13, 2):
        for c in range(0, 13, 2):
            covered = seven.clone()
            covered[:, r:r + 4, c:c + 4] = BLACK
            drops[(r, c)] = before - float(probabilities(outputs(model, covered))[0, 7])
    return drops


@exercise("11.2", "¿En qué esquina (fila, columna) empieza el parche de 4x4 que más baja la probabilidad del 7?",
          "Sección 2: `drops` guarda, para cada esquina, cuánto baja la probabilidad al tapar ese parche; busca "
          "la esquina con la bajada mayor (max con key=drops.get).")
def _(esquina):
    corner = _corner(esquina)
    if corner is None:
        return "Escribe la esquina como una forma de dos enteros, (fila, columna), sin comillas."
    drops = _occlusion_drops()
    if corner not in drops:
        return "La esquina de un parche es par (0, 2, 4... hasta 12): el parche se mueve de 2 en 2 píxeles."
    if corner == min(drops, key=drops.get):
        return "Esa es la esquina que menos baja la probabilidad (o la sube): busca la bajada mayor."
    return corner == max(drops, key=drops.get)


@exercise("11.3", "¿De qué lado es el mapa de Grad-CAM en conv2, la última convolución de la red del curso?",
          "Sección 3: Grad-CAM tiene el tamaño de los mapas de la capa. Sigue el lado desde la imagen (16): "
          "conv1 con padding 1 lo conserva, pool1 lo divide entre 2 y conv2, con padding 1, lo conserva; "
          "compruébalo con `cam.shape`.")
def _(lado):
    side = as_integer(lado)
    if side is None:
        return "La respuesta es un número entero: el lado del mapa."
    if side == 16:
        return "16 es el lado de la imagen (y de conv1): conv2 va después del primer pooling."
    if side == 4:
        return "4 es el lado después de pool2; Grad-CAM usa la salida de conv2, antes del segundo pooling."
    from ..attribution import grad_cam
    return side == grad_cam(_model(), _first(7)).shape[-1]


@functools.lru_cache(maxsize=1)
def _adversarial_change():
    from ..attribution import adversarial
    from ..render import digit_pixels
    four = _first(4)
    result = adversarial(_model(), four)
    return digit_pixels(result.image) - digit_pixels(four), result.eps


@exercise("11.4", "¿Cuánto cambia de media (en valor absoluto, de 0 a 1) un píxel del 4 que engaña a la red?",
          "Sección 4: `change` es la diferencia de los píxeles (de 0 a 1) entre `fooled.image` y `four`; la "
          "media de su valor absoluto: change.abs().mean().")
def _(cambio):
    value = as_number(cambio)
    if value is None:
        return "La respuesta es un número entre 0 y 1."
    change, eps = _adversarial_change()
    right = float(change.abs().mean())
    if _close(value, eps):
        return "Ese es el cambio máximo (eps); la pregunta es la media de todos los píxeles."
    if _close(value, float(change.mean())) and not _close(value, right):
        return "Sin el valor absoluto, los cambios hacia arriba y hacia abajo se compensan: usa change.abs()."
    from ..runner import STD
    if _close(value, right / STD):
        return "Ese cambio está en la escala de las imágenes normalizadas; usa render.digit_pixels (de 0 a 1)."
    return _close(value, right)


@functools.lru_cache(maxsize=1)
def _dark_share():
    from ..attribution import class_image
    from ..render import digit_pixels
    pixels = digit_pixels(class_image(_model(), 3, steps=150))
    return int((pixels < 0.05).sum()), pixels.numel()


@exercise("11.5", "¿Qué fracción de los píxeles del «3 perfecto» se quedó en negro (menos de 0,05, de 0 a 1)?",
          "Sección 5: trazos.render.digit_pixels(perfect_three) da los píxeles de 0 a 1; (píxeles < 0.05) "
          "marca los negros, y la media de esa máscara (.float().mean()) es la fracción.")
def _(fraccion):
    value = as_number(fraccion)
    if value is None:
        return "La respuesta es un número entre 0 y 1: una fracción."
    dark, total = _dark_share()
    if value == dark and dark != dark / total:
        return "Eso es cuántos píxeles; la fracción es dividir entre todos los de la imagen."
    if value > 1:
        return "Una fracción va de 0 a 1 (si la escribes en %, divide entre 100)."
    return abs(value - dark / total) < 1e-3


@functools.lru_cache(maxsize=1)
def _map_mistakes():
    from ..data import Digits
    from ..digit_map import embedding
    from ..runner import outputs
    test, model = _test(), _model()
    few = Digits(test.pixels[:500], test.labels[:500])
    points = embedding(model, few).double()
    distances = torch.cdist(points, points)
    distances.fill_diagonal_(float("inf"))
    mixed = few.labels[distances.argmin(dim=1)] != few.labels
    wrong = outputs(model, few.images).argmax(dim=1) != few.labels
    return int(mixed.sum()), int((mixed & wrong).sum()), int(wrong.sum()), len(few.labels)


@exercise("11.6", "De los 500 dígitos cuyo vecino más cercano en el plano de «Tras entrenar» es de otro dígito, "
                  "¿qué fracción lee mal la red?",
          "Sección 6: con las distancias de torch.cdist (la diagonal a infinito), argmin(dim=1) da el vecino de "
          "cada punto; «mezclados» son los que tienen un vecino de otra etiqueta, «errores» los que la red lee "
          "mal (trazos.predict). La fracción es (mezclados & errores).sum() entre mezclados.sum().")
def _(fraccion):
    value = as_number(fraccion)
    if value is None:
        return "La respuesta es un número entre 0 y 1: una fracción."
    mixed, both, wrong, total = _map_mistakes()
    right = both / mixed
    if _close(value, right, 0.005):
        return True
    if _close(value, mixed / total, 0.005):
        return "Esa es la fracción de los 500 que tienen un vecino de otro dígito; falta ver cuántos de ellos lee " \
               "mal la red."
    if _close(value, both / total, 0.005):
        return "Divide entre los que tienen un vecino de otro dígito, no entre los 500."
    if value >= 1:
        return "Una fracción va de 0 a 1 (si has contado dígitos, divide entre los que tienen un vecino de otro " \
               "dígito)."
    return False


@exercise("11.7", "El valor de conv1 (canal 0, fila 5, columna 5) para el 7, calculado a mano: ventana por kernel, "
                  "sumado, más el sesgo.",
          "Sección 7: con padding 1, el valor de la fila 5 mira las filas 4, 5 y 6 de la imagen (y las columnas "
          "4, 5 y 6); multiplica por model.conv1.weight[0, 0], suma y añade el sesgo, model.conv1.bias[0].")
def _(valor):
    value = as_number(valor)
    if value is None:
        return "La respuesta es un número (un float; .item() convierte un tensor de un valor)."
    model, seven = _model(), _first(7)
    with torch.no_grad():
        right = float(model.conv1(seven[None])[0, 0, 5, 5])
    if abs(value - (right - model.conv1.bias[0].item())) < 1e-4:
        return "Casi: falta sumar el sesgo del canal 0."
    return abs(value - right) < 1e-4


@exercise("11.8", "¿De cuántos píxeles de lado es el trozo de la imagen que ve un valor de relu2?",
          "Sección 8: hacia atrás, como en el ejercicio 6.5: la ReLU no cambia nada, así que relu2 ve lo mismo "
          "que conv2; un kernel de 3 junta 3 valores vecinos de pool1, que están a 2 píxeles uno de otro.")
def _(lado):
    side = as_integer(lado)
    if side is None:
        return "La respuesta es un número entero de píxeles."
    from ..digit_map import receptive_field
    from ..models import CNN
    if side == 10:
        return "Ese es el de pool2: relu2 va antes del último pooling."
    if side == 6:
        return "Casi: los valores vecinos de pool1 están a 2 píxeles, así que cada uno más añade 2, no 1."
    return side == receptive_field(CNN(), "relu2")[0]


@functools.lru_cache(maxsize=1)
def _shift_disagreements():
    from ..data import Digits
    from ..digit_map import shift, shift_comparison
    from ..runner import outputs
    test = _test()
    few = Digits(test.pixels[:1000], test.labels[:1000])
    comparison = shift_comparison(few)  # las dos redes, de la caché si ya se ejecutó la celda
    moved = shift(few.images, 2, 0)
    cnn = outputs(comparison["cnn"], moved).argmax(dim=1) == few.labels
    mlp = outputs(comparison["mlp"], moved).argmax(dim=1) == few.labels
    return int((cnn & ~mlp).sum()), int((mlp & ~cnn).sum()), int(cnn.sum()), int((~mlp).sum())


@exercise("11.9", "Con los 1000 dígitos de few_test movidos 2 píxeles a la derecha, ¿cuántos lee bien la red "
                  "convolucional y mal el perceptrón?",
          "Sección 9: moved = trazos.digit_map.shift(few_test.images, 2, 0); lo que lee cada red es "
          "trazos.predict(red, moved)[0]; cuenta los dígitos en que la convolucional acierta (== few_test.labels) "
          "y el perceptrón no: (aciertos_cnn & ~aciertos_mlp).sum().")
def _(cuantos):
    count = as_integer(cuantos)
    if count is None:
        return "La respuesta es un número entero de dígitos."
    only_cnn, only_mlp, cnn_right, mlp_wrong = _shift_disagreements()
    if count == only_cnn:
        return True
    if count == only_mlp:
        return "Al revés: esos los acierta el perceptrón y los falla la convolucional."
    if count == cnn_right:
        return "Esos son todos los que acierta la convolucional; falta quedarse con los que el perceptrón falla."
    if count == mlp_wrong:
        return "Esos son todos los que falla el perceptrón; falta quedarse con los que la convolucional acierta."
    return False
