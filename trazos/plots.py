"""Figuras de una red y de sus resultados con matplotlib: cada función devuelve su `Figure`.

Curvas de entrenamiento, kernels, activaciones, matriz de confusión, predicciones. Los
dibujos de las ideas (padding, pooling, softmax) están en `diagrams`; la disposición y los
colores que comparten con los exploradores, en `render`.

Se crean con `matplotlib.figure.Figure` y no con `pyplot`: no quedan figuras abiertas
en memoria, funcionan sin pantalla (línea de órdenes) y en un cuaderno se muestran
al devolverlas en la última línea de la celda.
"""

import io
import math
import textwrap

import matplotlib.figure
import numpy as np
import torch

from . import alt_text, render
from .alt_text import described
from .errors import TrazosValueError


class Figure(matplotlib.figure.Figure):
    """Una `Figure` de matplotlib que Jupyter sabe mostrar por sí sola.

    Sin `pyplot` nadie registra cómo dibujar una figura en el cuaderno; `_repr_png_` lo
    resuelve: basta con que la figura sea la última expresión de la celda.
    """

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


__all__ = ["Figure", "plot_history", "kernel_mosaic", "plot_kernels", "plot_kernels_before_after", "plot_activations",
           "plot_confusion", "plot_predictions", "plot_digits", "plot_probabilities", "plot_batch_losses",
           "plot_kernel_responses", "plot_channel_stages",
           "plot_confused_pairs", "plot_per_class_accuracy"]

def _np(x):
    """Tensor (o lo que sea) -> array de NumPy: matplotlib dibuja arrays, no tensores."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


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


def _kernels(weight):
    """Pesos de una Conv2d como tensor [O, I, k, k] (con los errores en español de `render`)."""
    return torch.from_numpy(render._weights(weight))


def kernel_mosaic(weight, filter=None, gap=1):
    """Los kernels de una capa en una sola imagen (tensor 2D, huecos NaN que se ven en blanco),
    con la disposición de `render.kernel_tiles`: la misma que el explorador de kernels."""
    return torch.from_numpy(render.kernel_grid(weight, filter, gap))


def _layout_note(weight, filter):
    out_ch, in_ch = weight.shape[:2]
    if in_ch == 1:
        return f"un kernel por filtro ({out_ch} filtros)"
    if filter is not None:
        return f"los {in_ch} kernels del filtro {filter}, uno por canal de entrada"
    return "filas: filtro de salida · columnas: canal de entrada"


def _draw_kernels(ax, weight, title, limit, filter=None):
    image = ax.imshow(_np(kernel_mosaic(weight, filter)), cmap=render.DIVERGING, vmin=-limit, vmax=limit)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    return image


def plot_kernels(weight, title="Kernels", filter=None):
    """Los kernels de una capa convolucional (rojo positivo, azul negativo).

    En una capa con varios canales de entrada, `filter` enseña solo los de ese filtro.
    """
    weight = _kernels(weight)
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.subplots()
    image = _draw_kernels(ax, weight, title, float(weight.abs().max()) or 1.0, filter)
    fig.colorbar(image, ax=ax, shrink=0.7, label="peso")
    fig.supxlabel(_layout_note(weight, filter), fontsize=9)
    return described(fig, f"{title}: {_layout_note(weight, filter)}, de {weight.shape[-1]}x{weight.shape[-1]}; "
                          f"rojo, peso positivo; azul, negativo; blanco, cero.")


def plot_kernels_before_after(before, after, layer="conv1", filter=None, names=("antes", "después")):
    """Kernels de una capa antes y después de entrenar, y su diferencia (después - antes).

    `names` cambia lo que se compara: ("tu red", "la referencia") pone dos redes entrenadas lado a
    lado, con su diferencia (la referencia - tu red).

    Cada panel tiene su escala (la regla de `render.kernel_limits`, la misma del explorador):
    los pesos iniciales son pequeños y a la escala de los entrenados casi no se verían.
    El límite es el percentil 99 de |peso|: el 1 % más extremo se satura.
    En conv2 (32 filtros x 16 canales), `filter` enseña solo los 16 kernels de un filtro.
    """
    before, after = _kernels(before), _kernels(after)
    if before.shape != after.shape:
        raise TrazosValueError(f"Las formas no coinciden: antes {tuple(before.shape)}, después {tuple(after.shape)}.")
    tall = before.shape[1] > 1 and filter is None
    fig = Figure(figsize=(12, 8 if tall else 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    limits = render.kernel_limits(torch.stack([before, after]).numpy())
    first, second = names
    trained = tuple(names) == ("antes", "después")
    if not trained:  # dos redes ya entrenadas: la misma escala en las dos, para que se puedan comparar
        limits["antes"] = limits["después"] = max(limits["antes"], limits["después"])
    panels = [(before, f"{layer}: {first} de entrenar" if trained else f"{layer}: {first}", "antes", "peso"),
              (after, f"{layer}: {second} de entrenar" if trained else f"{layer}: {second}", "después", "peso"),
              (after - before, f"diferencia ({second} - {first})", "diferencia", "cambio")]
    for ax, (weight, title, view, label) in zip(axes, panels):
        image = _draw_kernels(ax, weight, title, limits[view], filter)
        fig.colorbar(image, ax=ax, shrink=0.6, label=f"{label} (±{render.decimal(limits[view])})",
                     location="bottom", extend="both")
    fig.supxlabel(_layout_note(before, filter) + " · cada panel con su escala de color (el 1 % más extremo se satura)",
                  fontsize=9)
    k = before.shape[-1]
    return described(fig, f"Kernels de {layer} antes y después de entrenar y su diferencia, en tres paneles: "
                          f"{_layout_note(before, filter)}, de {k}x{k}; rojo, positivo; azul, negativo.")


def plot_activations(maps, stage="", image=None, max_maps=32):
    """Mapas de activación de un paso para una imagen: `maps` es [C, H, W] (o [1, C, H, W]); un
    vector ([F], la salida de flatten o de una lineal) se dibuja como una tira de casillas.

    La misma disposición y la misma regla de color que el explorador de activaciones
    (`render.maps_grid`): 8 mapas por fila y una sola escala para todos, para ver qué
    canales responden más. Si se da `image`, la entrada va a la izquierda.
    """
    maps = torch.as_tensor(maps).detach().cpu()
    if maps.ndim in (2, 4) and len(maps) == 1:  # con el lote de una imagen, como sale de `activations`
        maps = maps[0]
    if maps.ndim not in (1, 3) or maps.numel() == 0:
        raise TrazosValueError("Se esperaban mapas [canales, alto, ancho] o un vector; "
                               f"forma recibida {tuple(maps.shape)}.")
    maps = maps[:max_maps] if maps.ndim == 3 else maps
    grid, (low, high) = render.maps_grid(maps)
    tiles, description = render.map_tiles(maps)
    extra = image is not None
    rows, cols = grid.shape
    width = 9 if maps.ndim == 3 else 7
    fig = Figure(figsize=(width + 2 * extra, max(2.2, width * rows / cols + 0.9)), layout="constrained")
    axes = fig.subplots(1, 1 + extra, width_ratios=[1, 4][-1 - extra:] if extra else None, squeeze=False)[0]
    if extra:
        axes[0].imshow(_np(render.digit_pixels(image)), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title("entrada", fontsize=9)
        axes[0].axis("off")
    ax = axes[-1]
    shown = ax.imshow(grid, cmap=render.SEQUENTIAL, vmin=low, vmax=high, interpolation="nearest")
    ax.axis("off")
    if maps.ndim == 3:
        h, w = tiles.shape[1:]
        for c in range(len(tiles)):  # el número de canal en la esquina de cada mapa
            ax.text((c % render.MAP_COLUMNS) * (w + 1) - 0.4, (c // render.MAP_COLUMNS) * (h + 1) - 0.4, str(c),
                    fontsize=7, color="white", va="top", ha="left")
    fig.colorbar(shown, ax=ax, shrink=0.8, label="activación (misma escala para todos)")
    fig.suptitle(f"Activaciones de {stage}: {description}" if stage else description)
    strongest = int(tiles.reshape(len(tiles), -1).max(axis=1).argmax()) if maps.ndim == 3 else None
    return described(fig, (f"Activaciones de {stage}: " if stage else "Activaciones: ") + description
                     + (", con la imagen de entrada a la izquierda" if extra else "")
                     + "; oscuro, poco; amarillo, mucho"
                     + (f"; el canal que más se enciende es el {strongest}." if strongest is not None else "."))


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
            ax.imshow(_np(render.digit_pixels(images[k])), cmap="gray", vmin=0, vmax=1)
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
    bars = ax.barh(range(len(probs)), _np(probs), color=render.bar_colors(probs), height=0.7)
    ax.bar_label(bars, labels=[render.percent(p) for p in probs.tolist()], fontsize=8, padding=3)
    ax.set(title=title, xlabel="probabilidad", ylabel="dígito", xlim=(0, 1.25), yticks=range(len(probs)))
    ax.invert_yaxis()  # el 0 arriba, como en los exploradores
    if label is not None:
        ax.get_yticklabels()[int(label)].set_fontweight("bold")
    best = int(probs.argmax())
    return described(fig, f"{title}: una barra por dígito, del 0 al {len(probs) - 1}; la red elige el {best} con "
                          f"{render.percent(probs[best])}" + (f"; el verdadero es el {int(label)}." if label is not None
                                                              else "."))


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
    ax.plot(_np(steps), _np(losses), color="0.7", lw=0.8, label="cada lote")
    ax.plot(_np(steps[window - 1:]), _np(smooth), color="tab:blue", lw=2, label=f"media de {window} lotes")
    ax.set(title=title, xlabel="paso (lote)", ylabel="entropía cruzada")
    ax.grid(alpha=0.3)
    ax.legend()
    return described(fig, f"{title}: {len(losses)} lotes; la media de {window} lotes baja de "
                          f"{render.decimal(smooth[0])} a {render.decimal(smooth[-1])}.")


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
        raise TrazosValueError(f"Se esperaban pesos [C, 1, k, k] y mapas [C, alto, ancho] con el mismo C; "
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
        ax_k.imshow(_np(weight[c, 0]), cmap=render.DIVERGING, vmin=-w_limit, vmax=w_limit)
        ax_k.set_title(f"kernel {c}", fontsize=9)
        ax_m.imshow(_np(maps[c]), cmap=render.DIVERGING, vmin=-m_limit, vmax=m_limit)
    if extra:
        axes[1, 0].imshow(_np(render.digit_pixels(image)), cmap="gray", vmin=0, vmax=1)
        axes[1, 0].set_title("entrada", fontsize=9)
    fig.suptitle("Cada kernel (arriba) y su respuesta sobre la imagen (abajo)\n"
                 "rojo: se parece al kernel · azul: al opuesto · blanco: nada")
    k, strongest = weight.shape[-1], int(maps.flatten(1).amax(dim=1).argmax())
    return described(fig, f"Los {n} kernels de {k}x{k} de la primera capa, cada uno encima de su respuesta sobre la "
                          f"imagen{' (la entrada, a la izquierda)' if extra else ''}: rojo donde el trozo de imagen se "
                          f"parece al kernel, azul donde se parece a su opuesto; la respuesta más alta es la del "
                          f"kernel {strongest} ({render.decimal(maps[strongest].max())}).")


def plot_channel_stages(acts, channel, stages=("conv1", "relu1", "pool1"), image=None):
    """Un mismo canal a través de varias etapas (por defecto conv1 -> relu1 -> pool1).

    Todas con la misma escala de color: lo azul (negativo) de la convolución desaparece tras
    ReLU, y el pooling se queda con lo más rojo de cada ventana de 2x2 con la mitad de lado.
    `acts` es el diccionario que devuelve `activations`.
    """
    missing = [s for s in stages if s not in acts]
    if missing:
        raise TrazosValueError(f"Faltan etapas en las activaciones: {missing}. Hay: {', '.join(acts)}.")
    maps = []
    for s in stages:
        m = torch.as_tensor(acts[s]).detach().cpu()
        m = m[0] if m.ndim == 4 else m
        if m.ndim != 3 or not 0 <= channel < len(m):
            raise TrazosValueError(f"La etapa {s!r} tiene forma {tuple(m.shape)}: elige una convolucional y un canal "
                             f"entre 0 y {len(m) - 1 if m.ndim == 3 else 0}.")
        maps.append(m[channel])
    limit = max(float(m.abs().max()) for m in maps) or 1.0
    extra = image is not None
    fig = Figure(figsize=(2.6 * (len(stages) + extra) + 0.8, 3.0), layout="constrained")
    axes = fig.subplots(1, len(stages) + extra, squeeze=False)[0]
    if extra:
        axes[0].imshow(_np(render.digit_pixels(image)), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title("entrada")
    for ax, s, m in zip(axes[extra:], stages, maps):
        shown = ax.imshow(_np(m), cmap=render.DIVERGING, vmin=-limit, vmax=limit)
        ax.set_title(f"{s}: {m.shape[0]}x{m.shape[1]}\nmín {render.decimal(m.min())} · máx {render.decimal(m.max())}",
                     fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(shown, ax=axes[extra:].tolist(), shrink=0.8, label="activación")
    fig.suptitle(f"Canal {channel} a través de {' → '.join(stages)}")
    sizes = ", ".join(f"{s} de {m.shape[0]}x{m.shape[1]} (máx. {render.decimal(m.max())})"
                      for s, m in zip(stages, maps))
    return described(fig, f"El canal {channel} a través de {' → '.join(stages)}, con la misma escala de color: "
                          f"{sizes}.")


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
            ax.imshow(_np(render.digit_pixels(images[i])), cmap="gray", vmin=0, vmax=1)
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


alt_text.register()  # en un cuaderno: IPython guarda este texto junto al PNG de cada figura
