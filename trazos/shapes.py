"""Tamaños: la fórmula de salida de una convolución y la tabla de capas de una red."""

import math

import torch

__all__ = ["conv_output_size", "summary", "ShapeTable"]


def conv_output_size(n, kernel_size, padding=0, stride=1, dilation=1):
    """Lado de la salida de una convolución (o de un pooling) sobre una entrada de lado `n`.

    salida = floor((n + 2p - d(k - 1) - 1) / s) + 1, que con d=1 es floor((n + 2p - k) / s) + 1.
    Ejemplo del curso: n=28, k=3, p=1, s=1 -> floor((28 + 2 - 3) / 1) + 1 = 28.
    """
    for name, value, minimum in [("n", n, 1), ("kernel_size", kernel_size, 1), ("padding", padding, 0),
                                 ("stride", stride, 1), ("dilation", dilation, 1)]:
        if not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} debe ser un entero >= {minimum}; se recibió {value!r}.")
    effective_kernel = dilation * (kernel_size - 1) + 1  # lo que abarca el kernel con huecos
    if n + 2 * padding < effective_kernel:
        raise ValueError(
            f"El kernel ({effective_kernel}x{effective_kernel} con dilatación) no cabe en la entrada "
            f"de lado {n} con padding {padding}: usa un kernel menor o más padding."
        )
    return math.floor((n + 2 * padding - effective_kernel) / stride) + 1


class ShapeTable(list):
    """Lista de filas (capa, tipo, forma de salida, parámetros) que se imprime como tabla."""

    @property
    def total_params(self):
        return sum(row["params"] for row in self)

    def __str__(self):
        header = ("capa", "tipo", "forma de salida", "parámetros")
        rows = [(r["name"], r["type"], "x".join(map(str, r["shape"])), f"{r['params']:,}".replace(",", "."))
                for r in self]
        rows.append(("total", "", "", f"{self.total_params:,}".replace(",", ".")))
        widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
        fmt = "  ".join("{:<%d}" % w for w in widths[:-1]) + "  {:>%d}" % widths[-1]
        lines = [fmt.format(*header), "-" * (sum(widths) + 2 * (len(widths) - 1))]
        lines += [fmt.format(*r) for r in rows]
        return "\n".join(lines)

    def __repr__(self):
        return str(self)


def summary(model, input_size=None):
    """Tabla por capas de cualquier `nn.Module`: forma de salida (sin el lote) y parámetros.

    `input_size` es (canales, alto, ancho); si se omite se usa 1 x L x L con L = model.input_size.
    Si una capa no encaja (p. ej. la `Linear` tras cambiar el padding), el ValueError dice cuál.
    """
    if input_size is None:
        side = getattr(model, "input_size", None)
        if side is None:
            raise ValueError("Indica input_size=(canales, alto, ancho): este modelo no tiene atributo input_size.")
        input_size = (1, side, side)
    leaves = [(name, m) for name, m in model.named_modules() if name and not list(m.children())]
    table = ShapeTable()
    handles = []

    def record(name, module):
        def hook(_module, _inputs, output):
            table.append({"name": name, "type": type(module).__name__, "shape": tuple(output.shape[1:]),
                          "params": sum(p.numel() for p in module.parameters())})
        return hook

    was_training = model.training
    try:
        for name, module in leaves:
            handles.append(module.register_forward_hook(record(name, module)))
        # En modo eval: la pasada de prueba no debe tocar las estadísticas de BatchNorm
        # (que se actualizan incluso sin gradientes) ni fallar con un lote de una imagen.
        model.eval()
        with torch.no_grad():
            try:
                model(torch.zeros(1, *input_size))
            except RuntimeError as error:
                done = [r["name"] for r in table]
                failed = next((n for n, _ in leaves if n not in done), "?")
                last = table[-1]["shape"] if table else tuple(input_size)
                raise ValueError(
                    f"La capa {failed!r} no acepta la salida de la anterior (forma {'x'.join(map(str, last))}). "
                    f"Revisa sus tamaños de entrada. Detalle de PyTorch: {error}"
                ) from None
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return table

