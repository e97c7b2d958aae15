"""De números a imágenes: la disposición y los colores de cada dibujo del curso, en un solo sitio.

Una idea, un dibujo: la rejilla de kernels, el mosaico de activaciones, las barras de
probabilidad y la posición del kernel sobre la entrada se colocan y se colorean aquí.
Las figuras de matplotlib (`plots`, `diagrams`) y los exploradores (`widgets`) usan estas
mismas funciones, así que un estudiante ve la misma disposición en los dos.

Para la pantalla los exploradores no crean figuras de matplotlib: componen un mosaico en
NumPy, lo colorean con una tabla de 256 colores y lo codifican en PNG con PIL, en pocos
milisegundos; esas piezas y los colores del curso están en `pixels` (y se usan también como
`render.colorize`, `render.DIVERGING`...). Cada imagen de PIL lleva en `info["alt"]` lo que enseña (`trazos.alt_text`).
Este módulo no importa ipywidgets.
"""

import base64
import math

import numpy as np
import torch
from PIL import Image

from .data import to_pixels
from .shapes import conv_output_size
from .errors import TrazosValueError
from .numbers import decimal, integer, percent  # aquí se usan como render.decimal, ...
# Los colores y las piezas con que se pinta (trazos.pixels); aquí también, como render.colorize, ...
from .pixels import (CENTER, DIVERGING, FIRST, HIGHLIGHT, NEXT, OTHER, PADDING, PREDICTED, RIGHT, SEQUENTIAL, UNSEEN,
                     WRONG, colorize, frame, hex_color, lut, mosaic, to_png)

__all__ = ["DIVERGING", "SEQUENTIAL", "PREDICTED", "OTHER", "RIGHT", "WRONG", "MAP_COLUMNS", "decimal", "integer",
           "percent", "hex_color",
           "lut", "colorize", "mosaic", "frame", "to_png", "digit_pixels", "digit_picture",
           "kernel_tiles", "kernel_limits", "kernel_changes", "kernel_grid", "kernel_picture",
           "map_tiles", "maps_grid", "maps_picture", "describe_stage", "bar_colors", "probability_bars",
           "conv_layout", "kernel_placement", "gallery_html"]

MAP_COLUMNS = 8  # mapas de activación por fila, en la figura y en el explorador


# ---------------------------------------------------------------------------------------------
# Un dígito: sus píxeles, para dibujarlo.

def digit_pixels(image):
    """Imagen normalizada (como sale de load_mnist) -> tensor 2D de píxeles en [0, 1], para dibujarla."""
    pixels = to_pixels(image).squeeze()
    if pixels.ndim != 2:
        raise TrazosValueError(f"Se esperaba una imagen 2D; forma recibida {tuple(pixels.shape)}.")
    return pixels


def digit_picture(image, scale=8):
    """Imagen normalizada (como en load_mnist) -> PIL en grises, agrandada sin suavizar."""
    gray = (digit_pixels(image).numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(gray.repeat(scale, 0).repeat(scale, 1))


# ---------------------------------------------------------------------------------------------
# Kernels: una rejilla y una regla de color para la figura y el explorador.

def _weights(weight):
    if isinstance(weight, dict):
        raise TrazosValueError("Pasa el tensor de pesos de una capa (p. ej. model.conv1.weight), "
                               "no un state_dict entero.")
    weight = np.asarray(weight.detach().cpu() if isinstance(weight, torch.Tensor) else weight, dtype=np.float32)
    if weight.ndim != 4:
        raise TrazosValueError("Se esperaban pesos de una Conv2d [salida, entrada, k, k]; "
                               f"forma recibida {weight.shape}.")
    return weight


def kernel_tiles(weight, filter=None):
    """La disposición de los kernels de una capa: (tiles [N, k, k], columnas, {(filtro, canal): tile}).

    - Un canal de entrada (conv1): un kernel por filtro, en una rejilla casi cuadrada.
    - Varios canales y `filter` elegido: los kernels de ese filtro, uno por canal de entrada,
      también en rejilla casi cuadrada (los 16 de un filtro de conv2 en 4x4).
    - Varios canales y `filter=None`: la rejilla entera, una fila por filtro de salida y una
      columna por canal de entrada.
    """
    weight = _weights(weight)
    out_ch, in_ch = weight.shape[:2]
    if in_ch == 1:
        return weight[:, 0], math.ceil(math.sqrt(out_ch)), {(o, 0): o for o in range(out_ch)}
    if filter is not None:
        if filter not in range(out_ch):
            raise TrazosValueError(f"filter debe ser un filtro entre 0 y {out_ch - 1} (o None para todos); "
                             f"se recibió {filter!r}.")
        return weight[filter], math.ceil(math.sqrt(in_ch)), {(filter, i): i for i in range(in_ch)}
    return weight.reshape(out_ch * in_ch, *weight.shape[2:]), in_ch, \
        {(o, i): o * in_ch + i for o in range(out_ch) for i in range(in_ch)}


def kernel_limits(weights):
    """La regla de color de los kernels: escala simétrica (±límite) de cada vista.

    `weights` es [épocas + 1, O, I, k, k]. "antes" se ve a la escala de los pesos iniciales
    (si no, al lado de los entrenados, que crecen, casi no se vería); "después", a la de los
    pesos de todas las épocas (no salta al mover la época); "diferencia", a la de los cambios.
    El límite es el percentil 99 de |peso|, no el máximo: unos pocos pesos muy grandes
    dejarían todos los demás casi en blanco. El 1 % más extremo se satura.
    """
    weights = np.asarray(weights, dtype=np.float32)
    trained = weights[1:] if len(weights) > 1 else weights

    def limit(values):
        return float(np.percentile(np.abs(values), 99)) or 1.0

    return {"antes": limit(weights[0]), "después": limit(trained), "diferencia": limit(trained - weights[:1])}


def kernel_changes(weights, epoch):
    """Cuánto cambió cada kernel (norma de época `epoch` - época 0): array [O, I]."""
    weights = np.asarray(weights, dtype=np.float32)
    return np.sqrt(((weights[epoch] - weights[0]) ** 2).sum(axis=(2, 3)))


def kernel_grid(weight, filter=None, gap=1):
    """Los kernels de una capa en un array 2D con huecos NaN, con la disposición de `kernel_tiles`.

    Es lo que dibuja la figura (matplotlib pinta los NaN en blanco); el explorador colorea
    los mismos tiles en la misma rejilla.
    """
    tiles, cols, _ = kernel_tiles(weight, filter)
    return mosaic(tiles, cols=cols, gap=gap, fill=np.nan, border=False)


VIEWS = ("antes", "después", "diferencia")


def kernel_picture(weights, view="después", epoch=-1, filter=None, highlight=4, limits=None, width=880,
                   height=720):
    """Mosaico de los kernels de una capa (rojo positivo, azul negativo) como imagen PIL.

    `weights` es [épocas + 1, O, I, k, k] (un checkpoint por época; 0 = antes de entrenar).
    view: "antes" (época 0), "después" (época `epoch`) o "diferencia" (época `epoch` - época 0).
    `filter` elige un filtro de una capa con varios canales (ver `kernel_tiles`). Los
    `highlight` kernels que más cambiaron quedan enmarcados en verde. `limits` es la regla de
    `kernel_limits` (se calcula si no se da).
    """
    if view not in VIEWS:
        raise TrazosValueError(f"Vista desconocida: {view!r}. Vistas válidas: {', '.join(VIEWS)}.")
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 5:
        raise TrazosValueError(f"Se esperaban pesos [épocas + 1, salida, entrada, k, k]; forma {weights.shape}.")
    if not -len(weights) <= epoch < len(weights):
        raise TrazosValueError(f"epoch debe estar entre 0 y {len(weights) - 1}.")
    epoch = range(len(weights))[epoch]
    limits = limits or kernel_limits(weights)
    shown = {"antes": weights[0], "después": weights[epoch], "diferencia": weights[epoch] - weights[0]}[view]
    tiles, cols, where = kernel_tiles(shown, filter)
    rows = math.ceil(len(tiles) / cols)
    k, gap = tiles.shape[-1], 4
    scale = int(max(2, min(20, (width / cols - gap) // k, (height / rows - gap) // k)))
    rgb = mosaic(colorize(tiles, DIVERGING, -limits[view], limits[view]), cols=cols, scale=scale, gap=gap)
    change = kernel_changes(weights, epoch)
    if highlight and change.max() > 0:
        shown_kernels = np.zeros_like(change, dtype=bool)
        for o, i in where:
            shown_kernels[o, i] = True
        ranked = [np.unravel_index(f, change.shape) for f in np.argsort(change, axis=None)[::-1]]
        for o, i in [(int(o), int(i)) for o, i in ranked if shown_kernels[o, i]][:highlight]:
            row, col = divmod(where[(o, i)], cols)
            step = k * scale + gap
            frame(rgb, gap + row * step, gap + col * step, k * scale, k * scale, HIGHLIGHT)
    picture = Image.fromarray(rgb)
    framed = f"; los {highlight} que más cambiaron, enmarcados en verde" if highlight and change.max() > 0 else ""
    picture.info["alt"] = (f"Mosaico de {len(tiles)} kernels de {k}x{k}, vista «{view}» en la época {epoch} "
                           f"(±{decimal(limits[view])}): rojo, positivo; azul, negativo{framed}.")
    return picture


# ---------------------------------------------------------------------------------------------
# Activaciones: un mosaico de mapas con una sola escala de color para todos.

def map_tiles(output):
    """Salida de un paso (sin el lote) -> (tiles [N, h, w], descripción).

    Un mapa por canal si la salida es [C, H, W]; un vector (flatten, fc, probabilidades) se
    dibuja como una tira de casillas en filas de 32, porque no tiene mapas 2D.
    """
    output = torch.as_tensor(output).detach().cpu().float()
    if output.ndim == 3:
        c, h, w = output.shape
        return output.numpy(), f"{c} mapas de {h}x{w}"
    vector = output.flatten().numpy()
    if vector.size == 0:
        raise TrazosValueError(f"La salida está vacía (forma {tuple(output.shape)}): no hay nada que dibujar.")
    cols = min(32, len(vector))
    rows = math.ceil(len(vector) / cols)
    bar = np.full(rows * cols, np.nan, dtype=np.float32)
    bar[:len(vector)] = vector
    return bar.reshape(1, rows, cols), f"un vector de {len(vector)} valores (sin mapas 2D)"


def _map_limits(tiles):
    finite = tiles[np.isfinite(tiles)]
    return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)


def maps_grid(output, cols=MAP_COLUMNS, gap=1):
    """Los mapas de un paso en un array 2D con huecos NaN y su escala común (mín, máx).

    Es la misma disposición que `maps_picture`: canal c en la fila c // cols, columna c % cols.
    """
    tiles, _ = map_tiles(output)
    return mosaic(tiles, cols=cols, gap=gap, fill=np.nan, border=False), _map_limits(tiles)


def maps_picture(output, cell=72, cols=MAP_COLUMNS, cmap=SEQUENTIAL):
    """Mosaico de los mapas de un paso ([C, H, W]) o de un vector ([F]) como imagen PIL.

    Todos los mapas comparten la escala de color (oscuro = bajo, amarillo = alto): así se ve
    qué canales responden más a la imagen. Cada mapa mide unos `cell` píxeles de lado.
    """
    tiles, describe = map_tiles(output)
    if torch.as_tensor(output).ndim == 3:  # mapas: cada uno de unos `cell` píxeles de lado
        scale = max(1, round(cell / max(tiles.shape[1], tiles.shape[2])))
    else:  # un vector: la tira ocupa el ancho de `cols` mapas, con casillas de al menos 4 píxeles
        scale = max(4, round(cols * cell / tiles.shape[2]))
    picture = Image.fromarray(mosaic(colorize(tiles, cmap, *_map_limits(tiles)), cols=cols, scale=scale))
    strongest = int(np.nanmax(tiles.reshape(len(tiles), -1), axis=1).argmax())
    # Los valores de la imagen en el texto: dos mosaicos de la misma forma (conv1 y relu1, o dos dígitos)
    # no pueden decir lo mismo, y quien no ve la imagen sabe qué escala tiene.
    low, high = float(np.nanmin(tiles)), float(np.nanmax(tiles))
    picture.info["alt"] = (f"Mosaico de {describe}, con una sola escala de color (oscuro, poco; amarillo, mucho), "
                           f"de {decimal(low)} a {decimal(high)}"
                           + (f"; el que más se enciende es el {strongest}." if len(tiles) > 1 else "."))
    return picture


def describe_stage(stage, output):
    """Texto corto: qué forma tiene la salida del paso."""
    return f"{stage}: {map_tiles(output)[1]}"


# ---------------------------------------------------------------------------------------------
# Probabilidades: una barra por dígito, del 0 (arriba) al 9, la predicha en azul.

def bar_colors(probs):
    """El color de cada barra: `PREDICTED` la más probable, `OTHER` las demás."""
    probs = torch.as_tensor(probs).detach().cpu().float().flatten()
    best = int(probs.argmax())
    return [PREDICTED if k == best else OTHER for k in range(len(probs))]


def probability_bars(probs, label=None):
    """HTML con una barra por clase; la predicha en azul y la verdadera (si se da) en negrita."""
    probs = torch.as_tensor(probs).detach().cpu().float().flatten()
    rows = []
    for k, (p, color) in enumerate(zip(probs.tolist(), bar_colors(probs))):
        weight = "bold" if label is not None and k == int(label) else "normal"
        rows.append(f"<div class='barra' style='display:flex;align-items:center;gap:6px;height:17px'>"
                    f"<span style='width:1.2em;text-align:right;font-weight:{weight}'>{k}</span>"
                    f"<span style='display:inline-block;height:12px;width:{max(1, round(140 * p))}px;"
                    f"background:{color}'></span><span style='font-size:90%'>{percent(p)}</span></div>")
    return "<div class='probabilidades'>" + "".join(rows) + "</div>"


# ---------------------------------------------------------------------------------------------
# Dónde cae el kernel: padding, posiciones y píxeles que no se ven.

def conv_layout(n, kernel_size, padding=0, stride=1):
    """La geometría de una convolución sobre una entrada de lado `n`, para dibujarla.

    Devuelve un diccionario: side (lado con padding), out (lado de la salida), padding
    (máscara [side, side] de los ceros añadidos), unseen (píxeles de la entrada que no toca
    ningún kernel), windows ((fila, columna) de la esquina de cada posición del kernel, en
    orden) y centers (centro de cada posición, en coordenadas de celda).
    """
    out = conv_output_size(n, kernel_size, padding, stride)  # valida y da ValueError en español
    side = n + 2 * padding
    pad = np.ones((side, side), dtype=bool)
    pad[padding:padding + n, padding:padding + n] = False
    covered = np.zeros((side, side), dtype=bool)
    windows = [(i * stride, j * stride) for i in range(out) for j in range(out)]
    for top, left in windows:
        covered[top:top + kernel_size, left:left + kernel_size] = True
    center = (kernel_size - 1) / 2
    return {"side": side, "out": out, "padding": pad, "unseen": ~covered & ~pad, "windows": windows,
            "centers": [(top + center, left + center) for top, left in windows]}


def kernel_placement(n, kernel_size, padding=0, stride=1, max_side=360):
    """Dibujo de `conv_layout` como imagen PIL (lo que enseña el explorador de padding).

    Gris: los ceros del padding; blanco: la entrada; naranja claro rayado: píxeles que no toca
    ningún kernel. Rojo continuo: el kernel en su primera posición; naranja discontinuo: la
    siguiente (un stride a la derecha). Un punto azul por píxel de salida, en el centro de cada
    posición del kernel.
    `plots`/`diagrams.plot_conv_positions` dibuja la misma geometría con los mismos colores.
    """
    layout = conv_layout(n, kernel_size, padding, stride)
    side, out = layout["side"], layout["out"]
    cell = int(max(6, min(24, max_side // side)))
    grid = np.full((side, side, 3), 255, dtype=np.uint8)
    grid[layout["padding"]] = PADDING
    grid[layout["unseen"]] = UNSEEN
    rgb = grid.repeat(cell, 0).repeat(cell, 1)
    rows, cols = np.indices(rgb.shape[:2])
    stripes = layout["unseen"].repeat(cell, 0).repeat(cell, 1) & ((rows + cols) % 6 == 0)
    rgb[stripes] = NEXT  # el rayado: se distingue del blanco también sin ver el color
    rgb = np.pad(rgb, ((0, 1), (0, 1), (0, 0)), constant_values=190)
    rgb[::cell, :] = 190  # las líneas de la rejilla: una por píxel
    rgb[:, ::cell] = 190
    k = kernel_size * cell
    windows = [(0, FIRST)] + ([(stride * cell, NEXT)] if out > 1 else [])
    for left, color in reversed(windows):  # marcos de 3 píxeles; el rojo queda encima
        along = np.arange(k + 1)
        drawn = along if color == FIRST else along[(along // 6) % 2 == 0]  # el naranja, discontinuo
        for t in range(3):
            rgb[t, left + drawn] = rgb[k - t, left + drawn] = color
            rgb[drawn, left + t] = rgb[drawn, left + k - t] = color
    dot = max(2, cell // 3)
    centers = np.arange(out) * stride * cell + k // 2 - dot // 2  # un punto por píxel de salida
    for dy in range(dot):
        for dx in range(dot):
            rgb[np.ix_(centers + dy, centers + dx)] = CENTER
    picture = Image.fromarray(rgb)
    unseen = int(layout["unseen"].sum())
    picture.info["alt"] = (f"Un kernel de {kernel_size}x{kernel_size} sobre una entrada de {n}x{n} con padding "
                           f"{padding} y stride {stride}: la primera posición en rojo continuo, la siguiente en "
                           f"naranja discontinuo y un punto azul por cada uno de los {out}x{out} píxeles de salida"
                           + (f"; {unseen} píxeles, rayados, no los toca ningún kernel." if unseen else "."))
    return picture


# ---------------------------------------------------------------------------------------------
# Galería de dígitos en HTML (el explorador de la matriz de confusión).

def gallery_html(digits, indices, probs, max_images=24):
    """HTML con las imágenes `indices` de `digits`, cada una con su predicción y probabilidad."""
    tiles = []
    for i in indices[:max_images]:
        p = torch.as_tensor(probs[i])
        pred = int(p.argmax())
        image, _ = digits[i]
        src = base64.b64encode(to_png(digit_picture(image, scale=1))).decode()
        label = int(digits.labels[i])
        color, mark = (RIGHT, "✓") if pred == label else (WRONG, "✗")
        alt = f"imagen {i} del test, un {label}: la red lee un {pred} con {percent(p[pred])}"
        # El pie en dos líneas que caben en la celda (antes se montaban unas sobre otras).
        tiles.append(f"<div style='text-align:center;font-size:75%;line-height:1.25;width:84px;overflow-wrap:anywhere'>"
                     f"<img src='data:image/png;base64,{src}' alt='{alt}' style='width:64px;height:64px;"
                     f"image-rendering:pixelated'><br>nº {i}<br>"
                     f"<span style='color:{color}'>{mark} pred {pred}:<br>{percent(p[pred])}</span>"
                     f"</div>")
    more = f"<div>… y {len(indices) - max_images} más.</div>" if len(indices) > max_images else ""
    return "<div class='galeria' style='display:flex;flex-wrap:wrap;gap:4px'>" + "".join(tiles) + "</div>" + more
