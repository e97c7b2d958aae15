"""Una idea, un dibujo: la figura (matplotlib) y el explorador (PNG) de una misma cosa ponen
cada pieza en el mismo sitio y con la misma regla de color."""

import io

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image

from trazos import diagrams, plots, render, widgets
from trazos.models import CNN


def decode(png):
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def figure_grid(fig, panel=0):
    """El array que dibuja el panel `panel` con imagen (sin contar las barras de color)."""
    axes = [ax for ax in fig.axes if ax.images and ax.get_label() != "<colorbar>"]
    image = axes[panel].images[0]
    return np.ma.filled(image.get_array(), np.nan), image.get_clim()


def tiles_of_grid(grid, k, gap=1):
    """Parte un mosaico con huecos de `gap` en tiles de k x k: {(fila, columna): tile}."""
    rows, cols = (grid.shape[0] + gap) // (k + gap), (grid.shape[1] + gap) // (k + gap)
    return {(r, c): grid[r * (k + gap):r * (k + gap) + k, c * (k + gap):c * (k + gap) + k]
            for r in range(rows) for c in range(cols)}


def tiles_of_picture(rgb, k, scale, gap=4):
    """Lo mismo para un PNG del explorador (borde y huecos de `gap`, cada píxel agrandado `scale`):
    el color del centro de cada píxel de cada tile."""
    step = k * scale + gap
    rows, cols = (rgb.shape[0] - gap) // step, (rgb.shape[1] - gap) // step
    centers = gap + np.arange(k) * scale + scale // 2
    return {(r, c): rgb[np.ix_(r * step + centers, c * step + centers)] for r in range(rows) for c in range(cols)}


@pytest.mark.parametrize("filter", [None, 7])
def test_kernel_figure_and_explorer_show_the_same_tiles(filter):
    torch.manual_seed(0)
    before = 0.1 * torch.randn(32, 16, 3, 3)
    after = before + 0.5 * torch.randn(32, 16, 3, 3)
    fig = plots.plot_kernels_before_after(before, after, "conv2", filter=filter)
    weights = torch.stack([before, after]).numpy()
    limits = render.kernel_limits(weights)
    for panel, view in enumerate(render.VIEWS):
        grid, clim = figure_grid(fig, panel)
        assert np.allclose(clim, (-limits[view], limits[view]))  # la misma escala en los dos
        picture = np.asarray(render.kernel_picture(weights, view, 1, filter, highlight=0, limits=limits))
        figure_tiles = tiles_of_grid(grid, 3)
        scale = (picture.shape[1] - 4) // ((grid.shape[1] + 1) // 4) - 4
        scale //= 3
        explorer_tiles = tiles_of_picture(picture, 3, scale)
        assert figure_tiles.keys() == explorer_tiles.keys()
        assert len(figure_tiles) == (16 if filter is not None else 32 * 16)
        for where, tile in figure_tiles.items():  # cada tile, coloreado, es el del explorador
            expected = render.colorize(tile, render.DIVERGING, -limits[view], limits[view])
            assert np.array_equal(expected, explorer_tiles[where]), where


def test_kernel_layout_rows_are_filters_and_columns_channels():
    weight = torch.arange(4 * 3 * 2 * 2, dtype=torch.float32).reshape(4, 3, 2, 2)
    tiles, cols, where = render.kernel_tiles(weight)
    assert cols == 3 and np.array_equal(tiles[where[(2, 1)]], weight[2, 1].numpy())
    grid = render.kernel_grid(weight)
    assert np.array_equal(grid[6:8, 3:5], weight[2, 1].numpy())  # fila 2 (filtro), columna 1 (canal)
    tiles, cols, where = render.kernel_tiles(weight, filter=2)
    assert cols == 2 and len(tiles) == 3 and np.array_equal(tiles[where[(2, 1)]], weight[2, 1].numpy())
    with pytest.raises(ValueError, match="entre 0 y 3"):
        render.kernel_tiles(weight, filter=4)


def test_activation_figure_and_explorer_show_the_same_mosaic():
    maps = torch.relu(torch.randn(32, 8, 8, generator=torch.Generator().manual_seed(1)))
    grid, clim = figure_grid(plots.plot_activations(maps, "relu2"))
    picture = np.asarray(render.maps_picture(maps, cell=8))  # un píxel de pantalla por valor
    figure_tiles, explorer_tiles = tiles_of_grid(grid, 8), tiles_of_picture(picture, 8, 1)
    assert figure_tiles.keys() == explorer_tiles.keys() and len(figure_tiles) == 32
    for where, tile in figure_tiles.items():
        assert np.array_equal(render.colorize(tile, render.SEQUENTIAL, *clim), explorer_tiles[where]), where
    # La figura usa la misma paleta que el explorador.
    assert plots.plot_activations(maps).axes[0].images[0].get_cmap().name == render.SEQUENTIAL


def test_probability_figure_and_bars_use_the_same_colors():
    probs = torch.softmax(torch.randn(10, generator=torch.Generator().manual_seed(2)), dim=0)
    ax = plots.plot_probabilities(probs).axes[0]
    figure_colors = [matplotlib.colors.to_hex(bar.get_facecolor()) for bar in ax.patches]
    html = render.probability_bars(probs)
    html_colors = [part.split(";")[0].split("'")[0] for part in html.split("background:")[1:]]
    assert figure_colors == html_colors == render.bar_colors(probs)
    assert figure_colors.count(render.PREDICTED) == 1 and figure_colors.index(render.PREDICTED) == int(probs.argmax())


@pytest.mark.parametrize("n, k, p, s", [(5, 3, 0, 2), (6, 3, 1, 2), (7, 3, 0, 3)])
def test_conv_diagram_and_explorer_share_the_geometry(n, k, p, s):
    layout = render.conv_layout(n, k, p, s)
    fig = diagrams.plot_conv_positions(n, k, p, s)
    ax_in = fig.axes[0]
    zeros = {(round(t.get_position()[1]), round(t.get_position()[0])) for t in ax_in.texts if t.get_text() == "0"}
    assert zeros == {tuple(map(int, rc)) for rc in np.argwhere(layout["padding"])}
    numbered = [t.get_position()[::-1] for t in ax_in.texts if t.get_text() != "0"]
    assert np.allclose(numbered, layout["centers"])
    # El explorador pinta esas mismas celdas de padding y sin ver, y el centro de cada posición.
    picture = np.asarray(render.kernel_placement(n, k, p, s))
    cell = (picture.shape[0] - 1) // layout["side"]
    for (r, c), is_padding in np.ndenumerate(layout["padding"]):
        color = tuple(picture[r * cell + cell // 2 + 1, c * cell + 1])  # junto al borde de la celda
        if is_padding:
            assert color == render.PADDING or color in (render.FIRST, render.NEXT)
        elif layout["unseen"][r, c]:
            assert color == render.UNSEEN
    for cy, cx in layout["centers"]:
        y, x = int(cy * cell + cell // 2), int(cx * cell + cell // 2)
        assert tuple(picture[y, x]) == render.CENTER


def test_padding_explorer_shows_the_shared_picture():
    explorer = widgets.padding_explorer(CNN())
    explorer.size.value, explorer.padding.value, explorer.stride.value = 7, 0, 3
    assert np.array_equal(decode(explorer.picture.value), np.asarray(render.kernel_placement(7, 3, 0, 3)))


def test_percent_uses_the_decimal_comma():
    assert render.decimal(0.125) == "0,12" and render.decimal(-3.14159, 1) == "-3,1"
    assert render.percent(0.9922, 2) == "99,22 %"
    assert render.percent(1.0) == "100,0 %"
    assert render.percent(torch.tensor(0.05)) == "5,0 %"
