"""¿Qué mira la red? De dónde sale cada decisión, qué hace falta para cambiarla y de dónde sale cada valor.

- `saliency`: cuánto cambia la salida de un dígito al tocar cada píxel (el gradiente).
- `occlusion`: cuánto baja esa salida (o su probabilidad) al tapar un trozo de la imagen.
- `grad_cam`: qué zonas de los mapas de una capa pesan en la decisión (Grad-CAM), y `upsample`
  para verlo sobre la imagen.
- `adversarial`: el cambio más pequeño, casi invisible, que hace que la red lea otro dígito.
- `class_image` y `filter_image`: la imagen que más puntúa un dígito, o que más enciende un filtro.
- `explain_value`: de dónde sale un valor de una convolución: ventana por kernel, más el sesgo
  (vive en `conv_value`, porque no deriva nada; se importa también de aquí).

Sirven para cualquier red (también la de un estudiante, termine en logits, `log_softmax` o
`softmax`): como en Captum, se explica «lo que devuelve la red». Las imágenes entran por
`runner.as_images` y van al dispositivo de la red; los resultados vuelven a la CPU. Al terminar,
la red queda como estaba: cada capa en su modo, sin hooks, sin gradientes guardados en sus
pesos (se usa `torch.autograd.grad`, que no toca `.grad`) y sin consumir el generador aleatorio
global. `saliency`, `occlusion` y `grad_cam` dan los mismos números que Captum (lo comprueban
las pruebas), pero escritos a mano, en pocas líneas, para poder leerlos.
"""

import contextlib
import itertools
import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .conv_value import ValueExplanation, explain_value  # de dónde sale un valor (sin derivar), aquí también
from .errors import TrazosValueError
from .models import input_side
from .runner import (MEAN, STD, NUM_CLASSES, as_images, check_output, device_of, dtype_of, eval_mode, inspecting,
                     keep_rng, log_probabilities, output_kind, outputs, probabilities, to_cpu)
from .values import positive_int, positive_number

__all__ = ["BLACK", "WHITE", "saliency", "occlusion", "grad_cam", "upsample", "adversarial", "Adversarial",
           "class_image", "filter_image", "explain_value", "ValueExplanation", "find_layer", "targets_for"]

BLACK, WHITE = (0 - MEAN) / STD, (1 - MEAN) / STD  # un píxel negro y uno blanco, ya normalizados


# --- Piezas comunes -----------------------------------------------------------------------------

@contextlib.contextmanager
def _differentiating(model):
    """Para derivar: modo eval (sin dropout), gradientes encendidos y el generador global intacto."""
    with keep_rng(), eval_mode(model), torch.enable_grad():
        yield


def _batch(model, images):
    return as_images(images, model).to(device_of(model))


def _scores(model, x):
    """Lo que devuelve la red para `x`, comprobado: un tensor [N, 10] (si no, el error en español de
    `runner.check_output`, también cuando se da `target`: una tupla o un diccionario no se explican)."""
    return check_output(model(x), len(x))


def _target_error(target, count):
    shown = target.tolist() if isinstance(target, torch.Tensor) else target
    return TrazosValueError(f"target debe ser un dígito del 0 al 9 (un entero, como target=7) o uno por imagen "
                            f"({count}: una lista o un tensor de enteros); se recibió {shown!r}.")


def targets_for(model, images, target=None):
    """El dígito que se explica en cada imagen: tensor [N]. `None`, el que predice la red.

    La salida de la red se comprueba igual se dé `target` o no (`runner.check_output`)."""
    images = as_images(images, model)
    with inspecting(model):
        predicted = _scores(model, images[:1].to(device_of(model)))  # [1, 10] o el error, con target o sin él
    if target is None:
        return outputs(model, images).argmax(dim=1) if len(images) > 1 else to_cpu(predicted).argmax(dim=1)
    if isinstance(target, (str, bytes, float, bool)) or (isinstance(target, torch.Tensor) and (
            target.is_floating_point() or target.dtype == torch.bool)):
        raise _target_error(target, len(images))
    try:
        values = torch.as_tensor(target)
    except (TypeError, ValueError, RuntimeError):
        raise _target_error(target, len(images)) from None
    if values.is_floating_point() or values.dtype == torch.bool or values.is_complex():
        raise _target_error(target, len(images))
    values = values.to(torch.long).flatten().cpu()
    if len(values) == 1:
        values = values.expand(len(images))
    if len(values) != len(images) or bool((values < 0).any() or (values >= NUM_CLASSES).any()):
        raise _target_error(target, len(images))
    return values.clone()


def _picked(output, target):
    """output[i, target[i]] de cada imagen: la puntuación que se explica."""
    return output.gather(1, target.to(output.device)[:, None])[:, 0]


def find_layer(model, layer=None, kind=nn.Conv2d):
    """(nombre, módulo) de una capa: `layer` es su nombre o el módulo; `None`, la última Conv2d."""
    named = [(name, m) for name, m in model.named_modules() if name and isinstance(m, kind)]
    if layer is None:  # la última de su tipo
        if not named:
            raise TrazosValueError(f"La red {type(model).__name__} no tiene capas {kind.__name__}.")
        return named[-1]
    for name, module in model.named_modules():  # una capa elegida puede ser de cualquier tipo
        if name and (module is layer or (isinstance(layer, str) and name == layer)):
            return name, module
    what = "un nombre de capa (texto) o una capa de la red" if not isinstance(layer, (str, nn.Module)) else ""
    raise TrazosValueError(f"Capa desconocida: {layer!r}{' (se espera ' + what + ')' if what else ''}. Capas "
                           f"{kind.__name__} de esta red: {', '.join(n for n, _ in named) or 'ninguna'}.")


# --- Saliencia, oclusión y Grad-CAM -------------------------------------------------------------

def saliency(model, images, target=None):
    """|d salida[target] / d píxel| de cada imagen: [N, H, W] (como `captum.attr.Saliency`, abs=True).

    Un valor alto dice que tocar ese píxel cambia mucho la puntuación del dígito `target`
    (por defecto, el que predice la red). Es una derivada: mira un cambio diminuto, no qué pasa
    si el píxel desaparece (eso es `occlusion`).
    """
    x = _batch(model, images)
    target = targets_for(model, x, target)
    with _differentiating(model):
        x = x.clone().requires_grad_(True)
        (gradient,) = torch.autograd.grad(_picked(_scores(model, x), target).sum(), x)
    return to_cpu(gradient.abs()[:, 0])


def _patch_masks(height, width, window, stride):
    """Una máscara [P, H, W] por posición del parche, como las recorre Captum: ceil((H - w) / s) + 1
    posiciones por lado; si la última se sale de la imagen, se recorta."""
    rows = [i * stride for i in range(max(math.ceil((height - window) / stride), 0) + 1)]
    cols = [j * stride for j in range(max(math.ceil((width - window) / stride), 0) + 1)]
    masks = torch.zeros(len(rows) * len(cols), height, width)
    for k, (r, c) in enumerate(itertools.product(rows, cols)):
        masks[k, r:r + window, c:c + window] = 1
    return masks


def occlusion(model, images, target=None, window=4, stride=2, baseline=None, probability=False):
    """Cuánto baja la salida del dígito `target` al tapar cada parche de `window`x`window`: [N, H, W].

    El parche se pinta de `baseline` (por defecto, negro: el fondo de MNIST) y recorre la imagen
    de `stride` en `stride` píxeles; cada píxel recibe la media de las bajadas de los parches
    que lo tapan (como `captum.attr.Occlusion`). Con `probability=True`, la bajada es de la
    probabilidad (0,9 -> 0,2 es 0,7), que se lee mejor; si no, de lo que devuelve la red.
    """
    x = _batch(model, images)
    target = targets_for(model, x, target)
    side = min(x.shape[2], x.shape[3])
    window = positive_int(window, "window", maximum=side, what=f" (el lado del parche, en píxeles; la imagen "
                                                                 f"es de {x.shape[2]}x{x.shape[3]})")
    stride = positive_int(stride, "stride", maximum=side, what=" (cuántos píxeles avanza el parche)")
    baseline = BLACK if baseline is None else baseline
    masks = _patch_masks(x.shape[2], x.shape[3], window, stride).to(x.device, x.dtype)
    score = probabilities if probability else (lambda output: output)
    maps = []
    with inspecting(model):
        for image, digit in zip(x, target):
            # [P, 1, H, W]: la imagen P veces, cada una con un parche tapado
            covered = image * (1 - masks[:, None]) + baseline * masks[:, None]
            base = score(_scores(model, image[None]))[0, digit]
            drops = torch.cat([base - score(_scores(model, part))[:, digit] for part in covered.split(256)])
            maps.append((drops[:, None, None] * masks).sum(0) / masks.sum(0))
    return to_cpu(torch.stack(maps))


def grad_cam(model, images, target=None, layer=None):
    """Grad-CAM: [N, h, w] a la resolución de la capa `layer` (por defecto, la última Conv2d).

    Cada mapa de la capa pesa lo que la salida del dígito `target` sube, de media, cuando
    ese mapa sube (la media de su gradiente); se suman los mapas con esos pesos y se quita lo
    negativo. Da los mismos números que `captum.attr.LayerGradCam` (con su ReLU). Es grueso:
    tiene el tamaño de los mapas de la capa (8x8 en la red del curso); `upsample` lo agranda.
    """
    name, module = find_layer(model, layer)
    x = _batch(model, images)
    target = targets_for(model, x, target)
    seen = []

    def keep(_module, _inputs, output):
        if not isinstance(output, torch.Tensor):
            return output  # se explica abajo: no son mapas
        # Se deriva respecto a los mapas mismos (una hoja nueva), como Captum: así vale también para
        # una capa congelada (requires_grad=False) al principio de la red, cuyos mapas no tendrían grafo.
        maps = output.detach().requires_grad_(True)
        seen.append(maps)
        return maps.clone()  # lo que sigue usa la copia: una ReLU(inplace=True) no pisa los mapas guardados

    handle = module.register_forward_hook(keep)
    try:
        with _differentiating(model):
            scores = _picked(_scores(model, x), target)
            if not seen:
                raise TrazosValueError(f"La capa {name!r} no se usa en el forward de la red (o no devuelve un "
                                       "tensor): elige una de las que dan mapas, "
                                       f"{', '.join(n for n, _ in _map_layers(model)) or 'ninguna'}.")
            maps = seen[-1]  # si la capa se usa dos veces, la última
            if maps.ndim != 4:
                raise TrazosValueError(
                    f"La capa {name!r} da {list(maps.shape)}, sin mapas [N, canales, alto, ancho]: Grad-CAM "
                    "necesita una capa con mapas (una convolución, su ReLU o un pooling). Capas Conv2d de esta "
                    f"red: {', '.join(n for n, _ in _map_layers(model)) or 'ninguna'}.")
            (gradient,) = torch.autograd.grad(scores.sum(), maps)
    finally:
        handle.remove()
    weights = gradient.mean(dim=(2, 3), keepdim=True)  # un peso por mapa
    return to_cpu(F.relu((weights * maps.detach()).sum(dim=1)))


def _map_layers(model):
    return [(name, m) for name, m in model.named_modules() if name and isinstance(m, nn.Conv2d)]


def upsample(maps, side):
    """Mapas [N, h, w] agrandados (interpolación bilineal) a `side`x`side`, para verlos sobre la imagen."""
    maps = torch.as_tensor(maps).float()
    return F.interpolate(maps[:, None], size=(side, side), mode="bilinear", align_corners=False)[:, 0]


# --- Engañar a la red ---------------------------------------------------------------------------

@dataclass
class Adversarial:
    """Una imagen que la red lee como otro dígito: la imagen nueva, lo que lee y el cambio."""

    image: torch.Tensor  # [1, H, W], normalizada como las de load_mnist
    prediction: int  # lo que lee la red en la imagen nueva
    perturbation: torch.Tensor  # imagen nueva - original, [1, H, W]
    original: int  # lo que leía antes
    probs: torch.Tensor  # probabilidades [10] de la imagen nueva
    eps: float  # el cambio máximo de un píxel, de 0 (nada) a 1 (de negro a blanco)
    changed: bool  # ¿cambió la predicción?


def adversarial(model, image, target=None, eps=0.25, steps=10, tries=10):
    """El cambio más pequeño de la imagen (ningún píxel más de `eps`, en una escala 0-1) que hace
    que la red lea otro dígito (o `target`, si se da).

    Se prueban `tries` tamaños, de eps/tries a eps. Con cada uno: un paso de FGSM (cada píxel
    se mueve el tamaño entero en el sentido que más baja la puntuación de lo que ve la red, el
    signo del gradiente) y, si no basta, hasta `steps` pasos más pequeños sin salir de ese
    tamaño ni del rango de un píxel. Se devuelve el primero que cambia la predicción.
    """
    eps = positive_number(eps, "eps", maximum=1, what=" (el cambio máximo de un píxel, de 0 a 1: 0.1 es un 10 % "
                                                       "del paso de negro a blanco)")
    steps = positive_int(steps, "steps") if steps != 0 else 0
    tries = positive_int(tries, "tries")
    x = _batch(model, image)[:1]
    original = int(outputs(model, x).argmax())
    goal = None if target is None else int(targets_for(model, x, target)[0])
    best = x
    with _differentiating(model):
        for size in torch.linspace(eps / tries, eps, tries).tolist():
            limit = size / STD  # en la escala de las imágenes normalizadas
            moved = x.clone()
            for step in range(steps + 1):
                moved.requires_grad_(True)
                output = _scores(model, moved)
                reads = int(output.argmax())
                if reads != original and (goal is None or reads == goal):
                    return _adversarial(model, x, moved.detach(), original)
                logp = log_probabilities(output)[0]
                # Sin objetivo, sube la pérdida de lo que lee; con objetivo, baja la del objetivo.
                loss = -logp[original] if goal is None else logp[goal]
                (gradient,) = torch.autograd.grad(loss, moved)
                stride = limit if step == 0 else limit / 4
                moved = x + (moved.detach() + stride * gradient.sign() - x).clamp(-limit, limit)
                moved = moved.clamp(BLACK, WHITE)
            best = moved.detach()
    return _adversarial(model, x, best, original)


def _adversarial(model, x, moved, original):
    probs = probabilities(outputs(model, moved))[0]
    prediction = int(probs.argmax())
    change = to_cpu(moved - x)[0]
    return Adversarial(to_cpu(moved)[0], prediction, change, original, probs,
                       float(change.abs().max()) * STD, prediction != original)


# --- La imagen que más le gusta a la red --------------------------------------------------------

def _maximize(model, score, side, steps, lr=0.1, decay=0.02, smooth=0.3):
    """Parte de una imagen casi negra y la mueve, paso a paso, en el sentido que más sube `score`.

    Sin freno, saldría ruido: píxeles sueltos muy claros y muy oscuros que suben la puntuación
    pero no se parecen a nada. Dos frenos pequeños: cuánto se aleja del negro (`decay`) y
    cuánto cambia de un píxel a su vecino (`smooth`, la variación total).
    """
    device = device_of(model)
    noise = torch.randn(1, 1, side, side, generator=torch.Generator().manual_seed(0))  # no el generador global
    x = (BLACK + 0.1 * noise).to(device, dtype_of(model)).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    with _differentiating(model):
        for _ in range(steps):
            variation = (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + (x[..., 1:] - x[..., :-1]).abs().mean()
            objective = score(x) - decay * (x - BLACK).pow(2).mean() - smooth * variation
            (x.grad,) = torch.autograd.grad(-objective, x)
            optimizer.step()
            with torch.no_grad():
                x.clamp_(BLACK, WHITE)
    return to_cpu(x)[0]


def class_image(model, digit, steps=200, side=None):
    """La imagen [1, H, W] que más puntúa el dígito `digit` (maximización de la activación, con un poco
    de regularización para que se parezca a algo). Se maximiza lo que devuelve la red si son
    logits; si devuelve probabilidades o log-probabilidades, su logaritmo."""
    if isinstance(digit, bool) or not isinstance(digit, int) or digit not in range(NUM_CLASSES):
        raise TrazosValueError(f"digit debe ser un dígito del 0 al 9; se recibió {digit!r}.")

    def score(x):
        output = _scores(model, x)
        return output[0, digit] if output_kind(output) == "logits" else log_probabilities(output)[0, digit]

    return _maximize(model, score, side or input_side(model), steps)


def filter_image(model, layer, channel, steps=200, side=None):
    """La imagen [1, H, W] que más enciende (de media) el canal `channel` de la capa `layer`."""
    name, module = find_layer(model, layer, nn.Module)
    seen = []
    handle = module.register_forward_hook(lambda _m, _i, output: seen.append(output))
    try:
        def score(x):
            seen.clear()
            model(x)
            if not 0 <= channel < seen[-1].shape[1]:
                raise TrazosValueError(f"La capa {name!r} tiene {seen[-1].shape[1]} canales; channel debe estar "
                                       f"entre 0 y {seen[-1].shape[1] - 1}.")
            return seen[-1][0, channel].mean()
        return _maximize(model, score, side or input_side(model), steps)
    finally:
        handle.remove()
