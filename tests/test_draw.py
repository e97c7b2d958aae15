"""Pruebas sin navegador de «dibuja tu dígito»: trazos que llegan como los manda el navegador
y trazos desde Python. (test_browser.py dibuja con el ratón de verdad en Chromium.)

Usan el `tiny_run` de conftest.py (una época con pocas imágenes): nunca la red del curso. Esa
red es floja y su lectura de un dibujo puede cambiar de una CPU a otra, así que aquí no se
exige que lea un dígito concreto: lo que enseña el explorador se compara con lo que dan, por
su cuenta, `predict_drawing` y `render` para el mismo dibujo.
"""

import io
import math
import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import trazos
from trazos import inspection, render, widgets
from trazos.widgets.canvas import CANVAS, PEN, DrawingCanvas, rasterize

VERTICAL = [[140, 40 + 10 * k] for k in range(21)]  # un palo vertical, de arriba abajo
HORIZONTAL = [[90 + 5 * k, 140] for k in range(20)]  # una raya: con el palo, una cruz
PROMPT = "Dibuja un dígito"


def decode(png):
    """Bytes PNG de un ipywidgets.Image -> array RGB."""
    assert png, "la imagen está vacía"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def text(html):
    """Texto visible de un HTML (sin etiquetas)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


@pytest.fixture(scope="module")
def model(tiny_run):
    return tiny_run.model


def finish_stroke(explorer, points):
    """Lo que hace el navegador al soltar el botón: manda la lista de trazos con el nuevo al final.

    `set_state` es lo que ipywidgets llama con el mensaje "update" del navegador.
    """
    explorer.canvas.set_state({"strokes": [*explorer.canvas.strokes, points]})


def assert_shows(explorer, model):
    """Todo lo que enseña el explorador es lo que dan predict_drawing y render para su dibujo."""
    assert explorer.message.value == ""
    expected = inspection.predict_drawing(model, explorer.drawing)
    p = expected["prediction"]
    shown = f"La red lee un {p} ({100 * float(expected['probs'][p]):.1f} %)".replace(".", ",")
    assert text(explorer.prediction.value) == shown
    assert explorer.bars.value == render.probability_bars(expected["probs"])
    assert explorer.seen.value == render.to_png(render.digit_picture(expected["image"], scale=8))
    assert list(explorer.stage_pictures) == trazos.stage_names(model) == list(expected["activations"])
    for name, output in expected["activations"].items():
        assert explorer.stage_pictures[name].value == render.to_png(render.maps_picture(output, cell=40)), name


def test_a_stroke_finished_in_the_browser_updates_every_step(model):
    explorer = widgets.draw_explorer(model)
    empty_seen = explorer.seen.value
    assert PROMPT in text(explorer.prediction.value)
    assert all(picture.value == b"" for picture in explorer.stage_pictures.values())
    finish_stroke(explorer, VERTICAL)
    assert explorer.canvas.strokes == [VERTICAL]
    assert np.array_equal(explorer.drawing, rasterize([VERTICAL]))
    assert explorer.drawing[:, 140].max() == 255 and explorer.drawing[:, :100].max() == 0
    assert_shows(explorer, model)
    # Lo que ve la red de un palo vertical: no está vacío y tiene más alto que ancho.
    result = inspection.predict_drawing(model, explorer.drawing)
    seen = decode(explorer.seen.value)[:, :, 0]
    assert seen.max() > 100 and explorer.seen.value != empty_seen
    assert np.array_equal(seen, np.asarray(render.digit_picture(result["image"], scale=8)))
    rows, cols = np.nonzero(seen > 50)
    assert np.ptp(rows) > 2 * np.ptp(cols)

    first = explorer.seen.value
    finish_stroke(explorer, HORIZONTAL)  # el segundo trazo se suma al primero
    assert np.array_equal(explorer.drawing, np.maximum(rasterize([VERTICAL]), rasterize([HORIZONTAL])))
    assert explorer.seen.value != first
    assert_shows(explorer, model)


def test_a_stroke_from_python_is_the_same_as_from_the_browser(model):
    from_browser, from_python = widgets.draw_explorer(model), widgets.draw_explorer(model)
    finish_stroke(from_browser, VERTICAL)
    from_python.draw([(x, y) for x, y in VERTICAL])  # tuplas o listas, da igual
    assert from_python.canvas.strokes == from_browser.canvas.strokes  # y así lo recibe el navegador
    assert np.array_equal(from_python.drawing, from_browser.drawing)
    for name in ("seen", "prediction", "bars"):
        assert getattr(from_python, name).value == getattr(from_browser, name).value
    circle = [(140 + 70 * math.sin(a / 20 * 2 * math.pi), 140 - 90 * math.cos(a / 20 * 2 * math.pi))
              for a in range(21)]
    from_python.draw(circle)
    assert len(from_python.canvas.strokes) == 2
    assert_shows(from_python, model)


def test_erase_and_clear_empty_the_canvas_and_the_views(model):
    explorer = widgets.draw_explorer(model)
    empty_seen = explorer.seen.value
    explorer.draw(VERTICAL)
    explorer.erase.click()
    assert explorer.canvas.strokes == [] and explorer.drawing.max() == 0
    assert explorer.seen.value == empty_seen and PROMPT in text(explorer.prediction.value)
    assert explorer.bars.value == "" and all(p.value == b"" for p in explorer.stage_pictures.values())
    explorer.draw(HORIZONTAL)
    assert explorer.seen.value != empty_seen
    explorer.clear()
    assert explorer.canvas.strokes == [] and explorer.drawing.max() == 0 and PROMPT in text(explorer.prediction.value)
    finish_stroke(explorer, VERTICAL)  # y se puede volver a dibujar
    assert_shows(explorer, model)


def test_a_bad_stroke_is_explained_and_the_widget_survives(model):
    explorer = widgets.draw_explorer(model)
    with pytest.raises(ValueError, match="al menos un punto"):
        explorer.draw([])
    with pytest.raises(ValueError, match="lista de puntos"):
        explorer.draw([(1, 2, 3)])
    explorer.canvas.set_state({"strokes": [["basura"]]})  # un navegador que manda algo raro
    assert "⚠" in explorer.message.value and "lista de puntos" in explorer.message.value
    explorer.clear()
    explorer.draw(VERTICAL)
    assert explorer.message.value == ""  # el mensaje se va cuando todo vuelve a ir bien
    assert_shows(explorer, model)


def test_the_canvas_widget_is_an_anywidget_with_its_javascript():
    canvas = DrawingCanvas()
    state = canvas.get_state()
    assert state["_model_module"] == "anywidget" and state["strokes"] == []
    assert (state["size"], state["pen"]) == (CANVAS, PEN) == (280, 22)
    code = state["_esm"]
    assert "export default" in code and "pointerdown" in code and "save_changes" in code
    # Solo el final del trazo habla con el núcleo: save_changes aparece una vez, en finish().
    assert code.count("save_changes") == 1
    finish = code[code.index("function finish"):code.index("function repaint")]
    assert "save_changes" in finish


def test_rasterize_paints_a_round_pen_like_the_browser():
    # El lienzo del navegador: un píxel (i, j) es blanco si su centro (i + 0.5, j + 0.5) está
    # a menos de 11 píxeles (medio lápiz) de la línea. Una raya horizontal de x=50 a x=200 en
    # y=100 cubre las filas 89 a 110 (22 filas) y termina en semicírculos.
    mask = rasterize([[[50, 100], [200, 100]]]) >= 128
    assert mask[89:111, 50:200].all()
    assert not mask[:89].any() and not mask[111:].any()
    assert mask[100, 39:211].all() and not mask[100, :38].any() and not mask[100, 212:].any()
    assert abs(mask.sum() - (150 * 22 + math.pi * 11 ** 2)) < 40  # rectángulo + dos medios círculos
    dot = rasterize([[[100, 100]]]) >= 128  # un punto suelto: un círculo de 11 de radio
    rows, cols = np.nonzero(dot)
    assert (rows.mean(), cols.mean()) == (99.5, 99.5) and abs(dot.sum() - math.pi * 11 ** 2) < 20
    assert rasterize([]).max() == 0 and rasterize([[[-50, -50]]]).max() == 0  # fuera del lienzo, nada


def test_a_student_network_without_input_size_needs_side():
    class Student(nn.Module):  # F.relu y una capa usada dos veces: cada paso tiene su dibujo
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 1, 3, padding=1)
            self.fc = nn.Linear(16 * 16, 10)

        def forward(self, x):
            x = F.relu(self.conv(x))
            x = F.relu(self.conv(x))
            return self.fc(torch.flatten(x, 1))

    torch.manual_seed(0)
    student = Student()
    with pytest.raises(ValueError, match="side=16"):
        widgets.draw_explorer(student)
    with pytest.raises(ValueError, match="side debe ser"):
        widgets.draw_explorer(student, side=0)
    explorer = widgets.draw_explorer(student, side=16)
    steps = trazos.stage_names(student, torch.zeros(1, 1, 16, 16))
    assert list(explorer.stage_pictures) == steps and {"relu", "relu_1", "conv_1"} <= set(steps)
    explorer.draw(VERTICAL)
    assert explorer.message.value == ""
    result = inspection.predict_drawing(student, explorer.drawing, side=16)
    for name, output in result["activations"].items():
        assert explorer.stage_pictures[name].value == render.to_png(render.maps_picture(output, cell=40)), name


def test_predict_drawing_reads_redrawn_mnist_digits(model, mnist_root):
    raw = trazos.load_mnist(train=False, size=28, root=mnist_root, limit=100)
    small = trazos.load_mnist(train=False, size=16, root=mnist_root, limit=100)
    redrawn = [inspection.predict_drawing(model, np.kron(raw.raw(i)[0].numpy(), np.ones((10, 10))) * 255)
               for i in range(100)]
    accuracy = np.mean([r["prediction"] == int(raw.labels[i]) for i, r in enumerate(redrawn)])
    direct = float((trazos.predict(model, small.images)[0] == small.labels).float().mean())
    assert accuracy >= direct - 0.1  # prepararlo como MNIST apenas cuesta acierto
    assert redrawn[0]["image"].shape == (1, 1, 16, 16)
    assert abs(float(redrawn[0]["probs"].sum()) - 1) < 1e-5
    assert set(redrawn[0]["activations"]) == set(trazos.stage_names(model))
    with pytest.raises(ValueError, match="vacía"):
        inspection.predict_drawing(model, np.zeros((280, 280)))
