"""Explorador de atribución: elige un dígito del test (o el que dibujaste) y un método, y mira
dónde se fija la red para decidir: la entrada, el mapa sobre el dígito y las probabilidades."""

import hashlib

import ipywidgets as widgets
import numpy as np

from .. import data, render
from ..attribution_plots import METHODS, SIGNED, attribution_map, overlay_picture
from ..inspection import predict
from ..models import conv_layers, input_side
from .base import default_digits, default_run, explorer, guard, image

__all__ = ["attribution_explorer"]


def attribution_explorer(model=None, digits=None, drawing=None):
    """Método (saliencia, oclusión, grad-cam), dígito y ejemplo del test; para grad-cam, la capa.

    Con `drawing=` un explorador «dibuja tu dígito» (`draw_explorer`), se puede elegir también
    el dígito dibujado: se explica tal como lo ve la red (recortado y centrado como MNIST).
    Cada mapa se calcula una vez; volver a una elección ya vista solo lo dibuja.
    """
    model = model if model is not None else default_run().model
    digits = default_digits(model, digits)
    side = input_side(model, digits)
    method = widgets.ToggleButtons(options=list(METHODS), value="saliencia", description="método")
    layers = conv_layers(model)
    layer = widgets.Dropdown(options=layers or ["(sin Conv2d)"], value=layers[-1] if layers else "(sin Conv2d)",
                             description="capa")
    digit = widgets.IntSlider(value=7, min=0, max=9, description="dígito")
    index = widgets.IntSlider(value=0, min=0, max=int((digits.labels == 7).sum()) - 1, description="ejemplo")
    source = widgets.ToggleButtons(options=["test", "dibujo"], value="test", description="imagen",
                                   disabled=drawing is None)
    title, bars, caption = widgets.HTML(), widgets.HTML(), widgets.HTML()
    picture, heat = image(), image()
    for part, css in [(method, "trazos-method"), (layer, "trazos-layer"), (digit, "trazos-digit"),
                      (index, "trazos-index"), (source, "trazos-source"), (title, "trazos-title"),
                      (picture, "trazos-input"), (heat, "trazos-map"), (caption, "trazos-caption")]:
        part.add_class(css)
    message = widgets.HTML()
    maps = {}  # (imagen, método, capa) -> mapa: cada uno se calcula una sola vez

    def chosen():
        if source.value == "dibujo":
            pixels = np.asarray(drawing.drawing, dtype=np.float32)
            if not pixels.any():
                return None, None, "el dibujo (vacío: dibuja un dígito)"
            key = hashlib.md5(pixels.tobytes()).hexdigest()
            return data.prepare_image(pixels, size=side), None, ("dibujo", key)
        i = data.example_index(digits, digit.value, index.value)
        picked, label = digits[i]
        return picked, int(label), ("test", i)

    def compute():
        layer.disabled = method.value != "grad-cam"
        picked, label, key = chosen()
        if picked is None:
            title.value, heat.value, bars.value = f"<b>{key}</b>", b"", ""
            return
        full = (key, method.value, layer.value if method.value == "grad-cam" else None)
        if full not in maps:
            maps[full] = (attribution_map(model, picked, method.value, layer=full[2]), predict(model, picked)[1][0])
        values, probs = maps[full]
        pred = int(probs.argmax())
        where = f"ejemplo nº {key[1]} del test, un {label}" if key[0] == "test" else "tu dibujo"
        title.value = (f"<b>{where}</b>: la red lee <b class='prediccion'>{pred}</b> ({render.percent(probs[pred])}); "
                       f"el mapa explica ese {pred}.")
        scale = max(1, 160 // side)
        picture.value = render.to_png(render.digit_picture(picked, scale=scale))
        heat.value = render.to_png(overlay_picture(picked, values, scale, method.value in SIGNED))
        bars.value = render.probability_bars(probs, label)
        caption.value = {
            "saliencia": "Saliencia: cuánto cambia la puntuación al tocar un poco cada píxel.",
            "oclusión": "Oclusión: cuánto baja la probabilidad al tapar de negro un parche de 4x4 "
                        "(rojo, baja; azul, sube).",
            "grad-cam": f"Grad-CAM en {layer.value}: qué zonas de sus mapas empujan hacia ese dígito, "
                        "agrandado a la imagen (por eso se ve borroso).",
        }[method.value]

    def on_digit():
        index.max = max(int((digits.labels == digit.value).sum()) - 1, 0)
        compute()

    update = guard(message, compute)
    for control in (method, layer, index, source):
        control.observe(update, names="value")
    digit.observe(guard(message, on_digit), names="value")
    if drawing is not None:  # un trazo nuevo en «dibuja tu dígito»: se explica el dibujo nuevo
        drawing.canvas.observe(lambda _change: source.value == "dibujo" and update(), "strokes")
    update()
    left = widgets.VBox([widgets.HTML("<b>Entrada</b>"), picture])
    middle = widgets.VBox([widgets.HTML("<b>Mapa sobre el dígito</b>"), heat])
    right = widgets.VBox([widgets.HTML("<b>Probabilidades</b>"), bars])
    return explorer([source, method, widgets.HBox([digit, index]), layer, title, widgets.HBox([left, middle, right]),
                     caption, message], "trazos-attribution-explorer", method=method, layer=layer, digit=digit,
                    index=index, source=source, title=title, picture=picture, heat=heat, bars=bars, caption=caption,
                    message=message, update=update, maps=maps)
