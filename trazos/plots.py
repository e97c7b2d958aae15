"""Figuras de los resultados de una red con matplotlib: cada función devuelve su `Figure`.

Curvas de entrenamiento (por época y por lote), matriz de confusión, acierto por dígito, los
pares más confundidos, galerías de dígitos y de predicciones, las probabilidades de una imagen.
Lo de dentro de la red (kernels, activaciones) está en `layer_plots` y se importa también de
aquí (`plots.plot_kernels`); los dibujos de las ideas (padding, pooling, softmax), en `diagrams`;
la disposición y los colores que comparten con los exploradores, en `render`; la `Figure` que
Jupyter muestra sola, en `figure`.
"""

import math
import textwrap

import torch

from . import render
from .alt_text import described
from .errors import TrazosValueError
from .figure import Figure, to_numpy
from .layer_plots import (kernel_mosaic, plot_activations, plot_channel_stages, plot_kernel_responses, plot_kernels,
                          plot_kernels_before_after)

__all__ = ["Figure", "plot_history", "kernel_mosaic", "plot_kernels", "plot_kernels_before_after", "plot_activations",
           "plot_confusion", "plot_predictions", "plot_digits", "plot_probabilities", "plot_batch_losses",
           "plot_kernel_responses", "plot_channel_stages",
           "plot_confused_pairs", "plot_per_class_accuracy"]


def _grid(n, max_cols=8):
    cols = min(n, max_cols)
    return math.ceil(n / cols), cols


def plot_history(history):
    """Curvas de pérdida y de acierto por época, en entrenamiento y en validación.

    El test no sale aquí: se mide una vez, al final (`Run.test_accuracy`); mirarlo en cada
    época para decidir sería ir aprendiendo del test.
    """
    if not history:
        raise TrazosValueError("El historial está vacío: entrena al menos una época.")
    epochs = [h["epoch"] for h in history]
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", label="entrenamiento")
    ax_loss.plot(epochs, [h["val_loss"] for h in history], "s--", label="validación")
    ax_loss.set(title="Pérdida", xlabel="época", ylabel="entropía cruzada")
    ax_acc.plot(epochs, [100 * h["train_acc"] for h in history], "o-", label="entrenamiento")
    ax_acc.plot(epochs, [100 * h["val_acc"] for h in history], "s--", label="validación")
    ax_acc.set(title="Acierto", xlabel="época", ylabel="acierto (%)")
    for ax in (ax_loss, ax_acc):
        ax.set_xticks(epochs)
        ax.grid(alpha=0.3)
        ax.legend()
    first, last = history[0], history[-1]
    return described(fig, f"Pérdida y acierto por época, en entrenamiento y en validación ({len(history)} épocas): la "
                          f"pérdida de validación pasa de {render.decimal(first['val_loss'])} a "
                          f"{render.decimal(last['val_loss'])} y su acierto de {render.percent(first['val_acc'])} a "
                          f"{render.percent(last['val_acc'])}.")


def plot_batch_losses(losses, window=20, title="Pérdida de cada lote durante una época"):
    """La pérdida de cada lote (gris) y su media móvil de `window` lotes (azul): la curva que baja."""
    losses = torch.as_tensor(losses, dtype=torch.float64).flatten()
    if len(losses) == 0:
        raise TrazosValueError("No hay pérdidas que dibujar: entrena al menos un lote.")
    window = max(1, min(window, len(losses)))
    smooth = losses.unfold(0, window, 1).mean(dim=1)  # media de cada tramo de `window` lotes seguidos
    fig = Figure(figsize=(7, 3.2), layout="constrained")
    ax = fig.subplots()
    steps = torch.arange(1, len(losses) + 1)
    ax.plot(to_numpy(steps), to_numpy(losses), color="0.7", lw=0.8, label="cada lote")
    ax.plot(to_numpy(steps[window - 1:]), to_numpy(smooth), color="tab:blue", lw=2, label=f"media de {window} lotes")
    ax.set(title=title, xlabel="paso (lote)", ylabel="entropía cruzada")
    ax.grid(alpha=0.3)
    ax.legend()
    return described(fig, f"{title}: {len(losses)} lotes; la media de {window} lotes baja de "
                          f"{render.decimal(smooth[0])} a {render.decimal(smooth[-1])}.")


def plot_confusion(matrix, title="Matriz de confusión (test)"):
    """Matriz de confusión con el número de ejemplos en cada celda."""
    matrix = torch.as_tensor(matrix)
    n = matrix.shape[0]
    fig = Figure(figsize=(6.2, 5.4), layout="constrained")
    ax = fig.subplots()
    # Escala logarítmica: si no, la diagonal (casi 1000) apaga los errores (unos pocos).
    image = ax.imshow(to_numpy(torch.log1p(matrix.float())), cmap="Blues")
    threshold = float(torch.log1p(matrix.float()).max()) / 2
    for t in range(n):
        for p in range(n):
            count = int(matrix[t, p])
            if count:
                ax.text(p, t, str(count), ha="center", va="center", fontsize=8,
                        color="white" if math.log1p(count) > threshold else "black")
    ax.set(title=title, xlabel="predicho", ylabel="verdadero", xticks=range(n), yticks=range(n))
    fig.colorbar(image, ax=ax, shrink=0.8, label="log(1 + ejemplos)")
    errors = matrix.clone()
    errors.fill_diagonal_(0)
    t, p = divmod(int(errors.argmax()), n)
    return described(fig, f"{title}, {n}x{n}: filas, el dígito verdadero; columnas, el predicho. "
                          f"{render.integer(matrix.trace())} de {render.integer(matrix.sum())} ejemplos en la "
                          f"diagonal; "
                          f"la confusión más frecuente, el {t} leído como {p} ({int(errors[t, p])} veces).")


def plot_digits(images, titles=None, title="", cols=8, colors=None):
    """Una galería de dígitos (normalizados como en load_mnist), con un título opcional en cada uno."""
    images = torch.as_tensor(images)
    if len(images) == 0:
        raise TrazosValueError("No hay imágenes que mostrar: la selección está vacía.")
    rows, cols = _grid(len(images), cols)
    fig = Figure(figsize=(1.45 * cols, 1.7 * rows + 0.4), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).flatten()
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < len(images):
            ax.imshow(to_numpy(render.digit_pixels(images[k])), cmap="gray", vmin=0, vmax=1)
            if titles:  # partido en líneas que caben en su columna: dos títulos largos no se montan
                lines = [part for line in str(titles[k]).split("\n") for part in textwrap.wrap(line, 18) or [""]]
                ax.set_title("\n".join(lines), fontsize=9, color=colors[k] if colors else "black")
    if title:
        fig.suptitle(title)
    shown = "; ".join(" ".join(str(t).split()) for t in titles[:len(images)]) if titles else ""
    return described(fig, f"{title or 'Dígitos'}: {len(images)} {'dígito' if len(images) == 1 else 'dígitos'}"
                          + (f", con sus títulos: {shown}." if shown else "."))


def plot_predictions(images, labels, predictions, probs, title=None, max_images=16):
    """Galería de predicciones: etiqueta verdadera, predicha y probabilidad de la predicha.

    Verde y ✓ si acierta, rojo y ✗ si falla: la marca distingue también sin ver los colores.
    """
    n = min(len(images), max_images)
    if n == 0:
        raise TrazosValueError("No hay predicciones que mostrar: la selección está vacía.")
    titles, colors = [], []
    for k in range(n):
        t, p = int(labels[k]), int(predictions[k])
        titles.append(f"{'✓' if t == p else '✗'} real {t} · pred {p}\n{render.percent(probs[k][p])}")
        colors.append(render.RIGHT if t == p else render.WRONG)
    if title is None:
        right = sum(c == render.RIGHT for c in colors)
        title = "Aciertos" if right == n else "Errores" if right == 0 else "Predicciones"
    return plot_digits(images[:n], titles, title, colors=colors)


def plot_probabilities(probs, label=None, title="Probabilidad de cada dígito"):
    """Una barra por dígito, del 0 (arriba) al 9, con su porcentaje: la predicha en azul y la
    verdadera (si se da `label`) en negrita. Es el mismo dibujo que las barras de los exploradores
    (`render.probability_bars`)."""
    probs = torch.as_tensor(probs).detach().cpu().float().flatten()
    fig = Figure(figsize=(4.2, 3.2), layout="constrained")
    ax = fig.subplots()
    bars = ax.barh(range(len(probs)), to_numpy(probs), color=render.bar_colors(probs), height=0.7)
    ax.bar_label(bars, labels=[render.percent(p) for p in probs.tolist()], fontsize=8, padding=3)
    ax.set(title=title, xlabel="probabilidad", ylabel="dígito", xlim=(0, 1.25), yticks=range(len(probs)))
    ax.invert_yaxis()  # el 0 arriba, como en los exploradores
    if label is not None:
        ax.get_yticklabels()[int(label)].set_fontweight("bold")
    best = int(probs.argmax())
    return described(fig, f"{title}: una barra por dígito, del 0 al {len(probs) - 1}; la red elige el {best} con "
                          f"{render.percent(probs[best])}" + (f"; el verdadero es el {int(label)}." if label is not None
                                                              else "."))


def plot_confused_pairs(images, labels, predictions, probs, pairs, per_pair=6):
    """Ejemplos de los pares más confundidos: una fila por par (verdadero, predicho).

    `pairs` es la lista de `most_confused` (o pares sueltos (verdadero, predicho)). Encima de
    cada imagen, la probabilidad que dio la red al dígito predicho y al verdadero.
    """
    if not pairs:
        raise TrazosValueError("No hay pares que mostrar: la red no confundió ningún dígito.")
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
        row[0].set_ylabel(f"real {true} → pred {pred}\n({count} {'vez' if count == 1 else 'veces'})", fontsize=9)
        for ax, i in zip(row, index.tolist()):
            ax.imshow(to_numpy(render.digit_pixels(images[i])), cmap="gray", vmin=0, vmax=1)
            ax.set_title(f"p({pred}) = {100 * float(probs[i][pred]):.0f} %\n"
                         f"p({true}) = {100 * float(probs[i][true]):.0f} %", fontsize=8)
    fig.suptitle("Pares más confundidos: probabilidad del dígito predicho y del verdadero")
    rows = "; ".join(f"el {int(t)} leído como {int(p)}" for t, p, *_ in pairs)
    return described(fig, f"Pares más confundidos, una fila de ejemplos por par: {rows}; encima de cada imagen, la "
                          f"probabilidad del dígito predicho y la del verdadero.")


def plot_per_class_accuracy(accuracy, overall=None, title="Acierto por dígito (test)"):
    """Barras con el acierto de cada dígito (de `per_class_accuracy`), con su valor encima.

    El eje vertical no empieza en 0 para que se vean las diferencias (que son pequeñas):
    `overall` dibuja además el acierto global como una línea discontinua.
    """
    accuracy = 100 * torch.as_tensor(accuracy, dtype=torch.float64).detach().cpu().flatten()
    if len(accuracy) == 0:
        raise TrazosValueError("No hay aciertos que dibujar: la lista está vacía.")
    fig = Figure(figsize=(7, 3.4), layout="constrained")
    ax = fig.subplots()
    worst = int(accuracy.argmin())
    colors = ["tab:red" if d == worst else "tab:blue" for d in range(len(accuracy))]  # y el valor encima
    bars = ax.bar(range(len(accuracy)), accuracy.tolist(), color=colors)
    ax.bar_label(bars, labels=[render.decimal(a, 1) for a in accuracy.tolist()], fontsize=8, padding=2)
    if overall is not None:
        ax.axhline(100 * float(overall), color="0.3", ls="--", lw=1, label=f"global: {render.percent(overall, 2)}")
        ax.legend(loc="lower right")
    low = math.floor(float(accuracy.min()) - 1.5)
    ax.set(title=title, xlabel="dígito", ylabel="acierto (%)  [el eje no empieza en 0]", xticks=range(len(accuracy)),
           ylim=(max(0, low), 100.6))
    ax.grid(axis="y", alpha=0.3)
    best = int(accuracy.argmax())
    return described(fig, f"{title}: una barra por dígito; el mejor, el {best} con "
                          f"{render.decimal(accuracy[best], 1)} %; el peor, en rojo, el {worst} con "
                          f"{render.decimal(accuracy[worst], 1)} %.")

