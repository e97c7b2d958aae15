"""Figuras del curso con matplotlib: cada función devuelve su `Figure`.

Se crean con `matplotlib.figure.Figure` y no con `pyplot`: no quedan figuras abiertas
en memoria, funcionan sin pantalla (línea de órdenes) y en un cuaderno se muestran
al devolverlas en la última línea de la celda.
"""

import io
import math

import matplotlib.figure
import numpy as np
import torch
from matplotlib.patches import Rectangle

from .data import to_pixels
from .shapes import conv_output_size


class Figure(matplotlib.figure.Figure):
    """Una `Figure` de matplotlib que Jupyter sabe mostrar por sí sola.

    Sin `pyplot` nadie registra cómo dibujar una figura en el cuaderno; `_repr_png_` lo
    resuelve: basta con que la figura sea la última expresión de la celda.
    """

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


__all__ = ["plot_history", "kernel_mosaic", "plot_kernels", "plot_kernels_before_after", "plot_activations",
           "plot_confusion", "plot_predictions", "plot_digits", "plot_probabilities",
           "plot_conv_positions", "plot_max_pool", "plot_probability_table",
           "plot_resized", "plot_batch_losses", "plot_kernel_responses", "plot_channel_stages",
           "plot_confused_pairs", "plot_per_class_accuracy"]

def _np(x):
    """Tensor (o lo que sea) -> array de NumPy: matplotlib dibuja arrays, no tensores."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


DIVERGING = "RdBu_r"  # rojo positivo, azul negativo, blanco cero: para pesos y diferencias


def plot_history(history):
    """Curvas de pérdida y de acierto por época, en entrenamiento y en test."""
    if not history:
        raise ValueError("El historial está vacío: entrena al menos una época.")
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", label="entrenamiento")
    ax_loss.plot(epochs, [h["test_loss"] for h in history], "s--", label="test")
    ax_loss.set(title="Pérdida", xlabel="época", ylabel="entropía cruzada")
    ax_acc.plot(epochs, [100 * h["train_acc"] for h in history], "o-", label="entrenamiento")
    ax_acc.plot(epochs, [100 * h["test_acc"] for h in history], "s--", label="test")
    ax_acc.set(title="Acierto", xlabel="época", ylabel="acierto (%)")
    for ax in (ax_loss, ax_acc):
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


def _kernels(weight):
    if isinstance(weight, dict):
        raise ValueError("Pasa el tensor de pesos de una capa (p. ej. model.conv1.weight), no un state_dict entero.")
    weight = torch.as_tensor(weight).detach().cpu()
    if weight.ndim != 4:
        raise ValueError(f"Se esperaban pesos de una Conv2d [salida, entrada, k, k]; forma recibida {tuple(weight.shape)}.")
    return weight


def kernel_mosaic(weight, gap=1):
    """Todos los kernels de una capa en una sola imagen: una fila por filtro de salida,
    una columna por canal de entrada, separados por `gap` píxeles (NaN, que se ve en blanco)."""
    weight = _kernels(weight)
    out_ch, in_ch, kh, kw = weight.shape
    mosaic = torch.full((out_ch * (kh + gap) - gap, in_ch * (kw + gap) - gap), float("nan"))
    for o in range(out_ch):
        for i in range(in_ch):
            mosaic[o * (kh + gap):o * (kh + gap) + kh, i * (kw + gap):i * (kw + gap) + kw] = weight[o, i]
    return mosaic


def _draw_kernels(ax, weight, title, limit=None):
    weight = _kernels(weight)
    limit = limit or float(weight.abs().max()) or 1.0
    if weight.shape[1] == 1:  # primera capa: los filtros en una rejilla casi cuadrada
        n = weight.shape[0]
        cols = math.ceil(math.sqrt(n))
        padded = torch.cat([weight[:, 0], torch.full((cols * math.ceil(n / cols) - n, *weight.shape[2:]), float("nan"))])
        mosaic = kernel_mosaic(padded.reshape(-1, cols, *weight.shape[2:]))  # filas x columnas de kernels
    else:
        mosaic = kernel_mosaic(weight)
    image = ax.imshow(_np(mosaic), cmap=DIVERGING, vmin=-limit, vmax=limit)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return image


def plot_kernels(weight, title="Kernels"):
    """Los kernels de una capa convolucional (rojo positivo, azul negativo)."""
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.subplots()
    image = _draw_kernels(ax, weight, title)
    fig.colorbar(image, ax=ax, shrink=0.7, label="peso")
    return fig


def plot_kernels_before_after(before, after, layer="conv1"):
    """Kernels de una capa antes y después de entrenar, y su diferencia (después - antes)."""
    before, after = _kernels(before), _kernels(after)
    if before.shape != after.shape:
        raise ValueError(f"Las formas no coinciden: antes {tuple(before.shape)}, después {tuple(after.shape)}.")
    tall = before.shape[1] > 1
    fig = Figure(figsize=(12, 8 if tall else 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    limit = float(torch.maximum(before.abs().max(), after.abs().max()))
    _draw_kernels(axes[0], before, f"{layer}: antes de entrenar", limit)
    image = _draw_kernels(axes[1], after, f"{layer}: después de entrenar", limit)
    diff = after - before
    diff_image = _draw_kernels(axes[2], diff, "diferencia (después - antes)")
    fig.colorbar(image, ax=axes[:2], shrink=0.6, label="peso")
    fig.colorbar(diff_image, ax=axes[2], shrink=0.6, label="cambio")
    if tall:
        fig.supxlabel("columnas: canal de entrada · filas: filtro de salida")
    return fig


def _grid(n, max_cols=8):
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def plot_activations(maps, stage="", image=None, max_maps=32):
    """Mapas de activación de una etapa para una imagen: `maps` es [C, H, W] (o [1, C, H, W]).

    Si se da `image`, se dibuja primero la entrada. Cada mapa tiene su propia escala de color
    (oscuro = poca activación, claro = mucha).
    """
    maps = torch.as_tensor(maps).detach().cpu()
    if maps.ndim == 4:
        maps = maps[0]
    if maps.ndim != 3:
        raise ValueError(f"Se esperaban mapas [canales, alto, ancho]; forma recibida {tuple(maps.shape)}. "
                         "Las etapas lineales (fc, flatten) no tienen mapas: elige una convolucional.")
    maps = maps[:max_maps]
    extra = image is not None
    rows, cols = _grid(len(maps) + extra)
    fig = Figure(figsize=(1.5 * cols, 1.6 * rows + 0.5), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).flatten()
    for ax in axes:
        ax.axis("off")
    if extra:
        axes[0].imshow(_np(_pixels(image)), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title("entrada", fontsize=9)
    for c, (ax, m) in enumerate(zip(axes[extra:], maps)):
        ax.imshow(_np(m), cmap="viridis")
        ax.set_title(f"canal {c}", fontsize=9)
    h, w = maps.shape[1:]
    fig.suptitle(f"Activaciones de {stage}: {len(maps)} mapas de {h}x{w}" if stage else f"{len(maps)} mapas de {h}x{w}")
    return fig


def _pixels(image):
    """Imagen normalizada (como sale de load_mnist) de vuelta a [0, 1] para dibujarla."""
    pixels = to_pixels(image).squeeze()
    if pixels.ndim != 2:
        raise ValueError(f"Se esperaba una imagen 2D; forma recibida {tuple(pixels.shape)}.")
    return pixels


def plot_confusion(matrix, title="Matriz de confusión (test)"):
    """Matriz de confusión con el número de ejemplos en cada celda."""
    matrix = torch.as_tensor(matrix)
    n = matrix.shape[0]
    fig = Figure(figsize=(6.2, 5.4), layout="constrained")
    ax = fig.subplots()
    # Escala logarítmica: si no, la diagonal (casi 1000) apaga los errores (unos pocos).
    image = ax.imshow(_np(torch.log1p(matrix.float())), cmap="Blues")
    threshold = float(torch.log1p(matrix.float()).max()) / 2
    for t in range(n):
        for p in range(n):
            count = int(matrix[t, p])
            if count:
                ax.text(p, t, str(count), ha="center", va="center", fontsize=8,
                        color="white" if math.log1p(count) > threshold else "black")
    ax.set(title=title, xlabel="predicho", ylabel="verdadero", xticks=range(n), yticks=range(n))
    fig.colorbar(image, ax=ax, shrink=0.8, label="log(1 + ejemplos)")
    return fig


def plot_digits(images, titles=None, title="", cols=8, colors=None):
    """Una galería de dígitos (normalizados como en load_mnist), con un título opcional en cada uno."""
    images = torch.as_tensor(images)
    if len(images) == 0:
        raise ValueError("No hay imágenes que mostrar: la selección está vacía.")
    rows, cols = _grid(len(images), cols)
    fig = Figure(figsize=(1.45 * cols, 1.7 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).flatten()
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < len(images):
            ax.imshow(_np(_pixels(images[k])), cmap="gray", vmin=0, vmax=1)
            if titles:
                ax.set_title(titles[k], fontsize=9, color=colors[k] if colors else "black")
    if title:
        fig.suptitle(title)
    return fig


def plot_predictions(images, labels, predictions, probs, title=None, max_images=16):
    """Galería de predicciones: etiqueta verdadera, predicha y probabilidad de la predicha.

    Verde si acierta, rojo si falla.
    """
    n = min(len(images), max_images)
    if n == 0:
        raise ValueError("No hay predicciones que mostrar: la selección está vacía.")
    titles, colors = [], []
    for k in range(n):
        t, p = int(labels[k]), int(predictions[k])
        titles.append(f"real {t} · pred {p}\n{100 * float(probs[k][p]):.1f} %")
        colors.append("tab:green" if t == p else "tab:red")
    if title is None:
        right = sum(c == "tab:green" for c in colors)
        title = "Aciertos" if right == n else "Errores" if right == 0 else "Predicciones"
    return plot_digits(images[:n], titles, title, colors=colors)


def plot_probabilities(probs, title="Probabilidad de cada dígito"):
    """Barras con la probabilidad que da la red a cada dígito (la mayor resaltada)."""
    probs = torch.as_tensor(probs).detach().cpu().flatten()
    fig = Figure(figsize=(5, 2.6), layout="constrained")
    ax = fig.subplots()
    bars = ax.bar(range(len(probs)), _np(probs), color="tab:gray")
    bars[int(probs.argmax())].set_color("tab:blue")
    ax.set(title=title, xlabel="dígito", ylabel="probabilidad", ylim=(0, 1), xticks=range(len(probs)))
    return fig


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
    del kernel en una de sus posiciones; en rojo la primera posición y en azul la siguiente,
    `stride` celdas más allá. Las celdas rayadas no las toca ningún kernel.
    Derecha: la salida, con un valor por posición y la misma numeración.
    """
    out = conv_output_size(n, kernel_size, padding, stride)
    side = n + 2 * padding
    fig = Figure(figsize=(2.2 + 0.42 * (side + out), 0.42 * side + 1.4), layout="constrained")
    ax_in, ax_out = fig.subplots(1, 2, width_ratios=[side, out])
    _cell_grid(ax_in, side, side)
    _cell_grid(ax_out, out, out)
    covered = torch.zeros(side, side, dtype=torch.bool)
    for i in range(out):
        for j in range(out):
            covered[i * stride:i * stride + kernel_size, j * stride:j * stride + kernel_size] = True
    for r in range(side):
        for c in range(side):
            if not (padding <= r < side - padding and padding <= c < side - padding):
                ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, color="0.85"))
                ax_in.text(c, r, "0", ha="center", va="center", fontsize=8, color="0.5")
            elif not covered[r, c]:
                ax_in.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, hatch="///", color="tab:orange", lw=0))
    colors = {0: "tab:red", 1: "tab:blue"}  # primera posición y la siguiente en la misma fila
    center = (kernel_size - 1) / 2
    for i in range(out):
        for j in range(out):
            k = i * out + j
            color = colors.get(k, "black")
            ax_in.text(j * stride + center, i * stride + center, str(k + 1), ha="center", va="center",
                       fontsize=9, color=color, weight="bold" if k in colors else "normal")
            ax_out.text(j, i, str(k + 1), ha="center", va="center", fontsize=9, color=color,
                        weight="bold" if k in colors else "normal")
            if k in colors:
                inset = 0.06 if k == 0 else 0.14  # un poco hacia dentro: que los dos marcos no se tapen
                ax_in.add_patch(Rectangle((j * stride - 0.5 + inset, i * stride - 0.5 + inset), kernel_size - 2 * inset,
                                          kernel_size - 2 * inset, fill=False, color=color, lw=2.5,
                                          ls="-" if k == 0 else "--"))
                ax_out.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, color=color, alpha=0.25))
    ax_in.set_title(f"entrada {n}x{n}" + (f" + padding {padding} = {side}x{side}" if padding else ""))
    ax_out.set_title(f"salida {out}x{out}")
    fig.suptitle(f"kernel {kernel_size}x{kernel_size}, padding {padding}, stride {stride}:  "
                 f"⌊({n} + 2·{padding} − {kernel_size}) / {stride}⌋ + 1 = {out}")
    note = "número: centro del kernel en cada posición · rojo: la primera · azul: la siguiente"
    if not bool(covered[padding:side - padding, padding:side - padding].all()):
        note += "\nrayado: píxeles que no toca ningún kernel"
    fig.supxlabel(note, fontsize=9)
    return fig


def plot_max_pool(grid, size=2):
    """Max pooling de ventana `size` x `size` y stride `size` sobre una matriz pequeña de números.

    Cada ventana tiene su color; su máximo va en negrita y es el valor que pasa a la salida.
    """
    grid = torch.as_tensor(grid).detach().cpu()
    if grid.ndim != 2 or grid.shape[0] < size or grid.shape[1] < size:
        raise ValueError(f"Se esperaba una matriz 2D de al menos {size}x{size}; forma recibida {tuple(grid.shape)}.")
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
    return fig


def plot_probability_table(probs, row_labels=None, title="Probabilidades"):
    """Mapa de calor de una matriz [imágenes, clases] con la suma de cada fila y de cada columna.

    Sirve para ver a lo largo de qué dimensión se normalizó un softmax: con dim=1 cada
    fila suma 1; con dim=0 es cada columna la que suma 1.
    """
    probs = torch.as_tensor(probs).detach().cpu().float()
    if probs.ndim != 2:
        raise ValueError(f"Se esperaba una matriz [imágenes, clases]; forma recibida {tuple(probs.shape)}.")
    n, classes = probs.shape
    fig = Figure(figsize=(0.62 * classes + 3.0, 0.45 * n + 1.9), layout="constrained")
    ax = fig.subplots()
    image = ax.imshow(_np(probs), cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(n):
        for j in range(classes):
            value = float(probs[i, j])
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8,
                    color="white" if value > 0.6 else "black")
        ax.text(classes - 0.2, i, f"{float(probs[i].sum()):.2f}", va="center", fontsize=9, color="tab:red")
    for j in range(classes):
        ax.text(j, n - 0.3, f"{float(probs[:, j].sum()):.2f}", ha="center", va="top", fontsize=9, color="tab:red")
    ax.text(classes - 0.2, -0.6, "suma de\nla fila", va="bottom", fontsize=9, color="tab:red")
    ax.text(-0.6, n - 0.3, "suma de la columna", ha="right", va="top", fontsize=9, color="tab:red")
    ax.set(title=title, xlabel="clase (dim=1)", ylabel="imagen del lote (dim=0)", xticks=range(classes),
           yticks=range(n))
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    if row_labels is not None:
        ax.set_yticklabels(row_labels)
    fig.colorbar(image, ax=ax, shrink=0.8, pad=0.12, label="probabilidad")
    return fig


def plot_resized(large, small, labels=None, title="Los mismos dígitos a dos tamaños"):
    """Las mismas imágenes a dos resoluciones (arriba `large`, abajo `small`), píxel a píxel.

    Sin suavizado al dibujar: cada cuadradito es un píxel de verdad, y se ve cuánto detalle
    se pierde al reducir de 28x28 a 16x16.
    """
    large, small = torch.as_tensor(large), torch.as_tensor(small)
    if len(large) != len(small) or len(large) == 0:
        raise ValueError(f"Se esperaban las mismas imágenes a dos tamaños; hay {len(large)} y {len(small)}.")
    n = len(large)
    fig = Figure(figsize=(1.5 * n + 0.6, 3.7), layout="constrained")
    axes = fig.subplots(2, n, squeeze=False)
    for row, images in enumerate((large, small)):
        side = images.shape[-1]
        for k, ax in enumerate(axes[row]):
            ax.imshow(_np(_pixels(images[k])), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0 and labels is not None:
                ax.set_title(f"dígito {int(labels[k])}", fontsize=9)
        axes[row, 0].set_ylabel(f"{side}x{side}\n({side * side} píxeles)", fontsize=9)
    fig.suptitle(title)
    return fig


def plot_batch_losses(losses, window=20, title="Pérdida de cada lote durante una época"):
    """La pérdida de cada lote (gris) y su media móvil de `window` lotes (azul): la curva que baja."""
    losses = torch.as_tensor(losses, dtype=torch.float64).flatten()
    if len(losses) == 0:
        raise ValueError("No hay pérdidas que dibujar: entrena al menos un lote.")
    window = max(1, min(window, len(losses)))
    smooth = losses.unfold(0, window, 1).mean(dim=1)  # media de cada tramo de `window` lotes seguidos
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    steps = torch.arange(1, len(losses) + 1)
    ax.plot(_np(steps), _np(losses), color="0.7", lw=0.8, label="cada lote")
    ax.plot(_np(steps[window - 1:]), _np(smooth), color="tab:blue", lw=2, label=f"media de {window} lotes")
    ax.set(title=title, xlabel="paso (lote)", ylabel="entropía cruzada")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def plot_kernel_responses(weight, maps, image=None, cols=8, limits=None):
    """Cada kernel de la primera capa (3x3) encima de su respuesta sobre una imagen.

    `weight` son los pesos [C, 1, k, k] y `maps` la salida de la convolución [C, H, W]
    (antes de ReLU, con signo). Rojo: el trozo de imagen se parece al kernel; azul: a su
    opuesto; blanco: nada que ver. Todas las respuestas comparten escala: se comparan entre sí.
    `limits` = (límite de los pesos, límite de las respuestas) fija la escala de color, para
    comparar dos figuras (p. ej. antes y después de entrenar) con los mismos colores.
    """
    weight = _kernels(weight)
    maps = torch.as_tensor(maps).detach().cpu()
    if maps.ndim == 4:
        maps = maps[0]
    if weight.shape[1] != 1 or maps.ndim != 3 or len(maps) != len(weight):
        raise ValueError(f"Se esperaban pesos [C, 1, k, k] y mapas [C, alto, ancho] con el mismo C; "
                         f"formas recibidas {tuple(weight.shape)} y {tuple(maps.shape)}.")
    n = len(weight)
    cols = min(cols, n)
    bands = math.ceil(n / cols)
    extra = image is not None
    fig = Figure(figsize=(1.3 * (cols + extra), 2.5 * bands + 0.6), layout="constrained")
    axes = fig.subplots(2 * bands, cols + extra, squeeze=False, height_ratios=[1, 2] * bands)
    for ax in axes.flatten():
        ax.axis("off")
    w_limit, m_limit = limits or (float(weight.abs().max()) or 1.0, float(maps.abs().max()) or 1.0)
    for c in range(n):
        band, col = divmod(c, cols)
        ax_k, ax_m = axes[2 * band, col + extra], axes[2 * band + 1, col + extra]
        ax_k.imshow(_np(weight[c, 0]), cmap=DIVERGING, vmin=-w_limit, vmax=w_limit)
        ax_k.set_title(f"kernel {c}", fontsize=9)
        ax_m.imshow(_np(maps[c]), cmap=DIVERGING, vmin=-m_limit, vmax=m_limit)
    if extra:
        axes[1, 0].imshow(_np(_pixels(image)), cmap="gray", vmin=0, vmax=1)
        axes[1, 0].set_title("entrada", fontsize=9)
    fig.suptitle("Cada kernel (arriba) y su respuesta sobre la imagen (abajo)\n"
                 "rojo: se parece al kernel · azul: al opuesto · blanco: nada")
    return fig


def plot_channel_stages(acts, channel, stages=("conv1", "relu1", "pool1"), image=None):
    """Un mismo canal a través de varias etapas (por defecto conv1 -> relu1 -> pool1).

    Todas con la misma escala de color: lo azul (negativo) de la convolución desaparece tras
    ReLU, y el pooling se queda con lo más rojo de cada ventana de 2x2 con la mitad de lado.
    `acts` es el diccionario que devuelve `activations`.
    """
    missing = [s for s in stages if s not in acts]
    if missing:
        raise ValueError(f"Faltan etapas en las activaciones: {missing}. Hay: {', '.join(acts)}.")
    maps = []
    for s in stages:
        m = torch.as_tensor(acts[s]).detach().cpu()
        m = m[0] if m.ndim == 4 else m
        if m.ndim != 3 or not 0 <= channel < len(m):
            raise ValueError(f"La etapa {s!r} tiene forma {tuple(m.shape)}: elige una convolucional y un canal "
                             f"entre 0 y {len(m) - 1 if m.ndim == 3 else 0}.")
        maps.append(m[channel])
    limit = max(float(m.abs().max()) for m in maps) or 1.0
    extra = image is not None
    fig = Figure(figsize=(2.6 * (len(stages) + extra) + 0.8, 3.0), layout="constrained")
    axes = fig.subplots(1, len(stages) + extra, squeeze=False)[0]
    if extra:
        axes[0].imshow(_np(_pixels(image)), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title("entrada")
    for ax, s, m in zip(axes[extra:], stages, maps):
        shown = ax.imshow(_np(m), cmap=DIVERGING, vmin=-limit, vmax=limit)
        ax.set_title(f"{s}: {m.shape[0]}x{m.shape[1]}\nmín {float(m.min()):.2f} · máx {float(m.max()):.2f}", fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(shown, ax=axes[extra:].tolist(), shrink=0.8, label="activación")
    fig.suptitle(f"Canal {channel} a través de {' → '.join(stages)}")
    return fig


def plot_confused_pairs(images, labels, predictions, probs, pairs, per_pair=6):
    """Ejemplos de los pares más confundidos: una fila por par (verdadero, predicho).

    `pairs` es la lista de `most_confused` (o pares sueltos (verdadero, predicho)). Encima de
    cada imagen, la probabilidad que dio la red al dígito predicho y al verdadero.
    """
    if not pairs:
        raise ValueError("No hay pares que mostrar: la red no confundió ningún dígito.")
    labels, predictions = torch.as_tensor(labels), torch.as_tensor(predictions)
    fig = Figure(figsize=(1.45 * per_pair + 1.2, 1.95 * len(pairs) + 0.4), layout="constrained")
    axes = fig.subplots(len(pairs), per_pair, squeeze=False)
    for row, pair in zip(axes, pairs):
        true, pred = int(pair[0]), int(pair[1])
        index = torch.nonzero((labels == true) & (predictions == pred)).flatten()[:per_pair]
        for ax in row:
            ax.set_xticks([])
            ax.set_yticks([])
            for side in ax.spines.values():
                side.set_visible(False)
        count = int(((labels == true) & (predictions == pred)).sum())
        row[0].set_ylabel(f"real {true} → pred {pred}\n({count} veces)", fontsize=9)
        for ax, i in zip(row, index.tolist()):
            ax.imshow(_np(_pixels(images[i])), cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"p({pred}) = {100 * float(probs[i][pred]):.0f} %\np({true}) = {100 * float(probs[i][true]):.0f} %",
                         fontsize=8)
    fig.suptitle("Pares más confundidos: probabilidad del dígito predicho y del verdadero")
    return fig


def plot_per_class_accuracy(accuracy, overall=None, title="Acierto por dígito (test)"):
    """Barras con el acierto de cada dígito (de `per_class_accuracy`), con su valor encima.

    El eje vertical no empieza en 0 para que se vean las diferencias (que son pequeñas):
    `overall` dibuja además el acierto global como una línea discontinua.
    """
    accuracy = 100 * torch.as_tensor(accuracy, dtype=torch.float64).detach().cpu().flatten()
    if len(accuracy) == 0:
        raise ValueError("No hay aciertos que dibujar: la lista está vacía.")
    fig = Figure(figsize=(7, 3.4), layout="constrained")
    ax = fig.subplots()
    worst = int(accuracy.argmin())
    colors = ["tab:red" if d == worst else "tab:blue" for d in range(len(accuracy))]
    bars = ax.bar(range(len(accuracy)), accuracy.tolist(), color=colors)
    ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    if overall is not None:
        ax.axhline(100 * float(overall), color="0.3", ls="--", lw=1, label=f"global: {100 * float(overall):.2f} %")
        ax.legend(loc="lower right")
    low = math.floor(float(accuracy.min()) - 1.5)
    ax.set(title=title, xlabel="dígito", ylabel="acierto (%)  [el eje no empieza en 0]", xticks=range(len(accuracy)),
           ylim=(max(0, low), 100.6))
    ax.grid(axis="y", alpha=0.3)
    return fig
