"""Figuras del curso con matplotlib: cada función devuelve su `Figure`.

Se crean con `matplotlib.figure.Figure` y no con `pyplot`: no quedan figuras abiertas
en memoria, funcionan sin pantalla (línea de órdenes) y en un cuaderno se muestran
al devolverlas en la última línea de la celda.
"""

import math

import torch
from matplotlib.figure import Figure

from .data import MEAN, STD

__all__ = ["plot_history", "kernel_mosaic", "plot_kernels", "plot_kernels_before_after", "plot_activations",
           "plot_confusion", "plot_predictions", "plot_digits", "plot_probabilities"]

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
    image = ax.imshow(mosaic, cmap=DIVERGING, vmin=-limit, vmax=limit)
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
        axes[0].imshow(_pixels(image), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title("entrada", fontsize=9)
    for c, (ax, m) in enumerate(zip(axes[extra:], maps)):
        ax.imshow(m, cmap="viridis")
        ax.set_title(f"canal {c}", fontsize=9)
    h, w = maps.shape[1:]
    fig.suptitle(f"Activaciones de {stage}: {len(maps)} mapas de {h}x{w}" if stage else f"{len(maps)} mapas de {h}x{w}")
    return fig


def _pixels(image):
    """Imagen normalizada (como sale de load_mnist) de vuelta a [0, 1] para dibujarla."""
    image = torch.as_tensor(image).detach().cpu().float().squeeze()
    if image.ndim != 2:
        raise ValueError(f"Se esperaba una imagen 2D; forma recibida {tuple(image.shape)}.")
    return (image * STD + MEAN).clamp(0, 1)


def plot_confusion(matrix, title="Matriz de confusión (test)"):
    """Matriz de confusión con el número de ejemplos en cada celda."""
    matrix = torch.as_tensor(matrix)
    n = matrix.shape[0]
    fig = Figure(figsize=(6.2, 5.4), layout="constrained")
    ax = fig.subplots()
    # Escala logarítmica: si no, la diagonal (casi 1000) apaga los errores (unos pocos).
    image = ax.imshow(torch.log1p(matrix.float()), cmap="Blues")
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
            ax.imshow(_pixels(images[k]), cmap="gray", vmin=0, vmax=1)
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
    bars = ax.bar(range(len(probs)), probs, color="tab:gray")
    bars[int(probs.argmax())].set_color("tab:blue")
    ax.set(title=title, xlabel="dígito", ylabel="probabilidad", ylim=(0, 1), xticks=range(len(probs)))
    return fig
