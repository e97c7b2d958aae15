"""Explorador de activaciones: elige paso, dígito y ejemplo, y mira qué ve la red en cada paso.

En un paso de convolución, los deslizadores canal, fila y columna eligen un valor de sus mapas, y
se ve de dónde sale (`attribution.explain_value`): la ventana de la entrada por el kernel, más el sesgo."""

import ipywidgets as widgets

from .. import data, render
from ..attribution import explain_value
from ..attribution_plots import explanation_html, explanation_picture
from ..capture import capture
from ..inspection import activations, check_images, output_probabilities, stage_names
from .base import default_digits, default_run, explorer, guard, image, single_thread
from ..errors import TrazosValueError

__all__ = ["stage_output", "activation_explorer"]


def stage_output(model, image, stage):
    """Salida del paso `stage` (conv1, relu1, ...) para una imagen suelta, sin el lote."""
    with single_thread():
        return activations(model, image, stage)[stage][0]


def activation_explorer(model=None, digits=None):
    """Elige paso (conv1, relu1, pool1, ...), dígito y ejemplo: muestra la entrada, todos los
    mapas de ese paso y las probabilidades que da la red.

    `model` por defecto es la CNN entrenada del curso; vale cualquier nn.Module, también con
    funciones (F.relu, x.view) o módulos reutilizados: el deslizador lista cada paso. `digits`
    por defecto es el test de MNIST al tamaño de `model.input_size`.
    """
    model = model if model is not None else default_run().model
    digits = default_digits(model, digits)
    counts = [int((digits.labels == d).sum()) for d in range(10)]
    first = next((d for d in range(10) if counts[d]), None)
    if first is None:
        raise TrazosValueError("digits no tiene ningún ejemplo de los dígitos 0 a 9.")
    stages = stage_names(model, check_images(model, digits[:1][0]))
    kinds = {step.name: step.kind for step in capture(model, check_images(model, digits[:1][0]))}

    stage = widgets.SelectionSlider(options=stages, value=stages[0], description="etapa",
                                    continuous_update=True, layout=widgets.Layout(width="420px"))
    digit = widgets.IntSlider(value=first, min=0, max=9, description="dígito", layout=widgets.Layout(width="320px"))
    index = widgets.IntSlider(value=0, min=0, max=counts[first] - 1, description="ejemplo",
                              layout=widgets.Layout(width="420px"))
    title = widgets.HTML()
    picture = image()
    bars = widgets.HTML()
    caption = widgets.HTML()
    maps = image()
    # Clases CSS con nombre: la prueba en el navegador encuentra así cada pieza.
    for part, css in [(stage, "trazos-stage"), (digit, "trazos-digit"), (index, "trazos-index"),
                      (title, "trazos-title"), (picture, "trazos-input"), (caption, "trazos-caption"),
                      (maps, "trazos-maps")]:
        part.add_class(css)
    # Un valor de un mapa de convolución y su desglose (qué ventana, qué kernel, qué sesgo).
    small = dict(layout=widgets.Layout(width="260px"))
    channel = widgets.IntSlider(value=0, min=0, max=0, description="canal", **small)
    row = widgets.IntSlider(value=0, min=0, max=0, description="fila", **small)
    col = widgets.IntSlider(value=0, min=0, max=0, description="columna", **small)
    explanation, explained = widgets.HTML(), image()
    for part, css in [(channel, "trazos-explain-channel"), (row, "trazos-explain-row"), (col, "trazos-explain-col"),
                      (explanation, "trazos-explanation"), (explained, "trazos-explanation-picture")]:
        part.add_class(css)
    message = widgets.HTML()
    state = {"index": None, "outputs": None, "shown": None, "explained": None}

    def compute():  # una pasada hacia delante guarda todos los pasos: cambiar de paso es gratis
        i = data.example_index(digits, digit.value, index.value)
        if i != state["index"]:
            picked, _ = digits[i]
            outputs = {name: out[0] for name, out in activations(model, picked).items()}
            probs = output_probabilities(list(outputs.values())[-1])
            state.update(index=i, outputs=outputs)
            label, pred = int(digits.labels[i]), int(probs.argmax())
            verdict = "acierta" if pred == label else "se equivoca"
            title.value = (f"<b>Ejemplo nº {i} del test</b>: es un {label}; la red predice "
                           f"<b class='prediccion'>{pred}</b> ({render.percent(probs[pred])}) y {verdict}.")
            picture.value = render.to_png(render.digit_picture(picked, scale=max(1, 160 // picked.shape[-1])))
            bars.value = render.probability_bars(probs, label)
        if state["shown"] != (i, stage.value):
            state["shown"] = (i, stage.value)
            output = state["outputs"][stage.value]
            caption.value = f"<b>{render.describe_stage(stage.value, output)}</b> · misma escala de color para todos"
            maps.value = render.to_png(render.maps_picture(output))
        explain(i)

    def explain(i):
        """El desglose del valor elegido, si el paso es una convolución (si no, se dice por qué no hay)."""
        is_conv = kinds.get(stage.value) == "Conv2d"
        for control in (channel, row, col):
            control.disabled = not is_conv
        if not is_conv:
            state["explained"] = None
            explanation.value = ("<i>Elige un paso de convolución (Conv2d) para ver de dónde sale uno de sus "
                                 "valores.</i>")
            explained.value = b""
            return
        c, h, w = state["outputs"][stage.value].shape
        channel.max, row.max, col.max = c - 1, h - 1, w - 1  # antes de leerlos: el valor debe existir
        key = (i, stage.value, channel.value, row.value, col.value)
        if state["explained"] == key:
            return
        state["explained"] = key
        picked, _ = digits[i]
        result = explain_value(model, picked, stage.value, channel.value, row.value, col.value)
        explanation.value = explanation_html(result)
        explained.value = render.to_png(explanation_picture(result, scale=12))

    def on_digit():
        index.max = max(counts[digit.value] - 1, 0)  # antes de actualizar: el ejemplo debe existir
        compute()

    update = guard(message, compute)
    stage.observe(update, names="value")
    index.observe(update, names="value")
    for control in (channel, row, col):
        control.observe(update, names="value")
    digit.observe(guard(message, on_digit), names="value")
    update()
    left = widgets.VBox([widgets.HTML("<b>Entrada</b>"), picture, widgets.HTML("<b>Probabilidades</b>"), bars])
    right = widgets.VBox([caption, maps])
    value_box = widgets.VBox([widgets.HTML("<b>De dónde sale un valor</b> (por canal de entrada: ventana · kernel · "
                                           "productos)"), widgets.HBox([channel, row, col]), explanation, explained])
    return explorer([widgets.HBox([stage, digit]), index, title, widgets.HBox([left, right]), value_box, message],
                    "trazos-activation-explorer", stage=stage, digit=digit, index=index, title=title, picture=picture,
                    bars=bars, caption=caption, maps=maps, message=message, update=update, channel=channel, row=row,
                    col=col, explanation=explanation, explained=explained)
