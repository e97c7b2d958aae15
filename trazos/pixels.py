"""Los colores del curso y las piezas con que se pinta cada dibujo: colorear, componer un mosaico, PNG.

Las paletas y los colores con nombre (con el contraste que guardan sobre blanco), una tabla
de 256 colores por paleta, `colorize` (un array de números -> RGB), `mosaic` (tiles en rejilla),
`frame` (un marco alrededor de un tile) y `to_png`. Son pasos de NumPy y PIL (de matplotlib, solo
sus paletas), sin figuras ni widgets, rápidos para la pantalla: `render` los usa en cada dibujo y los
reexporta, así que el resto del paquete los llama `render.colorize`, `render.DIVERGING`...
"""

import io
import math

import matplotlib
import numpy as np
from PIL import Image

from .errors import TrazosValueError

__all__ = ["DIVERGING", "SEQUENTIAL", "PREDICTED", "OTHER", "FIRST", "NEXT", "CENTER", "PADDING", "UNSEEN",
           "HIGHLIGHT", "RIGHT", "WRONG", "BACKGROUND", "hex_color", "lut", "colorize", "mosaic", "frame", "to_png"]

DIVERGING = "RdBu_r"  # pesos y respuestas con signo: rojo positivo, azul negativo, blanco cero
SEQUENTIAL = "viridis"  # activaciones: oscuro poco, amarillo mucho
# Los colores del curso contrastan con el blanco al menos 3:1 si son de un dibujo (barras, marcos, puntos) y
# 4,5:1 si se escriben (WCAG 2.1 AA); los que se distinguen entre sí llevan además otra marca (continuo o
# discontinuo, ✓ o ✗, negrita), porque para un daltónico rojo, naranja y verde se parecen.
PREDICTED, OTHER = "#1f77b4", "#8a8a8a"  # la barra del dígito predicho (4,8:1) y las demás (3,5:1)
FIRST, NEXT, CENTER = (208, 48, 48), (184, 92, 0), (31, 119, 180)  # kernel: 1.ª posición (continuo), la siguiente
# (discontinuo), centros; 5,1:1, 4,6:1 y 4,8:1 sobre blanco
PADDING, UNSEEN = (215, 215, 215), (255, 221, 170)  # ceros del padding; píxeles que no toca ningún kernel (rayados)
HIGHLIGHT = (27, 122, 27)  # el marco verde (5,5:1) de los kernels que más cambiaron: el marco ya es la otra marca
RIGHT, WRONG = "#2a7d2a", "#b00020"  # acierto (5,2:1) y error (7,3:1), siempre con ✓ o ✗ al lado
BACKGROUND = (255, 255, 255)  # huecos entre tiles (ninguna paleta usada llega a blanco puro)

_LUTS = {}  # paleta -> su tabla de 256 colores


def hex_color(rgb):
    """(r, g, b) -> «#rrggbb», para usar los colores del curso en HTML."""
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


def lut(cmap):
    """Tabla [256, 3] de colores uint8 de una paleta de matplotlib (se calcula una vez)."""
    if cmap not in _LUTS:
        colors = matplotlib.colormaps[cmap](np.linspace(0, 1, 256))[:, :3]
        _LUTS[cmap] = (colors * 255).round().astype(np.uint8)
    return _LUTS[cmap]


def colorize(values, cmap=SEQUENTIAL, vmin=None, vmax=None):
    """Array (2D o [N, alto, ancho]) -> RGB uint8 con la paleta `cmap`; los NaN quedan en blanco.

    Es cmap(norm(x)) de matplotlib, pero con una tabla de 256 colores: mucho más rápido.
    """
    x = np.asarray(values, dtype=np.float32)
    holes = np.isnan(x)
    finite = x[~holes]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    span = hi - lo if hi > lo else 1.0
    index = np.nan_to_num((x - lo) * (255.0 / span), nan=0.0, posinf=255.0, neginf=0.0)
    rgb = lut(cmap)[np.clip(index, 0, 255).astype(np.uint8)]
    rgb[holes] = BACKGROUND
    return rgb


def mosaic(tiles, cols=8, scale=1, gap=4, fill=255, border=True):
    """[N, alto, ancho, (3)] -> una sola imagen con los N tiles en rejilla de `cols` columnas,
    cada píxel agrandado `scale` veces y separados por `gap` píxeles de valor `fill` (también
    alrededor, salvo con `border=False`). El tile k va a la fila k // cols, columna k % cols.

    Se colorea antes y se agranda después: colorear 16x16 píxeles cuesta mucho menos que 80x80.
    """
    tiles = np.asarray(tiles)
    if tiles.ndim not in (3, 4) or len(tiles) == 0:
        raise TrazosValueError(f"Se esperaban tiles [N, alto, ancho] o [N, alto, ancho, 3] con N >= 1; "
                         f"forma recibida {tiles.shape}.")
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w = tiles.shape[:3]
    extra = tiles.shape[3:]
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * cols, h + gap, w + gap, *extra), fill, dtype=tiles.dtype)
    grid[:n, gap:, gap:] = tiles
    grid = grid.reshape(rows, cols, h + gap, w + gap, *extra).swapaxes(1, 2)
    grid = grid.reshape(rows * (h + gap), cols * (w + gap), *extra)
    if border:
        return np.pad(grid, ((0, gap), (0, gap)) + ((0, 0),) * len(extra), constant_values=fill)
    return grid[gap:, gap:]


def to_png(picture):
    """Imagen PIL o array RGB/gris uint8 -> bytes PNG (compresión rápida: es para la pantalla)."""
    if not isinstance(picture, Image.Image):
        picture = Image.fromarray(np.asarray(picture, dtype=np.uint8))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def frame(rgb, top, left, height, width, color, thick=2):
    """Pinta un marco de `thick` píxeles alrededor del rectángulo (en el hueco entre tiles)."""
    y0, x0, y1, x1 = max(top - thick, 0), max(left - thick, 0), top + height + thick, left + width + thick
    rgb[y0:top, x0:x1] = color
    rgb[top + height:y1, x0:x1] = color
    rgb[y0:y1, x0:left] = color
    rgb[y0:y1, left + width:x1] = color
