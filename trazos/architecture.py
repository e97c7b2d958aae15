"""Diagrama de la arquitectura de cualquier red: una caja por paso, en el orden en que se ejecutan.

Sale de la misma captura que la tabla de `summary` y las activaciones (`capture.capture`):
cada capa, cada función (F.relu, x.view, F.log_softmax) y cada llamada de un módulo
reutilizado (pool, pool_1) es una caja con su nombre, su tipo, la forma de su salida y sus
parámetros. Las cajas van en columnas que se leen de arriba abajo y de izquierda a derecha,
con flechas en el orden de ejecución; así una red de 15 pasos cabe en una figura ancha y
baja, como una tabla. Se dibuja con matplotlib (sin graphviz ni nada que instalar aparte).
"""

import math

import torch
from matplotlib.patches import FancyBboxPatch

from .capture import capture
from .models import input_shape
from .alt_text import described
from .figure import Figure
from .render import integer

__all__ = ["plot_architecture"]

# Familias de pasos, en el orden en que se buscan en el tipo del paso (en minúsculas): la
# primera que aparece decide el color. «log_softmax» va antes que nada para no caer en otra.
FAMILIES = [
    ("salida (softmax)", "#f4cccc", ("softmax",)),
    ("convolución", "#cfe2f3", ("conv",)),
    ("pooling", "#d9ead3", ("pool",)),
    ("normalización, dropout", "#fff2cc", ("norm", "dropout")),
    ("lineal", "#e1d5e7", ("linear",)),
    ("aplanar", "#e6e6e6", ("flatten", "view", "reshape")),
    ("activación", "#fde2c4", ("relu", "sigmoid", "tanh", "gelu", "elu", "silu", "softplus")),
]
OTHER = ("otra etapa", "#f7f7f7")
INPUT = ("entrada", "#ffffff")

# Medidas en pulgadas (los ejes van en pulgadas: lo que se ve es lo que se pide aquí).
BOX_W, BOX_H = 2.6, 0.62  # una caja
ROW_GAP, COL_GAP = 0.34, 0.9  # espacio para las flechas entre filas y entre columnas
MARGIN, TITLE_H, LEGEND_H = 0.35, 0.45, 0.62


def _family(kind):
    """(nombre, color) de la familia de un paso según su tipo (Conv2d, relu, view...)."""
    lowered = kind.lower()
    for name, color, keys in FAMILIES:
        if any(key in lowered for key in keys):
            return name, color
    return OTHER


def _params_text(step, model):
    """Los parámetros de un paso; en la segunda llamada de una capa con pesos, de quién son."""
    if step.params:
        return f"{integer(step.params)} parámetro" + ("s" if step.params != 1 else "")
    if step.module is not None and any(True for _ in model.get_submodule(step.module).parameters()):
        return f"pesos de {step.module}"  # la misma capa otra vez: comparte los pesos, no suma
    return "sin parámetros"


def _short(text, limit):
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _title_line(step):
    """(nombre, tipo) de la primera línea de una caja, recortados para que no se pisen.

    Una función (F.relu, x.view) ya se llama como lo que hace (relu, relu_1, view): su tipo
    se escribe «función», y el nombre tiene así sitio para ser largo (adaptive_avg_pool2d).
    """
    kind = _short(step.kind, 18) if step.module is not None else "función"
    return _short(step.name, max(8, (160 - 5 * len(kind)) // 6)), kind  # unos 6 pt por letra del nombre, 5 del tipo


def _layout(count, max_rows):
    """(filas, columnas) para `count` cajas: columnas de igual altura, como mucho `max_rows` cajas."""
    columns = math.ceil(count / max_rows)
    return math.ceil(count / columns), columns


def _box(ax, x, y, family, lines, number=None, last=False):
    """Una caja con su esquina superior izquierda en (x, y): arriba nombre y tipo, abajo forma y parámetros."""
    ax.add_patch(FancyBboxPatch((x, y - BOX_H), BOX_W, BOX_H, boxstyle="round,pad=0,rounding_size=0.08",
                                facecolor=family[1], edgecolor="black" if last else "#555555",
                                linewidth=2.2 if last else 1.0))
    (name, kind), (shape, params) = lines
    pad, top, bottom = 0.1, y - 0.2, y - BOX_H + 0.18
    ax.text(x + pad, top, name, fontsize=9.5, fontweight="bold", va="center", ha="left")
    ax.text(x + BOX_W - pad, top, kind, fontsize=8.5, color="#333333", va="center", ha="right")
    ax.text(x + pad, bottom, shape, fontsize=9, family="monospace", va="center", ha="left")
    ax.text(x + BOX_W - pad, bottom, params, fontsize=8.5, color="#333333", va="center", ha="right")
    if number is not None:  # el número de paso, fuera de la caja: el orden se lee aunque haya columnas
        ax.text(x - 0.08, y - BOX_H / 2, str(number), fontsize=8, color="#777777", va="center", ha="right",
                gid="paso")


def _arrow(ax, points):
    """Una flecha que sigue `points` (tramos rectos) y termina con punta en el último."""
    xs, ys = zip(*points)
    ax.plot(xs[:-1], ys[:-1], color="#444444", lw=1.2, solid_capstyle="butt")
    ax.annotate("", xy=points[-1], xytext=points[-2],
                arrowprops={"arrowstyle": "-|>", "color": "#444444", "lw": 1.2, "shrinkA": 0, "shrinkB": 0})


def plot_architecture(model, input_size=None, max_rows=6):
    """Diagrama de `model`: una caja por paso de forward (capas, funciones y cada llamada de una
    capa reutilizada), con su nombre, su tipo, la forma de su salida (sin el lote) y sus
    parámetros, unidas por flechas en el orden en que se ejecutan.

    `input_size` es el lado de las imágenes (28) o (canales, alto, ancho); por defecto, el
    `input_size` del modelo. Las cajas van en columnas de como mucho `max_rows`, que se leen
    de arriba abajo y de izquierda a derecha; la caja de borde grueso es la salida. Devuelve
    una `Figure` que Jupyter muestra sola. Si un paso no encaja, el error dice cuál.
    """
    shape = input_shape(model, input_size)
    steps = capture(model, torch.zeros(1, *shape))
    boxes = [(INPUT, (("entrada", "imagen"), ("x".join(map(str, shape)), "")))]
    boxes += [(_family(s.kind), (_title_line(s), ("x".join(map(str, s.output.shape[1:])) or "1",
                                                  _params_text(s, model))))
              for s in steps]
    rows, columns = _layout(len(boxes), max_rows)
    width = 2 * MARGIN + columns * BOX_W + (columns - 1) * COL_GAP
    height = TITLE_H + rows * (BOX_H + ROW_GAP) + LEGEND_H
    fig = Figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    top = height - TITLE_H - ROW_GAP / 2  # deja sitio encima de la primera fila para las flechas entre columnas

    def corner(i):
        column, row = divmod(i, rows)
        return MARGIN + column * (BOX_W + COL_GAP), top - row * (BOX_H + ROW_GAP)

    for i, (family, lines) in enumerate(boxes):
        x, y = corner(i)
        _box(ax, x, y, family, lines, number=i or None, last=i == len(boxes) - 1)
        if i == 0:
            continue
        (px, py), (x_mid, px_mid) = corner(i - 1), (x + BOX_W / 2, corner(i - 1)[0] + BOX_W / 2)
        if px == x:  # misma columna: de la caja de arriba a esta
            _arrow(ax, [(x_mid, py - BOX_H), (x_mid, y)])
        else:  # cambio de columna: baja, cruza por el hueco entre columnas, sube y entra por arriba
            low, high, gap = py - BOX_H - ROW_GAP / 2, y + ROW_GAP / 2, px + BOX_W + COL_GAP / 2
            _arrow(ax, [(px_mid, py - BOX_H), (px_mid, low), (gap, low), (gap, high), (x_mid, high), (x_mid, y)])

    total = sum(s.params for s in steps)
    ax.text(MARGIN, height - TITLE_H / 2 - 0.05, f"{type(model).__name__}: {len(steps)} etapas, "
            f"{integer(total)} parámetros", fontsize=12, fontweight="bold", va="center", ha="left")
    seen = []
    for family, _ in boxes[1:]:
        if family not in seen:
            seen.append(family)
    handles = [FancyBboxPatch((0, 0), 1, 1, facecolor=color, edgecolor="#555555") for _, color in seen]
    fig.legend(handles, [name for name, _ in seen], loc="lower center", ncol=math.ceil(len(seen) / 2), fontsize=8.5,
               frameon=False, handlelength=1.2, columnspacing=1.2, bbox_to_anchor=(0.5, 0.0))
    chain = " → ".join(f"{s.name} ({'x'.join(map(str, s.output.shape[1:])) or '1'})" for s in steps)
    return described(fig, f"Diagrama de {type(model).__name__}: {len(steps)} etapas y {integer(total)} parámetros, "
                          f"de la entrada ({'x'.join(map(str, shape))}) a la salida: {chain}.")
