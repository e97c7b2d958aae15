"""Ejercicios del cuaderno 09 (cambia la red): pasos, parámetros y tamaños de una red cambiada.

Las comprobaciones montan las redes en el dispositivo `meta` de PyTorch (formas y número de
parámetros, sin datos): son instantáneas y no gastan números aleatorios, así que el cuaderno
sigue igual con los ejercicios hechos o no. La red de la semilla 004 está aquí con la misma
forma que en la semilla (y en el cuaderno): `self.pool` usado dos veces, `F.relu` como función,
`x.view(-1, ...)` y `F.log_softmax(..., dim=1)`; con argumentos para montar las variantes de los
ejercicios, y con los valores por defecto es exactamente la red del cuaderno.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..capture import capture
from ..models import CNN
from . import as_integer, as_number, exercise, integer_hint, number_hint

META = torch.device("meta")
TOLERANCE = 0.02  # ejercicio 9.4: el factor vale con un error de un 2 %
CHANGES = ("kernel 5x5", "doble de filtros", "sin padding", "tercera convolución", "sin pooling")


class SeedCNN(nn.Module):
    """La red de la semilla 004, como la escribe la semilla (entrada 28x28)."""

    def __init__(self, filters=(32, 64), kernel_size=3, padding=1, side=7):
        super().__init__()
        first, second = filters
        self.side, self.channels = side, second
        self.conv1 = nn.Conv2d(1, first, kernel_size=kernel_size, padding=padding)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(first, second, kernel_size=kernel_size, padding=padding)
        self.fc1 = nn.Linear(side * side * second, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, self.side * self.side * self.channels)
        x = F.relu(self.fc1(x))
        return F.log_softmax(self.fc2(x), dim=1)


def _count(model):
    return sum(p.numel() for p in model.parameters())


def _seed_steps():
    """[(nombre, forma de salida)] de cada paso de la red de la semilla, con una imagen 28x28."""
    with META:
        return [(s.name, tuple(s.output.shape)) for s in capture(SeedCNN(), torch.zeros(1, 1, 28, 28))]


@exercise("9.1", "¿En qué paso de la red de la semilla pasa el tensor de 4 dimensiones a 2?",
          "mira cuántas dimensiones (`.ndim`) tiene la salida de cada paso en trazos.activations(model, "
          "primera), o la columna «forma de salida» de la tabla de la sección 6 (sin el lote).")
def four_to_two(step):
    if not isinstance(step, str):
        return ("la respuesta es el nombre de un paso, entre comillas, como los que lista trazos.stage_names en la "
                "sección 6.")
    steps = _seed_steps()
    names = [name for name, _ in steps]
    ndims = {name: len(shape) for name, shape in steps}
    step = step.strip().strip("'\"")
    if step not in names:
        if step.lower() == "flatten":
            return ("la red de la semilla no tiene ningún paso llamado flatten: aplana de otra forma. "
                    "Lee los nombres que lista trazos.stage_names en la sección 6.")
        return ("ese no es el nombre de ningún paso de la red de la semilla: elige uno de los que lista "
                "trazos.stage_names en la sección 6.")
    first_2d = next(name for name in names if ndims[name] == 2)
    if names.index(step) > names.index(first_2d):
        return "a ese paso el tensor ya le llega con 2 dimensiones: busca un paso anterior."
    if names.index(step) < names.index(first_2d):
        return "la salida de ese paso todavía tiene 4 dimensiones (lote, canales, alto, ancho): busca uno posterior."
    return True


def _compact_with_kernel(k):
    net = CNN()
    net.conv1 = nn.Conv2d(1, 16, kernel_size=k, padding=k // 2)
    net.conv2 = nn.Conv2d(16, 32, kernel_size=k, padding=k // 2)
    return net


@exercise("9.2", "Parámetros de la red compacta con kernels de 7x7 (y padding 3) en sus dos convoluciones.",
          "por capa: una Conv2d tiene salida · (entrada · k · k) + salida, una Linear salida · entrada + salida. "
          "Prueba tu método con la fila «kernel 5x5» de la tabla antes de hacer la cuenta con k = 7.")
def params_7x7(count):
    if as_integer(count) is None:
        return integer_hint(count, "un número entero de parámetros")
    count = as_integer(count)
    with META:
        net = _compact_with_kernel(7)
        net(torch.zeros(1, 1, 16, 16))  # padding 3 conserva el lado: fc sigue encajando
        real = _count(net)
        convs = _count(net.conv1) + _count(net.conv2)
        compact, five = _count(CNN()), _count(_compact_with_kernel(5))
    if count == compact:
        return "ese es el total de la compacta con kernels de 3x3."
    if count == five:
        return "ese es el total con kernels de 5x5 (la tabla); ahora el kernel es de 7x7."
    if count == real - 16 - 32:
        return "te faltan los sesgos de las convoluciones: uno por filtro."
    if count == convs:
        return "falta fc: sus 512 entradas no cambian, porque con k = 7 el padding 3 conserva el lado."
    if count == real - 32 * 16 * 49 + 32 * 49:
        return "cada filtro de conv2 tiene un kernel de 7x7 por cada uno de sus 16 canales de entrada, no uno solo."
    return count == real


def _unpadded_flat_size():
    """Lo que sale de la parte convolucional de la semilla sin padding, por imagen."""
    with META:
        net = SeedCNN(padding=0)
        x = net.pool(F.relu(net.conv1(torch.zeros(1, 1, 28, 28))))
        x = net.pool(F.relu(net.conv2(x)))
    return x[0].numel()


@exercise("9.3", "La red de la semilla sin padding en sus dos convoluciones: el número de x.view(-1, ...) y la fc1 "
                 "que encajan.",
          "sigue el lado con la fórmula del cuaderno 01, paso a paso (conv1, pool, conv2, pool) desde 28, y "
          "multiplica lado · lado · canales. Ese número va en x.view y es lo que entra en fc1.")
def unpadded_seed(flat, fc1):
    if as_integer(flat) is None:
        return integer_hint(flat, "en el primer hueco un número entero: cuántos números por imagen deja x.view")
    flat = as_integer(flat)
    if not isinstance(fc1, nn.Linear):
        return "el segundo hueco es una capa: nn.Linear(entradas, salidas)."
    if fc1.out_features != 128:
        return "las salidas de fc1 no cambian: fc2 sigue esperando 128 entradas."
    real = _unpadded_flat_size()
    if flat == 7 * 7 * 64 or fc1.in_features == 7 * 7 * 64:
        return "3136 = 7 · 7 · 64 es lo que llega con padding 1; sin padding los mapas que llegan son más pequeños."
    if flat != fc1.in_features:
        return "x.view y fc1 tienen que hablar del mismo número: lo que sale de view es lo que entra en fc1."
    if flat == real // 64 * 32:
        return "la segunda convolución deja 64 canales, no 32."
    return flat == real


class CompactNoPooling(CNN):
    """La compacta sin sus dos poolings (como la variante del cuaderno), para reconocer su factor."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(16 * 16 * 32, 10)

    def forward(self, x):
        x = self.relu1(self.conv1(x))
        x = self.relu2(self.conv2(x))
        return self.fc(self.flatten(x))


def _seed_variant(change):
    """La red de la semilla con uno de los cambios del cuaderno (en `meta`), ya comprobada con una imagen."""
    if change == "kernel 5x5":
        net = SeedCNN(kernel_size=5, padding=2)
    elif change == "doble de filtros":
        net = SeedCNN(filters=(64, 128))
    elif change == "sin padding":
        net = SeedCNN(padding=0, side=5)
    elif change == "tercera convolución":
        net = SeedCNN()
        net.conv3 = nn.Conv2d(64, 64, kernel_size=3, padding=1)  # tras el segundo pooling: 64x7x7 -> 64x7x7
    else:  # sin pooling: el lado sigue en 28
        net = SeedCNN(side=28)
        net.pool = nn.Identity()
    net(torch.zeros(2, 1, 28, 28))  # que encaje de verdad (conv3 no cambia ninguna forma: solo se cuenta)
    return net


def _seed_factors():
    with META:
        base = _count(SeedCNN())
        return {change: _count(_seed_variant(change)) / base for change in CHANGES}, base


@exercise("9.4", "De los cinco cambios de la sección 2, hechos en la red de la semilla, ¿cuál multiplica más sus "
                 "parámetros, y por cuánto?",
          "en la red de la semilla casi todos los parámetros están en fc1 (128 · entradas + 128): piensa qué "
          "cambio hace crecer más lo que le llega a fc1, recalcula el total y divídelo entre el de la semilla.")
def biggest_change(change, factor):
    if not isinstance(change, str) or change.strip().lower() not in CHANGES:
        return f"el primer hueco es uno de estos textos: {', '.join(repr(c) for c in CHANGES)}."
    if as_number(factor) is None:
        return number_hint(factor, "en el segundo hueco un número: cuántas veces los parámetros de la semilla "
                                   "(nuevos / originales)")
    factor = as_number(factor)
    if not math.isfinite(factor):
        return "el segundo hueco es un número: cuántas veces los parámetros de la semilla (nuevos / originales)."
    factors, _ = _seed_factors()
    best = max(factors, key=factors.get)
    change = change.strip().lower()
    if change != best:
        return ("ese cambio no es el que más multiplica: fc1 tiene más del 95 % de los parámetros de la semilla, "
                "¿qué cambio hace crecer más lo que le llega a fc1?")
    if factor > 1000:
        return "se pide cuántas veces, no el número de parámetros: divide el total nuevo entre el de la semilla."
    with META:
        compact_factor = _count(CompactNoPooling()) / _count(CNN())
    if abs(factor - compact_factor) <= TOLERANCE * compact_factor:
        return "ese es el factor de la red compacta (la tabla); la semilla tiene otros números: 28x28 y 64 canales."
    if abs(factor - factors[best]) > TOLERANCE * factors[best]:
        return (f"el cambio es ese, pero el factor no (se acepta un error de un {TOLERANCE * 100:.0f} %): recalcula "
                "fc1 con lo que le llega sin pooling y divide el total nuevo entre el de la semilla.")
    return True


@exercise("9.5", "Una red para imágenes de 16x16 con al menos dos convoluciones y como mucho la mitad de parámetros "
                 "que la compacta.",
          "la mayor parte de los parámetros de la compacta está en fc (10 · 512 + 10): reduce lo que le llega a fc "
          "(menos filtros en conv2, otro pooling) y cuenta con trazos.summary(red, (1, 16, 16)).")
def small_network(net):
    if not isinstance(net, nn.Module):
        return "la respuesta es una red: un nn.Module (una clase tuya o un nn.Sequential)."
    convs = sum(isinstance(m, nn.Conv2d) for m in net.modules())
    if convs < 2:
        return f"se piden al menos dos convoluciones (nn.Conv2d) y tu red tiene {convs}."
    from ..shapes import summary
    try:
        table = summary(net, (1, 16, 16))
    except ValueError as error:
        return f"tu red no acepta imágenes de 16x16: {error}"
    if not table or table[-1]["shape"] != (10,):
        shape = "x".join(map(str, table[-1]["shape"])) if table else "nada"
        return f"tu red devuelve {shape} por imagen; tiene que devolver 10 valores, uno por dígito."
    with META:
        limit = _count(CNN()) // 2
    params = sum(p.numel() for p in net.parameters())
    if params > limit:
        return (f"tu red tiene {params} parámetros y el límite es la mitad de los de la compacta: mira en "
                "trazos.summary qué paso tiene más y reduce lo que le llega.")
    return True
