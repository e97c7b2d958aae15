"""Explorador de padding y stride: la fórmula del tamaño de salida, dónde cae el kernel y la
tabla de formas de la red entera con esos ajustes."""

import html

import ipywidgets as widgets
from torch import nn

from .. import render
from ..models import build_model, input_side
from ..shapes import conv_formula, conv_output_size, network_shapes
from .base import explorer, guard, image
from ..runner import keep_rng
from ..errors import TrazosValueError

__all__ = ["padding_explorer"]


def padding_explorer(model=None, side=None):
    """Tamaño de entrada, kernel, padding y stride: la fórmula con los números, dónde cae el
    kernel y la tabla de formas de toda la red (una copia con esos ajustes en sus Conv2d)."""
    if model is None:
        with keep_rng():  # una red nueva sortea sus pesos: sin tocar el generador del cuaderno
            model = build_model("cnn")
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if first is None:
        raise TrazosValueError(f"La red {type(model).__name__} no tiene capas Conv2d: "
                               "no hay padding ni stride que explorar.")
    side = side or input_side(model)  # `side=`: para una red sin input_size
    wide = dict(layout=widgets.Layout(width="330px"), style={"description_width": "80px"})
    size = widgets.IntSlider(value=side, min=4, max=32, description="entrada n", **wide)
    kernel_size = widgets.IntSlider(value=first.kernel_size[0], min=1, max=7, description="kernel k", **wide)
    padding = widgets.IntSlider(value=first.padding[0] if isinstance(first.padding, tuple) else 0, min=0, max=3,
                                description="padding p", **wide)
    stride = widgets.IntSlider(value=first.stride[0], min=1, max=3, description="stride s", **wide)
    for control, css in [(size, "trazos-size"), (kernel_size, "trazos-kernel-size"), (padding, "trazos-padding"),
                         (stride, "trazos-stride")]:
        control.add_class(css)
    formula = widgets.HTML()
    picture = image()
    legend = widgets.HTML()
    warning = widgets.HTML()
    table = widgets.HTML()
    message = widgets.HTML()

    def compute():
        n, k, p, s = size.value, kernel_size.value, padding.value, stride.value
        try:
            text = conv_formula(n, k, p, s)
        except ValueError as error:  # el kernel no cabe: se explica y se borra el dibujo
            formula.value = f"<div style='color:#b00020'>⚠ {html.escape(str(error), quote=False)}</div>"
            picture.value, table.value, warning.value, legend.value = b"", "", "", ""
            return
        formula.value = f"<div class='formula' style='font-size:115%'>Primera convolución: <b>{text}</b></div>"
        picture.value = render.to_png(render.kernel_placement(n, k, p, s))
        out = conv_output_size(n, k, p, s)
        legend.value = (f"Entrada {n}x{n} con padding {p} → {n + 2 * p}x{n + 2 * p} (gris: ceros del padding). "
                        f"<b style='color:{render.hex_color(render.FIRST)}'>Rojo continuo</b>: el kernel {k}x{k} en su "
                        f"primera posición; <b style='color:{render.hex_color(render.NEXT)}'>naranja discontinuo</b>: "
                        f"la siguiente, {s} píxel(es) a la derecha. <b style='color:"
                        f"{render.hex_color(render.CENTER)}'>Puntos</b>: uno por píxel de salida ({out}x{out}). "
                        f"Rayado: píxeles que no toca ningún kernel.")
        shapes, problem = network_shapes(n, k, p, s, model)
        warning.value = "" if problem is None else (f"<div class='aviso' style='color:#b35900;font-weight:bold'>"
                                                    f"⚠ {html.escape(problem, quote=False)}</div>")
        table.value = "" if shapes is None else \
            f"<pre style='line-height:1.25'>{html.escape(str(shapes), quote=False)}</pre>"

    update = guard(message, compute)
    for control in (size, kernel_size, padding, stride):
        control.observe(update, names="value")
    update()
    controls = widgets.VBox([size, kernel_size, padding, stride], layout=widgets.Layout(min_width="340px"))
    right = widgets.VBox([widgets.HTML("<b>La red entera con estos ajustes en cada Conv2d</b>"), warning, table])
    return explorer([widgets.HBox([controls, widgets.VBox([formula, legend])]),
                      widgets.HBox([picture, right]), message], "trazos-padding-explorer",
                     size=size, kernel_size=kernel_size, padding=padding, stride=stride, formula=formula,
                     picture=picture, legend=legend, warning=warning, table=table, message=message, update=update)


# ---------------------------------------------------------------------------------------------
# 4. Softmax: qué eje suma 1 y dónde se desborda la versión ingenua.
