"""Explorador de kernels: los filtros de cada capa convolucional, época a época."""

import ipywidgets as widgets
import numpy as np

from .. import render
from ..inspection import kernel_history, run_parts
from ..models import conv_layers
from .base import default_run, explorer, guard, image
from ..errors import TrazosValueError

__all__ = ["ALL", "top_changes", "kernel_explorer"]

ALL = "todos"  # la opción del desplegable de filtros que enseña la rejilla entera


def top_changes(change, n=4):
    """Texto con los `n` kernels que más cambiaron (`change` es [O, I], de `render.kernel_changes`)."""
    parts = []
    for flat in np.argsort(change, axis=None)[::-1][:n]:
        o, i = np.unravel_index(flat, change.shape)
        where = f"filtro {o}" + (f", canal {i}" if change.shape[1] > 1 else "")
        parts.append(f"{where} ({change[o, i]:.2f})")
    return ", ".join(parts)


def kernel_explorer(run=None):
    """Kernels de cada capa convolucional, época a época: `.layer`, `.filter`, `.view` y `.epoch`.

    En una capa con varios canales de entrada (conv2: 32 filtros x 16 canales) se ve un filtro
    cada vez, con sus 16 kernels grandes; «todos» enseña la rejilla entera. `run` por defecto
    es trazos.trained_model("cnn"); vale cualquier Run con checkpoints (también el de una red
    propia entrenada con trazos.train_run) o un nn.Module suelto, que se ve con sus pesos
    actuales como única época.
    """
    run = run if run is not None else default_run()
    model, checkpoints, history = run_parts(run)
    layers = conv_layers(model)
    if not layers:
        raise TrazosValueError(f"La red {type(model).__name__} no tiene capas Conv2d: no hay kernels que mostrar.")
    cache = {}

    def weights_of(name):  # los pesos de todas las épocas de una capa, una sola vez
        if name not in cache:
            weights = kernel_history(run, name)
            cache[name] = weights, render.kernel_limits(weights)
        return cache[name]

    last = len(checkpoints) - 1
    layer = widgets.Dropdown(options=layers, value=layers[0], description="capa")
    # «todos» es un texto y no None: un Dropdown de ipywidgets con valor None se ve vacío.
    filter_ = widgets.Dropdown(options=[(ALL, ALL)], value=ALL, description="filtro",
                               layout=widgets.Layout(width="200px"))
    view = widgets.ToggleButtons(options=list(render.VIEWS), value="después", description="ver")
    epoch = widgets.IntSlider(value=last, min=0, max=last, description="época")
    for control, css in [(layer, "trazos-layer"), (filter_, "trazos-filter"), (view, "trazos-view"),
                         (epoch, "trazos-epoch")]:
        control.add_class(css)
    caption = widgets.HTML()
    picture = image()
    picture.add_class("trazos-kernels")
    message = widgets.HTML()
    state = {"layer": None, "busy": False}

    def choose_filters():
        """Al cambiar de capa: un filtro cada vez si tiene varios canales, el que más cambió primero."""
        weights, _ = weights_of(layer.value)
        out_ch, in_ch = weights.shape[1:3]
        options = [(ALL, ALL)] + [(str(o), o) for o in range(out_ch)]
        best = int(render.kernel_changes(weights, last).sum(axis=1).argmax()) if in_ch > 1 else ALL
        state["busy"] = True  # cambiar las opciones dispara `observe`: que no dibuje a medias
        try:
            filter_.options = options if in_ch > 1 else [(ALL, ALL)]
            filter_.value = best
        finally:
            state["busy"] = False
        filter_.disabled = in_ch == 1

    def compute():
        if state["busy"]:
            return
        if state["layer"] != layer.value:
            state["layer"] = layer.value
            choose_filters()
        weights, limits = weights_of(layer.value)
        e, f = epoch.value, None if filter_.value == ALL else filter_.value
        epoch.disabled = view.value == "antes"  # "antes" es siempre la época 0
        picture.value = render.to_png(render.kernel_picture(weights, view.value, e, f, limits=limits))
        out_ch, in_ch, k = weights.shape[1], weights.shape[2], weights.shape[3]
        when = "antes de entrenar" if e == 0 else f"tras la época {e} de {last}"
        if e and len(history) >= e:
            when += f" (acierto en validación {render.percent(history[e - 1]['val_acc'])})"
        shown = {"antes": "antes de entrenar", "después": when, "diferencia": f"cambio desde el inicio, {when}"}
        if in_ch == 1:
            what, layout = f"{out_ch} kernels de {k}x{k}", "un kernel por filtro"
        elif f is None:
            what, layout = (f"{out_ch}x{in_ch} kernels de {k}x{k}",
                            "filas: filtro de salida · columnas: canal de entrada")
        else:
            what, layout = f"filtro {f}: sus {in_ch} kernels de {k}x{k}", "uno por canal de entrada"
        change = render.kernel_changes(weights, e)
        if f is not None:  # solo los kernels que se ven: los del filtro elegido
            change = np.where(np.arange(out_ch)[:, None] == f, change, 0.0)
        top = (f" · <b style='color:{render.hex_color(render.HIGHLIGHT)}'>enmarcados en verde</b>, los que más "
               f"cambiaron: {top_changes(change)}") \
            if change.max() > 0 else ""
        caption.value = (f"<b>{layer.value}</b>: {what}, {shown[view.value]}. Rojo positivo, azul negativo, "
                         f"escala ±{render.decimal(limits[view.value])} ({layout}){top}.")

    update = guard(message, compute)
    for control in (layer, filter_, view, epoch):
        control.observe(update, names="value")
    update()
    return explorer([widgets.HBox([layer, filter_, epoch]), view, caption, picture, message],
                    "trazos-kernel-explorer", layer=layer, filter=filter_, view=view, epoch=epoch, caption=caption,
                    picture=picture, message=message, update=update)
