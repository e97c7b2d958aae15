"""«Dibuja tu dígito»: la red lee lo que dibujas con el ratón y enseña cada paso.

El trazo se dibuja en el navegador (`canvas.DrawingCanvas`, un anywidget) y Python lo recibe
una vez terminado: un mensaje por trazo, no uno por movimiento del ratón, así que dibujar va
igual de fluido con el núcleo lejos (JupyterHub, Binder). Con cada trazo, Python pinta todos
los trazos en `drawing` como los pinta el navegador y los lee con una sola pasada de
`inspection.predict_drawing`.
"""

import numbers

import ipywidgets as widgets
import numpy as np
import torch

from .. import render
from ..inspection import predict_drawing, stage_names
from ..models import input_side
from .base import attempt, default_run, explorer, guard, image, single_thread
from .canvas import CANVAS, DrawingCanvas, check_stroke, rasterize
from ..errors import TrazosValueError

__all__ = ["draw_explorer"]

PROMPT = "<span style='font-size:130%'>Dibuja un dígito (blanco sobre negro) con el ratón.</span>"


def _side(model, side):
    """El lado de las imágenes de la red: `side` si se da; si no, el de `input_side(model)`."""
    if side is None:
        try:
            return input_side(model)
        except ValueError:
            raise TrazosValueError("No sé de qué tamaño son las imágenes de esta red: pasa el lado en píxeles, "
                             "draw_explorer(red, side=16), o añade red.input_size = 16.") from None
    if isinstance(side, bool) or not isinstance(side, numbers.Integral) or side < 1:
        raise TrazosValueError(f"side debe ser el lado en píxeles de las imágenes de la red (p. ej. 16 o 28); "
                         f"se recibió {side!r}.")
    return int(side)


def draw_explorer(model=None, side=None):
    """«Dibuja tu dígito»: un lienzo, un botón «Borrar» y, tras cada trazo, lo que ve la red,
    su predicción y las activaciones de cada paso.

    `side` es el lado de las imágenes que espera la red; hace falta solo si la red no tiene
    `input_size`. Desde Python, explorer.draw([(x, y), ...]) hace un trazo y
    explorer.clear() lo borra todo.
    """
    model = model if model is not None else default_run().model
    side = _side(model, side)
    stages = stage_names(model, torch.zeros(1, 1, side, side))  # todos los pasos, también F.relu
    canvas = DrawingCanvas()
    canvas.add_class("trazos-canvas")
    erase = widgets.Button(description="Borrar", icon="eraser", tooltip="Borra el dibujo")
    erase.add_class("trazos-erase")
    seen = image()
    seen.add_class("trazos-seen")
    prediction = widgets.HTML()
    prediction.add_class("trazos-prediction")
    bars = widgets.HTML()
    stage_pictures = {name: image() for name in stages}
    stage_captions = {name: widgets.HTML() for name in stages}
    for picture in stage_pictures.values():
        picture.add_class("trazos-stage-picture")
    message = widgets.HTML()
    drawing = np.zeros((CANVAS, CANVAS), dtype=np.uint8)  # los trazos, pintados como en el lienzo

    def reset_views():
        seen.value = render.to_png(np.zeros((side * 8, side * 8), dtype=np.uint8))
        prediction.value = PROMPT
        bars.value = ""
        for name in stages:
            stage_pictures[name].value = b""
            stage_captions[name].value = f"<b>{name}</b>"

    def show():
        """Pone al día las vistas con lo que hay en `drawing`."""
        if not drawing.any():
            reset_views()
            return
        with single_thread():
            result = predict_drawing(model, drawing, side)
        seen.value = render.to_png(render.digit_picture(result["image"], scale=8))
        p = result["prediction"]
        prediction.value = (f"<span style='font-size:130%'>La red lee un <b class='prediccion'>{p}</b> "
                            f"({render.percent(result['probs'][p])})</span>")
        bars.value = render.probability_bars(result["probs"])
        for name, output in result["activations"].items():
            if name in stage_pictures:
                stage_pictures[name].value = render.to_png(render.maps_picture(output, cell=40))
                stage_captions[name].value = f"<b>{render.describe_stage(name, output)}</b>"

    def update():
        # Los trazos cambiaron (uno nuevo del navegador o de draw(), o clear()): se vuelven a pintar
        # todos; un dígito son pocos trazos y así `drawing` nunca se desvía del lienzo.
        drawing[:] = rasterize(canvas.strokes, CANVAS, canvas.pen)
        show()

    def draw(points):
        """Un trazo completo desde Python: lista de puntos (x, y) en píxeles del lienzo."""
        canvas.strokes = [*canvas.strokes, check_stroke(points)]  # una lista nueva: así se sincroniza

    def clear(*_):
        canvas.strokes = []

    canvas.observe(lambda _change: attempt(message, update), "strokes")
    erase.on_click(guard(message, clear))
    reset_views()
    rows = [widgets.VBox([stage_captions[name], stage_pictures[name]]) for name in stages]
    left = widgets.VBox([canvas, erase])
    middle = widgets.VBox([widgets.HTML("<b>Así lo ve la red</b> (recortado, centrado y a "
                                        f"{side}x{side}, como MNIST)"), seen, prediction, bars])
    # Los pasos, uno al lado de otra mientras quepan: el explorador entero cabe en una pantalla.
    steps = widgets.Box(rows, layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start",
                                                    grid_gap="4px 24px"))
    return explorer([widgets.HBox([left, middle]), widgets.HTML("<b>Activaciones de cada etapa</b>"),
                     steps, message], "trazos-draw-explorer",
                    canvas=canvas, erase=erase, seen=seen, prediction=prediction, bars=bars,
                    stage_pictures=stage_pictures, drawing=drawing, draw=draw, clear=clear, message=message,
                    show=show)
