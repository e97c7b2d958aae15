"""Los dibujos de «¿Qué mira la red?»: mapas sobre el dígito, el desglose de un valor, los puntos
de cada dígito y los trozos que más encienden un canal.

Como en `render`, cada dibujo se compone primero en NumPy (`*_picture`, en milisegundos): el
explorador lo codifica en PNG y la figura de matplotlib (`plot_*`) muestra esa misma imagen con
sus títulos, así que los dos se ven igual. `attribution_map` es la función que mueve el explorador
de atribución, y también se puede llamar desde un cuaderno.
"""

import numpy as np
import torch
from matplotlib.patches import Patch

from . import render
from .attribution import grad_cam, occlusion, saliency, targets_for, upsample
from .digit_map import receptive_field
from .errors import TrazosValueError
from .figure import Figure
from .runner import as_images, outputs, probabilities

__all__ = ["METHODS", "CLASS_COLORS", "attribution_map", "overlay_picture", "plot_attribution", "plot_adversarial",
           "plot_grad_cam_grids", "explanation_picture", "explanation_html", "plot_explain_value", "scatter_picture",
           "plot_embedding", "patches_picture", "field_picture", "plot_top_patches"]

# Los métodos del explorador y de `plot_attribution`, con el nombre que lee el estudiante.
METHODS = {
    "saliencia": lambda model, x, target, layer: saliency(model, x, target),
    "oclusión": lambda model, x, target, layer: occlusion(model, x, target, probability=True),
    "grad-cam": lambda model, x, target, layer: upsample(grad_cam(model, x, target, layer), x.shape[-1]),
}
SIGNED = {"oclusión"}  # tapar un trozo puede también subir la probabilidad: mapa con signo
CLASS_COLORS = (render.lut("tab10")[np.arange(10) * 256 // 10 + 12]).astype(np.uint8)  # un color por dígito


def attribution_map(model, image, method="saliencia", target=None, layer=None):
    """El mapa [H, W] de `method` (saliencia, oclusión o grad-cam, este agrandado a la imagen) para una imagen."""
    if method not in METHODS:
        raise TrazosValueError(f"Método desconocido: {method!r}. Métodos: {', '.join(METHODS)}.")
    x = as_images(image, model)[:1]
    return METHODS[method](model, x, target, layer)[0]


def overlay_picture(image, heat, scale=8, signed=False):
    """El mapa `heat` [H, W] sobre el dígito en grises: donde el mapa es 0 se ve el dígito tal cual y
    donde es alto, su color (rojo si es positivo; con `signed`, azul si es negativo)."""
    gray = render.digit_pixels(image).numpy()[..., None] * np.array([255.0, 255.0, 255.0]) * 0.85
    heat = np.asarray(torch.as_tensor(heat).detach().cpu(), dtype=np.float32)
    top = float(np.abs(heat).max()) or 1.0
    colors = render.colorize(heat, render.DIVERGING, -top, top).astype(np.float32) if signed else \
        render.colorize(np.abs(heat), "inferno", 0, top).astype(np.float32)
    alpha = np.clip(np.abs(heat) / top, 0, 1)[..., None] ** 0.7  # las zonas flojas, medio transparentes
    rgb = ((1 - alpha) * gray + alpha * colors).round().astype(np.uint8)
    return rgb.repeat(scale, 0).repeat(scale, 1)


def plot_attribution(model, image, methods=tuple(METHODS), target=None, layer=None, label=None):
    """La imagen, un mapa por método sobre ella y las probabilidades de la red (lo que enseña el explorador)."""
    x = as_images(image, model)[:1]
    probs = probabilities(outputs(model, x))[0]
    shown = int(probs.argmax()) if target is None else int(targets_for(model, x, target)[0])
    fig = Figure(figsize=(2.3 * (len(methods) + 2), 2.8), layout="constrained")
    axes = fig.subplots(1, len(methods) + 2)
    axes[0].imshow(render.digit_pixels(x[0]).numpy(), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("entrada" + (f" (es un {label})" if label is not None else ""), fontsize=10)
    for ax, method in zip(axes[1:], methods):
        ax.imshow(overlay_picture(x[0], attribution_map(model, x, method, target, layer), 1, method in SIGNED))
        ax.set_title(f"{method}\n(del {shown})", fontsize=10)
    for ax in axes[:-1]:
        ax.axis("off")
    bars = axes[-1].barh(range(10), probs.numpy(), color=render.bar_colors(probs), height=0.7)
    axes[-1].bar_label(bars, labels=[render.percent(p, 0) for p in probs.tolist()], fontsize=7, padding=2)
    axes[-1].set(xlim=(0, 1.4), yticks=range(10), title="probabilidades")
    axes[-1].invert_yaxis()
    return fig


def plot_grad_cam_grids(model, image, layers=("conv1", "conv2"), target=None):
    """Grad-CAM de varias capas sobre el dígito, cada casilla agrandada sin suavizar: se ve su rejilla
    (16x16 en conv1, 8x8 en conv2) y cuántos píxeles hay de una casilla a la siguiente."""
    x = as_images(image, model)[:1]
    fig = Figure(figsize=(2.6 * len(layers), 3), layout="constrained")
    for ax, layer in zip(np.atleast_1d(fig.subplots(1, len(layers))), layers):
        cam = grad_cam(model, x, target, layer)[0]
        jump = receptive_field(model, layer)[1]
        heat = cam.repeat_interleave(jump, 0).repeat_interleave(jump, 1)[:x.shape[-2], :x.shape[-1]]
        ax.imshow(overlay_picture(x[0], heat, 1))
        ax.set_title(f"{layer}: rejilla {cam.shape[0]}x{cam.shape[1]},\ncasillas a {jump} píxel"
                     f"{'es' if jump > 1 else ''}", fontsize=10)
        ax.axis("off")
    return fig


def plot_adversarial(original, result):
    """El dígito, el que engaña a la red y la diferencia, con su barra de colores (de −eps a +eps: el
    color más fuerte es un cambio de eps, no de negro a blanco)."""
    fig = Figure(figsize=(8, 3), layout="constrained")
    axes = fig.subplots(1, 3)
    p = result.probs[result.prediction]
    for ax, picture, title in [(axes[0], original, f"original: la red lee {result.original}"),
                               (axes[1], result.image, f"cambiada: lee {result.prediction} ({render.percent(p)})")]:
        ax.imshow(render.digit_pixels(picture).numpy(), cmap="gray", vmin=0, vmax=1)
        ax.set_title(title, fontsize=10)
    change = (render.digit_pixels(result.image) - render.digit_pixels(original)).numpy()
    limit = float(np.abs(change).max()) or 1.0
    shown = axes[2].imshow(change, cmap=render.DIVERGING, vmin=-limit, vmax=limit)
    axes[2].set_title(f"diferencia (como mucho ±{render.decimal(result.eps, 3)})", fontsize=10)
    fig.colorbar(shown, ax=axes[2], shrink=0.8)
    for ax in axes:
        ax.axis("off")
    return fig


# --- El desglose de un valor de una convolución ---------------------------------------------------

def explanation_picture(explanation, channels=8, scale=16):
    """Una fila por canal de entrada (los `channels` que más aportan): ventana, kernel y productos.
    Ventana en grises (el padding, rayado en gris claro); kernel y productos en rojo y azul."""
    e = explanation
    order = e.products.sum(dim=(1, 2)).abs().argsort(descending=True)[:channels].tolist()
    window, kernel, products = e.window[order].numpy(), e.kernel[order].numpy(), e.products[order].numpy()
    lo, hi = float(window.min()), float(window.max())
    tiles = []
    for c in range(len(order)):
        win = render.colorize(window[c], "gray", lo, hi if hi > lo else lo + 1)
        win[e.padding.numpy()] = render.PADDING
        k = float(np.abs(kernel).max()) or 1.0
        p = float(np.abs(products).max()) or 1.0
        tiles += [win, render.colorize(kernel[c], render.DIVERGING, -k, k),
                  render.colorize(products[c], render.DIVERGING, -p, p)]
    return render.mosaic(np.stack(tiles), cols=3, scale=scale, gap=6)


def _numbers(values):
    return "<br>".join(" ".join(f"{render.decimal(v):>6}" for v in row) for row in values.tolist())


def explanation_html(explanation):
    """El desglose en texto: la suma de productos, el sesgo y el valor que calculó la red (y, con un solo
    canal de entrada, los nueve números de la ventana, del kernel y de sus productos)."""
    e = explanation
    channels, k = e.window.shape[0], e.window.shape[1] * e.window.shape[2]
    parts = [f"<b>{e.layer}</b>, canal {e.channel}, fila {e.row}, columna {e.col}: la ventana empieza en la fila "
             f"{e.top} y la columna {e.left} de su entrada"
             + (f" ({int(e.padding.sum())} casillas caen en el padding, ceros)" if e.padding.any() else "") + ".<br>"
             f"suma de {channels} × {k} = {channels * k} productos = {render.decimal(e.total, 4)}; "
             f"+ sesgo {render.decimal(e.bias, 4)} = <b class='valor'>{render.decimal(e.value, 4)}</b>; "
             f"la red calculó <b>{render.decimal(e.actual, 4)}</b>."]
    if channels == 1:
        cells = [("ventana", e.window[0]), ("kernel", e.kernel[0]), ("productos", e.products[0])]
        parts.append("<div style='display:flex;gap:18px'>" + "".join(
            f"<div><b>{name}</b><pre style='margin:2px'>{_numbers(v)}</pre></div>" for name, v in cells) + "</div>")
    return "<div class='desglose'>" + "".join(parts) + "</div>"


def plot_explain_value(explanation, channels=8):
    """La misma disposición que el explorador: por canal de entrada, ventana · kernel · productos."""
    e = explanation
    picture = explanation_picture(e, channels)
    fig = Figure(figsize=(4.5, 1 + 1.3 * min(channels, e.window.shape[0])), layout="constrained")
    ax = fig.subplots()
    ax.imshow(picture)
    ax.axis("off")
    ax.set_title(f"{e.layer}[{e.channel}, {e.row}, {e.col}]: ventana · kernel · productos\n"
                 f"suma {render.decimal(e.total, 3)} + sesgo {render.decimal(e.bias, 3)} = "
                 f"{render.decimal(e.value, 3)} (la red: {render.decimal(e.actual, 3)})", fontsize=10)
    return fig


# --- Los dígitos como puntos ----------------------------------------------------------------------

def scatter_picture(points, labels, size=360, dot=3, chosen=None):
    """Los puntos [N, 2] en una imagen de `size` píxeles, cada uno del color de su dígito
    (`CLASS_COLORS`); `chosen`, un índice, se marca con un cuadrado negro."""
    points = np.asarray(points, dtype=np.float32)
    lo, hi = points.min(axis=0), points.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    where = ((points - lo) / span * (size - 2 * dot - 1) + dot).round().astype(int)
    rgb = np.full((size, size, 3), 255, dtype=np.uint8)
    colors = CLASS_COLORS[np.asarray(labels)]
    for (x, y), color in zip(where, colors):
        rgb[size - 1 - y - dot // 2:size - y + dot // 2, x - dot // 2:x + dot // 2 + 1] = color  # y hacia arriba
    if chosen is not None:
        x, y = where[chosen]
        render.frame(rgb, size - 1 - y - dot, x - dot, 2 * dot + 1, 2 * dot + 1, (0, 0, 0))
    return rgb


def plot_embedding(points, labels, separation=None, title="Los dígitos del test en 2-D", ax=None):
    """Los puntos de cada dígito (`scatter_picture`, la misma imagen que el explorador) con su leyenda."""
    fig = None
    if ax is None:
        fig = Figure(figsize=(5.5, 4.6), layout="constrained")
        ax = fig.subplots()
    ax.imshow(scatter_picture(points, labels))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("1.ª componente principal")
    ax.set_ylabel("2.ª componente principal")
    if separation is not None:
        title += f"\nvecino más cercano del mismo dígito: {render.percent(separation)}"
    ax.set_title(title, fontsize=10)
    ax.legend(handles=[Patch(color=CLASS_COLORS[d] / 255, label=str(d)) for d in range(10)], fontsize=7,
              loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    return fig if fig is not None else ax.figure


# --- Lo que más enciende un canal -----------------------------------------------------------------

def patches_picture(patches, scale=6):
    """Los trozos de `top_patches` en una rejilla de 3 columnas (en grises, como se ven)."""
    gray = np.stack([(render.digit_pixels(c).numpy() * 255).round().astype(np.uint8) for c in patches.crops])
    return render.mosaic(gray, cols=3, scale=scale, gap=4, fill=255)


def field_picture(image, top, left, side, scale=8, color=(230, 60, 60)):
    """El dígito con un marco alrededor del campo receptivo (`side` píxeles desde `top`, `left`)."""
    gray = (render.digit_pixels(image).numpy() * 255).round().astype(np.uint8)
    rgb = np.pad(np.stack([gray] * 3, axis=-1).repeat(scale, 0).repeat(scale, 1), ((2, 2), (2, 2), (0, 0)),
                 constant_values=255)
    height = rgb.shape[0] - 4
    y0, x0 = max(top, 0) * scale + 2, max(left, 0) * scale + 2  # el marco, recortado a la imagen
    y1, x1 = min((top + side) * scale, height) + 2, min((left + side) * scale, height) + 2
    render.frame(rgb, y0, x0, y1 - y0, x1 - x0, color)
    return rgb


def plot_top_patches(patches, digits, layer, channel, filter_view=None):
    """Los trozos del test que más encienden el canal, y el primero con su campo receptivo marcado.
    Con `filter_view` (de `filter_image`, el mismo canal), también la imagen sintética, al lado."""
    views = 3 if filter_view is not None else 2
    fig = Figure(figsize=(2.6 * views + 2.3, 3.6), layout="constrained")
    axes = fig.subplots(1, views, width_ratios=[1.2] + [1] * (views - 1))
    left, right = axes[0], axes[1]
    left.imshow(patches_picture(patches), cmap="gray")
    left.set_title(f"{layer}, canal {channel}: los {len(patches.indices)} trozos que más lo encienden\n"
                   f"(cada uno de {patches.side}x{patches.side} píxeles)", fontsize=10)
    image, _ = digits[patches.indices[0]]
    top, lft = patches.boxes[0]
    right.imshow(field_picture(image, top, lft, patches.side))
    right.set_title(f"el primero, nº {patches.indices[0]} del test,\ncon lo que ve ese valor", fontsize=10)
    if filter_view is not None:
        axes[2].imshow(render.digit_pixels(filter_view).numpy(), cmap="gray", vmin=0, vmax=1)
        axes[2].set_title(f"la imagen que más sube\nla media del canal {channel}", fontsize=10)
    for ax in axes:
        ax.axis("off")
    return fig
