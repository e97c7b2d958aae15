"""Comprobar que una red encaja con los dígitos: que acepta sus imágenes y devuelve [N, 10].

PyTorch avisa de estos fallos en inglés y desde muy dentro («mat1 and mat2 shapes cannot be
multiplied», «Expected input batch_size (83) to match target batch_size (256)»). Aquí se
traducen a una frase que nombra el paso de la red que falla y las formas que ve, la misma
clase de mensaje que dan `summary` y `activations` (vía `capture.StepError`). La forma de la
salida la comprueba `runner.check_output`, que usan todas las herramientas.
"""

import math

import torch

from .capture import TRACING, capture
from .errors import TrazosValueError
from .runner import NUM_CLASSES, _described, as_images, check_output, device_of, dtype_of, inspecting

__all__ = ["NUM_CLASSES", "check_output", "check_network"]


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
    images = as_images(images).to(device_of(model), dtype_of(model))
    with inspecting(model):
        try:
            with TRACING.reading():  # otro hilo podría estar leyendo otra red con fx (ver capture.TRACING)
                output = model(images)
        except Exception:  # se repite paso a paso solo para saber en cuál falla
            capture(model, images)  # lanza StepError con el nombre del paso y las formas
            raise  # si paso a paso no falla, el error original es lo más útil
        mixed = isinstance(output, torch.Tensor) and (output.ndim == 0 or output.shape[0] != len(images))
        found = _mixing_step(model, images) if mixed else None
    if found is not None:
        step, before = found
        values = math.prod(before)
        raise TrazosValueError(f"El paso {step.name!r} ({step.kind}) mezcla las imágenes del lote: le llegan "
                               f"{len(images)} de forma {'x'.join(map(str, before))} ({values} valores cada una) "
                               f"y devuelve {_described(step.output.shape, len(images))}. Para aplanar sin "
                               f"mezclarlas usa x.flatten(1) o x.view(x.size(0), -1), y que la nn.Linear "
                               f"siguiente espere {values} entradas.")
    return check_output(output, len(images))
