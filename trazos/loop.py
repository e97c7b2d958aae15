"""El bucle de entrenamiento: un paso, una época y evaluar, para cualquier red.

`train_step` es un paso (zero_grad -> forward -> pérdida -> backward -> step); `train_epoch`
recorre los datos una vez; `evaluate` mide pérdida y acierto sin tocar los pesos. Los usan
`training.train` (con su barra de progreso y sus checkpoints), el entrenamiento en vivo del
cuaderno 10 y los bucles que se escriben a mano en el cuaderno 04: todos dan los mismos pesos.

La red pasa por `runner`: modo train solo en las capas que estaban en train, la pérdida bien
calculada devuelva la red logits, log-probabilidades o probabilidades, y las imágenes en el
dispositivo de la red. Sin sorpresas: el truco de velocidad `channels_last` se aplica solo a
las dos redes del curso (se sabe que aplanan con nn.Flatten, que lo admite; un
`x.view(-1, 7 * 7 * 64)` falla con él), y la red vuelve siempre con su dispositivo, su formato
de memoria y el modo de cada capa.
"""

import contextlib
import random

import torch
import torch.nn.functional as F

from . import data, render
from .cpu import fit_threads
from .errors import TrazosTypeError
from .malloc import kept_while_training
from .models import MODELS
from .runner import (as_images, check_output, device_of, eval_batch_size, inspecting, log_probabilities,
                     training_mode)
from .runner import loss as runner_loss

__all__ = ["seed_everything", "pick_device", "loss_fn", "is_course_network", "train_step",
           "train_epoch", "evaluate", "make_optimizer"]


def _before_training():
    """Lo que se hace al empezar a entrenar, no al importar trazos: importar no cambia nada del proceso."""
    fit_threads()  # los hilos que caben en la CPU de este proceso (en un servidor compartido, su parte)


def seed_everything(seed):
    """Misma semilla para Python, NumPy y PyTorch: el mismo entrenamiento da el mismo resultado."""
    random.seed(seed)
    torch.manual_seed(seed)
    try:
        import numpy as np
        np.random.seed(seed)
    except ImportError:  # pragma: no cover
        pass


def pick_device():
    """CUDA si hay GPU de NVIDIA, MPS en un Mac con Apple Silicon, y si no la CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def loss_fn(output, labels, model=None):
    """Pérdida de entropía cruzada, sea la salida logits (CNN), log-probabilidades (ClassicCNN) o
    probabilidades (una red que termina en softmax): `runner.loss`.

    cross_entropy(z) = nll_loss(log_softmax(z)), y log_softmax de unas log-probabilidades
    las deja igual: una sola función sirve para las dos redes del curso.
    """
    return runner_loss(output, labels, model)


def is_course_network(model):
    """¿Es `model` una de las dos redes del curso (CNN o ClassicCNN, no una subclase)?

    Solo con ellas se sabe que `channels_last` es seguro: una subclase puede cambiar forward.
    """
    return type(model) in MODELS.values()


def _memory_format(model):
    """channels_last si algún peso 4D de la red está guardado así; si no, el formato normal."""
    for p in model.parameters():
        if p.ndim == 4 and not p.is_contiguous() and p.is_contiguous(memory_format=torch.channels_last):
            return torch.channels_last
    return torch.contiguous_format


def _input_format(model):
    """Formato de memoria de las imágenes: channels_last solo para una red del curso que ya lo usa."""
    if is_course_network(model) and _memory_format(model) == torch.channels_last:
        return torch.channels_last
    return torch.preserve_format


@contextlib.contextmanager
def _lent(model, device, fast):
    """La red, prestada al bucle: en `device` (y en channels_last si `fast`) mientras dura el bloque.

    Al salir, también si algo falla, vuelve con el dispositivo y el formato de memoria que
    tenía (el modo de cada capa lo guardan `runner.training_mode` y `runner.inspecting`):
    quien la pasó la recupera como era, solo con otros pesos.
    """
    home, layout = device_of(model), _memory_format(model)
    model.to(device)
    if fast:
        model.to(memory_format=torch.channels_last)
    try:
        yield model
    finally:
        model.to(home)
        if fast:
            model.to(memory_format=layout)


def train_step(model, images, labels, optimizer, scheduler=None):
    """Un paso de entrenamiento sobre un lote: zero_grad -> forward -> pérdida -> backward -> step.

    Devuelve (pérdida, aciertos del lote). La red debe estar ya en modo train
    (`runner.training_mode`) y las imágenes en su dispositivo. Lo usan `train_epoch` y el
    entrenamiento en vivo (`widgets.training_explorer`): los dos dan los mismos pesos.
    """
    optimizer.zero_grad()
    output = check_output(model(images), len(labels))
    loss = loss_fn(output, labels, model)
    loss.backward()
    optimizer.step()
    if scheduler is not None:
        scheduler.step()
    return loss.item(), (output.argmax(dim=1) == labels).sum().item()


def train_epoch(model, digits, optimizer, scheduler=None, batch_size=128, generator=None, device=None, bar=None):
    """Una época: para cada lote, zero_grad -> forward -> pérdida -> backward -> step (`train_step`).

    Devuelve (pérdida media, acierto) sobre los ejemplos de entrenamiento vistos. Se entrena en
    modo train solo lo que estaba en train (una BatchNorm congelada con `.eval()` sigue así) y,
    al terminar, cada capa vuelve a su modo. Las imágenes van al dispositivo de la red, en
    channels_last solo si la red es del curso y ya está en ese formato.
    """
    _before_training()
    device = torch.device(device) if device else device_of(model)
    layout = _input_format(model)
    total_loss, correct, seen = 0.0, 0, 0
    with training_mode(model), kept_while_training():
        for images, labels in data.batches(digits, batch_size, shuffle=True, generator=generator):
            if len(labels) == 1 and seen:
                continue  # un último lote de 1 imagen: BatchNorm en modo train no puede normalizarlo
            images = images.to(device, memory_format=layout)
            loss, hits = train_step(model, images, labels.to(device), optimizer, scheduler)
            total_loss += loss * len(labels)
            correct += hits
            seen += len(labels)
            if bar is not None:
                bar.update(len(labels))
                bar.set_postfix(pérdida=render.decimal(total_loss / seen, 3), acierto=render.percent(correct / seen, 1),
                                refresh=False)
    return total_loss / seen, correct / seen


def evaluate(model, digits, batch_size=None, device=None):
    """Pérdida media y acierto del modelo sobre `digits`, en modo eval y sin tocar los pesos.

    La red vuelve con el dispositivo, el formato de memoria y el modo que tenía. Lotes de 256
    imágenes de 16x16, como en `predict` (más grandes no van más deprisa y ocupan más memoria), y
    de menos si las imágenes son más grandes (`eval_batch_size`).
    """
    if not (hasattr(digits, "pixels") and hasattr(digits, "labels")):
        raise TrazosTypeError(f"evaluate necesita unos Digits (trazos.load_mnist(...)), con imágenes y etiquetas; "
                              f"se recibió {type(digits).__name__}.")
    batch_size = batch_size or eval_batch_size(digits.pixels.shape[-1])
    device = torch.device(device) if device else device_of(model)
    total_loss, correct = 0.0, 0
    with _lent(model, device, fast=is_course_network(model)), inspecting(model):
        layout = _input_format(model)
        for images, labels in data.batches(digits, batch_size):
            images = as_images(images, model).to(device, memory_format=layout)
            labels = labels.to(device)
            output = check_output(model(images), len(labels))
            # la misma pérdida que al entrenar, también para una red que termina en softmax
            total_loss += F.nll_loss(log_probabilities(output), labels, reduction="sum").item()
            correct += (output.argmax(dim=1) == labels).sum().item()
    return total_loss / len(digits), correct / len(digits)


def make_optimizer(model, steps, max_lr=0.02, weight_decay=0.0):
    """(optimizador, programa) de la receta: AdamW con la tasa de OneCycle para `steps` pasos.

    OneCycle sube la tasa de max_lr/25 hasta max_lr y luego la baja casi a cero: converge en
    pocas épocas. El weight decay de AdamW encoge cada peso un poco en cada paso (w -= lr·wd·w),
    lo que frena los pesos grandes que solo sirven para memorizar el entrenamiento.
    """
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr / 25, weight_decay=weight_decay)
    return optimizer, torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=steps)
