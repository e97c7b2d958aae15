"""Explorador de los dígitos como puntos: el test en 2-D (la penúltima capa, con PCA), época a época,
y el dígito más cercano al punto que elijas."""

import ipywidgets as widgets
import numpy as np
from torch import nn

from .. import data, render
from ..attribution_plots import CLASS_COLORS, scatter_picture
from ..digit_map import embedding, embedding_epochs, separation
from .base import default_digits, default_run, explorer, guard, image

__all__ = ["embedding_explorer"]

SIZE = 360  # lado del dibujo de puntos, en píxeles


def embedding_explorer(run=None, digits=None, count=1000):
    """Un `Run` (por defecto, la red del curso) o una red suelta: los `count` primeros dígitos de
    `digits` como puntos, coloreados por dígito, en cada época guardada. Los deslizadores `x` e `y`
    (de 0 a 1, de izquierda a derecha y de abajo arriba) eligen un punto del dibujo: se marca el
    dígito más cercano y se enseña. Los puntos de todas las épocas se calculan al abrirlo."""
    run = run if run is not None else default_run()
    model = run if isinstance(run, nn.Module) else run.model
    digits = default_digits(model, digits)
    digits = data.Digits(digits.pixels[:count], digits.labels[:count])
    if isinstance(run, nn.Module):
        points = embedding(run, digits)
        epochs = [{"epoch": 0, "points": points, "separation": separation(points, digits.labels)}]
    else:
        epochs = embedding_epochs(run, digits)
    labels = digits.labels.numpy()
    epoch = widgets.IntSlider(value=len(epochs) - 1, min=0, max=len(epochs) - 1, description="época")
    x = widgets.FloatSlider(value=0.5, min=0, max=1, step=0.01, description="x")
    y = widgets.FloatSlider(value=0.5, min=0, max=1, step=0.01, description="y")
    title, caption = widgets.HTML(), widgets.HTML()
    picture, nearest = image(), image()
    for part, css in [(epoch, "trazos-epoch"), (x, "trazos-x"), (y, "trazos-y"), (title, "trazos-title"),
                      (picture, "trazos-scatter"), (nearest, "trazos-nearest"), (caption, "trazos-caption")]:
        part.add_class(css)
    message = widgets.HTML()
    # El color va en un cuadradito (un dibujo) y el número en negro: algunos colores no se leerían como texto.
    legend = "".join(f"<span style='white-space:nowrap'><span aria-hidden='true' style='display:inline-block;"
                     f"width:.8em;height:.8em;background:{render.hex_color(rgb)}'></span> <b>{d}</b></span> "
                     for d, rgb in enumerate(CLASS_COLORS.tolist()))

    def compute():
        current = epochs[epoch.value]
        points = current["points"].numpy()
        lo, hi = points.min(axis=0), points.max(axis=0)
        scaled = (points - lo) / np.where(hi > lo, hi - lo, 1.0)
        chosen = int(((scaled - np.array([x.value, y.value])) ** 2).sum(axis=1).argmin())
        when = "antes de entrenar" if current["epoch"] == 0 else f"tras la época {current['epoch']}"
        title.value = (f"<b>{when}</b>: vecino más cercano del mismo dígito en el plano, "
                       f"<b class='separacion'>{render.percent(current['separation'])}</b>")
        picture.value = render.to_png(scatter_picture(points, labels, SIZE, chosen=chosen))
        picked, label = digits[chosen]
        nearest.value = render.to_png(render.digit_picture(picked, scale=max(1, 96 // picked.shape[-1])))
        caption.value = f"El punto más cercano: el nº {chosen} (un <b class='etiqueta'>{int(label)}</b>)."

    update = guard(message, compute)
    for control in (epoch, x, y):
        control.observe(update, names="value")
    update()
    return explorer([epoch, title, widgets.HBox([picture, widgets.VBox([x, y, nearest, caption])]),
                     widgets.HTML(legend), message], "trazos-embedding-explorer", epoch=epoch, x=x, y=y,
                    title=title, picture=picture, nearest=nearest, caption=caption, message=message, update=update,
                    epochs=epochs)

