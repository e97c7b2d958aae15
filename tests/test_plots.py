"""Figuras: cada función devuelve una `Figure` con títulos y ejes en castellano y los datos correctos."""

import io

import matplotlib.colors
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from PIL import Image

from trazos import diagrams, plots, render
from trazos.inspection import activations, confusion_matrix
from trazos.models import CNN

HISTORY = [
    {"epoch": 1, "train_loss": 0.9, "train_acc": 0.70, "val_loss": 0.5, "val_acc": 0.85, "seconds": 3.0},
    {"epoch": 2, "train_loss": 0.4, "train_acc": 0.88, "val_loss": 0.3, "val_acc": 0.91, "seconds": 3.1},
    {"epoch": 3, "train_loss": 0.2, "train_acc": 0.94, "val_loss": 0.25, "val_acc": 0.93, "seconds": 3.2},
]


def _image_axes(fig):
    """Los paneles con una imagen (sin contar las barras de color)."""
    return [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]


def _titles(fig):
    return [ax.get_title() for ax in fig.axes if ax.get_title()]


def _renders(fig):
    """La figura se guarda como PNG y no es una página en blanco (hay trazos de varios grises)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=30)
    gray = np.asarray(Image.open(buffer).convert("L"), dtype=float)
    return gray.std() > 5 and len(np.unique(gray)) > 8


def test_plot_history():
    fig = plots.plot_history(HISTORY)
    assert isinstance(fig, Figure)
    loss, acc = fig.axes[:2]
    assert (loss.get_title(), loss.get_xlabel(), loss.get_ylabel()) == ("Pérdida", "época", "entropía cruzada")
    assert (acc.get_title(), acc.get_xlabel(), acc.get_ylabel()) == ("Acierto", "época", "acierto (%)")
    train_line, test_line = loss.get_lines()
    assert list(train_line.get_xdata()) == [1, 2, 3]
    assert list(train_line.get_ydata()) == [0.9, 0.4, 0.2]
    assert list(test_line.get_ydata()) == [0.5, 0.3, 0.25]
    assert np.allclose(acc.get_lines()[1].get_ydata(), [85, 91, 93])  # en porcentaje
    assert [t.get_text() for t in loss.get_legend().get_texts()] == ["entrenamiento", "validación"]
    assert _renders(fig)


def test_renders_tells_a_blank_figure():
    assert not _renders(Figure(figsize=(3, 2)))  # sin nada dibujado: _renders puede fallar


def test_plot_history_empty():
    with pytest.raises(ValueError, match="vacío"):
        plots.plot_history([])


def test_plot_kernels():
    weight = torch.randn(16, 1, 3, 3)
    fig = plots.plot_kernels(weight, title="Kernels de conv1")
    assert isinstance(fig, Figure)
    (ax,) = _image_axes(fig)
    assert ax.get_title() == "Kernels de conv1"
    shown = np.ma.filled(ax.images[0].get_array(), np.nan)
    values = shown[~np.isnan(shown)]
    assert values.size == weight.numel()  # cada peso aparece una vez (los huecos son NaN)
    assert np.allclose(np.sort(values), np.sort(weight.flatten().numpy()))
    assert any(ax.get_ylabel() == "peso" for ax in fig.axes)  # la barra de color


def test_kernel_mosaic_layout():
    weight = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    mosaic = plots.kernel_mosaic(weight)
    assert mosaic.shape == (2 * 3 - 1, 3 * 3 - 1)  # filas: filtros de salida; columnas: canales de entrada
    assert torch.equal(mosaic[3:5, 6:8], weight[1, 2])
    assert torch.isnan(mosaic[2]).all() and torch.isnan(mosaic[:, 2]).all()


@pytest.mark.parametrize("layer, shape", [("conv1", (16, 1, 3, 3)), ("conv2", (32, 16, 3, 3))])
def test_plot_kernels_before_after(layer, shape):
    torch.manual_seed(0)
    before = torch.randn(shape)
    after = before + 0.1 * torch.randn(shape)
    fig = plots.plot_kernels_before_after(before, after, layer)
    assert isinstance(fig, Figure)
    panels = _image_axes(fig)
    assert len(panels) == 3
    assert [ax.get_title() for ax in panels] == [f"{layer}: antes de entrenar", f"{layer}: después de entrenar",
                                                 "diferencia (después - antes)"]
    shown = [np.ma.filled(ax.images[0].get_array(), np.nan) for ax in panels]
    difference = shown[1] - shown[0]
    assert np.allclose(shown[2], difference, equal_nan=True, atol=1e-6)
    # Cada panel con su escala simétrica (la regla de render.kernel_limits, la del explorador):
    # los pesos iniciales, pequeños, no se quedan en blanco al lado de los entrenados.
    # El límite es el percentil 99 de |peso|: unos pocos pesos extremos no apagan los demás.
    for ax, weight in zip(panels, (before, after, after - before)):
        limit = float(np.percentile(weight.abs().numpy(), 99))
        assert np.allclose(ax.images[0].get_clim(), (-limit, limit))
        assert limit < float(weight.abs().max())
    if shape[1] > 1:  # conv2: también un filtro suelto, con sus 16 kernels en 4x4
        fig = plots.plot_kernels_before_after(before, after, layer, filter=5)
        grid = np.ma.filled(_image_axes(fig)[1].images[0].get_array(), np.nan)
        assert np.array_equal(grid, render.kernel_grid(after, 5), equal_nan=True)
        assert grid.shape == (4 * 4 - 1, 4 * 4 - 1)
        assert "filtro 5" in fig._supxlabel.get_text()


def test_kernel_plots_reject_bad_weights():
    with pytest.raises(ValueError, match="Conv2d"):
        plots.plot_kernels(torch.randn(10, 9))
    with pytest.raises(ValueError, match="state_dict"):
        plots.plot_kernels(CNN().state_dict())
    with pytest.raises(ValueError, match="no coinciden"):
        plots.plot_kernels_before_after(torch.randn(16, 1, 3, 3), torch.randn(8, 1, 3, 3))


def test_plot_activations(test16):
    model = CNN()
    image = test16.images[:1]
    maps = activations(model, image)
    fig = plots.plot_activations(maps["relu1"], "relu1", image[0])
    assert isinstance(fig, Figure)
    assert fig.get_suptitle() == "Activaciones de relu1: 16 mapas de 16x16"
    panels = _image_axes(fig)
    assert len(panels) == 2 and _titles(fig) == ["entrada"]
    # Un solo mosaico con la disposición del explorador: 8 mapas por fila, una escala común.
    grid = np.ma.filled(panels[1].images[0].get_array(), np.nan)
    expected, limits = render.maps_grid(maps["relu1"][0])
    assert np.array_equal(grid, expected, equal_nan=True)
    assert np.allclose(panels[1].images[0].get_clim(), limits)
    assert limits == (float(maps["relu1"].min()), float(maps["relu1"].max()))
    assert np.allclose(grid[17:33, 5 * 17:5 * 17 + 16], maps["relu1"][0, 13].numpy())  # canal 13: fila 1, columna 5
    assert _texts(panels[1]) == [str(c) for c in range(16)]  # el número de cada canal
    # La entrada se dibuja sin normalizar, en [0, 1].
    assert np.allclose(panels[0].images[0].get_array(), test16.raw(0)[0].numpy(), atol=1e-6)


def test_plot_activations_limits_and_bad_shapes(test16):
    maps = activations(CNN(), test16.images[:1], stages="relu2")["relu2"][0]  # [32, 8, 8]
    fig = plots.plot_activations(maps, max_maps=10)
    assert len(_texts(_image_axes(fig)[0])) == 10
    assert fig.get_suptitle() == "10 mapas de 8x8"
    # La salida de flatten no tiene mapas: se dibuja como el explorador, una tira de casillas.
    vector = torch.randn(1, 512)
    fig = plots.plot_activations(vector, "flatten")
    assert fig.get_suptitle() == "Activaciones de flatten: un vector de 512 valores (sin mapas 2D)"
    shown = np.ma.filled(_image_axes(fig)[0].images[0].get_array(), np.nan)
    assert np.allclose(shown.flatten(), vector.flatten().numpy()) and shown.shape == (16, 32)
    with pytest.raises(ValueError, match="forma"):
        plots.plot_activations(torch.randn(2, 3))
    with pytest.raises(ValueError, match="forma"):
        plots.plot_activations(torch.randn(0))


def test_plot_confusion_cells_are_the_counts():
    rng = np.random.default_rng(3)
    labels = torch.as_tensor(rng.integers(0, 10, 300))
    predictions = torch.where(torch.as_tensor(rng.random(300)) < 0.7, labels, torch.as_tensor(rng.integers(0, 10, 300)))
    matrix = confusion_matrix(labels, predictions)
    fig = plots.plot_confusion(matrix)
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Matriz de confusión (test)", "predicho", "verdadero")
    cells = {(round(t.get_position()[1]), round(t.get_position()[0])): int(t.get_text()) for t in ax.texts}
    expected = {(t, p): int(matrix[t, p]) for t in range(10) for p in range(10) if matrix[t, p]}
    assert cells == expected
    assert sum(cells.values()) == 300
    assert _renders(fig)


def test_plot_predictions_titles(test16):
    images, labels = test16.images[:6], test16.labels[:6]
    probs = torch.softmax(torch.randn(6, 10), dim=1)
    predictions = probs.argmax(dim=1)
    fig = plots.plot_predictions(images, labels, predictions, probs)
    titles = _titles(fig)
    assert len(titles) == 6
    for k, text in enumerate(titles):
        t, p = int(labels[k]), int(predictions[k])
        assert f"real {t}" in text and f"pred {p}" in text
        assert f"{100 * probs[k, p].item():.1f} %".replace(".", ",") in text
    colors = [ax.title.get_color() for ax in fig.axes if ax.get_title()]
    assert colors == [render.RIGHT if labels[k] == predictions[k] else render.WRONG for k in range(6)]
    marks = [text[0] for text in titles]  # y una marca que no depende del color (daltonismo)
    assert marks == ["✓" if labels[k] == predictions[k] else "✗" for k in range(6)]


def test_plot_predictions_default_titles_and_limit(test16):
    images, labels = test16.images[:20], test16.labels[:20]
    one_hot = torch.nn.functional.one_hot(labels, 10).float()
    right = plots.plot_predictions(images, labels, labels, one_hot)
    assert right.get_suptitle() == "Aciertos"
    assert len(_titles(right)) == 16  # max_images por defecto
    wrong = plots.plot_predictions(images[:4], labels[:4], (labels[:4] + 1) % 10, one_hot[:4])
    assert wrong.get_suptitle() == "Errores"
    assert "0,0 %" in _titles(wrong)[0]
    with pytest.raises(ValueError, match="vacía"):
        plots.plot_predictions(images[:0], labels[:0], labels[:0], one_hot[:0])


def test_plot_digits(test16):
    fig = plots.plot_digits(test16.images[:10], titles=[f"n.º {k}" for k in range(10)], title="Diez dígitos", cols=5)
    panels = _image_axes(fig)
    assert len(panels) == 10 and len(fig.axes) == 10  # 2 filas x 5 columnas
    assert fig.get_suptitle() == "Diez dígitos"
    assert _titles(fig)[3] == "n.º 3"
    assert np.allclose(panels[3].images[0].get_array(), test16.raw(3)[0].numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="vacía"):
        plots.plot_digits(test16.images[:0])
    with pytest.raises(ValueError, match="2D"):
        plots.plot_digits(torch.zeros(2, 3, 16, 16))


def test_plot_probabilities():
    probs = torch.tensor([0.01, 0.02, 0.05, 0.6, 0.1, 0.02, 0.05, 0.05, 0.05, 0.05])
    fig = plots.plot_probabilities(probs, label=4)
    ax = fig.axes[0]
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Probabilidad de cada dígito", "probabilidad",
                                                                  "dígito")
    # Como las barras de los exploradores: horizontales, el 0 arriba, la predicha en azul.
    widths = [bar.get_width() for bar in ax.patches]
    assert np.allclose(widths, probs.numpy())
    assert [bar.get_y() for bar in ax.patches] == sorted(bar.get_y() for bar in ax.patches)
    assert ax.yaxis_inverted()
    highlighted = [k for k, bar in enumerate(ax.patches) if bar.get_facecolor() != ax.patches[0].get_facecolor()]
    assert highlighted == [3]
    assert matplotlib.colors.to_hex(ax.patches[3].get_facecolor()) == render.PREDICTED
    assert "60,0 %" in _texts(ax)
    assert [t.get_fontweight() for t in ax.get_yticklabels()].index("bold") == 4  # la verdadera


def test_figures_do_not_go_through_pyplot():
    """Se crean con Figure, no con pyplot: no se acumulan figuras abiertas."""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    for _ in range(3):
        plots.plot_history(HISTORY)
        plots.plot_confusion(torch.eye(10, dtype=torch.long))
    assert plt.get_fignums() == before


# --- Las figuras de los cuadernos (padding, pooling, softmax, entrenamiento, errores) -----------

def _texts(ax):
    return [t.get_text() for t in ax.texts]


@pytest.mark.parametrize("n, k, p, s", [(5, 3, 0, 1), (5, 3, 1, 1), (5, 3, 1, 2), (6, 3, 0, 2), (7, 3, 0, 3)])
def test_plot_conv_positions_counts_every_position(n, k, p, s):
    out = torch.nn.Conv2d(1, 1, k, padding=p, stride=s)(torch.zeros(1, 1, n, n)).shape[-1]
    fig = diagrams.plot_conv_positions(n, kernel_size=k, padding=p, stride=s)
    ax_in, ax_out = fig.axes[:2]
    numbers = [str(i) for i in range(1, out * out + 1)]
    assert _texts(ax_out) == numbers  # una casilla de salida por posición del kernel, numeradas en orden
    assert [t for t in _texts(ax_in) if t != "0"] == numbers
    side = n + 2 * p
    assert _texts(ax_in).count("0") == side * side - n * n  # el borde de ceros del padding
    assert fig._suptitle.get_text().endswith(f"= {out}")
    assert ax_out.get_title() == f"salida {out}x{out}"
    # Rayado solo si algún píxel de la imagen se queda sin ver: cuando el último paso no llega al borde
    untouched = (n + 2 * p - k) % s != 0
    assert ("rayado" in fig._supxlabel.get_text()) == untouched


def test_plot_max_pool_shows_the_maxima():
    grid = torch.tensor([[1, 3, 2, 0], [4, 6, 1, 5], [0, 2, 9, 7], [3, 1, 8, 2]], dtype=torch.float32)
    fig = diagrams.plot_max_pool(grid)
    expected = torch.nn.MaxPool2d(2, 2)(grid[None, None])[0, 0]
    assert _texts(fig.axes[1]) == [f"{v:g}" for v in expected.flatten().tolist()]
    bold = [t.get_text() for t in fig.axes[0].texts if t.get_fontweight() == "bold"]
    assert sorted(bold) == sorted(f"{v:g}" for v in expected.flatten().tolist())
    with pytest.raises(ValueError, match="2D"):
        diagrams.plot_max_pool(torch.zeros(1, 3))


def test_plot_probability_table_shows_the_sums():
    probs = torch.softmax(torch.randn(3, 10, generator=torch.Generator().manual_seed(0)), dim=0)
    fig = diagrams.plot_probability_table(probs, [f"img {i}" for i in range(3)])
    texts = _texts(fig.axes[0])
    cells = [f"{v:.2f}".replace(".", ",") for v in probs.flatten().tolist()]
    assert texts[:10] == cells[:10]  # la primera fila, casilla a casilla
    assert texts.count("1,00") - cells.count("1,00") == 10  # con dim=0 las 10 sumas de columna valen 1
    assert f"{float(probs[0].sum()):.2f}".replace(".", ",") in texts  # y la suma de la fila, que no vale 1
    assert fig.axes[0].get_ylabel() == "imagen del lote (dim=0)"
    with pytest.raises(ValueError, match="imágenes, clases"):
        diagrams.plot_probability_table(torch.zeros(10))


def test_plot_resized_two_rows(test16):
    small = test16.images[:4]
    large = torch.nn.functional.interpolate(small, size=28)
    fig = diagrams.plot_resized(large, small, test16.labels[:4])
    assert len(_image_axes(fig)) == 8
    assert "28x28" in fig.axes[0].get_ylabel() and "16x16" in fig.axes[4].get_ylabel()
    assert fig.axes[0].get_title() == f"dígito {int(test16.labels[0])}"
    with pytest.raises(ValueError, match="dos tamaños"):
        diagrams.plot_resized(large, small[:3])


def test_plot_batch_losses_moving_average():
    losses = [2.3, 1.9, 1.2, 0.8, 0.7, 0.5]
    fig = plots.plot_batch_losses(losses, window=3)
    raw, smooth = fig.axes[0].lines
    assert np.allclose(raw.get_ydata(), losses)
    assert np.allclose(smooth.get_ydata(), [np.mean(losses[i:i + 3]) for i in range(4)])
    assert list(smooth.get_xdata()) == [3, 4, 5, 6]
    with pytest.raises(ValueError, match="al menos un lote"):
        plots.plot_batch_losses([])


def test_plot_kernel_responses_and_channel_stages(test16):
    model = CNN()
    image = test16.images[0]
    acts = activations(model, image)
    fig = plots.plot_kernel_responses(model.conv1.weight, acts["conv1"], image=image)
    assert len(_image_axes(fig)) == 16 * 2 + 1  # cada kernel, su respuesta y la entrada
    with pytest.raises(ValueError, match="mismo C"):
        plots.plot_kernel_responses(model.conv1.weight, acts["conv2"])
    fig = plots.plot_channel_stages(acts, channel=3, image=image)
    titles = _titles(fig)
    assert titles[0] == "entrada" and titles[1].startswith("conv1: 16x16") and titles[3].startswith("pool1: 8x8")
    with pytest.raises(ValueError, match="Faltan etapas"):
        plots.plot_channel_stages({"conv1": acts["conv1"]}, channel=0)
    with pytest.raises(ValueError, match="canal entre 0 y 15"):
        plots.plot_channel_stages(acts, channel=16)


def test_plot_confused_pairs_counts():
    labels = torch.tensor([4, 4, 4, 9, 3, 5])
    predictions = torch.tensor([9, 9, 4, 4, 5, 5])
    probs = torch.nn.functional.one_hot(predictions, 10).float()
    images = torch.zeros(6, 1, 16, 16)
    fig = plots.plot_confused_pairs(images, labels, predictions, probs, [(4, 9, 2), (3, 5, 1)], per_pair=3)
    rows = [ax.get_ylabel() for ax in fig.axes if ax.get_ylabel()]
    assert rows == ["real 4 → pred 9\n(2 veces)", "real 3 → pred 5\n(1 vez)"]
    assert len(_image_axes(fig)) == 3  # dos ejemplos del par 4→9 y uno del 3→5
    with pytest.raises(ValueError, match="ningún dígito"):
        plots.plot_confused_pairs(images, labels, predictions, probs, [])


def test_plot_per_class_accuracy_bars():
    accuracy = torch.tensor([0.99, 0.995, 0.98, 0.97, 0.99, 0.985, 0.99, 0.975, 0.96, 0.98])
    fig = plots.plot_per_class_accuracy(accuracy, overall=0.982)
    bars = fig.axes[0].patches
    assert np.allclose([b.get_height() for b in bars], 100 * accuracy.numpy())
    worst = [i for i, b in enumerate(bars) if b.get_facecolor()[:3] != bars[0].get_facecolor()[:3]]
    assert worst == [int(accuracy.argmin())]
    assert "global: 98,20 %" in fig.axes[0].get_legend().get_texts()[0].get_text()
