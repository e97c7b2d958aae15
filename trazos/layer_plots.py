"""Las figuras de lo que hay dentro de una red: los kernels de una capa y sus activaciones.

Los kernels (rojo positivo, azul negativo), antes y después de entrenar y su diferencia; los
mapas de activación de un paso; cada kernel de la primera capa sobre su respuesta a una imagen;
un canal a través de convolución, ReLU y pooling. La disposición y la regla de color son las
de `render`, las mismas que los exploradores de kernels y de activaciones. `plots` reexporta
estas funciones: se importan de los dos sitios.
"""

import math

import torch

from . import render
from .alt_text import described
from .errors import TrazosValueError
from .figure import Figure, to_numpy

__all__ = ["kernel_mosaic", "plot_kernels", "plot_kernels_before_after", "plot_activations", "plot_kernel_responses",
           "plot_channel_stages"]


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
    image = ax.imshow(to_numpy(kernel_mosaic(weight, filter)), cmap=render.DIVERGING, vmin=-limit, vmax=limit)
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
        axes[0].imshow(to_numpy(render.digit_pixels(image)), cmap="gray", vmin=0, vmax=1)
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
        ax_k.imshow(to_numpy(weight[c, 0]), cmap=render.DIVERGING, vmin=-w_limit, vmax=w_limit)
        ax_k.set_title(f"kernel {c}", fontsize=9)
        ax_m.imshow(to_numpy(maps[c]), cmap=render.DIVERGING, vmin=-m_limit, vmax=m_limit)
    if extra:
        axes[1, 0].imshow(to_numpy(render.digit_pixels(image)), cmap="gray", vmin=0, vmax=1)
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
        axes[0].imshow(to_numpy(render.digit_pixels(image)), cmap="gray", vmin=0, vmax=1)
        axes[0].set_title("entrada")
    for ax, s, m in zip(axes[extra:], stages, maps):
        shown = ax.imshow(to_numpy(m), cmap=render.DIVERGING, vmin=-limit, vmax=limit)
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
