"""De dónde sale un valor de una convolución: la ventana de la entrada por el kernel, sumado, más el sesgo.

`explain_value` desglosa un solo número de la salida de una Conv2d de cualquier red: qué ventana
de su entrada ve el kernel en esa posición (con el padding, el stride, la dilatación y los grupos
de la propia capa), los productos uno a uno, su suma y el sesgo, junto al valor que calculó la red
(coinciden). Es aritmética de una capa, sin derivar nada: por eso no está en `attribution`, que la
reexporta. La usan el explorador de activaciones y el cuaderno 11.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .capture import capture
from .errors import TrazosValueError
from .runner import as_images, device_of, to_cpu

__all__ = ["ValueExplanation", "explain_value"]


@dataclass
class ValueExplanation:
    """Un valor de una convolución, desglosado: ventana x kernel, sumados, más el sesgo."""

    layer: str
    channel: int
    row: int
    col: int
    window: torch.Tensor  # [canales de entrada, k, k]: lo que ve el kernel (con los ceros del padding)
    padding: torch.Tensor  # [k, k] bool: True donde la ventana cae en el padding
    kernel: torch.Tensor  # [canales de entrada, k, k]
    products: torch.Tensor  # window * kernel
    total: float  # la suma de los productos
    bias: float
    value: float  # total + bias
    actual: float  # el valor que calculó de verdad la red
    top: int  # fila y columna de la entrada (sin padding) donde empieza la ventana; negativas en el padding
    left: int


def _conv_input(conv, steps, index, image, output):
    """La entrada que recibió la convolución: el último paso anterior (o la imagen) que, pasado por
    ella, da exactamente su salida. Así vale para cualquier red, también con funciones entre capas."""
    candidates = [image] + [step.output for step in steps[:index]]
    device = device_of(conv)
    with torch.no_grad():
        for candidate in reversed(candidates):
            if candidate.ndim == 4 and candidate.shape[1] == conv.in_channels:
                try:
                    result = conv(candidate.to(device)).cpu()
                except RuntimeError:
                    continue
                if result.shape == output.shape and torch.allclose(result, output, atol=1e-5, rtol=1e-4):
                    return candidate
    raise TrazosValueError("No encuentro la entrada de esta convolución entre los pasos de la red.")


def explain_value(model, image, layer, channel, row, col):
    """El valor (`channel`, `row`, `col`) de la salida de la convolución `layer` para `image`, desglosado.

    `layer` es el nombre de un paso Conv2d (conv1; en una capa usada dos veces, conv y conv_1).
    Devuelve un `ValueExplanation`: la ventana de la entrada que ve el kernel en esa posición
    (con el padding y el stride de la capa, y todos sus canales de entrada), el kernel, los
    productos, su suma y el bias; `value` (suma + bias) coincide con `actual`, lo que calculó la red.
    """
    x = as_images(image, model)[:1]
    steps = capture(model, x)
    convs = [s.name for s in steps if s.kind == "Conv2d"]
    if layer not in convs:
        raise TrazosValueError(f"Paso desconocido: {layer!r}. Pasos Conv2d de esta red: "
                               f"{', '.join(convs) or 'ninguno'}.")
    index = next(i for i, s in enumerate(steps) if s.name == layer)
    conv, output = model.get_submodule(steps[index].module), steps[index].output
    _, channels, height, width = output.shape
    for name, value, size in (("channel", channel, channels), ("row", row, height), ("col", col, width)):
        if not isinstance(value, int) or not 0 <= value < size:
            raise TrazosValueError(f"{name} debe ser un entero entre 0 y {size - 1} ({layer} da {channels} mapas "
                                   f"de {height}x{width}); se recibió {value!r}.")
    entry = _conv_input(conv, steps, index, x, output)[0]
    # El padding como lo aplica la propia capa (también padding="same" o padding_mode="reflect").
    pads = conv._reversed_padding_repeated_twice
    mode = "constant" if conv.padding_mode == "zeros" else conv.padding_mode
    padded = F.pad(entry[None], pads, mode=mode)[0] if any(pads) else entry
    outside = F.pad(torch.zeros(1, 1, *entry.shape[1:]), pads, value=1.0)[0, 0].bool()
    (kh, kw), (sh, sw), (dh, dw) = conv.kernel_size, conv.stride, conv.dilation
    top, left = row * sh, col * sw
    rows, cols = slice(top, top + dh * (kh - 1) + 1, dh), slice(left, left + dw * (kw - 1) + 1, dw)
    per_group = conv.in_channels // conv.groups  # con groups > 1, cada filtro ve solo sus canales
    first = channel // (conv.out_channels // conv.groups) * per_group
    window = padded[first:first + per_group, rows, cols]
    kernel = to_cpu(conv.weight[channel]).float()
    products = window * kernel
    bias = float(conv.bias[channel].detach()) if conv.bias is not None else 0.0
    total = float(products.double().sum())
    return ValueExplanation(layer, channel, row, col, window, outside[rows, cols], kernel, products, total, bias,
                            total + bias, float(output[0, channel, row, col]), top - pads[2], left - pads[0])
