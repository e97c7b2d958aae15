"""Mirar dentro de la red: activaciones de cada paso, predicciones, historia de los kernels y
matriz de confusión.

Todo lo que un explorador enseña se calcula aquí con funciones normales, que un cuaderno
también puede llamar.
"""

import numpy as np
import torch
from torch import nn

from . import data
from .capture import capture
from .errors import TrazosValueError
from .models import conv_layers, input_side
from .runner import as_images, check_output, outputs, probabilities

__all__ = ["check_images", "stage_names", "activations", "predict", "output_probabilities", "predict_drawing",
           "run_parts", "kernel_history", "confusion_matrix", "most_confused", "per_class_accuracy", "pair_indices"]


def check_images(model, images):
    """`images` como lote [N, 1, L, L] del tamaño que espera el modelo (`runner.as_images`): acepta
    también una imagen suelta [L, L] o [1, L, L], NumPy y niveles de gris en bytes (uint8)."""
    return as_images(images, model)


def stage_names(model, images=None):
    """Los nombres de los pasos de la red, en orden (conv1, relu1, pool1... o conv1, relu, pool...).

    Se obtienen con una pasada de prueba: sobre `images` si se dan, si no sobre una imagen
    de ceros del lado que espera el modelo.
    """
    if images is None:
        side = input_side(model)
        images = torch.zeros(1, 1, side, side)
    return [step.name for step in capture(model, check_images(model, images)[:1])]


def activations(model, images, stages=None):
    """Salida de cada paso (conv1, relu1, pool1, ...) para un lote de imágenes.

    Devuelve un diccionario {nombre: tensor} en el orden en que se ejecutan los pasos; con
    `stages` (un nombre o una lista), solo esos. La red vuelve al modo (train/eval) que tenía.
    """
    images = check_images(model, images)
    steps = capture(model, images)
    valid = [s.name for s in steps]
    if stages is None:
        stages = valid
    elif isinstance(stages, str):
        stages = [stages]
    unknown = [s for s in stages if s not in valid]
    if unknown or not stages:
        raise TrazosValueError(f"Etapa desconocida o vacía: {unknown or stages!r}. Etapas válidas: {', '.join(valid)}.")
    return {s.name: s.output for s in steps if s.name in stages}


def predict(model, images, batch_size=None):
    """Predicción y probabilidades [N, 10] del modelo para `images` (por lotes, sin gradientes, en la CPU).

    Sirve para cualquier red (`runner.outputs`): las imágenes van al dispositivo de la red y se
    mira en modo eval (cada capa vuelve a su modo). Las probabilidades son de verdad devuelva la
    red logits (CNN), log-probabilidades (ClassicCNN) o probabilidades (una red que termina en
    softmax: no se le aplica otro). Si la red no devuelve [N, 10], el error dice qué devuelve.
    """
    probs = probabilities(outputs(model, images, batch_size))
    return probs.argmax(dim=1), probs


def output_probabilities(output):
    """Probabilidades de las 10 clases a partir de la salida de la red para una imagen (`runner.probabilities`)."""
    output = torch.as_tensor(output).detach().float().flatten()
    check_output(output.unsqueeze(0), 1)  # si no son 10 valores, el mismo mensaje que da predict
    return probabilities(output.unsqueeze(0))[0]


def predict_drawing(model, drawing, side=None):
    """Lee un dibujo (array 2D, trazo claro sobre fondo oscuro, valores 0-255 o 0-1).

    Lo prepara como MNIST (`data.prepare_image`: recorte, centro de masas y el lado del modelo,
    o `side` si la red no tiene input_size) y lo pasa por la red una sola vez. Devuelve un
    diccionario: image (lo que ve la red, [1, 1, L, L]), prediction, probs [10] y
    activations ({paso: salida sin el lote}).
    """
    side = side or input_side(model)
    image = data.prepare_image(np.asarray(drawing, dtype=np.float32), size=side)
    outputs = {name: out[0] for name, out in activations(model, image).items()}
    probs = output_probabilities(list(outputs.values())[-1])  # el último paso es la salida de la red
    return {"image": image, "prediction": int(probs.argmax()), "probs": probs, "activations": outputs}


def run_parts(run):
    """(modelo, checkpoints, historial) de un Run; un nn.Module suelto cuenta como un único
    checkpoint (sus pesos actuales) sin historial."""
    if isinstance(run, nn.Module):
        return run, [{k: v.detach().cpu() for k, v in run.state_dict().items()}], []
    if not hasattr(run, "checkpoints") or not hasattr(run, "model"):
        raise TrazosValueError(f"Se esperaba un Run (trazos.trained_model(...)) o un nn.Module; se recibió "
                         f"{type(run).__name__}.")
    return run.model, run.checkpoints, getattr(run, "history", [])


def kernel_history(run, layer):
    """Los pesos de la capa `layer` en cada checkpoint: array [épocas + 1, O, I, k, k].

    `run` es un Run (trazos.trained_model) o un nn.Module (una sola "época": sus pesos actuales).
    """
    model, checkpoints, _ = run_parts(run)
    valid = conv_layers(model)
    if not valid:
        raise TrazosValueError(f"La red {type(model).__name__} no tiene capas Conv2d: no hay kernels que mostrar.")
    if layer not in valid:
        raise TrazosValueError(f"Capa desconocida: {layer!r}. Capas convolucionales válidas: {', '.join(valid)}.")
    return np.stack([c[f"{layer}.weight"].float().numpy() for c in checkpoints])


def confusion_matrix(labels, predictions, num_classes=10):
    """Matriz [verdadero, predicho] con el número de ejemplos de cada par."""
    labels, predictions = torch.as_tensor(labels).flatten(), torch.as_tensor(predictions).flatten()
    if len(labels) != len(predictions):
        raise TrazosValueError(f"labels ({len(labels)}) y predictions ({len(predictions)}) "
                               "deben tener la misma longitud.")
    if len(labels) == 0:
        raise TrazosValueError("La selección está vacía: no hay ejemplos con los que contar.")
    # Fuera de rango, bincount sumaría el ejemplo en otra casilla sin avisar (o fallaría en inglés).
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.min() < 0 or values.max() >= num_classes:
            raise TrazosValueError(f"{name} debe contener clases entre 0 y {num_classes - 1}; "
                                   f"hay valores de {int(values.min())} a {int(values.max())}.")
    return torch.bincount(labels * num_classes + predictions,
                          minlength=num_classes ** 2).reshape(num_classes, num_classes)


def most_confused(matrix, k=5):
    """Los `k` pares (verdadero, predicho, cuántos) más confundidos, de mayor a menor."""
    errors = matrix.clone()
    errors.fill_diagonal_(0)
    counts, flat = errors.flatten().sort(descending=True)
    n = matrix.shape[0]
    return [(int(i) // n, int(i) % n, int(c)) for c, i in zip(counts[:k], flat[:k]) if c > 0]


def per_class_accuracy(matrix):
    """Acierto de cada dígito: aciertos (diagonal) entre el total de su fila."""
    return matrix.diagonal().double() / matrix.sum(dim=1).clamp(min=1).double()


def pair_indices(labels, predictions, true, pred):
    """Índices de los ejemplos que son `true` y la red clasificó como `pred`."""
    for name, value in (("true", true), ("pred", pred)):
        if value not in range(10):
            raise TrazosValueError(f"{name} debe ser un dígito del 0 al 9; se recibió {value!r}.")
    labels, predictions = torch.as_tensor(labels), torch.as_tensor(predictions)
    return torch.nonzero((labels == true) & (predictions == pred)).flatten().tolist()
