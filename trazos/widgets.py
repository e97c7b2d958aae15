"""Exploradores interactivos (ipywidgets): deslizar un control y ver la red por dentro.

Cada explorador es una capa fina sobre funciones normales que un cuaderno puede llamar
directamente; así, quien abra el cuaderno sin el JavaScript de los widgets (o nbval) ve
igualmente el resultado:

    activation_explorer -> stage_output, maps_picture, probability_bars
    kernel_explorer     -> kernel_history, kernel_picture, kernel_changes
    padding_explorer    -> conv_formula, kernel_placement, network_shapes
    softmax_explorer    -> naive_softmax, softmax_table
    confusion_explorer  -> pair_indices, gallery_html
    draw_explorer       -> predict_drawing

Rapidez: mover un control no crea ninguna figura de matplotlib. Las imágenes se componen
en numpy (un mosaico), se colorean con una tabla de 256 colores y se codifican en PNG con
PIL dentro de un `ipywidgets.Image` que se reutiliza: unos pocos milisegundos por cambio.

Robustez: si algo falla dentro de un control, el error se muestra en español en la zona de
mensajes del explorador y el widget sigue vivo.
"""

import base64
import contextlib
import copy
import html
import io
import math
import warnings

import ipywidgets as widgets
import matplotlib
import numpy as np
import torch
from PIL import Image, ImageDraw
from torch import nn

from . import data
from .inspection import activations, confusion_matrix, predict
from .models import build_model, stage_names
from .shapes import conv_output_size, summary
from .training import trained_model

__all__ = ["single_thread", "colorize", "mosaic", "to_png",
           "stage_output", "maps_picture", "describe_stage", "probability_bars", "example_index",
           "activation_explorer",
           "conv_layers", "kernel_history", "kernel_changes", "kernel_picture", "kernel_explorer",
           "conv_formula", "kernel_placement", "network_shapes", "padding_explorer",
           "naive_softmax", "softmax_table", "softmax_explorer",
           "pair_indices", "gallery_html", "confusion_explorer",
           "predict_drawing", "draw_explorer"]

VIEWS = ("antes", "después", "diferencia")
BACKGROUND = (255, 255, 255)  # color de los huecos entre mapas (ninguna paleta usada llega a blanco puro)


# ---------------------------------------------------------------------------------------------
# Piezas comunes: de números a colores, de colores a PNG.

_LUTS = {}


def _lut(cmap):
    """Tabla [256, 3] de colores uint8 de una paleta de matplotlib (se calcula una vez)."""
    if cmap not in _LUTS:
        colors = matplotlib.colormaps[cmap](np.linspace(0, 1, 256))[:, :3]
        _LUTS[cmap] = (colors * 255).round().astype(np.uint8)
    return _LUTS[cmap]


def colorize(values, cmap="viridis", vmin=None, vmax=None):
    """Array (2D o [N, alto, ancho]) -> RGB uint8 con la paleta `cmap`; los NaN quedan en blanco.

    Es cmap(norm(x)) de matplotlib, pero con una tabla de 256 colores: mucho más rápido.
    """
    x = np.asarray(values, dtype=np.float32)
    holes = np.isnan(x)
    finite = x[~holes]
    lo = vmin if vmin is not None else (float(finite.min()) if finite.size else 0.0)
    hi = vmax if vmax is not None else (float(finite.max()) if finite.size else 1.0)
    span = hi - lo if hi > lo else 1.0
    index = np.nan_to_num((x - lo) * (255.0 / span), nan=0.0, posinf=255.0, neginf=0.0)
    rgb = _lut(cmap)[np.clip(index, 0, 255).astype(np.uint8)]
    rgb[holes] = BACKGROUND
    return rgb


def mosaic(tiles, cols=8, scale=1, gap=4, fill=255):
    """[N, alto, ancho, (3)] -> una sola imagen con los N tiles en rejilla de `cols` columnas,
    cada píxel agrandado `scale` veces, separados y rodeados por `gap` píxeles de valor `fill`.

    Se colorea antes y se agranda después: colorear 16x16 píxeles cuesta mucho menos que 80x80.
    """
    tiles = np.asarray(tiles)
    if tiles.ndim not in (3, 4) or len(tiles) == 0:
        raise ValueError(f"Se esperaban tiles [N, alto, ancho] o [N, alto, ancho, 3] con N >= 1; "
                         f"forma recibida {tiles.shape}.")
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
    n, h, w = tiles.shape[:3]
    extra = tiles.shape[3:]
    cols = max(1, min(cols, n))
    rows = math.ceil(n / cols)
    grid = np.full((rows * cols, h + gap, w + gap, *extra), fill, dtype=tiles.dtype)
    grid[:n, gap:, gap:] = tiles
    grid = grid.reshape(rows, cols, h + gap, w + gap, *extra).swapaxes(1, 2)
    grid = grid.reshape(rows * (h + gap), cols * (w + gap), *extra)
    return np.pad(grid, ((0, gap), (0, gap)) + ((0, 0),) * len(extra), constant_values=fill)


def to_png(picture):
    """Imagen PIL o array RGB/gris uint8 -> bytes PNG (compresión rápida: es para la pantalla)."""
    if not isinstance(picture, Image.Image):
        picture = Image.fromarray(np.asarray(picture, dtype=np.uint8))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _digit_picture(image, scale=8):
    """Imagen normalizada (como en load_mnist) -> PIL en grises, agrandada sin suavizar."""
    pixels = data.to_pixels(image).squeeze()
    if pixels.ndim != 2:
        raise ValueError(f"Se esperaba una imagen 2D; forma recibida {tuple(pixels.shape)}.")
    gray = (pixels.numpy() * 255).round().astype(np.uint8)
    return Image.fromarray(gray.repeat(scale, 0).repeat(scale, 1))


def _error_html(error):
    """El texto de un error para la zona de mensajes (nuestros ValueError ya vienen en español)."""
    text = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
    return (f"<div style='color:#b00020;white-space:pre-wrap'>⚠ No se pudo actualizar la vista. "
            f"{html.escape(text, quote=False)}</div>")


@contextlib.contextmanager
def single_thread():
    """PyTorch con un solo hilo mientras dura el bloque.

    Una imagen suelta es tan poco trabajo que repartirla entre hilos cuesta más que hacerla:
    con 2 núcleos ocupados, una pasada de la CNN tarda ~0.5 ms con un hilo y ~50 ms con dos.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _attempt(message, action, *args):
    """Ejecuta `action(*args)`; si falla, el error se muestra en `message` y el widget sigue vivo."""
    try:
        with single_thread():
            action(*args)
    except Exception as error:  # cualquier fallo: mejor un mensaje que un widget muerto
        message.value = _error_html(error)
        return
    if message.value:
        message.value = ""


def _guard(message, update):
    """Una actualización lista para `observe` u `on_click` (ignora sus argumentos), protegida."""
    return lambda *_: _attempt(message, update)


def _image():
    """Un ipywidgets.Image para PNG, a su tamaño natural (sin estirarse al ancho de su columna)."""
    return widgets.Image(format="png", layout=widgets.Layout(width="auto", align_self="flex-start"))


def _explorer(children, css, **parts):
    """Un VBox con clase CSS `css` y sus controles como atributos (explorer.stage, ...)."""
    box = widgets.VBox(children)
    box.add_class(css)
    for name, part in parts.items():
        setattr(box, name, part)
    return box


def _default_run():
    return trained_model("cnn")


def _model_input_size(model):
    side = getattr(model, "input_size", None)
    if side is None:
        raise ValueError("Este modelo no tiene atributo input_size: añade input_size = 16 (el lado de las "
                         "imágenes que espera) a tu clase o a tu nn.Sequential (modelo.input_size = 16).")
    return side


def _default_digits(model, digits):
    """`digits`, o el test de MNIST al tamaño que espera el modelo."""
    return digits if digits is not None else data.load_mnist(train=False, size=_model_input_size(model))


# ---------------------------------------------------------------------------------------------
# 1. Activaciones: qué ve cada etapa de la red para una imagen.

def stage_output(model, image, stage):
    """Salida de la etapa `stage` (conv1, relu1, ...) para una imagen suelta, sin el lote."""
    valid = stage_names(model)
    if stage not in valid:
        raise ValueError(f"Etapa desconocida: {stage!r}. Etapas válidas: {', '.join(valid)}.")
    with single_thread():
        return activations(model, image, stage)[stage][0]


def _as_maps(output):
    """Salida de una etapa -> (mapas [N, h, w], descripción). Un vector se dibuja como una barra
    de casillas (filas de 32), porque flatten y fc no tienen mapas 2D."""
    output = torch.as_tensor(output).detach().cpu().float()
    if output.ndim == 3:
        c, h, w = output.shape
        return output.numpy(), f"{c} mapas de {h}x{w}"
    vector = output.flatten().numpy()
    cols = min(32, len(vector))
    rows = math.ceil(len(vector) / cols)
    bar = np.full(rows * cols, np.nan, dtype=np.float32)
    bar[:len(vector)] = vector
    return bar.reshape(1, rows, cols), f"un vector de {len(vector)} valores (sin mapas 2D)"


def maps_picture(output, cell=72, cols=8, cmap="viridis"):
    """Mosaico de los mapas de una etapa ([C, H, W]) o de un vector ([F]) como imagen PIL.

    Todos los mapas comparten la escala de color (oscuro = bajo, amarillo = alto): así se ve
    qué canales responden más a la imagen. Cada mapa mide unos `cell` píxeles de lado.
    """
    maps, _ = _as_maps(output)
    side = max(maps.shape[1], maps.shape[2])
    scale = max(1, round(cell / side)) if maps.shape[1] > 1 else max(1, round(cell / 4))
    return Image.fromarray(mosaic(colorize(maps, cmap), cols=cols, scale=scale))


def describe_stage(stage, output):
    """Texto corto: qué forma tiene la salida de la etapa."""
    return f"{stage}: {_as_maps(output)[1]}"


def probability_bars(probs, label=None):
    """HTML con una barra por clase; la predicha en azul y la verdadera (si se da) en negrita."""
    probs = torch.as_tensor(probs).detach().cpu().float().flatten()
    best = int(probs.argmax())
    rows = []
    for k, p in enumerate(probs.tolist()):
        color = "#1f77b4" if k == best else "#b0b0b0"
        weight = "bold" if label is not None and k == int(label) else "normal"
        rows.append(f"<div class='barra' style='display:flex;align-items:center;gap:6px;height:17px'>"
                    f"<span style='width:1.2em;text-align:right;font-weight:{weight}'>{k}</span>"
                    f"<span style='display:inline-block;height:12px;width:{max(1, round(140 * p))}px;"
                    f"background:{color}'></span><span style='font-size:90%'>{100 * p:.1f} %</span></div>")
    return "<div class='probabilidades'>" + "".join(rows) + "</div>"


def example_index(digits, digit, k):
    """Índice (en `digits`) del `k`-ésimo ejemplo del dígito `digit` (empezando en 0)."""
    count = int((digits.labels == digit).sum()) if digit in range(10) else 0
    if digit not in range(10) or not isinstance(k, int) or not 0 <= k < count:
        raise ValueError(f"Elige un dígito del 0 al 9 y un ejemplo entre 0 y {max(count - 1, 0)}; "
                         f"se recibió dígito {digit!r}, ejemplo {k!r}.")
    return data.examples_of(digits, digit, count=1, start=k)[0]


def activation_explorer(model=None, digits=None):
    """Elige etapa (conv1, relu1, pool1, ...), dígito y ejemplo: muestra la entrada, todos los
    mapas de esa etapa y las probabilidades que da la red.

    `model` por defecto es la CNN entrenada del curso; vale cualquier nn.Module con atributo
    input_size (también un nn.Sequential). `digits` por defecto es el test de MNIST.
    """
    model = model if model is not None else _default_run().model
    digits = _default_digits(model, digits)
    stages = stage_names(model)
    if not stages:
        raise ValueError("El modelo no tiene etapas con nombre (módulos hoja): no hay nada que explorar.")
    counts = [int((digits.labels == d).sum()) for d in range(10)]
    first = next((d for d in range(10) if counts[d]), None)
    if first is None:
        raise ValueError("digits no tiene ningún ejemplo de los dígitos 0 a 9.")

    stage = widgets.SelectionSlider(options=stages, value=stages[0], description="etapa",
                                    continuous_update=True, layout=widgets.Layout(width="420px"))
    digit = widgets.IntSlider(value=first, min=0, max=9, description="dígito", layout=widgets.Layout(width="320px"))
    index = widgets.IntSlider(value=0, min=0, max=counts[first] - 1, description="ejemplo",
                              layout=widgets.Layout(width="420px"))
    title = widgets.HTML()
    picture = _image()
    bars = widgets.HTML()
    caption = widgets.HTML()
    maps = _image()
    # Clases CSS con nombre: la prueba en el navegador encuentra así cada pieza.
    for part, css in [(stage, "trazos-stage"), (digit, "trazos-digit"), (index, "trazos-index"),
                      (title, "trazos-title"), (picture, "trazos-input"), (caption, "trazos-caption"),
                      (maps, "trazos-maps")]:
        part.add_class(css)
    message = widgets.HTML()
    state = {"index": None, "outputs": None}

    def compute():  # una pasada hacia delante guarda todas las etapas: cambiar de etapa es gratis
        i = example_index(digits, digit.value, index.value)
        if i != state["index"]:
            image = digits.images[i]
            state["outputs"] = {name: out[0] for name, out in activations(model, image).items()}
            _, probs = predict(model, image)
            state["index"], state["probs"] = i, probs[0]
            label = int(digits.labels[i])
            pred = int(probs[0].argmax())
            verdict = "acierta" if pred == label else "se equivoca"
            title.value = (f"<b>Ejemplo nº {i} del test</b>: es un {label}; la red predice "
                           f"<b class='prediccion'>{pred}</b> ({100 * float(probs[0, pred]):.1f} %) y {verdict}.")
            picture.value = to_png(_digit_picture(image, scale=max(1, 160 // image.shape[-1])))
            bars.value = probability_bars(probs[0], label)
        if state.get("shown") == (i, stage.value):
            return
        state["shown"] = (i, stage.value)
        output = state["outputs"][stage.value]
        caption.value = f"<b>{describe_stage(stage.value, output)}</b> · misma escala de color para todos"
        maps.value = to_png(maps_picture(output))

    def on_digit():
        index.max = max(counts[digit.value] - 1, 0)  # antes de actualizar: el ejemplo debe existir
        compute()

    update = _guard(message, compute)
    stage.observe(update, names="value")
    index.observe(update, names="value")
    digit.observe(_guard(message, on_digit), names="value")
    update()
    left = widgets.VBox([widgets.HTML("<b>Entrada</b>"), picture, widgets.HTML("<b>Probabilidades</b>"), bars])
    right = widgets.VBox([caption, maps])
    return _explorer([widgets.HBox([stage, digit]), index, title, widgets.HBox([left, right]), message],
                     "trazos-activation-explorer", stage=stage, digit=digit, index=index, title=title, picture=picture,
                     bars=bars, caption=caption, maps=maps, message=message, update=update)


# ---------------------------------------------------------------------------------------------
# 2. Kernels: cómo cambian los filtros época a época.

def conv_layers(model):
    """Nombres de las capas Conv2d del modelo, en orden."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def _checkpoints(run):
    """Checkpoints de un Run; un nn.Module suelto cuenta como un único checkpoint (sus pesos)."""
    if isinstance(run, nn.Module):
        return run, [{k: v.detach().cpu() for k, v in run.state_dict().items()}], []
    if not hasattr(run, "checkpoints") or not hasattr(run, "model"):
        raise ValueError(f"Se esperaba un Run (trazos.trained_model(...)) o un nn.Module; se recibió "
                         f"{type(run).__name__}.")
    return run.model, run.checkpoints, getattr(run, "history", [])


def kernel_history(run, layer):
    """Los pesos de la capa `layer` en cada checkpoint: array [épocas + 1, O, I, k, k].

    `run` es un Run (trazos.trained_model) o un nn.Module (una sola "época": sus pesos actuales).
    """
    model, checkpoints, _ = _checkpoints(run)
    valid = conv_layers(model)
    if layer not in valid:
        raise ValueError(f"Capa desconocida: {layer!r}. Capas convolucionales válidas: {', '.join(valid)}.")
    return np.stack([c[f"{layer}.weight"].float().numpy() for c in checkpoints])


def kernel_changes(weights, epoch):
    """Cuánto cambió cada kernel (norma de después - antes) hasta `epoch`: array [O, I]."""
    return np.sqrt(((weights[epoch] - weights[0]) ** 2).sum(axis=(2, 3)))


def _kernel_tiles(weight):
    """[O, I, k, k] -> (tiles [N, k, k], columnas, posición de cada kernel (o, i) en la rejilla).

    Primera capa (un canal de entrada): los filtros en una rejilla casi cuadrada. Capas
    siguientes: una columna por filtro de salida y una fila por canal de entrada.
    """
    out_ch, in_ch = weight.shape[:2]
    if in_ch == 1:
        cols = math.ceil(math.sqrt(out_ch))
        return weight[:, 0], cols, {(o, 0): o for o in range(out_ch)}
    tiles = weight.transpose(1, 0, 2, 3).reshape(in_ch * out_ch, *weight.shape[2:])
    return tiles, out_ch, {(o, i): i * out_ch + o for o in range(out_ch) for i in range(in_ch)}


def _frame(rgb, top, left, height, width, color, thick=2):
    """Pinta un marco de `thick` píxeles alrededor del rectángulo (en el hueco entre kernels)."""
    t, l, b, r = top - thick, left - thick, top + height + thick, left + width + thick
    rgb[t:top, l:r] = color
    rgb[top + height:b, l:r] = color
    rgb[t:b, l:left] = color
    rgb[t:b, left + width:r] = color


def kernel_picture(weights, view="después", epoch=-1, highlight=4, limits=None, width=880):
    """Mosaico de los kernels de una capa (rojo positivo, azul negativo) como imagen PIL.

    `weights` es [épocas + 1, O, I, k, k] (un checkpoint por época; 0 = antes de entrenar).
    view: "antes" (época 0), "después" (época `epoch`) o "diferencia" (época `epoch` - época 0).
    Los `highlight` kernels que más cambiaron quedan enmarcados en verde. `limits` fija la
    escala de color (peso, cambio) para que no salte al mover la época.
    """
    if view not in VIEWS:
        raise ValueError(f"Vista desconocida: {view!r}. Vistas válidas: {', '.join(VIEWS)}.")
    weights = np.asarray(weights, dtype=np.float32)
    if weights.ndim != 5:
        raise ValueError(f"Se esperaban pesos [épocas + 1, salida, entrada, k, k]; forma {weights.shape}.")
    epoch = range(len(weights))[epoch] if -len(weights) <= epoch < len(weights) else None
    if epoch is None:
        raise ValueError(f"epoch debe estar entre 0 y {len(weights) - 1}.")
    if limits is None:
        limits = (float(np.abs(weights).max()) or 1.0, float(np.abs(weights - weights[:1]).max()) or 1.0)
    shown = {"antes": weights[0], "después": weights[epoch], "diferencia": weights[epoch] - weights[0]}[view]
    limit = limits[1] if view == "diferencia" else limits[0]
    tiles, cols, where = _kernel_tiles(shown)
    k = tiles.shape[-1]
    gap = 4
    scale = int(max(2, min(20, (width / cols - gap) // k)))
    rgb = mosaic(colorize(tiles, cmap="RdBu_r", vmin=-limit, vmax=limit), cols=cols, scale=scale, gap=gap)
    change = kernel_changes(weights, epoch)
    if highlight and change.max() > 0:
        for flat in np.argsort(change, axis=None)[::-1][:highlight]:
            o, i = np.unravel_index(flat, change.shape)
            row, col = divmod(where[(int(o), int(i))], cols)
            step = k * scale + gap
            _frame(rgb, gap + row * step, gap + col * step, k * scale, k * scale, (0, 170, 0))
    return Image.fromarray(rgb)


def _top_changes(change, n=4):
    order = np.argsort(change, axis=None)[::-1][:n]
    parts = []
    for flat in order:
        o, i = np.unravel_index(flat, change.shape)
        where = f"filtro {o}" + (f", canal {i}" if change.shape[1] > 1 else "")
        parts.append(f"{where} ({change[o, i]:.2f})")
    return ", ".join(parts)


def kernel_explorer(run=None):
    """Kernels de cada capa convolucional, época a época: `.layer`, `.view` y `.epoch`.

    `run` por defecto es trazos.trained_model("cnn"); vale cualquier Run con checkpoints
    (o un nn.Module suelto, que se ve con sus pesos actuales como única época).
    """
    run = run if run is not None else _default_run()
    model, checkpoints, history = _checkpoints(run)
    layers = conv_layers(model)
    if not layers:
        raise ValueError("El modelo no tiene capas Conv2d: no hay kernels que mostrar.")
    cache = {}

    def weights_of(name):  # los pesos de todas las épocas de una capa, una sola vez
        if name not in cache:
            w = kernel_history(run, name)
            cache[name] = w, (float(np.abs(w).max()) or 1.0, float(np.abs(w - w[:1]).max()) or 1.0)
        return cache[name]

    last = len(checkpoints) - 1
    layer = widgets.Dropdown(options=layers, value=layers[0], description="capa")
    view = widgets.ToggleButtons(options=list(VIEWS), value="después", description="ver")
    epoch = widgets.IntSlider(value=last, min=0, max=last, description="época")
    for control, css in [(layer, "trazos-layer"), (view, "trazos-view"), (epoch, "trazos-epoch")]:
        control.add_class(css)
    caption = widgets.HTML()
    picture = _image()
    picture.add_class("trazos-kernels")
    message = widgets.HTML()

    def compute():
        weights, limits = weights_of(layer.value)
        e = epoch.value
        epoch.disabled = view.value == "antes"  # "antes" es siempre la época 0
        picture.value = to_png(kernel_picture(weights, view.value, e, limits=limits))
        out_ch, in_ch, k = weights.shape[1], weights.shape[2], weights.shape[3]
        when = "antes de entrenar" if e == 0 else f"tras la época {e} de {last}"
        if e and len(history) >= e:
            when += f" (acierto en test {100 * history[e - 1]['test_acc']:.1f} %)"
        shown = {"antes": "antes de entrenar", "después": when, "diferencia": f"cambio desde el inicio, {when}"}
        layout = ("un kernel por filtro" if in_ch == 1 else
                  "columnas: filtro de salida · filas: canal de entrada")
        change = kernel_changes(weights, e)
        top = f" · <span style='color:#00aa00'>enmarcados</span>, los que más cambiaron: {_top_changes(change)}" \
            if change.max() > 0 else ""
        count = f"{out_ch}" if in_ch == 1 else f"{out_ch}x{in_ch}"
        caption.value = (f"<b>{layer.value}</b>: {count} kernels de {k}x{k}, {shown[view.value]}. "
                         f"Rojo positivo, azul negativo ({layout}){top}.")

    update = _guard(message, compute)
    for control in (layer, view, epoch):
        control.observe(update, names="value")
    update()
    return _explorer([widgets.HBox([layer, epoch]), view, caption, picture, message], "trazos-kernel-explorer",
                     layer=layer, view=view, epoch=epoch, caption=caption, picture=picture, message=message,
                     update=update)


# ---------------------------------------------------------------------------------------------
# 3. Padding y stride: la fórmula del tamaño de salida y la red entera.

def conv_formula(n, kernel_size, padding=0, stride=1):
    """La fórmula del tamaño de salida con los números puestos, como texto.

    salida = ⌊(n + 2p - k) / s⌋ + 1; p. ej. n=16, k=3, p=1, s=1 da ⌊(16 + 2·1 - 3) / 1⌋ + 1 = 16.
    """
    out = conv_output_size(n, kernel_size, padding, stride)  # valida y da ValueError en español
    inner = n + 2 * padding - kernel_size
    return (f"salida = ⌊(n + 2p − k) / s⌋ + 1 = ⌊({n} + 2·{padding} − {kernel_size}) / {stride}⌋ + 1 "
            f"= ⌊{inner} / {stride}⌋ + 1 = {inner // stride} + 1 = {out}")


def kernel_placement(n, kernel_size, padding=0, stride=1, max_side=360):
    """Dibujo de dónde cae el kernel sobre la entrada con padding, como imagen PIL.

    Gris: los ceros del padding; blanco: la entrada. Rojo: el kernel en su primera posición;
    naranja: la siguiente (un stride a la derecha). Un punto azul por píxel de salida, en el
    centro de cada posición del kernel.
    """
    out = conv_output_size(n, kernel_size, padding, stride)
    side = n + 2 * padding
    cell = int(max(6, min(24, max_side // side)))
    rgb = np.full((side * cell + 1, side * cell + 1, 3), 215, dtype=np.uint8)  # el padding, en gris
    inner = slice(padding * cell, (padding + n) * cell + 1)
    rgb[inner, inner] = 255  # la entrada, en blanco
    rgb[::cell, :] = 190  # las líneas de la rejilla: una por píxel
    rgb[:, ::cell] = 190
    k = kernel_size * cell
    windows = [(0, (230, 60, 60))] + ([(stride * cell, (255, 160, 40))] if out > 1 else [])
    for left, color in reversed(windows):  # marcos de 3 píxeles; el rojo queda encima
        for t in range(3):
            rgb[t, left:left + k + 1] = rgb[k - t, left:left + k + 1] = color
            rgb[:k + 1, left + t] = rgb[:k + 1, left + k - t] = color
    dot = max(2, cell // 3)
    centers = np.arange(out) * stride * cell + k // 2 - dot // 2  # un punto por píxel de salida
    for dy in range(dot):
        for dx in range(dot):
            rgb[np.ix_(centers + dy, centers + dx)] = (31, 119, 180)
    return Image.fromarray(rgb)


def _with_conv_settings(model, kernel_size, padding, stride):
    """Copia de `model` con todas sus Conv2d cambiadas a (kernel_size, padding, stride)."""
    net = copy.deepcopy(model)
    for name, module in list(net.named_modules()):
        if isinstance(module, nn.Conv2d):
            parent_name, _, child = name.rpartition(".")
            parent = net.get_submodule(parent_name) if parent_name else net
            setattr(parent, child, nn.Conv2d(module.in_channels, module.out_channels, kernel_size,
                                             stride=stride, padding=padding))
    return net


def network_shapes(n, kernel_size, padding=1, stride=1, model=None):
    """Tabla de formas (trazos.summary) de la red con esos ajustes en todas sus Conv2d.

    Devuelve (tabla, aviso). Si la primera Linear ya no recibe lo que espera, la tabla se
    calcula con una Linear que se adapta (LazyLinear) y el aviso explica el desajuste; si la
    red no puede ni llegar a la Linear, la tabla es None y el aviso dice qué capa falla.
    """
    model = model if model is not None else build_model("cnn")
    conv_output_size(n, kernel_size, padding, stride)  # valida los números
    net = _with_conv_settings(model, kernel_size, padding, stride)
    linear = next(((name, m) for name, m in net.named_modules() if isinstance(m, nn.Linear)), None)
    if linear is not None:
        name, module = linear
        parent_name, _, child = name.rpartition(".")
        parent = net.get_submodule(parent_name) if parent_name else net
        lazy = nn.LazyLinear(module.out_features)
        setattr(parent, child, lazy)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = summary(net, (1, n, n))
    except ValueError as error:
        return None, f"La red no funciona con estos ajustes. {error}"
    if linear is None or lazy.in_features == module.in_features:
        return table, None
    names = [row["name"] for row in table]
    before = [row for row in table[:names.index(name)] if len(row["shape"]) == 3]
    shape = "·".join(map(str, before[-1]["shape"])) if before else "?"
    return table, (f"La capa lineal '{name}' espera {module.in_features} entradas, pero con estos ajustes le "
                   f"llegan {lazy.in_features} ({shape}). PyTorch daría un error al multiplicar matrices: "
                   f"vuelve a padding/stride que conserven el tamaño o cambia la capa a "
                   f"nn.Linear({lazy.in_features}, {module.out_features}).")


def padding_explorer(model=None):
    """Tamaño de entrada, kernel, padding y stride: la fórmula con los números, dónde cae el
    kernel y la tabla de formas de toda la red (una copia con esos ajustes en sus Conv2d)."""
    model = model if model is not None else build_model("cnn")
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if first is None:
        raise ValueError("El modelo no tiene capas Conv2d: no hay padding ni stride que explorar.")
    side = getattr(model, "input_size", 16)
    wide = dict(layout=widgets.Layout(width="330px"), style={"description_width": "80px"})
    size = widgets.IntSlider(value=side, min=4, max=32, description="entrada n", **wide)
    kernel_size = widgets.IntSlider(value=first.kernel_size[0], min=1, max=7, description="kernel k", **wide)
    padding = widgets.IntSlider(value=first.padding[0] if isinstance(first.padding, tuple) else 0, min=0, max=3,
                                description="padding p", **wide)
    stride = widgets.IntSlider(value=first.stride[0], min=1, max=3, description="stride s", **wide)
    for control, css in [(size, "trazos-size"), (kernel_size, "trazos-kernel-size"), (padding, "trazos-padding"),
                         (stride, "trazos-stride")]:
        control.add_class(css)
    formula = widgets.HTML()
    picture = _image()
    legend = widgets.HTML()
    warning = widgets.HTML()
    table = widgets.HTML()
    message = widgets.HTML()

    def compute():
        n, k, p, s = size.value, kernel_size.value, padding.value, stride.value
        try:
            text = conv_formula(n, k, p, s)
        except ValueError as error:  # el kernel no cabe: se explica y se borra el dibujo
            formula.value = f"<div style='color:#b00020'>⚠ {html.escape(str(error), quote=False)}</div>"
            picture.value, table.value, warning.value, legend.value = b"", "", "", ""
            return
        formula.value = f"<div class='formula' style='font-size:115%'>Primera convolución: <b>{text}</b></div>"
        picture.value = to_png(kernel_placement(n, k, p, s))
        out = conv_output_size(n, k, p, s)
        legend.value = (f"Entrada {n}x{n} con padding {p} → {n + 2 * p}x{n + 2 * p} (gris: ceros del padding). "
                        f"<span style='color:#e63c3c'>Rojo</span>: el kernel {k}x{k} en su primera posición; "
                        f"<span style='color:#ff9f28'>naranja</span>: la siguiente, {s} píxel(es) a la derecha. "
                        f"<span style='color:#1f77b4'>Puntos</span>: uno por píxel de salida ({out}x{out}).")
        shapes, problem = network_shapes(n, k, p, s, model)
        warning.value = "" if problem is None else (f"<div class='aviso' style='color:#b35900;font-weight:bold'>"
                                                    f"⚠ {html.escape(problem, quote=False)}</div>")
        table.value = "" if shapes is None else \
            f"<pre style='line-height:1.25'>{html.escape(str(shapes), quote=False)}</pre>"

    update = _guard(message, compute)
    for control in (size, kernel_size, padding, stride):
        control.observe(update, names="value")
    update()
    controls = widgets.VBox([size, kernel_size, padding, stride], layout=widgets.Layout(min_width="340px"))
    right = widgets.VBox([widgets.HTML("<b>La red entera con estos ajustes en cada Conv2d</b>"), warning, table])
    return _explorer([widgets.HBox([controls, widgets.VBox([formula, legend])]),
                      widgets.HBox([picture, right]), message], "trazos-padding-explorer",
                     size=size, kernel_size=kernel_size, padding=padding, stride=stride, formula=formula,
                     picture=picture, legend=legend, warning=warning, table=table, message=message, update=update)


# ---------------------------------------------------------------------------------------------
# 4. Softmax: qué eje suma 1 y dónde se desborda la versión ingenua.

def naive_softmax(logits, dim):
    """softmax "a mano" en float32: exp(x) / suma(exp(x)). Con x > 88.7, exp(x) ya es inf en
    float32, e inf / inf da nan: por eso torch.softmax resta antes el máximo."""
    x = torch.as_tensor(logits, dtype=torch.float32)
    if dim not in (0, 1) or x.ndim != 2:
        raise ValueError(f"dim debe ser 0 o 1 para unos logits [imágenes, clases]; se recibió dim={dim!r} "
                         f"con forma {tuple(x.shape)}.")
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def _default_logits():
    # 4 imágenes x 10 clases, fijos: los mismos números cada vez que se abre el cuaderno.
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


def softmax_explorer(logits=None):
    """softmax por filas o por columnas (`.dim`) de unos logits multiplicados por `.scale`."""
    logits = _default_logits() if logits is None else torch.as_tensor(logits, dtype=torch.float32).detach().cpu()
    if logits.ndim != 2:
        raise ValueError(f"logits debe ser una matriz [imágenes, clases]; forma recibida {tuple(logits.shape)}.")
    dim = widgets.ToggleButtons(options=[("dim=0 (columnas)", 0), ("dim=1 (filas)", 1)], value=1,
                                description="softmax por")
    # Escala logarítmica hasta donde el mayor logit pasa con holgura de 88.7 (donde exp desborda),
    # sean los logits grandes o los de una red sin entrenar (décimas).
    reach = 200.0 / max(float(logits.abs().max()), 1e-3)
    scale = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=max(2, math.ceil(math.log10(reach))), step=0.05,
                                   description="escala ×", continuous_update=True,
                                   layout=widgets.Layout(width="460px"))
    dim.add_class("trazos-dim")
    scale.add_class("trazos-scale")
    table = widgets.HTML()
    message = widgets.HTML()
    update = _guard(message, lambda: setattr(table, "value", softmax_table(logits, dim.value, scale.value)))
    dim.observe(update, names="value")
    scale.observe(update, names="value")
    update()
    return _explorer([dim, scale, table, message], "trazos-softmax-explorer", dim=dim, scale=scale, table=table,
                     message=message, update=update)


# ---------------------------------------------------------------------------------------------
# 5. Matriz de confusión: cada casilla es un botón que enseña sus imágenes.

def pair_indices(labels, predictions, true, pred):
    """Índices de los ejemplos que son `true` y la red clasificó como `pred`."""
    for name, value in (("true", true), ("pred", pred)):
        if value not in range(10):
            raise ValueError(f"{name} debe ser un dígito del 0 al 9; se recibió {value!r}.")
    labels, predictions = torch.as_tensor(labels), torch.as_tensor(predictions)
    return torch.nonzero((labels == true) & (predictions == pred)).flatten().tolist()


def gallery_html(digits, indices, probs, max_images=24):
    """HTML con las imágenes `indices` de `digits`, cada una con su predicción y probabilidad."""
    tiles = []
    for i in indices[:max_images]:
        p = torch.as_tensor(probs[i])
        pred = int(p.argmax())
        src = base64.b64encode(to_png(_digit_picture(digits.images[i], scale=1))).decode()
        color = "#2a7d2a" if pred == int(digits.labels[i]) else "#b00020"
        tiles.append(f"<div style='text-align:center;font-size:75%;line-height:1.25;width:84px'>"
                     f"<img src='data:image/png;base64,{src}' style='width:64px;height:64px;"
                     f"image-rendering:pixelated'><br>nº {i}<br>"
                     f"<span style='color:{color};white-space:nowrap'>pred {pred}: {100 * float(p[pred]):.1f} %</span>"
                     f"</div>")
    more = f"<div>… y {len(indices) - max_images} más.</div>" if len(indices) > max_images else ""
    return ("<div class='galeria' style='display:flex;flex-wrap:wrap;gap:4px'>" + "".join(tiles) + "</div>" + more)


def _cell_colors(count, top):
    level = math.log1p(count) / math.log1p(top) if top else 0.0
    r, g, b = _lut("Blues")[int(round(25 + 230 * level)) if count else 0]
    return f"#{r:02x}{g:02x}{b:02x}", "white" if level > 0.55 else "black"


def confusion_explorer(model=None, digits=None):
    """La matriz de confusión del test como botones: un clic (o `.select(verdadero, predicho)`)
    enseña las imágenes de esa casilla con la probabilidad que les dio la red."""
    model = model if model is not None else _default_run().model
    digits = _default_digits(model, digits)
    predictions, probs = predict(model, digits.images)
    matrix = confusion_matrix(digits.labels, predictions)
    top = int(matrix.max())
    title = widgets.HTML()
    title.add_class("trazos-title")
    gallery = widgets.HTML()
    gallery.add_class("trazos-gallery")
    message = widgets.HTML()
    state = {"selected": None}
    cells = []
    grid = [widgets.HTML("<b>real \\ pred</b>")] + [widgets.HTML(f"<b>&nbsp;{p}</b>") for p in range(10)]
    for t in range(10):
        grid.append(widgets.HTML(f"<b>{t}</b>"))
        row = []
        for p in range(10):
            count = int(matrix[t, p])
            background, text = _cell_colors(count, top)
            button = widgets.Button(description=str(count), layout=widgets.Layout(
                width="52px", height="30px", padding="0px", border="2px solid transparent"),
                                    tooltip=f"real {t}, predicho {p}: {count} ejemplos", disabled=count == 0)
            button.style.button_color, button.style.text_color = background, text
            button.add_class(f"trazos-cell-{t}-{p}")
            button.on_click(_guard(message, lambda t=t, p=p: select(t, p)))
            row.append(button)
            grid.append(button)
        cells.append(row)

    def select(true, pred):
        indices = pair_indices(digits.labels, predictions, true, pred)
        if state["selected"] is not None:
            old = cells[state["selected"][0]][state["selected"][1]]
            old.layout.border = "2px solid transparent"
        cells[true][pred].layout.border = "2px solid #ff7f0e"
        state["selected"] = (true, pred)
        kind = "aciertos" if true == pred else "errores"
        title.value = (f"<b class='seleccion'>Real {true}, predicho {pred}: {len(indices)} ejemplos</b> "
                       f"({kind}; en verde si la red acierta, en rojo si se equivoca)")
        gallery.value = gallery_html(digits, indices, probs) if indices else \
            "<div>No hay ningún ejemplo en esta casilla.</div>"

    # Al empezar, la casilla con más errores (o la del 0 si la red no falla nunca).
    worst = max(((t, p) for t in range(10) for p in range(10) if t != p), key=lambda tp: int(matrix[tp]))
    select(*(worst if int(matrix[worst]) else (0, 0)))
    accuracy = float(matrix.diagonal().sum()) / float(matrix.sum())
    header = widgets.HTML(f"<b>Matriz de confusión</b> ({len(digits)} imágenes de test, acierto "
                          f"{100 * accuracy:.2f} %). Haz clic en una casilla para ver sus imágenes.")
    board = widgets.GridBox(grid, layout=widgets.Layout(grid_template_columns="110px " + "56px " * 10,
                                                        grid_gap="2px"))
    return _explorer([header, board, title, gallery, message], "trazos-confusion-explorer", cells=cells, select=select,
                     title=title, gallery=gallery, message=message, matrix=matrix)


# ---------------------------------------------------------------------------------------------
# 6. Dibuja tu dígito: la red lee lo que dibujas con el ratón.

CANVAS = 280  # lado del lienzo en píxeles (10 veces 28, el tamaño de MNIST)
PEN = 22  # grosor del trazo: en 28x28 son unos 2 píxeles, como los trazos de MNIST


def predict_drawing(model, drawing):
    """Lee un dibujo (array 2D, trazo claro sobre fondo oscuro, valores 0-255 o 0-1).

    Lo prepara como MNIST (trazos.prepare_image: recorte, centro de masas, tamaño del modelo)
    y devuelve un diccionario: image (lo que ve la red, [1, 1, L, L]), prediction, probs [10]
    y activations ({etapa: salida}).
    """
    side = _model_input_size(model)
    with single_thread():
        image = data.prepare_image(np.asarray(drawing, dtype=np.float32), size=side)
        outputs = {name: out[0] for name, out in activations(model, image).items()}
        _, probs = predict(model, image)
    return {"image": image, "prediction": int(probs[0].argmax()), "probs": probs[0], "activations": outputs}


def _stroke_mask(points, size=CANVAS, pen=PEN):
    """Pinta un trazo (lista de puntos x, y) en un array 0-255 como lo pinta el lienzo."""
    layer = Image.new("L", (size, size), 0)
    pen_draw = ImageDraw.Draw(layer)
    points = [(float(x), float(y)) for x, y in points]
    if len(points) > 1:
        pen_draw.line(points, fill=255, width=pen, joint="curve")
    for x, y in points:  # extremos redondos, como line_cap="round" en el lienzo
        pen_draw.ellipse([x - pen / 2, y - pen / 2, x + pen / 2, y + pen / 2], fill=255)
    return np.asarray(layer)


def draw_explorer(model=None):
    """«Dibuja tu dígito»: un lienzo, un botón «Borrar» y, tras cada trazo, lo que ve la red,
    su predicción y las activaciones de cada etapa.

    Se puede dibujar también desde Python: explorer.draw([(x, y), ...]) hace un trazo.
    """
    from ipycanvas import Canvas
    model = model if model is not None else _default_run().model
    side = _model_input_size(model)
    canvas = Canvas(width=CANVAS, height=CANVAS, layout=widgets.Layout(width=f"{CANVAS}px", height=f"{CANVAS}px",
                                                                          border="1px solid #888"))
    canvas.add_class("trazos-canvas")
    erase = widgets.Button(description="Borrar", icon="eraser", tooltip="Borra el dibujo")
    erase.add_class("trazos-erase")
    seen = _image()
    seen.add_class("trazos-seen")
    prediction = widgets.HTML()
    prediction.add_class("trazos-prediction")
    bars = widgets.HTML()
    stages = stage_names(model)
    stage_pictures = {name: _image() for name in stages}
    stage_captions = {name: widgets.HTML() for name in stages}
    message = widgets.HTML()
    drawing = np.zeros((CANVAS, CANVAS), dtype=np.uint8)
    state = {"points": None}

    def paint_background():
        canvas.fill_style = "black"
        canvas.fill_rect(0, 0, CANVAS, CANVAS)
        canvas.stroke_style = "white"
        canvas.fill_style = "white"
        canvas.line_width = PEN
        canvas.line_cap = "round"
        canvas.line_join = "round"

    def reset_views():
        seen.value = to_png(np.zeros((side * 8, side * 8), dtype=np.uint8))
        prediction.value = "<span style='font-size:130%'>Dibuja un dígito (blanco sobre negro) con el ratón.</span>"
        bars.value = ""
        for name in stages:
            stage_pictures[name].value = b""
            stage_captions[name].value = f"<b>{name}</b>"

    def show():
        if drawing.max() == 0:
            reset_views()
            return
        result = predict_drawing(model, drawing)
        seen.value = to_png(_digit_picture(result["image"], scale=8))
        p = result["prediction"]
        prediction.value = (f"<span style='font-size:130%'>La red lee un <b class='prediccion'>{p}</b> "
                            f"({100 * float(result['probs'][p]):.1f} %)</span>")
        bars.value = probability_bars(result["probs"])
        for name, output in result["activations"].items():
            stage_pictures[name].value = to_png(maps_picture(output, cell=40, cols=16))
            stage_captions[name].value = f"<b>{describe_stage(name, output)}</b>"

    def begin(x, y):
        state["points"] = [(x, y)]
        canvas.fill_circle(x, y, PEN / 2)

    def move(x, y):
        if state["points"] is None:
            return
        x0, y0 = state["points"][-1]
        canvas.stroke_line(x0, y0, x, y)
        state["points"].append((x, y))

    def end():
        if state["points"] is None:
            return
        points, state["points"] = state["points"], None
        np.maximum(drawing, _stroke_mask(points), out=drawing)  # el trazo entra en el dibujo
        show()

    def draw(points):
        """Un trazo completo desde Python: lista de puntos (x, y) en píxeles del lienzo."""
        points = [(float(x), float(y)) for x, y in points]
        if not points:
            raise ValueError("El trazo necesita al menos un punto (x, y).")
        begin(*points[0])
        for x, y in points[1:]:
            move(x, y)
        end()

    def clear(*_):
        drawing[:] = 0
        state["points"] = None
        paint_background()
        reset_views()

    def replay():  # una pestaña nueva recibe un lienzo vacío: se le vuelve a pintar el dibujo
        paint_background()
        if drawing.max():
            canvas.put_image_data(np.repeat(drawing[:, :, None], 3, axis=2), 0, 0)

    canvas.on_mouse_down(lambda x, y: _attempt(message, begin, x, y))
    canvas.on_mouse_move(lambda x, y: _attempt(message, move, x, y))
    canvas.on_mouse_up(lambda x, y: _attempt(message, end))
    canvas.on_mouse_out(lambda x, y: _attempt(message, end))
    canvas.on_client_ready(lambda: _attempt(message, replay))
    erase.on_click(_guard(message, clear))
    paint_background()
    reset_views()
    rows = [widgets.VBox([stage_captions[name], stage_pictures[name]]) for name in stages]
    left = widgets.VBox([canvas, erase])
    middle = widgets.VBox([widgets.HTML("<b>Así lo ve la red</b> (recortado, centrado y a "
                                        f"{side}x{side}, como MNIST)"), seen, prediction, bars])
    return _explorer([widgets.HBox([left, middle]), widgets.HTML("<b>Activaciones de cada etapa</b>"),
                      widgets.VBox(rows), message], "trazos-draw-explorer",
                     canvas=canvas, erase=erase, seen=seen, prediction=prediction, bars=bars,
                     stage_pictures=stage_pictures, drawing=drawing, draw=draw, clear=clear, message=message,
                     show=show)
