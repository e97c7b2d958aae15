"""Mirar dentro de la red: activaciones de cada etapa, predicciones y matriz de confusión."""

import torch

from .models import stage_names

__all__ = ["activations", "predict", "confusion_matrix", "most_confused", "per_class_accuracy", "check_images"]


def check_images(model, images):
    """Comprueba que `images` es un lote [N, 1, L, L] del tamaño que espera el modelo y lo devuelve.

    Acepta también una imagen suelta [L, L] o [1, L, L] y le añade las dimensiones que faltan.
    """
    if not isinstance(images, torch.Tensor):
        raise ValueError(f"Se esperaba un tensor de imágenes; se recibió {type(images).__name__}.")
    while images.ndim < 4:
        images = images.unsqueeze(0)
    side = getattr(model, "input_size", None)
    if images.ndim != 4 or images.shape[1] != 1 or (side and tuple(images.shape[2:]) != (side, side)):
        expected = f"[N, 1, {side}, {side}]" if side else "[N, 1, alto, ancho]"
        raise ValueError(f"Forma de imágenes no válida: {tuple(images.shape)}. Este modelo espera {expected}.")
    return images


def activations(model, images, stages=None):
    """Salida de cada etapa con nombre (conv1, relu1, pool1, ...) para un lote de imágenes.

    Devuelve un diccionario {nombre: tensor} en el orden en que se ejecutan las etapas.
    Usa forward hooks, que se quitan siempre al terminar, también si algo falla.
    """
    images = check_images(model, images)
    valid = stage_names(model)
    if stages is None:
        stages = valid
    elif isinstance(stages, str):
        stages = [stages]
    unknown = [s for s in stages if s not in valid]
    if unknown or not stages:
        raise ValueError(f"Etapa desconocida o vacía: {unknown or stages!r}. Etapas válidas: {', '.join(valid)}.")
    captured = {}
    modules = dict(model.named_modules())
    handles = []

    def keep(name):
        def hook(_module, _inputs, output):
            captured[name] = output.detach()
        return hook

    was_training = model.training
    try:
        for name in stages:
            handles.append(modules[name].register_forward_hook(keep(name)))
        with torch.no_grad():
            model.eval()  # mirar no es entrenar: sin dropout y con las estadísticas fijas
            model(images)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    return captured


@torch.no_grad()
def predict(model, images, batch_size=1000):
    """Predicción y probabilidades [N, 10] del modelo para `images` (por lotes, sin gradientes).

    softmax sirve igual para logits (CNN) que para log-probabilidades (ClassicCNN).
    """
    images = check_images(model, images)
    was_training = model.training
    model.eval()
    try:
        probs = torch.cat([torch.softmax(model(images[i:i + batch_size]), dim=1)
                           for i in range(0, len(images), batch_size)])
    finally:
        model.train(was_training)
    return probs.argmax(dim=1), probs


def confusion_matrix(labels, predictions, num_classes=10):
    """Matriz [verdadero, predicho] con el número de ejemplos de cada par."""
    labels, predictions = torch.as_tensor(labels).flatten(), torch.as_tensor(predictions).flatten()
    if len(labels) != len(predictions):
        raise ValueError(f"labels ({len(labels)}) y predictions ({len(predictions)}) deben tener la misma longitud.")
    if len(labels) == 0:
        raise ValueError("La selección está vacía: no hay ejemplos con los que contar.")
    # Fuera de rango, bincount sumaría el ejemplo en otra casilla sin avisar (o fallaría en inglés).
    for name, values in (("labels", labels), ("predictions", predictions)):
        if values.min() < 0 or values.max() >= num_classes:
            raise ValueError(f"{name} debe contener clases entre 0 y {num_classes - 1}; "
                             f"hay valores de {int(values.min())} a {int(values.max())}.")
    return torch.bincount(labels * num_classes + predictions, minlength=num_classes ** 2).reshape(num_classes, num_classes)


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
