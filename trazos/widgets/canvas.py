"""Un lienzo para dibujar un dígito: el navegador pinta el trazo y Python lo recibe terminado.

Es un `anywidget` y no un lienzo de ipycanvas porque ipycanvas solo puede dibujar en el
navegador con un viaje de ida y vuelta al núcleo por cada movimiento del ratón, y eso va a
saltos cuando el núcleo está lejos (JupyterHub, Binder); con anywidget, el código de dibujo
(`canvas.js`) corre en el navegador, Python recibe un mensaje por trazo y el widget se ve
también en VS Code y en Colab.

El estado es solo `strokes`: la lista de trazos, cada uno una lista de puntos [x, y] en
píxeles del lienzo. El navegador añade un trazo al soltar el botón; Python puede añadir
trazos o vaciar la lista (y el lienzo se repinta); `rasterize` pinta los trazos en NumPy
como los pinta el navegador.
"""

from pathlib import Path

import anywidget
import numpy as np
import traitlets
from ..errors import TrazosValueError

__all__ = ["CANVAS", "PEN", "DrawingCanvas", "check_stroke", "rasterize"]

CANVAS = 280  # lado del lienzo en píxeles (10 veces 28, el tamaño de MNIST)
PEN = 22  # grosor del trazo: en 28x28 son unos 2 píxeles, como los trazos de MNIST


class DrawingCanvas(anywidget.AnyWidget):
    """Lienzo negro de `size` x `size` píxeles con un lápiz blanco redondo de grosor `pen`."""

    _esm = Path(__file__).with_name("canvas.js")
    size = traitlets.Int(CANVAS).tag(sync=True)
    pen = traitlets.Int(PEN).tag(sync=True)
    strokes = traitlets.List().tag(sync=True)


def check_stroke(points):
    """Un trazo como lista de puntos [x, y] (floats); ValueError en español si no lo es."""
    try:
        stroke = [[float(x), float(y)] for x, y in points]
    except (TypeError, ValueError):
        raise TrazosValueError("Un trazo es una lista de puntos (x, y) en píxeles del lienzo; "
                               f"se recibió {points!r:.80}.") from None
    if not stroke:
        raise TrazosValueError("El trazo necesita al menos un punto (x, y).")
    return stroke


def rasterize(strokes, size=CANVAS, pen=PEN):
    """Los trazos en un array [size, size] uint8 (0 fondo, 255 trazo), como los pinta canvas.js.

    Un trazo de lápiz redondo es el conjunto de puntos a menos de pen/2 de su línea: cada
    píxel vale según la distancia de su centro (x + 0.5, y + 0.5, como en el lienzo) al trazo,
    con un borde suavizado de un píxel. Así sale igual que en el navegador, borde incluido
    (PIL, con otra convención de píxel, lo pinta medio píxel desplazado y un píxel más ancho).
    """
    r = pen / 2
    distance = np.full((size, size), np.inf, dtype=np.float32)
    for stroke in strokes:
        points = np.asarray(check_stroke(stroke), dtype=np.float32)
        ends = points[1:] if len(points) > 1 else points  # un punto suelto es un segmento de largo 0
        for (ax, ay), (bx, by) in zip(points, ends):
            # Solo los píxeles cerca del segmento: un trazo de 200 puntos cuesta unos milisegundos.
            x0, x1 = max(int(min(ax, bx) - r) - 1, 0), min(int(max(ax, bx) + r) + 2, size)
            y0, y1 = max(int(min(ay, by) - r) - 1, 0), min(int(max(ay, by) + r) + 2, size)
            if x0 >= x1 or y0 >= y1:
                continue
            px = np.arange(x0, x1, dtype=np.float32) + 0.5 - ax
            py = np.arange(y0, y1, dtype=np.float32)[:, None] + 0.5 - ay
            dx, dy = bx - ax, by - ay
            t = np.clip((px * dx + py * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)  # el punto más cercano
            box = distance[y0:y1, x0:x1]
            np.minimum(box, np.hypot(px - t * dx, py - t * dy), out=box)
    return (np.clip(r + 0.5 - distance, 0, 1) * 255).round().astype(np.uint8)
