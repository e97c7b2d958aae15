"""Dibujos de las ideas del curso: el kernel que se desliza, el max pooling, el softmax por
filas o por columnas y el mismo dígito a dos tamaños.

No son resultados de una red entrenada (esos están en `plots`): son diagramas para
explicar una idea con números pequeños que se pueden seguir con el dedo.
"""

import math

import torch
from matplotlib.patches import Rectangle

from . import render
from .alt_text import described
from .figure import Figure, to_numpy
from .errors import TrazosValueError

__all__ = ["plot_conv_positions", "plot_max_pool", "plot_probability_table", "plot_resized",
           "naive_softmax", "example_logits", "softmax_table"]


def _cell_grid(ax, rows, cols):
    """Ejes para dibujar una rejilla de celdas: la celda (f, c) ocupa [c-0.5, c+0.5] x [f-0.5, f+0.5]."""
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)  # la fila 0 arriba, como en una imagen
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for k in range(rows + 1):
        ax.axhline(k - 0.5, color="0.6", lw=0.8)
    for k in range(cols + 1):
        ax.axvline(k - 0.5, color="0.6", lw=0.8)


def plot_conv_positions(n=5, kernel_size=3, padding=0, stride=1):
    """Dónde cae un kernel de `kernel_size` x `kernel_size` al deslizarse sobre una entrada de lado `n`.

    Izquierda: la entrada con su borde de padding (ceros, en gris). Cada número marca el centro
    del kernel en una de sus posiciones; en rojo la primera posición y en naranja la siguiente,
    `stride` celdas más allá. Las celdas rayadas no las toca ningún kernel.
    Derecha: la salida, con un valor por posición y la misma numeración. Es la geometría
    (`render.conv_layout`) y son los colores del explorador de padding.
    """
    layout = render.conv_layout(n, kernel_size, padding, stride)
    side, out = layout["side"], layout["out"]
    fig = Figure(figsize=(2.2 + 0.42 * (side + out), 0.42 * side + 1.4), layout="constrained")
    ax_in, ax_out = fig.subplots(1, 2, width_ratios=[side, out])
    _cell_grid(ax_in, side, side)
    _cell_grid(ax_out, out, out)
    first, following = (tuple(c / 255 for c in rgb) for rgb in (render.FIRST, render.NEXT))
    for r in range(side):
        for c in range(side):
            if layout["padding"][r, c]:
                ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color=tuple(v / 255 for v in render.PADDING)))
                ax_in.text(c, r, "0", ha="center", va="center", fontsize=8, color="0.5")
            elif layout["unseen"][r, c]:
                ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, facecolor=tuple(v / 255 for v in render.UNSEEN),
                                          hatch="///", edgecolor=following, lw=0))
    colors = {0: first, 1: following}  # primera posición y la siguiente en la misma fila
    for k, ((top, left), (cy, cx)) in enumerate(zip(layout["windows"], layout["centers"])):
        color = colors.get(k, "black")
        style = dict(ha="center", va="center", fontsize=9, color=color, weight="bold" if k in colors else "normal")
        ax_in.text(cx, cy, str(k + 1), **style)
        ax_out.text(k % out, k // out, str(k + 1), **style)
        if k in colors:
            inset = 0.06 if k == 0 else 0.14  # un poco hacia dentro: que los dos marcos no se tapen
            ax_in.add_patch(Rectangle((left - 0.5 + inset, top - 0.5 + inset), kernel_size - 2 * inset,
                                      kernel_size - 2 * inset, fill=False, color=color, lw=2.5,
                                      ls="-" if k == 0 else "--"))
            ax_out.add_patch(Rectangle((k % out - 0.5, k // out - 0.5), 1, 1, color=color, alpha=0.25))
    ax_in.set_title(f"entrada {n}x{n}" + (f" + padding {padding} = {side}x{side}" if padding else ""))
    ax_out.set_title(f"salida {out}x{out}")
    fig.suptitle(f"kernel {kernel_size}x{kernel_size}, padding {padding}, stride {stride}:  "
                 f"⌊({n} + 2·{padding} − {kernel_size}) / {stride}⌋ + 1 = {out}")
    note = "número: centro del kernel en cada posición · rojo: la primera · naranja: la siguiente"
    if layout["unseen"].any():
        note += "\nrayado: píxeles que no toca ningún kernel"
    fig.supxlabel(note, fontsize=9)
    unseen = int(layout["unseen"].sum())
    return described(fig, f"Un kernel de {kernel_size}x{kernel_size} sobre una entrada de {n}x{n} con padding "
                          f"{padding} y stride {stride}: cabe en {out}x{out} posiciones, numeradas en la entrada y en "
                          f"la salida de {out}x{out}; la primera, en rojo continuo, y la siguiente, en naranja "
                          f"discontinuo"
                          + (f"; {unseen} píxeles, rayados, no los toca ningún kernel." if unseen else "."))


def plot_max_pool(grid, size=2):
    """Max pooling de ventana `size` x `size` y stride `size` sobre una matriz pequeña de números.

    Cada ventana tiene su color; su máximo va en negrita y es el valor que pasa a la salida.
    """
    grid = torch.as_tensor(grid).detach().cpu()
    if grid.ndim != 2 or grid.shape[0] < size or grid.shape[1] < size:
        raise TrazosValueError(f"Se esperaba una matriz 2D de al menos {size}x{size}; "
                               f"forma recibida {tuple(grid.shape)}.")
    rows, cols = grid.shape[0] // size, grid.shape[1] // size  # lo que sobra por abajo o a la derecha se pierde
    palette = ["#fde0c5", "#c9e4f5", "#d5efcf", "#eadcf2"]
    fig = Figure(figsize=(0.5 * (grid.shape[1] + cols) + 1.6, 0.5 * grid.shape[0] + 1.2), layout="constrained")
    ax_in, ax_out = fig.subplots(1, 2, width_ratios=[grid.shape[1], cols])
    _cell_grid(ax_in, *grid.shape)
    _cell_grid(ax_out, rows, cols)

    def show(ax, r, c, value, **style):
        text = f"{value:g}" if grid.is_floating_point() else str(int(value))
        ax.text(c, r, text, ha="center", va="center", fontsize=10, **style)

    for i in range(rows):
        for j in range(cols):
            color = palette[(i + j) % 2 + 2 * (i % 2)]
            window = grid[i * size:(i + 1) * size, j * size:(j + 1) * size]
            best = int(window.flatten().argmax())
            for a in range(size):
                for b in range(size):
                    r, c = i * size + a, j * size + b
                    ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color=color))
                    top = a * size + b == best
                    show(ax_in, r, c, grid[r, c], weight="bold" if top else "normal", color="black" if top else "0.45")
            ax_out.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, color=color))
            show(ax_out, i, j, window.max(), weight="bold")
    for r in range(rows * size, grid.shape[0]):  # filas y columnas sobrantes: ninguna ventana las toca
        for c in range(grid.shape[1]):
            show(ax_in, r, c, grid[r, c], color="0.7")
    for c in range(cols * size, grid.shape[1]):
        for r in range(rows * size):
            show(ax_in, r, c, grid[r, c], color="0.7")
    ax_in.set_title(f"entrada {grid.shape[0]}x{grid.shape[1]}")
    ax_out.set_title(f"salida {rows}x{cols}")
    fig.suptitle(f"Max pooling {size}x{size}, stride {size}: el máximo de cada ventana")
    pooled = _pooled(grid, size, rows, cols)
    return described(fig, f"Max pooling {size}x{size} con stride {size} de una entrada de "
                          f"{grid.shape[0]}x{grid.shape[1]} a una salida de {rows}x{cols}: cada ventana de un color "
                          f"y su máximo en negrita; la salida, fila a fila, es {pooled}.")


def _pooled(grid, size, rows, cols):
    """La salida del max pooling como texto, fila a fila: «[3, 5] [2, 8]»."""
    out = grid[:rows * size, :cols * size].reshape(rows, size, cols, size).amax(dim=(1, 3))
    show = (lambda v: f"{v:g}") if grid.is_floating_point() else (lambda v: str(int(v)))
    return " ".join("[" + ", ".join(show(v) for v in row.tolist()) + "]" for row in out)


def plot_probability_table(probs, row_labels=None, title="Probabilidades"):
    """Mapa de calor de una matriz [imágenes, clases] con la suma de cada fila y de cada columna.

    Sirve para ver a lo largo de qué dimensión se normalizó un softmax: con dim=1 cada
    fila suma 1; con dim=0 es cada columna la que suma 1.
    """
    probs = torch.as_tensor(probs).detach().cpu().float()
    if probs.ndim != 2:
        raise TrazosValueError(f"Se esperaba una matriz [imágenes, clases]; forma recibida {tuple(probs.shape)}.")
    n, classes = probs.shape
    fig = Figure(figsize=(0.62 * classes + 3.0, 0.45 * n + 1.9), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(to_numpy(probs), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(n):
        for j in range(classes):
            value = float(probs[i, j])
            ax.text(j, i, render.decimal(value), ha="center", va="center", fontsize=8,
                    color="white" if value > 0.6 else "black")
        ax.text(classes - 0.2, i, render.decimal(probs[i].sum()), va="center", fontsize=9, color="tab:red")
    for j in range(classes):
        ax.text(j, n - 0.3, render.decimal(probs[:, j].sum()), ha="center", va="top", fontsize=9, color="tab:red")
    ax.text(classes - 0.2, -0.6, "suma de\nla fila", va="bottom", fontsize=9, color="tab:red")
    ax.text(-0.6, n - 0.3, "suma de la columna", ha="right", va="top", fontsize=9, color="tab:red")
    ax.set(title=title, xlabel="clase (dim=1)", ylabel="imagen del lote (dim=0)", xticks=range(classes),
           yticks=range(n))
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    if row_labels is not None:
        ax.set_yticklabels(row_labels)
    fig.colorbar(image, ax=ax, shrink=0.8, pad=0.12, label="probabilidad")
    rows_sum = ", ".join(render.decimal(v) for v in probs.sum(dim=1).tolist())
    cols_sum = ", ".join(render.decimal(v) for v in probs.sum(dim=0).tolist())
    return described(fig, f"{title}: tabla de {n} imágenes por {classes} clases con la probabilidad de cada casilla; "
                          f"las filas suman {rows_sum} y las columnas, {cols_sum}.")


def plot_resized(large, small, labels=None, title="Los mismos dígitos a dos tamaños"):
    """Las mismas imágenes a dos resoluciones (arriba `large`, abajo `small`), píxel a píxel.

    Sin suavizado al dibujar: cada cuadradito es un píxel de verdad, y se ve cuánto detalle
    se pierde al reducir de 28x28 a 16x16.
    """
    large, small = torch.as_tensor(large), torch.as_tensor(small)
    if len(large) != len(small) or len(large) == 0:
        raise TrazosValueError(f"Se esperaban las mismas imágenes a dos tamaños; hay {len(large)} y {len(small)}.")
    n = len(large)
    fig = Figure(figsize=(1.5 * n + 0.6, 3.7), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    for row, images in enumerate((large, small)):
        side = images.shape[-1]
        for k, ax in enumerate(axes[row]):
            ax.imshow(to_numpy(render.digit_pixels(images[k])), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0 and labels is not None:
                ax.set_title(f"dígito {int(labels[k])}", fontsize=9)
        axes[row, 0].set_ylabel(f"{side}x{side}\n({side * side} píxeles)", fontsize=9)
    fig.suptitle(title)
    digits = f" (los dígitos {', '.join(str(int(d)) for d in labels)})" if labels is not None else ""
    return described(fig, f"{title}: {n} dígitos{digits}, arriba a {large.shape[-1]}x{large.shape[-1]} píxeles y "
                          f"abajo a {small.shape[-1]}x{small.shape[-1]}.")


# Softmax: qué eje suma 1 y dónde se desborda la versión ingenua (el explorador de softmax).

def naive_softmax(logits, dim):
    """softmax "a mano" en float32: exp(x) / suma(exp(x)). Con x > 88.7, exp(x) ya es inf en
    float32, e inf / inf da nan: por eso torch.softmax resta antes el máximo."""
    x = torch.as_tensor(logits, dtype=torch.float32)
    if dim not in (0, 1) or x.ndim != 2:
        raise TrazosValueError(f"dim debe ser 0 o 1 para unos logits [imágenes, clases]; se recibió dim={dim!r} "
                         f"con forma {tuple(x.shape)}.")
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def example_logits():
    """Unos logits de ejemplo, 4 imágenes x 10 clases, siempre los mismos (semilla 0)."""
    return torch.randn(4, 10, generator=torch.Generator().manual_seed(0)) * 3


def _cell(value):
    if math.isnan(value) or math.isinf(value):
        return f"<td class='desborde' style='background:#ffd6d6;color:#b00020'>{value}</td>"
    return f"<td>{value:.3f}</td>"


def softmax_table(logits, dim=1, scale=1.0):
    """HTML: softmax ingenuo de `logits * scale` por el eje `dim`, con sumas de filas y columnas.

    Las sumas que valen 1 salen en verde: con dim=1 cada fila (una imagen) suma 1, con dim=0
    cada columna (una clase en todo el lote). Las casillas inf o nan salen en rojo.
    """
    x = torch.as_tensor(logits, dtype=torch.float32) * float(scale)
    probs = naive_softmax(x, dim)
    rows, cols = probs.shape
    row_sums, col_sums = probs.sum(dim=1), probs.sum(dim=0)

    def total(value, along):
        ok = abs(value - 1) < 1e-3
        style = "background:#d7f5d7;font-weight:bold" if ok else "color:#666"
        text = f"{value}" if math.isnan(value) or math.isinf(value) else f"{value:.3f}"
        return f"<td class='suma-{along}' style='{style}'>{text}</td>"

    head = "".join(f"<th>clase {c}</th>" for c in range(cols))
    lines = [f"<tr><th></th>{head}<th>suma de la fila</th></tr>"]
    for r in range(rows):
        cells = "".join(_cell(float(v)) for v in probs[r])
        lines.append(f"<tr><th>imagen {r}</th>{cells}{total(float(row_sums[r]), 'fila')}</tr>")
    lines.append("<tr><th>suma de la columna</th>" + "".join(total(float(v), "columna") for v in col_sums)
                 + "<td></td></tr>")
    axis = ("dim=1: cada <b>fila</b> (las clases de una imagen) suma 1. Es lo que quiere un clasificador."
            if dim == 1 else
            "dim=0: cada <b>columna</b> (una clase en todo el lote) suma 1. Las probabilidades de una "
            "imagen ya no suman 1: para clasificar hace falta dim=1.")
    bad = int((~torch.isfinite(probs)).sum())
    biggest = float(x.max())
    overflow = (f"<div class='desbordamiento' style='color:#b00020;font-weight:bold'>⚠ {bad} casillas inf o nan: "
                f"el logit mayor vale {biggest:.1f} y exp(x) en float32 se desborda (inf) a partir de x ≈ 88.7; "
                f"inf / inf = nan. torch.softmax no falla: resta antes el máximo (exp(x − max) ≤ 1).</div>"
                if bad else
                f"<div>Sin desbordamiento: el logit mayor es {biggest:.1f} (exp se desborda en float32 por encima "
                f"de ≈ 88.7).</div>")
    return (f"<div>{axis}</div><table class='softmax' style='border-collapse:collapse;font-size:85%'>"
            + "".join(lines) + f"</table>{overflow}")
