"""Ejercicios del cuaderno 04_entrenamiento.ipynb: normalizar, contar lotes, predecir la pérdida
de una red sin entrenar y completar el bucle de entrenamiento."""

import functools
import math
import re

import torch
import torch.nn.functional as F

from ..data import MEAN, STD, batches, load_mnist
from ..models import CNN
from . import as_integer, as_number, exercise, integer_hint, number_hint

STEPS, BATCH = 20, 64  # el bucle diminuto del ejercicio 4.4: 20 pasos sobre un mismo lote de 64 imágenes


@functools.lru_cache(maxsize=1)
def _background_16():
    """El fondo (0) normalizado con la media y la desviación de los píxeles de entrenamiento a 16x16.

    Se calcula una vez: leer y reducir las 60.000 imágenes tarda, y cada intento daría lo mismo.
    """
    # Media y desviación de los píxeles en [0, 1], contando cuántos hay de cada nivel de gris
    # (exacto, y sin pasar los 15 millones de píxeles a float).
    counts = torch.bincount(load_mnist(train=True, size=16).pixels.flatten(), minlength=256).double()
    levels = torch.arange(256, dtype=torch.float64) / 255
    mean = (counts @ levels / counts.sum()).item()
    std = (counts @ (levels - mean) ** 2 / (counts.sum() - 1)).sqrt().item()
    return (0 - mean) / std


@functools.lru_cache(maxsize=1)
def _batch_sizes():
    """Cuántas imágenes lleva cada lote de 128 de una época (una vez: no cambia entre intentos)."""
    return [len(labels) for _, labels in batches(load_mnist(train=True), 128)]


@exercise("4.1", "¿Qué valor tendría el fondo negro si normalizáramos con la media y la desviación típica "
                 "medidas a 16x16?",
          "Es la misma fórmula (x − μ)/σ de la sección 1, con x = 0 (el fondo) y la μ y la σ de los píxeles "
          "a 16x16 que imprime la sección 2.")
def _(fondo):
    value = as_number(fondo)
    if value is None:
        return number_hint(fondo, "un número, el valor del fondo normalizado")
    right = _background_16()
    if abs(value - (0 - MEAN) / STD) < 0.005:
        return "Ese es el fondo con la μ y la σ de 28x28 (sección 1); usa las medidas a 16x16."
    if abs(value + right) < 0.01:
        return "Revisa el signo: el fondo (0) está por debajo de la media."
    return abs(value - right) < 0.002  # lo que cambia redondear μ y σ a tres o cuatro decimales


@exercise("4.2", "Con lotes de 128, ¿cuántos lotes tiene una época de las 60.000 imágenes y cuántas imágenes "
                 "lleva el último?",
          "Divide el número de imágenes de entrenamiento entre el tamaño del lote: los lotes completos y, si sobra "
          "algo, un lote más con lo que sobra.")
def _(lotes, ultimo):
    if as_number(lotes) is not None and as_integer(lotes) is None:
        return "El número de lotes es un número entero: un lote o está o no está."
    for answer in (lotes, ultimo):
        if as_integer(answer) is None:
            return ("Las dos respuestas son números enteros: cuántos lotes y cuántas imágenes. "
                    + integer_hint(answer))
    lotes, ultimo = as_integer(lotes), as_integer(ultimo)
    sizes = _batch_sizes()
    if lotes == len(sizes) - 1:
        return ("Te falta un lote: las imágenes que sobran tras los lotes completos forman un último lote, "
                "más pequeño.")
    if lotes == len(sizes) and ultimo != sizes[-1]:
        return ("Los lotes están bien; el último se lleva solo las imágenes que sobran después de llenar "
                "todos los anteriores de 128.")
    return lotes == len(sizes) and ultimo == sizes[-1]


@exercise("4.3", "¿Qué pérdida (entropía cruzada) tendrá una red recién creada sobre un lote?",
          "Sus diez logits son pequeños y casi iguales: ¿qué probabilidad da entonces softmax a cada dígito, "
          "también al correcto? La pérdida es −ln de esa probabilidad.")
def _(perdida):
    value = as_number(perdida)
    if value is None:
        return number_hint(perdida, "un número, la pérdida", example="0.5")
    if abs(value - 0.1) < 0.01:
        return "Eso es una probabilidad, no una pérdida: la pérdida es −ln de la probabilidad del dígito correcto."
    if abs(value - 1) < 0.01:
        return "Has usado el logaritmo decimal; la entropía cruzada usa el logaritmo natural (ln)."
    if abs(value + math.log(10)) < 0.05:
        return "Revisa el signo: la pérdida es −ln p, y ln p es negativo para p < 1."
    return abs(value - math.log(10)) < 0.05


def _tiny_loop(code):
    """Las pérdidas del bucle diminuto del ejercicio 4.4 con `code` (ya compilado) en el hueco."""
    digits = load_mnist(train=True, limit=BATCH)
    images, labels = digits.images, digits.labels
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = CNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(images), labels)
        # Con los nombres del bucle del cuaderno (tiny, few) y con los genéricos (model, images...).
        namespace = {"torch": torch, "F": F, "model": model, "tiny": model, "optimizer": optimizer, "loss": loss,
                     "images": images, "labels": labels, "few": digits}
        exec(code, namespace)  # noqa: S102 - la línea que escribe el estudiante, en su propio cuaderno
        optimizer.step()
        losses.append(loss.item())
    return losses


@exercise("4.4", "¿Qué línea le falta al bucle que no aprende?",
          "Mira lo que imprime el bucle roto: ¿tienen gradiente los pesos? Repasa cuál de los cinco pasos de la "
          "sección 4 calcula los gradientes.")
def _(linea):
    # Se juzga lo que hace la línea, no cómo está escrita: se pone en el hueco y se mira si la pérdida
    # baja. Así vale también otra forma correcta, como «model.zero_grad(); loss.backward()».
    if not isinstance(linea, str) or not linea.strip():
        return "Escribe la línea como texto, entre comillas, tal como iría en el bucle."
    text = linea.strip()
    if re.search(r"\.step\s*\(", text):  # dar otro paso cambia el entrenamiento, aunque la pérdida baje
        return ("optimizer.step() ya está en el bucle, justo después del hueco: tu línea no tiene que repetirlo. "
                "Falta otra: compara el bucle con los cinco pasos de la sección 4.")
    try:
        code = compile(text, "<tu línea>", "exec")
    except SyntaxError:
        return ("Tu línea no es Python válido: revisa los paréntesis y las comillas, y escríbela tal como iría "
                "en el bucle.")
    try:
        losses = _tiny_loop(code)
    except Exception:  # noqa: BLE001 - la línea del estudiante puede fallar de cualquier forma
        return ("Tu línea falla al ponerla en el bucle: usa solo lo que hay en él (tiny, loss, optimizer, few) y "
                "escríbela tal como iría en el hueco.")
    if not losses[-1] < 0.8 * losses[0]:
        if "backward" not in text and "zero_grad" in text:
            return "Esa línea ya está en el bucle. Falta otra: compara el bucle con los cinco pasos de la sección 4."
        first, last = (f"{x:.3f}".replace(".", ",") for x in (losses[0], losses[-1]))  # coma decimal
        return (f"Con tu línea, la pérdida del lote pasa de {first} a {last} "
                f"en {STEPS} pasos: la red sigue sin aprender. ¿Qué paso deja en cada peso el gradiente que usa "
                "optimizer.step()?")
    return True
