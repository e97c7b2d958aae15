"""Las fotos del entrenamiento en vivo (`live.LiveTraining.timeline`): qué guarda cada una y cómo se mide.

Cada `every` pasos, con el cerrojo de los pesos cogido, el motor copia lo que hay (`copy_state`,
`conv_grads`, las medias de los últimos pasos con `mean`) en una foto (`new_shot`), y el hilo de
medir le pone después su acierto, su pérdida y sus probabilidades en las imágenes fijas de
validación (`measure`, con una copia de la red: nunca la que se entrena). Así el entrenamiento no
espera a esas 200 pasadas (medido: midiendo en el mismo hilo, grabar la timeline costaba un 18 % del
entrenamiento); hasta que se mide, una foto tiene val_acc, val_loss y probs a None. La del paso 0
enseña ya el primer lote sin entrenar (`first_batch`) y se mide enseguida. Todo vuelve a la CPU,
copiado: una foto no cambia aunque la red siga entrenando.
"""

import torch

from .capture import TRACING
from .runner import inspecting, keep_rng, log_probabilities, outputs, probabilities

__all__ = ["copy_state", "conv_grads", "mean", "first_batch", "new_shot", "measure"]


def copy_state(model):
    """Todos los pesos de la red (su state_dict), copiados a la CPU."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def conv_grads(model, layers):
    """El gradiente de los pesos de cada convolución de `layers`, copiado a la CPU (ceros si aún no hay)."""
    modules = dict(model.named_modules())
    grads = {}
    for name in layers:
        grad = modules[name].weight.grad
        grads[name] = torch.zeros_like(modules[name].weight, device="cpu") if grad is None \
            else grad.detach().to("cpu", copy=True)
    return grads


def mean(values):
    """La media de los últimos pasos (pérdida o acierto), o None si aún no hay ninguno."""
    return sum(values) / len(values) if values else None


def first_batch(model, layers, images, labels):
    """Pérdida, acierto y gradientes de cada convolución de `layers` para el primer lote, sin entrenar.

    En modo eval (sin dropout ni tocar las estadísticas de BatchNorm) y con `autograd.grad`, que no
    deja nada en `.grad`: el panel del paso 0 ya enseña hacia dónde empujará el primer paso (sin
    esto, el paso 0 guardaba ceros: aún no había habido ningún backward).
    """
    modules = dict(model.named_modules())
    weights = [modules[name].weight for name in layers]
    wanted = [w for w in weights if w.requires_grad]
    with keep_rng(), inspecting(model), torch.enable_grad():
        output = model(images)
        loss = torch.nn.functional.nll_loss(log_probabilities(output), labels)
        found = torch.autograd.grad(loss, wanted, allow_unused=True) if wanted and loss.requires_grad \
            else [None] * len(wanted)
    found = iter(found)
    grads = {}
    for name, weight in zip(layers, weights):
        grad = next(found) if weight.requires_grad else None
        grads[name] = torch.zeros_like(weight, device="cpu") if grad is None else grad.detach().to("cpu")
    hits = float((output.detach().argmax(dim=1) == labels).float().mean())
    return float(loss.detach()), hits, grads


def new_shot(*, step, epoch, loss, train_acc, grads, state, layers, lr, batch_size, optimizer, seconds):
    """Una foto (diccionario), aún sin medir en validación.

    step, epoch, loss y train_acc (medias de los últimos `every` pasos; en el paso 0, los del
    primer lote sin entrenar), val_acc y val_loss (sobre las imágenes fijas de validación; None
    durante unos milisegundos, hasta que el hilo de medir las calcula), first_conv (pesos de la
    primera convolución), weights y grads (de cada convolución; en el paso 0, los gradientes del
    primer lote, en modo eval), probs (probabilidades de cada imagen fija, también None hasta
    medirla), state (todos los pesos), lr, batch_size, optimizer y seconds (tiempo de
    entrenamiento acumulado).
    """
    weights = {name: state[f"{name}.weight"] for name in layers}
    return {
        "step": step, "epoch": epoch, "loss": loss, "train_acc": train_acc, "val_acc": None,
        "val_loss": None, "first_conv": weights[layers[0]] if layers else None,
        "weights": weights, "grads": grads, "probs": None, "state": state, "lr": lr,
        "batch_size": batch_size, "optimizer": optimizer, "seconds": seconds,
    }


def measure(probe, state, images, labels):
    """{probs, val_acc, val_loss} de los pesos `state` en las imágenes fijas de validación, cargados en
    la copia `probe` de la red (nunca la red que se entrena: así se mide sin parar el entrenamiento)."""
    with TRACING.reading():
        probe.load_state_dict(state)
        output = outputs(probe, images).float()
    probs = probabilities(output)
    return {"probs": probs, "val_acc": float((probs.argmax(dim=1) == labels).float().mean()),
            "val_loss": float(torch.nn.functional.nll_loss(log_probabilities(output), labels))}
