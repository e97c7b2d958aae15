"""Ejercicios del cuaderno 02 (`log_softmax` y `dim=1`): qué suma 1, pérdidas y desbordamientos.

Las comprobaciones calculan con PyTorch lo mismo que el cuaderno (softmax, nll_loss y el
softmax ingenuo de `diagrams.naive_softmax`) y comparan; las pistas nombran la idea que falla.
Los logits de prueba salen de un generador propio: comprobar no cambia los números aleatorios
del cuaderno.
"""

import math

import torch
import torch.nn.functional as F

from ..diagrams import naive_softmax
from . import as_array, as_bool, as_integer, as_number, exercise, integer_hint, number_hint


def _logits():
    """Unos logits [6, 10] como los del cuaderno (6 imágenes, 10 clases), siempre los mismos."""
    return torch.randn(6, 10, generator=torch.Generator().manual_seed(0))


def _loss(*probabilities):
    """Entropía cruzada media de un lote en el que la clase correcta recibe esas probabilidades."""
    p = torch.tensor(probabilities, dtype=torch.float64)
    rows = torch.stack([p, (1 - p) / 2, (1 - p) / 2], dim=1)  # 3 clases; la correcta es la 0
    return F.nll_loss(torch.log(rows), torch.zeros(len(p), dtype=torch.long)).item()


@exercise("2.1", "softmax(logits, dim=1) con logits [6, 10]: ¿suman 1 las filas o las columnas? ¿Cuántas sumas?",
          "dim=1 es la dimensión de las 10 clases: softmax reparte la probabilidad entre las clases de cada imagen.")
def which_axis(axis, count):
    if not isinstance(axis, str):
        return 'escribe la primera respuesta como texto, entre comillas: "filas" o "columnas".'
    axis = axis.strip().lower()
    if axis not in {"filas", "fila", "columnas", "columna"}:
        return 'la primera respuesta es "filas" o "columnas".'
    probs = F.softmax(_logits(), dim=1)
    ones = torch.isclose(probs.sum(dim=1 if axis.startswith("fila") else 0), torch.tensor(1.0))
    if not ones.all():
        return ("una fila son las 10 puntuaciones de una imagen; una columna, la misma clase en las 6 imágenes. "
                "¿Cuál de las dos recorre la dimensión 1?")
    if as_integer(count) is None:
        return "la primera está bien. " + integer_hint(count, "en la segunda un número entero de sumas", example="3")
    if as_integer(count) != len(ones):
        return "la primera está bien. Hay una suma por cada fila: mira la forma de los logits (sección 1)."
    return True


@exercise("2.2", "Softmax de z = (0, 0, log 3), a mano, con dos decimales.",
          "e^z de cada valor, y cada uno dividido por la suma de los tres (sección 2).")
def softmax_by_hand(probs):
    probs = as_array(probs)  # una lista, un array de NumPy o un tensor
    if probs is None:
        return "escribe una lista de tres números entre corchetes, sin comillas: [p0, p1, p2]."
    probs = probs.flatten()
    if len(probs) != 3:
        return "son tres probabilidades, una por cada puntuación, en el mismo orden: [p0, p1, p2]."
    real = F.softmax(torch.tensor([0.0, 0.0, math.log(3)], dtype=torch.float64), dim=0)
    if torch.allclose(probs, torch.full((3,), 1 / 3, dtype=torch.float64), atol=0.01):
        return "las tres puntuaciones no son iguales: e^(log 3) no vale lo mismo que e^0."
    if abs(probs.sum().item() - 1) > 0.02:
        return "unas probabilidades tienen que sumar 1: divide cada e^z por la suma de los tres."
    if torch.allclose(probs, real, atol=0.01):
        return True
    if torch.allclose(probs.sort().values, real.sort().values, atol=0.01):
        return "son esos números, pero en otro orden: la probabilidad mayor va con la puntuación mayor."
    return False


@exercise("2.3", "Si sumamos 5 a todos los logits, ¿cambian las probabilidades? (True o False)",
          "mira qué pasa con e^(z + c) arriba y abajo de la fracción del softmax (sección 6).")
def shift_invariance(changes):
    changes = as_bool(changes)  # también np.bool_ o un tensor booleano, si sale de una comparación
    if changes is None:
        return "responde True o False, sin comillas."
    logits = _logits()
    return changes == (not torch.allclose(F.softmax(logits + 5, dim=1), F.softmax(logits, dim=1)))


@exercise("2.4", "Logits traspuestos, [10, lote]: ¿con qué dim se hace el softmax para que cada imagen sume 1?",
          "busca la dimensión que recorre las 10 clases de una misma imagen en la forma [10, lote].")
def transposed_dim(dim):
    if as_integer(dim) is None:
        return integer_hint(dim, "un número entero, el índice de una dimensión", example="2")
    dim = as_integer(dim)
    if dim not in (-2, -1, 0, 1):
        return "dim es el índice de una dimensión: un tensor [10, lote] tiene dos, la 0 y la 1."
    logits = _logits()
    return torch.allclose(F.softmax(logits.T, dim=dim).T, F.softmax(logits, dim=1))


@exercise("2.5", "Pérdida de una imagen con p = 0.2 en su clase, y de un lote de dos con p = 0.5 y p = 0.1.",
          "la pérdida de una imagen es −log p_y, con el logaritmo natural; la de un lote, la media (sección 7).")
def loss_by_hand(one, batch):
    for answer in (one, batch):
        if as_number(answer) is None:
            return "las dos respuestas son números, con dos decimales. " + number_hint(answer)
    one, batch = as_number(one), as_number(batch)
    if one < 0 or batch < 0:
        return "la pérdida es −log p: log p es negativo, y con el signo cambiado la pérdida es positiva."
    if math.isclose(one, -math.log10(0.2), abs_tol=0.01):
        return "has usado el logaritmo en base 10; la pérdida usa el logaritmo natural (ln, el `log` de PyTorch)."
    if math.isclose(one, 0.8, abs_tol=0.01):
        return "la pérdida no es 1 − p: es −log p."
    if not math.isclose(one, _loss(0.2), abs_tol=0.01):
        return False  # la pista general
    if math.isclose(batch, 2 * _loss(0.5, 0.1), abs_tol=0.01):
        return "la primera está bien. La pérdida de un lote es la media de las de sus imágenes, no la suma."
    if math.isclose(batch, _loss(0.3), abs_tol=0.01):
        return ("la primera está bien. En el lote, calcula la pérdida de cada imagen y haz la media "
                "(no la pérdida de la p media).")
    if not math.isclose(batch, _loss(0.5, 0.1), abs_tol=0.01):
        return "la primera está bien. Para el lote: −log p de cada imagen y la media de las dos."
    return True


@exercise("2.6", "z = (2, 1, 0) por un entero c: ¿cuál es el c más pequeño con el que el softmax ingenuo da nan?",
          "exp(x) en float32 da inf cuando x pasa de unos 88,7; busca cuándo llega ahí el mayor logit de c·z "
          "(sección 6).")
def overflow_scale(scale):
    if as_number(scale) is None:
        return integer_hint(scale, "un número entero positivo, la escala", example="12")
    scale = as_integer(scale)
    if scale is None or scale < 1:
        return "la escala es un número entero positivo."
    z = torch.tensor([[2.0, 1.0, 0.0]])

    def breaks(c):
        return bool(torch.isnan(naive_softmax(z * c, dim=1)).any())

    if not breaks(scale):
        return (f"con c = {scale} el mayor logit de c·z todavía cabe: exp no se desborda. "
                "¿Cuál es el mayor logit de c·z y cuándo pasa de 88,7?")
    if breaks(scale - 1):
        if breaks(scale // 2 + 1):
            return "ya da nan, pero no es la más pequeña: el mayor logit de c·z es 2c, no c."
        return "con esa escala ya da nan, pero no es la más pequeña: prueba a bajarla."
    return True
