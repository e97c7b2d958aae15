"""Tamaños: la fórmula de salida de una convolución y la tabla de pasos de cualquier red.

Aquí vive la cuenta que el curso repite en cada capa, ⌊(n + 2p − k) / s⌋ + 1, como número
(`conv_output_size`), como texto con los números puestos (`conv_formula`) y aplicada a una
red entera (`summary`, y `network_shapes` para otros ajustes de padding y stride).
"""

import copy
import math
import warnings

import torch
from torch import nn

from .capture import capture
from .runner import keep_rng
from .models import input_shape
from .errors import TrazosValueError
from .numbers import integer

__all__ = ["conv_output_size", "conv_formula", "summary", "ShapeTable", "network_shapes"]


def conv_output_size(n, kernel_size, padding=0, stride=1, dilation=1):
    """Lado de la salida de una convolución (o de un pooling) sobre una entrada de lado `n`.

    salida = floor((n + 2p - d(k - 1) - 1) / s) + 1, que con d=1 es floor((n + 2p - k) / s) + 1.
    Ejemplo del curso: n=28, k=3, p=1, s=1 -> floor((28 + 2 - 3) / 1) + 1 = 28.
    """
    for name, value, minimum in [("n", n, 1), ("kernel_size", kernel_size, 1), ("padding", padding, 0),
                                 ("stride", stride, 1), ("dilation", dilation, 1)]:
        if not isinstance(value, int) or value < minimum:
            raise TrazosValueError(f"{name} debe ser un entero >= {minimum}; se recibió {value!r}.")
    effective_kernel = dilation * (kernel_size - 1) + 1  # lo que abarca el kernel con huecos
    if n + 2 * padding < effective_kernel:
        raise TrazosValueError(
            f"El kernel ({effective_kernel}x{effective_kernel} con dilatación) no cabe en la entrada "
            f"de lado {n} con padding {padding}: usa un kernel menor o más padding."
        )
    return math.floor((n + 2 * padding - effective_kernel) / stride) + 1


def conv_formula(n, kernel_size, padding=0, stride=1):
    """La fórmula del tamaño de salida con los números puestos, como texto.

    salida = ⌊(n + 2p - k) / s⌋ + 1; p. ej. n=16, k=3, p=1, s=1 da ⌊(16 + 2·1 - 3) / 1⌋ + 1 = 16.
    """
    out = conv_output_size(n, kernel_size, padding, stride)  # valida y da ValueError en español
    inner = n + 2 * padding - kernel_size
    return (f"salida = ⌊(n + 2p − k) / s⌋ + 1 = ⌊({n} + 2·{padding} − {kernel_size}) / {stride}⌋ + 1 "
            f"= ⌊{inner} / {stride}⌋ + 1 = {inner // stride} + 1 = {out}")


class ShapeTable(list):
    """Lista de filas (paso, tipo, forma de salida, parámetros) que se imprime como tabla."""

    @property
    def total_params(self):
        return sum(row["params"] for row in self)

    def __str__(self):
        header = ("etapa", "tipo", "forma de salida", "parámetros")
        rows = [(r["name"], r["type"], "x".join(map(str, r["shape"])), integer(r["params"])) for r in self]
        rows.append(("total", "", "", integer(self.total_params)))
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        fmt = "  ".join("{:<%d}" % w for w in widths[:-1]) + "  {:>%d}" % widths[-1]
        lines = [fmt.format(*header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        lines += [fmt.format(*r) for r in rows]
        return "\n".join(lines)

    def __repr__(self):
        return str(self)


def summary(model, input_size=None):
    """Tabla de cualquier `nn.Module`: cada paso de forward con su forma de salida (sin el lote)
    y sus parámetros, también las funciones (F.relu, x.view) y cada uso de un módulo reutilizado.

    `input_size` es (canales, alto, ancho) o un lado; si se omite, 1 x L x L con L = model.input_size.
    Si un paso no encaja (p. ej. la `Linear` tras cambiar el padding), el ValueError dice cuál.
    """
    # Una imagen de ceros basta: las formas no dependen de los valores.
    steps = capture(model, torch.zeros(1, *input_shape(model, input_size)))
    return ShapeTable({"name": s.name, "type": s.kind, "shape": tuple(s.output.shape[1:]), "params": s.params}
                      for s in steps)


def _with_conv_settings(model, kernel_size, padding, stride):
    """Copia de `model` con todas sus Conv2d cambiadas a (kernel_size, padding, stride)."""
    net = copy.deepcopy(model)
    for name, module in list(net.named_modules()):
        if isinstance(module, nn.Conv2d):
            parent_name, _, child = name.rpartition(".")
            parent = net.get_submodule(parent_name) if parent_name else net
            setattr(parent, child, nn.Conv2d(module.in_channels, module.out_channels, kernel_size,
                                             stride=stride, padding=padding, device=module.weight.device))
    return net


def network_shapes(n, kernel_size, padding=1, stride=1, model=None):
    """Tabla de formas (`summary`) de la red con esos ajustes en todas sus Conv2d.

    Devuelve (tabla, aviso). Si la primera Linear ya no recibe lo que espera, la tabla se
    calcula con una Linear que se adapta (LazyLinear) y el aviso explica el desajuste; si la
    red no puede ni llegar a la Linear, la tabla es None y el aviso dice qué paso falla.
    """
    conv_output_size(n, kernel_size, padding, stride)  # valida los números
    # Las capas nuevas sortean sus pesos: con keep_rng, mover el deslizador del explorador de
    # padding no cambia lo que sale después en el cuaderno.
    with keep_rng():
        if model is None:
            from .models import build_model
            model = build_model("cnn")
        return _network_shapes(model, n, kernel_size, padding, stride)


def _network_shapes(model, n, kernel_size, padding, stride):
    net = _with_conv_settings(model, kernel_size, padding, stride)
    linear = next(((name, m) for name, m in net.named_modules() if isinstance(m, nn.Linear)), None)
    if linear is not None:
        name, module = linear
        parent_name, _, child = name.rpartition(".")
        parent = net.get_submodule(parent_name) if parent_name else net
        lazy = nn.LazyLinear(module.out_features, device=module.weight.device)
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
