"""Lo que prepara un entrenamiento en vivo (`live.LiveTraining`) antes de que arranque su hilo.

- `make_live_optimizer` y `fresh_weights`: el optimizador y los pesos del paso 0.
- `check_data`, `check_batch_size`: cada argumento, comprobado donde entra y con un mensaje en
  español, antes de que el hilo empiece. Un error que saltara dentro del hilo llegaría tarde
  (en el siguiente `wait()`) y lejos de la celda que lo causó.
- `first_batch`: lo que enseña la foto del paso 0 (pérdida, acierto y gradientes del primer lote);
  vive en `live_shots`, con las demás fotos, y se importa también de aquí.
- `small_data`: unos pocos dígitos, para ver el sobreajuste.
"""

import torch
from torch import nn

from . import data
from .checks import check_network
from .errors import TrazosTypeError, TrazosValueError
from .live_shots import first_batch  # lo que enseña la foto del paso 0, con las demás fotos (live_shots)
from .runner import keep_rng
from .values import learning_rate, positive_int

__all__ = ["OPTIMIZERS", "DEFAULT_LR", "make_live_optimizer", "fresh_weights", "small_data", "check_data",
           "check_batch_size", "check_optimizer", "has_batchnorm", "first_batch"]

OPTIMIZERS = ("sgd", "adam")
# Tasas que aprenden bien con la red del curso en pocos cientos de pasos (lotes de 64).
DEFAULT_LR = {"sgd": 0.1, "adam": 0.002}


def check_optimizer(name):
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise TrazosValueError(f"Optimizador desconocido: {name!r}. Opciones: {', '.join(OPTIMIZERS)}.")
    return name


def make_live_optimizer(model, name="sgd", lr=None):
    """El optimizador del entrenamiento en vivo: SGD sin momento (el de `w -= lr * w.grad`) o Adam.

    Sin programa de tasa (OneCycle): la tasa es la del control y se puede cambiar a mano. Solo
    los parámetros que se entrenan (requires_grad): una capa congelada no se toca.
    """
    check_optimizer(name)
    lr = DEFAULT_LR[name] if lr is None else learning_rate(lr)
    cls = torch.optim.SGD if name == "sgd" else torch.optim.Adam
    trained = [p for p in model.parameters() if p.requires_grad]
    if not trained:
        raise TrazosValueError(f"Todos los parámetros de la red {type(model).__name__} están congelados "
                               "(requires_grad=False): no hay nada que entrenar.")
    return cls(trained, lr=lr)


def fresh_weights(model, seed):
    """Pesos nuevos para `model` a partir de `seed` (el `reset_parameters` de cada capa), sin
    consumir el generador aleatorio global: la misma semilla da siempre la misma red.

    Los parámetros congelados (requires_grad=False, p. ej. una primera convolución puesta a mano)
    se quedan como estaban: el estudiante los fijó a propósito. Devuelve sus nombres.
    """
    frozen = {name: p.detach().clone() for name, p in model.named_parameters() if not p.requires_grad}
    with keep_rng(), torch.no_grad():
        torch.manual_seed(seed)
        for module in model.modules():
            if hasattr(module, "reset_parameters") and callable(module.reset_parameters):
                module.reset_parameters()
        parameters = dict(model.named_parameters())
        for name, value in frozen.items():
            parameters[name].copy_(value)
    return list(frozen)


def small_data(digits, size=300, seed=0):
    """Unos pocos dígitos de `digits` (`size`, al azar pero siempre los mismos): para ver el sobreajuste."""
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(seed))[:size]
    return data.Digits(digits.pixels[order], digits.labels[order])


def has_batchnorm(model):
    """¿Tiene la red alguna BatchNorm que se entrena (en modo train)? Esas no normalizan un lote de 1."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model.modules())


def check_batch_size(model, value):
    """Un tamaño de lote entero >= 1; con 1, la red no puede tener BatchNorm (y se dice por qué)."""
    value = positive_int(value, "El tamaño de lote (batch_size)", what=", por ejemplo 64")
    if value == 1 and has_batchnorm(model):
        raise TrazosValueError("Esta red tiene BatchNorm, que normaliza cada canal con la media y la varianza del "
                               "lote: con una sola imagen no hay varianza que medir. Usa batch_size de 2 o más "
                               "(o congela la BatchNorm con .eval() para que use sus medias guardadas).")
    return value


def _digits(value, name):
    if not (hasattr(value, "pixels") and hasattr(value, "labels")):
        raise TrazosTypeError(f"{name} deben ser unos Digits (trazos.load_mnist(...)); se recibió "
                              f"{type(value).__name__}.")
    if len(value) == 0:
        raise TrazosValueError(f"{name} no tiene ninguna imagen.")
    return value


def check_data(model, train, val):
    """Comprueba que la red acepta las imágenes de entrenamiento y las de validación, del mismo tamaño.

    Las dos, antes de arrancar el hilo: un conjunto de validación de otro tamaño fallaría en el
    hilo de medir, en inglés y después de haber empezado a entrenar.
    """
    if not isinstance(model, nn.Module):
        hint = (f": es la clase; crea la red con paréntesis, {model.__name__}()" if isinstance(model, type)
                else f"; se recibió {type(model).__name__}")
        raise TrazosTypeError(f"model debe ser una red de PyTorch (un nn.Module, como trazos.CNN()){hint}.")
    _digits(train, "Los datos de entrenamiento (train)")
    _digits(val, "Los datos de validación")
    sides = {name: tuple(d.pixels.shape[-2:]) for name, d in (("entrenamiento", train), ("validación", val))}
    if sides["entrenamiento"] != sides["validación"]:
        (h, w), (vh, vw) = sides["entrenamiento"], sides["validación"]
        raise TrazosValueError(f"Las imágenes de entrenamiento son de {h}x{w} y las de validación de {vh}x{vw}: "
                               f"cárgalas del mismo tamaño, p. ej. trazos.load_mnist(train=False, size={h}).")
    check_network(model, train[:2][0])  # una red que no encaja: el error en español, aquí y no en el hilo
