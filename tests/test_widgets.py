"""Pruebas sin navegador de los exploradores: se construyen, se mueven sus controles desde
Python y se comprueba lo que muestran (imágenes decodificadas, textos, botones).

Usan el `tiny_run` de conftest.py (una época con pocas imágenes): nunca la red del curso.
"""

import io
import math
import re

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

import trazos
from trazos import data, diagrams, inspection, render, shapes, widgets

KERNEL_FRAME = render.HIGHLIGHT  # el verde con el que se enmarcan los kernels que más cambian


# ------------------------------------------------------------------ utilidades de las pruebas

def decode(png):
    """Bytes PNG de un ipywidgets.Image -> array RGB."""
    assert png, "la imagen está vacía"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def count_tiles(png):
    """Cuántos mapas hay en un mosaico: bloques separados por huecos blancos (en los huecos
    puede haber también los marcos verdes de los kernels que más cambiaron)."""
    rgb = decode(png)
    ink = (rgb != 255).any(axis=2) & (rgb != KERNEL_FRAME).any(axis=2)

    def runs(mask):
        edges = np.diff(np.concatenate([[0], mask.astype(int), [0]]))
        return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))

    total = 0
    for top, bottom in runs(ink.any(axis=1)):  # cada fila de mapas
        total += len(runs(ink[top:bottom].any(axis=0)))
    return total


def text(html):
    """Texto visible de un HTML (sin etiquetas)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


@pytest.fixture(scope="module")
def run(tiny_run):
    return tiny_run


@pytest.fixture(scope="module")
def model(run):
    return run.model


# ------------------------------------------------------------------ 1. activaciones

def test_activation_stage_shows_one_tile_per_channel(model, test16):
    explorer = widgets.activation_explorer(model, test16)
    assert list(explorer.stage.options) == trazos.stage_names(model)
    expected = {"conv1": 16, "relu1": 16, "pool1": 16, "conv2": 32, "pool2": 32}
    seen = set()
    for stage, channels in expected.items():
        explorer.stage.value = stage
        assert explorer.message.value == ""
        assert count_tiles(explorer.maps.value) == channels
        assert f"{stage}: {channels} mapas" in text(explorer.caption.value)
        seen.add(explorer.maps.value)
    assert len(seen) == len(expected)
    explorer.stage.value = "fc"  # sin mapas 2D: una barra de 10 casillas
    assert "vector de 10 valores" in text(explorer.caption.value)
    assert decode(explorer.maps.value).shape[0] < decode(explorer.maps.value).shape[1]


def test_activation_maps_match_the_model(model, test16):
    explorer = widgets.activation_explorer(model, test16)
    explorer.digit.value, explorer.index.value, explorer.stage.value = 7, 3, "pool2"
    i = trazos.examples_of(test16, 7, start=3)[0]
    maps = trazos.activations(model, test16.images[i], "pool2")["pool2"][0]
    assert np.array_equal(np.asarray(render.maps_picture(maps)), decode(explorer.maps.value))


def test_activation_digit_and_index_pick_the_right_example(model, test16):
    explorer = widgets.activation_explorer(model, test16)
    for digit in (3, 8):
        before = explorer.picture.value
        explorer.digit.value = digit
        assert explorer.index.max == int((test16.labels == digit).sum()) - 1
        i = trazos.examples_of(test16, digit)[explorer.index.value]
        assert f"Ejemplo nº {i} del test: es un {digit}" in text(explorer.title.value)
        assert explorer.picture.value != before
    bars = explorer.bars.value
    explorer.index.value = 5
    i = trazos.examples_of(test16, 8, start=5)[0]
    pred, probs = trazos.predict(model, test16.images[i])
    assert f"Ejemplo nº {i} del test" in text(explorer.title.value)
    assert f"la red predice {int(pred)}" in text(explorer.title.value)
    assert f"{100 * float(probs[0, pred]):.1f} %".replace(".", ",") in text(explorer.bars.value)
    assert explorer.bars.value != bars


def test_activation_explorer_works_with_a_students_sequential(test16):
    student = nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(4 * 6 * 6, 10))
    student.input_size = 16
    explorer = widgets.activation_explorer(student, test16)
    assert list(explorer.stage.options) == ["0", "1", "2", "3", "4"]
    explorer.stage.value = "2"
    assert count_tiles(explorer.maps.value) == 4
    assert "2: 4 mapas de 6x6" in text(explorer.caption.value)
    explorer.stage.value = "3"
    assert "vector de 144 valores" in text(explorer.caption.value)


def test_activation_explorer_works_with_a_students_module(test16):
    class Tiny(nn.Module):
        input_size = 16

        def __init__(self):
            super().__init__()
            self.borde = nn.Conv2d(1, 3, 3, padding=1)
            self.aplana = nn.Flatten()
            self.salida = nn.Linear(3 * 16 * 16, 10)

        def forward(self, x):
            return self.salida(self.aplana(torch.relu(self.borde(x))))

    explorer = widgets.activation_explorer(Tiny(), test16)
    # torch.relu es una función, no un módulo: también es un paso y tiene su mapa.
    assert list(explorer.stage.options) == ["borde", "relu", "aplana", "salida"]
    assert count_tiles(explorer.maps.value) == 3
    explorer.digit.value = 4
    assert "es un 4" in text(explorer.title.value)


def test_activation_explorer_needs_input_size(test16):
    with pytest.raises(ValueError, match="input_size"):
        widgets.activation_explorer(nn.Sequential(nn.Flatten(), nn.Linear(256, 10)))


def test_stage_output_rejects_unknown_stage(model, test16):
    with pytest.raises(ValueError, match="Etapas válidas: conv1, relu1"):
        widgets.stage_output(model, test16.images[0], "conv9")
    assert widgets.stage_output(model, test16.images[0], "conv2").shape == (32, 8, 8)
    with pytest.raises(ValueError, match="entre 0 y"):
        data.example_index(test16, 3, 10**6)


def test_a_failing_callback_shows_a_message_and_the_widget_survives(test16):
    class Fragile(nn.Module):
        input_size = 16

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3)
            self.flatten = nn.Flatten()
            self.fc = nn.Linear(2 * 14 * 14, 10)
            self.broken = False

        def forward(self, x):
            if self.broken:
                raise RuntimeError("fallo a propósito")
            return self.fc(self.flatten(self.conv(x)))

    fragile = Fragile()
    explorer = widgets.activation_explorer(fragile, test16)
    fragile.broken = True
    explorer.digit.value = 5  # no lanza: el error se ve en la zona de mensajes
    assert "No se pudo actualizar" in explorer.message.value and "fallo a propósito" in explorer.message.value
    fragile.broken = False
    explorer.index.value = 2
    assert explorer.message.value == ""
    assert "es un 5" in text(explorer.title.value)


# ------------------------------------------------------------------ 2. kernels

def test_kernel_explorer_layers_and_views(run):
    explorer = widgets.kernel_explorer(run)
    assert list(explorer.layer.options) == ["conv1", "conv2"]
    assert explorer.epoch.max == len(run.checkpoints) - 1 == 1
    history = inspection.kernel_history(run, "conv2")
    assert history.shape == (2, 32, 16, 3, 3)
    assert np.array_equal(history[1], run.checkpoints[1]["conv2.weight"].numpy())
    assert count_tiles(explorer.picture.value) == 16
    assert explorer.filter.disabled  # conv1 tiene un solo canal de entrada: un kernel por filtro
    assert explorer.filter.label == "todos"  # lo que se ve en el desplegable (con valor None, nada)
    explorer.layer.value = "conv2"
    # conv2 empieza por un filtro, el que más cambió, con sus 16 kernels grandes...
    most = int(render.kernel_changes(history, 1).sum(axis=1).argmax())
    assert explorer.filter.value == most and not explorer.filter.disabled
    assert f"filtro {most}: sus 16 kernels de 3x3" in text(explorer.caption.value)
    assert count_tiles(explorer.picture.value) == 16
    shown = decode(explorer.picture.value)
    assert np.array_equal(shown, np.asarray(render.kernel_picture(history, "después", 1, most)))
    explorer.filter.value = 0
    assert "filtro 0: sus 16 kernels" in text(explorer.caption.value)
    assert not np.array_equal(decode(explorer.picture.value), shown)
    # ...y «todos» enseña la rejilla entera.
    explorer.filter.value = "todos"  # un texto, no None: con None el desplegable se vería vacío
    assert explorer.filter.label == "todos"
    assert "32x16 kernels de 3x3" in text(explorer.caption.value)
    assert count_tiles(explorer.picture.value) == 32 * 16
    explorer.layer.value = "conv1"
    history = inspection.kernel_history(run, "conv1")
    after = decode(explorer.picture.value)
    assert np.array_equal(after, np.asarray(render.kernel_picture(history, "después", 1)))
    explorer.view.value = "antes"
    assert explorer.epoch.disabled and "antes de entrenar" in text(explorer.caption.value)
    before = decode(explorer.picture.value)
    assert np.array_equal(before, np.asarray(render.kernel_picture(history, "antes", 1)))
    assert not np.array_equal(before, after)
    explorer.view.value = "después"
    assert not explorer.epoch.disabled


def test_kernel_epoch_scrubs_checkpoints_and_highlights_changes(run):
    explorer = widgets.kernel_explorer(run)
    explorer.view.value = "después"
    explorer.epoch.value = 1
    trained = decode(explorer.picture.value)
    assert (trained == KERNEL_FRAME).all(axis=2).sum() > 0  # hay kernels enmarcados
    change = render.kernel_changes(inspection.kernel_history(run, "conv1"), 1)
    most = int(np.argmax(change[:, 0]))
    assert f"filtro {most} (" in text(explorer.caption.value)
    explorer.epoch.value = 0
    untrained = decode(explorer.picture.value)
    assert not np.array_equal(untrained, trained)
    assert (untrained == KERNEL_FRAME).all(axis=2).sum() == 0  # en la época 0 nada ha cambiado
    explorer.view.value = "diferencia"  # época 0 - época 0: todo es cero, el blanco del centro
    diff = decode(explorer.picture.value)
    colors = {tuple(c) for c in diff.reshape(-1, 3)}
    center = tuple(int(v) for v in render.colorize(np.zeros((1, 1)), "RdBu_r", -1, 1)[0, 0])
    assert colors == {(255, 255, 255), center}
    explorer.epoch.value = 1
    assert len({tuple(c) for c in decode(explorer.picture.value).reshape(-1, 3)}) > 10


def test_kernel_plain_functions_reject_bad_choices(run):
    with pytest.raises(ValueError, match="antes, después, diferencia"):
        render.kernel_picture(inspection.kernel_history(run, "conv1"), "durante")
    with pytest.raises(ValueError, match="Capas convolucionales válidas: conv1, conv2"):
        inspection.kernel_history(run, "fc")
    with pytest.raises(ValueError, match="Run"):
        widgets.kernel_explorer("cnn")


def test_kernel_explorer_accepts_a_plain_module():
    student = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU())
    explorer = widgets.kernel_explorer(student)
    assert list(explorer.layer.options) == ["0"] and explorer.epoch.max == 0
    assert count_tiles(explorer.picture.value) == 6


# ------------------------------------------------------------------ 3. padding y stride

def test_padding_formula_shows_the_numbers():
    explorer = widgets.padding_explorer()
    assert "⌊(16 + 2·1 − 3) / 1⌋ + 1 = ⌊15 / 1⌋ + 1 = 15 + 1 = 16" in text(explorer.formula.value)
    assert explorer.warning.value == ""
    assert "16x16x16" in explorer.table.value and "32x4x4" in explorer.table.value
    explorer.size.value, explorer.kernel_size.value, explorer.padding.value, explorer.stride.value = 28, 5, 2, 2
    assert "⌊(28 + 2·2 − 5) / 2⌋ + 1 = ⌊27 / 2⌋ + 1 = 13 + 1 = 14" in text(explorer.formula.value)
    assert trazos.conv_output_size(28, 5, 2, 2) == 14


def test_padding_warns_when_the_linear_no_longer_fits():
    explorer = widgets.padding_explorer()
    explorer.padding.value = 0  # 16 -> 14 -> 7 -> 5 -> 2: le llegan 32·2·2 = 128, no 512
    warning = text(explorer.warning.value)
    assert "espera 512 entradas" in warning and "le llegan 128 (32·2·2)" in warning
    assert "32x2x2" in explorer.table.value
    explorer.padding.value = 1
    assert explorer.warning.value == ""


def test_padding_drawing_changes_and_impossible_kernels_are_explained():
    explorer = widgets.padding_explorer()
    first = explorer.picture.value
    explorer.stride.value = 2
    assert explorer.picture.value != first
    assert decode(explorer.picture.value).shape[0] == decode(first).shape[0]  # la misma entrada con padding
    explorer.size.value, explorer.padding.value, explorer.kernel_size.value = 4, 0, 7
    assert "no cabe" in text(explorer.formula.value)
    assert explorer.message.value == "" and explorer.picture.value == b""
    explorer.kernel_size.value = 3  # la primera convolución cabe (sale 1x1), pero pool1 ya no
    assert text(explorer.formula.value).endswith("⌊1 / 2⌋ + 1 = 0 + 1 = 1") and explorer.picture.value
    assert "La red no funciona con estos ajustes" in text(explorer.warning.value)
    assert "'pool1'" in text(explorer.warning.value) and explorer.table.value == ""


def test_network_shapes_uses_the_given_model():
    student = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.Flatten(), nn.Linear(2 * 16 * 16, 10))
    student.input_size = 16
    table, warning = shapes.network_shapes(16, 3, 1, 1, student)
    assert warning is None and table[0]["shape"] == (2, 16, 16)
    table, warning = shapes.network_shapes(16, 3, 0, 1, student)
    assert "espera 512 entradas" in warning and "le llegan 392" in warning
    explorer = widgets.padding_explorer(student)
    assert explorer.size.value == 16 and explorer.padding.value == 1
    with pytest.raises(ValueError, match="no cabe"):
        shapes.conv_formula(4, 7, 0, 1)


# ------------------------------------------------------------------ 4. softmax

def sums(html, along):
    return [float(v) for v in re.findall(rf"class='suma-{along}'[^>]*>([^<]+)<", html)]


def test_softmax_dim_decides_which_axis_sums_to_one():
    explorer = widgets.softmax_explorer()
    assert explorer.dim.value == 1
    rows, cols = sums(explorer.table.value, "fila"), sums(explorer.table.value, "columna")
    assert len(rows) == 4 and len(cols) == 10
    assert all(abs(v - 1) < 1e-3 for v in rows) and not all(abs(v - 1) < 1e-3 for v in cols)
    explorer.dim.value = 0
    rows, cols = sums(explorer.table.value, "fila"), sums(explorer.table.value, "columna")
    assert all(abs(v - 1) < 1e-3 for v in cols) and not all(abs(v - 1) < 1e-3 for v in rows)
    assert "desborde" not in explorer.table.value


def test_softmax_overflow_appears_at_large_scale():
    logits = torch.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, -1.0]])
    explorer = widgets.softmax_explorer(logits)
    explorer.scale.value = 20.0  # 3 x 20 = 60 < 88.7: todavía cabe
    assert "desborde" not in explorer.table.value and "Sin desbordamiento" in explorer.table.value
    explorer.scale.value = 50.0  # 3 x 50 = 150 > 88.7: exp da inf y inf / inf da nan
    table = explorer.table.value
    assert "desbordamiento" in table and "nan" in text(table)
    assert int(text(table).split("⚠ ")[1].split()[0]) == int((~torch.isfinite(
        diagrams.naive_softmax(logits * 50, 1))).sum())
    explorer.dim.value = 0
    assert any(math.isnan(v) for v in sums(explorer.table.value, "columna"))
    explorer.scale.value = 1.0
    assert "desborde" not in explorer.table.value


def test_naive_softmax_matches_torch_until_it_overflows():
    x = torch.randn(3, 10)
    assert torch.allclose(diagrams.naive_softmax(x, 1), torch.softmax(x, 1), atol=1e-6)
    assert torch.allclose(diagrams.naive_softmax(x, 0), torch.softmax(x, 0), atol=1e-6)
    assert torch.isnan(diagrams.naive_softmax(x * 100, 1)).any()
    assert torch.isfinite(torch.softmax(x * 100, 1)).all()
    with pytest.raises(ValueError, match="dim debe ser 0 o 1"):
        diagrams.naive_softmax(x, 2)


# ------------------------------------------------------------------ 5. confusión

@pytest.fixture(scope="module")
def confusion(model, test16):
    return widgets.confusion_explorer(model, test16)


def test_confusion_cells_show_the_counts(confusion, model, test16):
    pred, _ = trazos.predict(model, test16.images)
    matrix = trazos.confusion_matrix(test16.labels, pred)
    assert torch.equal(confusion.matrix, matrix)
    for t in range(10):
        for p in range(10):
            button = confusion.cells[t][p]
            assert button.description == str(int(matrix[t, p]))
            assert button.disabled == (int(matrix[t, p]) == 0)
    assert confusion.cells[1][1].style.button_color != confusion.cells[1][7].style.button_color


def test_confusion_select_shows_that_pair(confusion, model, test16):
    matrix = confusion.matrix
    t, p = max(((t, p) for t in range(10) for p in range(10) if t != p), key=lambda tp: int(matrix[tp]))
    confusion.select(1, 1)
    diagonal = confusion.gallery.value
    confusion.select(t, p)
    count = int(matrix[t, p])
    assert f"Real {t}, predicho {p}: {count} ejemplos" in text(confusion.title.value)
    assert confusion.gallery.value.count("<img") == min(count, 24)
    assert confusion.gallery.value != diagonal
    assert f"pred {p}:" in confusion.gallery.value and f"pred {t}:" not in confusion.gallery.value
    assert confusion.cells[t][p].layout.border.startswith(f"2px solid {render.hex_color(render.NEXT)}")
    assert "✗ pred" in confusion.gallery.value and "alt='imagen " in confusion.gallery.value  # sin depender del color
    assert "transparent" in confusion.cells[1][1].layout.border
    shown = [int(i) for i in re.findall(r"nº (\d+)", confusion.gallery.value)]
    pred, _ = trazos.predict(model, test16.images)
    assert shown == inspection.pair_indices(test16.labels, pred, t, p)[:24]
    assert all(int(test16.labels[i]) == t for i in shown)


def test_confusion_click_does_the_same_as_select(confusion):
    confusion.select(0, 0)
    before = confusion.gallery.value
    t, p = next((t, p) for t in range(9, -1, -1) for p in range(10) if t != p and int(confusion.matrix[t, p]))
    confusion.cells[t][p].click()
    assert f"Real {t}, predicho {p}" in text(confusion.title.value)
    assert confusion.gallery.value != before and confusion.message.value == ""


def test_confusion_select_rejects_bad_digits(confusion):
    with pytest.raises(ValueError, match="del 0 al 9"):
        confusion.select(3, 10)
