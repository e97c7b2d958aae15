"""Comprobar que una red encaja con los dígitos: que acepta sus imágenes y devuelve [N, 10].

PyTorch avisa de estos fallos en inglés y desde muy dentro («mat1 and mat2 shapes cannot be
multiplied», «Expected input batch_size (83) to match target batch_size (256)»). Aquí se
traducen a una frase que nombra el paso de la red que falla y las formas que ve, la misma
clase de mensaje que dan `summary` y `activations` (vía `capture.StepError`). Los usan el
entrenamiento (`training.train`) y las predicciones (`inspection.predict`).
"""

import math

import torch

from .capture import capture, eval_mode

__all__ = ["NUM_CLASSES", "check_output", "check_network"]

NUM_CLASSES = 10  # un valor por dígito, del 0 al 9


def _described(shape, batch):
    """[N, 5] si la primera dimensión es el lote; si no, la forma tal cual: [83, 10]."""
    dims = [str(d) for d in shape]
    if dims and shape[0] == batch:
        dims[0] = "N"
    return f"[{', '.join(dims)}]"


def check_output(output, batch):
    """Comprueba que la salida de la red para un lote de `batch` imágenes es [N, 10] y la devuelve.

    Si no, un ValueError en español dice qué forma devuelve la red y qué debería dar.
    """
    if not isinstance(output, torch.Tensor):
        raise ValueError(f"La red devuelve un {type(output).__name__}; debe devolver un tensor [N, {NUM_CLASSES}]: "
                         f"{NUM_CLASSES} valores por imagen, uno por dígito.")
    if output.shape == (batch, NUM_CLASSES):
        return output
    if output.ndim >= 1 and output.shape[0] == batch:
        raise ValueError(f"La red devuelve {_described(output.shape, batch)}; la última capa debe dar "
                         f"{NUM_CLASSES} valores, uno por dígito (por ejemplo nn.Linear(..., {NUM_CLASSES})), "
                         f"y devolver [N, {NUM_CLASSES}].")
    images = "1 imagen" if batch == 1 else f"{batch} imágenes"
    raise ValueError(f"Para un lote de {images} la red devuelve {_described(output.shape, batch)}: "
                     f"debería devolver [{batch}, {NUM_CLASSES}], una fila por imagen. Algún paso mezcla las "
                     "imágenes del lote; suele ser un x.view(-1, ...) con un número que no corresponde a la "
                     "entrada: x.flatten(1) o x.view(x.size(0), -1) no las mezclan.")


def _mixing_step(model, images):
    """El primer paso cuya salida ya no tiene una fila por imagen, con lo que le llegaba; o None."""
    steps = capture(model, images)
    previous = tuple(images.shape[1:])
    for step in steps:
        shape = tuple(step.output.shape)
        if not shape or shape[0] != len(images):
            return step, previous
        previous = shape[1:]
    return None


def check_network(model, images):
    """Una pasada de prueba de `model` con `images` (un lote pequeño), en modo eval y sin gradientes.

    Si un paso no acepta lo que le llega, `capture.StepError` dice cuál y con qué formas; si
    la salida no es [N, 10], un ValueError dice qué devuelve y, si la red mezcla las imágenes
    del lote, en qué paso. La red vuelve al modo que tenía. Devuelve la salida.
    """
    with eval_mode(model), torch.no_grad():
        try:
            output = model(images)
        except Exception:  # se repite paso a paso solo para saber en cuál falla
            capture(model, images)  # lanza StepError con el nombre del paso y las formas
            raise  # si paso a paso no falla, el error original es lo más útil
        mixed = isinstance(output, torch.Tensor) and (output.ndim == 0 or output.shape[0] != len(images))
        found = _mixing_step(model, images) if mixed else None
    if found is not None:
        step, before = found
        values = math.prod(before)
        raise ValueError(f"El paso {step.name!r} ({step.kind}) mezcla las imágenes del lote: le llegan {len(images)} "
                         f"de forma {'x'.join(map(str, before))} ({values} valores cada una) y devuelve "
                         f"{_described(step.output.shape, len(images))}. Para aplanar sin mezclarlas usa "
                         f"x.flatten(1) o x.view(x.size(0), -1), y que la nn.Linear siguiente espere {values} "
                         "entradas.")
    return check_output(output, len(images))
