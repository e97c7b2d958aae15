"""MNIST en memoria: se lee una vez, se redimensiona y se guarda como bytes; se normaliza por lotes.

Todo el entrenamiento sale de estos tensores (no de un `DataLoader` que vuelve a
convertir cada imagen PIL en cada época): es lo que hace rápido el curso en una CPU.
Se guardan niveles de gris enteros (uint8, un byte por píxel, como en los ficheros y
como una imagen PIL), no float: las 60.000 imágenes de entrenamiento a 16x16 ocupan
15 MB en lugar de 61, y normalizar un lote cuando se pide no cuesta casi nada.

¿Dónde están los datos? En este orden: el argumento `root`, la variable de entorno
`TRAZOS_DATA`, o la carpeta de caché del usuario. Dentro, la estructura de torchvision:
`<root>/MNIST/raw/train-images-idx3-ubyte`, etc.
"""

import functools
import hashlib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .errors import TrazosError, TrazosTypeError, TrazosValueError
from .numbers import integer

__all__ = ["MNISTDataError", "MNIST_FILES", "MEAN", "STD", "Digits", "data_root", "cache_root", "split_validation",
           "find_mnist", "load_mnist", "normalize", "to_pixels", "batches", "examples_of", "example_index",
           "prepare_image", "resize_weights", "resize_pixels"]

# Media y desviación típica de los píxeles de MNIST (en [0, 1]): las de siempre (runner tiene las mismas).
MEAN, STD = 0.1307, 0.3081

# Los cuatro ficheros originales, su tamaño en bytes y su md5 canónico (sin comprimir).
MNIST_FILES = {
    "train-images-idx3-ubyte": (47_040_016, "6bbc9ace898e44ae57da46a324031adb"),
    "train-labels-idx1-ubyte": (60_008, "a25bea736e30d166cdddb491f175f624"),
    "t10k-images-idx3-ubyte": (7_840_016, "2646ac647ad5339dbf082846283269ea"),
    "t10k-labels-idx1-ubyte": (10_008, "27ae3e4e09519cfbb04c329615203637"),
}


class MNISTDataError(TrazosError, RuntimeError):
    """Los ficheros de MNIST faltan o están dañados; el mensaje dice qué hacer."""


def user_cache():
    """La carpeta de caché de trazos del usuario (~/.cache/trazos, o la de XDG_CACHE_HOME / LOCALAPPDATA)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA") or Path.home() / ".cache"
    return Path(base) / "trazos"


def data_root(root=None):
    """Carpeta de datos: `root`, si no `TRAZOS_DATA`, si no ~/.cache/trazos/data."""
    if root is None:
        root = os.environ.get("TRAZOS_DATA") or user_cache() / "data"
    return Path(root).expanduser().resolve()


def cache_root(cache=None):
    """Carpeta de modelos entrenados: `cache`, si no `TRAZOS_CACHE`, si no ~/.cache/trazos/models."""
    if cache is None:
        cache = os.environ.get("TRAZOS_CACHE") or user_cache() / "models"
    return Path(cache).expanduser().resolve()


def _help(root):
    files = "\n".join(f"  - {name}  ({integer(size)} bytes)" for name, (size, _) in MNIST_FILES.items())
    return (
        f"Se esperaban en la carpeta {root / 'MNIST' / 'raw'} estos cuatro ficheros:\n{files}\n"
        "Con conexión a internet se descargan solos la primera vez. Sin conexión, cópialos a esa "
        "carpeta o indica dónde están con la variable de entorno TRAZOS_DATA "
        "(por ejemplo: export TRAZOS_DATA=/ruta/a/data, la carpeta que contiene MNIST/raw)."
    )


@functools.lru_cache(maxsize=None)
def _check_file(path, size, md5, mtime):
    """Comprueba tamaño y md5 (una vez por fichero y sesión: `mtime` invalida la caché)."""
    actual = path.stat().st_size
    if actual != size:
        return f"{path.name}: mide {integer(actual)} bytes y debería medir {integer(size)} (¿descarga cortada?)"
    with path.open("rb") as f:  # por trozos: leer el fichero entero de una vez eran 47 MB más de pico
        digest = hashlib.file_digest(f, "md5").hexdigest()
    if digest != md5:
        return f"{path.name}: el contenido está dañado (md5 {digest}, se esperaba {md5})"
    return None


def _check_files(root):
    raw = root / "MNIST" / "raw"
    missing = [name for name in MNIST_FILES if not (raw / name).is_file()]
    if missing:
        return missing, []
    problems = []
    for name, (size, md5) in MNIST_FILES.items():
        path = raw / name
        try:
            problems.append(_check_file(path, size, md5, path.stat().st_mtime_ns))
        except OSError as error:  # permisos, disco: fuera de la caché, para volver a probar luego
            problems.append(f"{name}: no se puede leer ({error.strerror or error})")
    return [], [p for p in problems if p]


def _ensure_files(root, download):
    missing, problems = _check_files(root)
    if problems:
        raise MNISTDataError(
            "Los ficheros de MNIST están dañados o no se pueden leer:\n  - " + "\n  - ".join(problems) +
            f"\nBórralos de {root / 'MNIST' / 'raw'} para que se vuelvan a descargar, o cópialos de nuevo.\n"
        )
    if not missing:
        return
    if not download:
        raise MNISTDataError(f"Faltan ficheros de MNIST: {', '.join(missing)}.\n{_help(root)}")
    from torchvision.datasets import MNIST
    try:
        root.mkdir(parents=True, exist_ok=True)
        print(f"Descargando MNIST en {root} (unos 12 MB, solo la primera vez)...")
        MNIST(root, train=True, download=True)
        MNIST(root, train=False, download=True)
    except Exception as error:  # sin red torchvision lanza errores muy variados; todos significan lo mismo
        raise MNISTDataError(f"No se pudo descargar MNIST ({type(error).__name__}: {error}).\n{_help(root)}") from None
    _ensure_files(root, download=False)


def find_mnist(root=None, download=True):
    """La carpeta de datos con MNIST completo y sano, buscada como en `load_mnist` (sin cargar nada).

    Si faltan los ficheros y `download` es True, los descarga ahí; si no puede, lanza
    `MNISTDataError` con un mensaje que dice qué falta y cómo arreglarlo.
    """
    root = data_root(root)
    _ensure_files(root, download)
    return root


@dataclass
class Digits:
    """Dígitos de MNIST en memoria: niveles de gris `pixels` [N, 1, L, L] (uint8) y `labels` [N] (int64).

    La red recibe las imágenes normalizadas, en float: `digits[i]` da las de `i` (un índice,
    un trozo o una lista) con sus etiquetas; `batches(digits, ...)`, lote a lote;
    `digits.images`, todas a la vez (un tensor nuevo en cada llamada: para una sola imagen,
    mejor `digits[i]`).
    """

    pixels: torch.Tensor
    labels: torch.Tensor

    def __post_init__(self):
        if self.pixels.dtype != torch.uint8:
            raise TrazosTypeError(f"Digits guarda niveles de gris en uint8 (0-255), no {self.pixels.dtype}: "
                                  "pásale los bytes, no imágenes normalizadas; por ejemplo "
                                  "Digits(test.pixels[:100], test.labels[:100]).")

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return normalize(self.pixels[index]), self.labels[index]

    @property
    def images(self):
        """Todas las imágenes, normalizadas: [N, 1, L, L] en float32."""
        return normalize(self.pixels)

    def raw(self, index):
        """Imagen(es) sin normalizar, en [0, 1], para dibujarlas."""
        return self.pixels[index].float() / 255


def normalize(pixels):
    """De niveles de gris (uint8, 0-255) a lo que recibe la red: (x / 255 - MEAN) / STD, en float32."""
    return pixels.to(torch.float32, copy=True).div_(255).sub_(MEAN).div_(STD)  # copia: nunca toca `pixels`


def to_pixels(images):
    """Deshace la normalización: de imágenes como las de `load_mnist` a píxeles en [0, 1]."""
    return (torch.as_tensor(images).detach().cpu().float() * STD + MEAN).clamp(0, 1)


def _read_idx(path, first=0, count=None):
    """Lee `count` elementos desde el `first` de un fichero IDX de MNIST, como tensor uint8.

    El formato es sencillo: un número mágico cuyo último byte dice cuántas dimensiones hay,
    los tamaños (enteros de 4 bytes, big-endian) y los datos, un byte por píxel o etiqueta.
    Leerlo aquí, sin torchvision, ahorra a cada cuaderno ~190 MB: importar torchvision
    carga también sympy y el compilador de PyTorch.
    """
    with open(path, "rb") as f:
        header = f.read(4)
        dims = [int.from_bytes(f.read(4), "big") for _ in range(header[3])]
        item = math.prod(dims[1:])  # bytes de una imagen (28 x 28) o de una etiqueta (1)
        count = dims[0] - first if count is None else min(count, dims[0] - first)
        f.seek(4 + 4 * len(dims) + first * item)
        values = np.frombuffer(f.read(count * item), dtype=np.uint8)
    return torch.from_numpy(values.copy()).reshape(count, *dims[1:])


# Se redimensionan de 1024 en 1024 imágenes: pasar el conjunto entero a float de una vez (188 MB
# a 28x28 en float32, el doble en float64) multiplicaba el pico de memoria de un cuaderno; con
# trozos de 256, cada producto de matrices era tan pequeño que el reparto entre hilos costaba más
# que la cuenta (15 s en lugar de 2 para las 60.000 con la otra CPU ocupada).
CHUNK = 1024


def resize_weights(size_in, size_out):
    """La matriz [size_out, size_in] del redimensionado bilineal con antialias (la de PIL y de
    `F.interpolate(..., mode="bilinear", antialias=True)`): la fila i dice cuánto pesa cada píxel
    original en el píxel nuevo i. Cada fila suma 1: un promedio ponderado.

    Se calcula en Python, con floats de 64 bits y sin vectorizar: da los mismos números en
    cualquier procesador. Reducir una imagen X es `A @ X @ A.T`.
    """
    scale = size_in / size_out
    support = scale if scale >= 1 else 1.0  # al reducir, el triángulo se ensancha con la escala
    inverse = 1 / scale if scale >= 1 else 1.0
    rows = []
    for i in range(size_out):
        center = scale * (i + 0.5)
        first = max(int(center - support + 0.5), 0)
        last = min(int(center + support + 0.5), size_in)
        weights = [max(0.0, 1 - abs((j - center + 0.5) * inverse)) for j in range(first, last)]
        total = sum(weights)
        row = [0.0] * size_in
        row[first:last] = [w / total for w in weights]
        rows.append(row)
    return torch.tensor(rows, dtype=torch.float64)


# Los pesos, en enteros de 2**-20: con ellos y con píxeles enteros (0-255), cada producto y cada suma de
# `A @ X @ A.T` es un entero menor que 2**53, exacto en float64, y el resultado no depende del orden de
# las sumas ni de las instrucciones del procesador (con float32 y F.interpolate, un procesador con AVX2
# y otro sin él redondeaban distinto algún píxel: otros datos, otra red).
WEIGHT_BITS = 20


def resize_pixels(pixels, size):
    """Niveles de gris uint8 [N, 1, L, L] reducidos a [N, 1, size, size], redondeados al entero más
    cercano (como PIL), con aritmética exacta: los mismos bytes en cualquier máquina."""
    n, side = len(pixels), pixels.shape[-1]
    weights_t = torch.round(resize_weights(side, size) * 2**WEIGHT_BITS).T.contiguous()  # [L, size]
    # A @ X @ A.T como dos productos de matrices planas (mucho más rápidos que uno por imagen):
    # primero las filas de cada imagen (X @ A.T) y después sus columnas, trasponiendo.
    rows = pixels.reshape(n * side, side).to(torch.float64) @ weights_t  # [N*L, size]
    columns = rows.reshape(n, side, size).transpose(1, 2).reshape(n * size, side) @ weights_t
    exact = columns.reshape(n, size, size).transpose(1, 2).unsqueeze(1)  # enteros exactos: escala 2**40
    half = 2.0 ** (2 * WEIGHT_BITS - 1)
    return torch.floor((exact + half) / 2 ** (2 * WEIGHT_BITS)).clamp_(0, 255).to(torch.uint8)


@functools.lru_cache(maxsize=8)
def _load(root, train, size, limit):
    raw = root / "MNIST" / "raw"
    prefix = "train" if train else "t10k"
    labels = _read_idx(raw / f"{prefix}-labels-idx1-ubyte", count=limit).long()
    if size == 28:  # los bytes del fichero, tal cual
        return _read_idx(raw / f"{prefix}-images-idx3-ubyte", count=limit).unsqueeze(1), labels
    pixels = torch.empty(len(labels), 1, size, size, dtype=torch.uint8)
    for start in range(0, len(labels), CHUNK):
        chunk = _read_idx(raw / f"{prefix}-images-idx3-ubyte", start, min(CHUNK, len(labels) - start))
        # el promedio de los píxeles que se funden (antialias), como el Resize de PIL, y redondeado
        # como PIL a niveles de gris enteros; en aritmética exacta, igual en todas las máquinas
        pixels[start:start + len(chunk)] = resize_pixels(chunk.unsqueeze(1), size)
    return pixels, labels


def load_mnist(train=True, size=16, root=None, limit=None, download=True):
    """Devuelve `Digits` de MNIST (entrenamiento o test), redimensionado a `size` x `size`.

    `limit` lee solo los primeros ejemplos (pruebas rápidas, cuadernos que necesitan pocos).
    Las lecturas se guardan en memoria: la segunda llamada con los mismos argumentos es
    inmediata y comparte los mismos `pixels` (para modificarlos, haz antes `.clone()`).
    """
    if not isinstance(size, int) or not 4 <= size <= 28:
        raise TrazosValueError("size debe ser un entero entre 4 y 28 (16 para CNN, 28 para ClassicCNN); "
                               f"se recibió {size!r}.")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise TrazosValueError(f"limit debe ser un entero positivo o None; se recibió {limit!r}.")
    root = find_mnist(root, download)
    pixels, labels = _load(root, bool(train), size, limit)  # solo se leen y convierten los `limit` primeros
    return Digits(pixels, labels)


def split_validation(digits, size=5000):
    """(entrenamiento, validación): aparta los `size` últimos ejemplos de `digits` como validación.

    El test sirve para medir la red una sola vez, al final; para elegir (cuántas épocas, qué
    variante de la red) se mira otro conjunto que la red tampoco ve al aprender: la validación.
    Se apartan los últimos, como `validation_split` de Keras: MNIST ya viene sin orden, y un
    trozo del final es una vista de los mismos bytes (no ocupa memoria nueva).
    """
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size < len(digits):
        raise TrazosValueError(f"size debe ser un entero entre 1 y {len(digits) - 1} (cuántos ejemplos se apartan "
                               f"para validar); se recibió {size!r}.")
    cut = len(digits) - size
    return (Digits(digits.pixels[:cut], digits.labels[:cut]), Digits(digits.pixels[cut:], digits.labels[cut:]))


def batches(digits, batch_size, shuffle=False, generator=None):
    """Recorre `digits` en lotes (imágenes normalizadas, etiquetas); con `shuffle` en un orden aleatorio nuevo."""
    n = len(digits)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        yield digits[order[start:start + batch_size]]


def examples_of(digits, digit, count=1, start=0):
    """Índices de los `count` primeros ejemplos del dígito `digit` (a partir del `start`-ésimo)."""
    if digit not in range(10):
        raise TrazosValueError(f"digit debe ser un dígito del 0 al 9; se recibió {digit!r}.")
    index = torch.nonzero(digits.labels == digit).flatten()[start:start + count]
    if len(index) < count:
        raise TrazosValueError(f"Solo hay {len(index)} ejemplos del dígito {digit} a partir del {start}; "
                               f"pediste {count}.")
    return index.tolist()


def example_index(digits, digit, k):
    """Índice (en `digits`) del `k`-ésimo ejemplo del dígito `digit` (empezando en 0)."""
    count = int((digits.labels == digit).sum()) if digit in range(10) else 0
    if digit not in range(10) or not isinstance(k, int) or not 0 <= k < count:
        raise TrazosValueError(f"Elige un dígito del 0 al 9 y un ejemplo entre 0 y {max(count - 1, 0)}; "
                         f"se recibió dígito {digit!r}, ejemplo {k!r}.")
    return examples_of(digits, digit, count=1, start=k)[0]


def prepare_image(image, size=16):
    """Prepara una imagen suelta como MNIST: recorte al trazo, centro de masas y tamaño `size`.

    `image` es un array o tensor 2D (alto x ancho), con el trazo claro sobre fondo oscuro
    y valores en [0, 1]. Devuelve un tensor [1, 1, size, size] normalizado como los datos.
    MNIST encaja cada dígito en una caja de 20x20 dentro de 28x28 y lo centra por su centro
    de masas; aquí se hace igual y luego se reduce al tamaño del modelo.
    """
    x = torch.as_tensor(image, dtype=torch.float32)
    if x.ndim != 2:
        raise TrazosValueError(f"La imagen debe ser 2D (alto x ancho); tiene forma {tuple(x.shape)}.")
    if x.max() > 1.0:
        x = x / 255.0
    if x.max() <= 0.05:
        raise TrazosValueError("La imagen está vacía: dibuja un dígito antes de predecir.")
    rows = torch.nonzero(x.amax(dim=1) > 0.05).flatten()
    cols = torch.nonzero(x.amax(dim=0) > 0.05).flatten()
    x = x[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    h, w = x.shape
    scale = 20.0 / max(h, w)
    nh, nw = max(1, round(h * scale)), max(1, round(w * scale))
    x = F.interpolate(x[None, None], size=(nh, nw), mode="bilinear", antialias=True, align_corners=False)[0, 0]
    canvas = torch.zeros(28, 28)
    top, left = (28 - nh) // 2, (28 - nw) // 2
    canvas[top:top + nh, left:left + nw] = x
    # Desplaza para que el centro de masas caiga en el centro (14, 14), como en MNIST.
    total = canvas.sum()
    grid = torch.arange(28, dtype=torch.float32)
    cy, cx = (canvas.sum(dim=1) @ grid) / total, (canvas.sum(dim=0) @ grid) / total
    dy, dx = int(round(13.5 - cy.item())), int(round(13.5 - cx.item()))
    # Sin salirse del lienzo: torch.roll da la vuelta, y un trazo muy cargado a un lado
    # (una T, un 7 de barra gruesa) asomaría por el borde opuesto.
    dy, dx = max(-top, min(28 - top - nh, dy)), max(-left, min(28 - left - nw, dx))
    canvas = torch.roll(canvas, shifts=(dy, dx), dims=(0, 1))
    out = canvas[None, None]
    if size != 28:
        out = F.interpolate(out, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return (out - MEAN) / STD
