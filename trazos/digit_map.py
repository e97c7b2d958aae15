"""Lo que aprendió la red, visto desde el test entero.

- `embedding`: cada dígito como un punto en 2-D (PCA de la penúltima capa), y `separation`, cuánto
  se separan los dígitos en ese plano; `embedding_epochs`, lo mismo época a época de un `Run`.
- `receptive_field` y `top_patches`: qué trozo de la imagen ve un valor de una capa, y los
  trozos del test que más encienden un canal (como Zeiler y Fergus).
- `shift_comparison`: por qué una red convolucional, medido: la red del curso frente a un
  perceptrón con casi los mismos parámetros, con los dígitos del test movidos unos píxeles.

Como todo trazos, valen para cualquier red: los pasos salen de `capture` y la red se ejecuta
a través de `runner`, sin cambiarle el modo ni consumir el generador aleatorio global.
"""

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .attribution import BLACK
from .capture import capture, trace
from .errors import TrazosValueError
from .models import input_side
from .runner import as_images, keep_rng, outputs

__all__ = ["features", "embedding", "project", "separation", "embedding_epochs", "receptive_field", "Patches",
           "top_patches", "shift", "shifted_accuracy", "similar_mlp", "shift_comparison"]


def _images_labels(digits):
    if hasattr(digits, "pixels") and hasattr(digits, "labels"):
        return digits.pixels, digits.labels
    return digits, None


def features(model, digits, layer=None, batch_size=500):
    """Lo que sale del paso `layer` para cada imagen, aplanado: [N, F]. Por defecto, la penúltima
    capa: lo que entra en la última nn.Linear, la representación con la que la red decide."""
    images, _ = _images_labels(digits)
    images = as_images(images)
    steps = capture(model, images[:1])
    names, kinds = [s.name for s in steps], [s.kind for s in steps]
    if layer is None:
        layer = _linear_input(model)
    if layer is None:  # sin fx: el paso que se ejecuta justo antes de la última nn.Linear
        linear = [i for i, kind in enumerate(kinds) if kind == "Linear"]
        if not linear or linear[-1] == 0:
            raise TrazosValueError("La red no termina en una nn.Linear: indica de qué paso sacar los puntos "
                                   "(layer=...).")
        layer = names[linear[-1] - 1]
    if layer not in names:
        raise TrazosValueError(f"Paso desconocido: {layer!r}. Pasos de esta red: {', '.join(names)}.")
    parts = []
    for batch in images.split(batch_size):  # por lotes: capture guarda la salida de todos los pasos
        step = next(s for s in capture(model, as_images(batch, model)) if s.name == layer)
        parts.append(step.output.flatten(1))
    return torch.cat(parts)


def _linear_input(model):
    """El paso que entra en la última nn.Linear, siguiendo el grafo (no el que se ejecuta justo antes:
    con ramas pueden ser otros); None si fx no puede leer la red o no hay nn.Linear."""
    graph = trace(model)
    if graph is None:
        return None
    modules, nodes = dict(graph.named_modules()), _step_nodes(graph)
    linear = [n for n in nodes.values() if n.op == "call_module" and isinstance(modules[n.target], nn.Linear)]
    if not linear:
        return None
    source = linear[-1].all_input_nodes[0]
    names = {node: name for name, node in nodes.items()}
    if source not in names:
        raise TrazosValueError("La última nn.Linear recibe la imagen tal cual: indica de qué paso sacar los puntos "
                               "(layer=...).")
    return names[source]


def _pca(points):
    """Las dos componentes principales de `points` [N, F] -> [N, 2], con un signo fijo.

    `torch.pca_lowrank` es aleatorio (proyecta sobre direcciones al azar): se ejecuta con una
    semilla propia y sin tocar el generador global, así sale siempre lo mismo. El signo de cada
    eje se elige para que la mayoría de la masa quede a la derecha (arriba): de una época a la
    siguiente el dibujo no se da la vuelta por nada.
    """
    with keep_rng():
        torch.manual_seed(0)
        centered = points - points.mean(dim=0)
        _, _, v = torch.pca_lowrank(centered, q=min(6, *points.shape), center=False, niter=6)
    flat = centered @ v[:, :2]
    return flat * torch.where(flat.pow(3).sum(dim=0) < 0, -1.0, 1.0)


def project(points):
    """Unos puntos [N, F] en el plano [N, 2] con la misma PCA que `embedding`: sirve para comparar
    el mapa de la red con el de los píxeles tal cual (`project(digits.images.flatten(1))`)."""
    return _pca(torch.as_tensor(points).double()).float()


def embedding(model, digits, layer=None):
    """Cada imagen de `digits` como un punto en 2-D: [N, 2], PCA de la penúltima capa (o de `layer`)."""
    return project(features(model, digits, layer))


def separation(points, labels):
    """Cuánto se separan los dígitos en el plano: la fracción de puntos cuyo vecino más cercano
    (sin contarse a sí mismo) es del mismo dígito. Al azar, en torno a 0,1; separados, cerca de 1."""
    points, labels = torch.as_tensor(points).double(), torch.as_tensor(labels)
    distances = torch.cdist(points, points)
    distances.fill_diagonal_(float("inf"))
    return float((labels[distances.argmin(dim=1)] == labels).double().mean())


def embedding_epochs(run, digits, layer=None):
    """Los puntos y la separación de cada época guardada de un `Run` (0 = antes de entrenar):
    lista de {"epoch", "points", "separation"}."""
    _, labels = _images_labels(digits)
    result = []
    for epoch in range(len(run.checkpoints)):
        points = embedding(run.model_at(epoch), digits, layer)
        result.append({"epoch": epoch, "points": points, "separation": separation(points, labels)})
    return result


# --- Campo receptivo y los trozos que más encienden un canal --------------------------------------

def _geometry(kind, module=None, node=None):
    """(kernel, stride, padding, dilation) de una convolución o un pooling, o None si no cambia la geometría."""
    if module is not None and isinstance(module, (nn.Conv2d, nn.MaxPool2d, nn.AvgPool2d)):
        values = [module.kernel_size, module.stride, module.padding, getattr(module, "dilation", 1)]
    elif node is not None and kind in ("max_pool2d", "avg_pool2d"):
        names = ["kernel_size", "stride", "padding", "dilation"]
        given = dict(zip(names, node.args[1:]), **{k: v for k, v in node.kwargs.items() if k in names})
        values = [given["kernel_size"], given.get("stride") or given["kernel_size"], given.get("padding", 0),
                  given.get("dilation", 1)]
    else:
        return None
    if isinstance(values[2], str):
        raise TrazosValueError("padding con texto («same»): el campo receptivo se calcula solo con padding numérico.")
    return [v[0] if isinstance(v, (tuple, list)) else int(v) for v in values]


def _combine(fields):
    """El campo de un paso que recibe varias entradas (torch.cat, una suma residual x + f(x), ...):
    la unión de los de cada una, que es lo que de verdad puede mover su salida."""
    jump = max(j for _, j, _ in fields)
    start = min(st for _, _, st in fields)
    return max(st + side for side, _, st in fields) - start, jump, start


def _grow(field, geometry):
    """El campo tras una capa que cambia la geometría: un kernel k (con dilatación d) añade (k - 1)·d
    veces el salto; el stride multiplica el salto; el padding adelanta el inicio."""
    side, jump, start = field
    if geometry is None:
        return field
    kernel, stride, padding, dilation = geometry
    return side + (kernel - 1) * dilation * jump, jump * stride, start - padding * jump


def _step_nodes(graph):
    """{nombre del paso, como lo pone `capture`: nodo del grafo de fx}."""
    calls, nodes = {}, {}
    for node in graph.graph.nodes:
        if node.op == "call_module":
            count = calls.get(node.target, 0)
            calls[node.target] = count + 1
            nodes[node.target if count == 0 else f"{node.target}_{count}"] = node
        elif node.op in ("call_function", "call_method"):
            nodes[node.name] = node
    return nodes


def _field(model, layer):
    """(lado, salto, inicio) del paso `layer`, siguiendo todas las entradas de cada paso del grafo."""
    graph = trace(model)
    if graph is None:  # sin fx (un `if` sobre los datos): los pasos que ven los hooks, solo capas, en orden
        side = input_side(model)
        steps = [s for s in capture(model, torch.zeros(1, 1, side, side))]
        names = [s.name for s in steps]
        if layer not in names:
            raise TrazosValueError(f"Paso desconocido: {layer!r}. Pasos de esta red: {', '.join(names)}.")
        field = (1, 1, 0)
        for step in steps[:names.index(layer) + 1]:
            field = _grow(field, _geometry("", model.get_submodule(step.module)))
        return field
    modules, nodes = dict(graph.named_modules()), _step_nodes(graph)
    if not isinstance(layer, str) or layer not in nodes:
        raise TrazosValueError(f"Paso desconocido: {layer!r}. Pasos de esta red: {', '.join(nodes)}.")
    fields, wanted = {}, nodes[layer]
    for node in graph.graph.nodes:  # hacia delante, en el orden del grafo: cada paso, con todas sus entradas
        if node.op == "placeholder":
            fields[node] = (1, 1, 0)
            continue
        inputs = [fields[a] for a in node.all_input_nodes if a in fields]
        if not inputs:  # una constante o un peso (get_attr): no depende de la imagen
            continue
        module = modules.get(node.target) if node.op == "call_module" else None
        kind = node.name.rstrip("_0123456789") if node.op == "call_function" else ""
        fields[node] = _grow(_combine(inputs), _geometry(kind, module, node))
        if node is wanted:
            return fields[node]
    raise TrazosValueError(f"El paso {layer!r} no depende de la imagen: no tiene campo receptivo.")


def receptive_field(model, layer):
    """El trozo de la imagen que ve un valor del paso `layer`: (lado, salto, inicio).

    Un valor (fila r, columna c) ve los píxeles de inicio + r·salto a inicio + r·salto + lado - 1
    (y lo mismo en columnas). Hacia delante, capa a capa: un kernel k (con dilatación d) añade
    (k - 1)·d veces el salto; el stride multiplica el salto; el padding adelanta el inicio. Un paso
    con varias entradas (torch.cat, una suma residual, un módulo usado dos veces) ve la unión de
    lo que ven todas (sin fx, solo se ven las capas, una detrás de otra).
    """
    return _field(model, layer)


@dataclass
class Patches:
    """Los `k` valores más altos de un canal en el test, y el trozo de imagen que ve cada uno."""

    indices: list  # índice de cada imagen en `digits`
    values: list  # el valor más alto del canal en esa imagen
    positions: list  # (fila, columna) de ese valor en el mapa
    boxes: list  # (arriba, izquierda) del trozo en la imagen (puede salirse: el padding)
    crops: torch.Tensor  # [k, lado, lado]: el trozo de cada imagen (fuera de la imagen, negro)
    side: int  # lado del campo receptivo


def top_patches(model, digits, layer, channel, k=9, batch_size=500):
    """Las `k` imágenes de `digits` que más encienden el canal `channel` del paso `layer`, cada una
    recortada al campo receptivo del valor más alto (lo que de verdad ve ese valor)."""
    images = as_images(_images_labels(digits)[0], model)
    peaks = []
    for batch in images.split(batch_size):
        step = next((s for s in capture(model, batch) if s.name == layer), None)
        if step is None or step.output.ndim != 4:
            raise TrazosValueError(f"{layer!r} no es un paso con mapas de esta red.")
        if not 0 <= channel < step.output.shape[1]:
            raise TrazosValueError(f"channel debe estar entre 0 y {step.output.shape[1] - 1}; se recibió {channel!r}.")
        peaks.append(step.output[:, channel].flatten(1))
    peaks = torch.cat(peaks)
    width = step.output.shape[3]
    best, where = peaks.max(dim=1)
    order = best.argsort(descending=True)[:k].tolist()
    side, jump, start = receptive_field(model, layer)
    border = side  # se rodea la imagen de negro para que todo trozo quepa entero
    framed = F.pad(images[order, 0], (border,) * 4, value=BLACK)
    positions, boxes, crops = [], [], []
    for n, i in enumerate(order):
        row, col = divmod(int(where[i]), width)
        top, left = start + row * jump, start + col * jump
        positions.append((row, col))
        boxes.append((top, left))
        crops.append(framed[n, border + top:border + top + side, border + left:border + left + side])
    return Patches(order, best[order].tolist(), positions, boxes, torch.stack(crops), side)


# --- ¿Por qué una red convolucional? --------------------------------------------------------------

def shift(images, dx, dy):
    """Las imágenes movidas `dx` píxeles a la derecha y `dy` hacia abajo; lo que entra es negro (sin dar la vuelta)."""
    images = as_images(images)
    h, w = images.shape[2:]
    padded = F.pad(images, (abs(dx),) * 2 + (abs(dy),) * 2, value=BLACK)
    return padded[..., abs(dy) - dy:abs(dy) - dy + h, abs(dx) - dx:abs(dx) - dx + w]


def shifted_accuracy(model, digits, pixels):
    """Acierto con los dígitos movidos `pixels` píxeles, media de las cuatro direcciones."""
    moves = [(0, 0)] if pixels == 0 else [(pixels, 0), (-pixels, 0), (0, pixels), (0, -pixels)]
    hits = [float((outputs(model, shift(digits.images, dx, dy)).argmax(1) == digits.labels).double().mean())
            for dx, dy in moves]
    return sum(hits) / len(hits)


def similar_mlp(model, side):
    """Un perceptrón (sin convoluciones) con casi los mismos parámetros que `model`: píxeles -> h -> 10."""
    target = sum(p.numel() for p in model.parameters())
    hidden = max(1, round((target - 10) / (side * side + 11)))  # (L² + 1)·h + (h + 1)·10 parámetros
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(side * side, hidden), nn.ReLU(), nn.Linear(hidden, 10))
    mlp.input_size = side
    return mlp


def shift_comparison(digits, shifts=(0, 1, 2, 3), limit=12000, epochs=3):
    """Una red convolucional (la del curso, `CNN`) frente a un perceptrón de casi los mismos parámetros,
    entrenados igual (la receta del curso, `epochs` épocas con las `limit` primeras imágenes de
    entrenamiento) y medidos con los dígitos de `digits` movidos 0, 1, 2 y 3 píxeles. Los dos se
    guardan en la caché (`train_run(..., cache=True)`): la segunda vez no se entrena nada.

    Devuelve {"params": (cnn, mlp), "accuracy": {píxeles: (acierto cnn, acierto mlp)}, "cnn", "mlp"}.
    """
    from .models import CNN
    from .training import RECIPE, course_data, train_run
    side = digits.pixels.shape[-1]
    settings = {**RECIPE["cnn"], "epochs": epochs}
    train_data, val_data, _ = course_data(side, limit=limit)
    with keep_rng():  # pesos iniciales y entrenamiento con semilla propia: el generador global no se toca
        torch.manual_seed(0)
        cnn = CNN()
        mlp = similar_mlp(cnn, side)
        for net in (cnn, mlp):
            train_run(net, train_data, val_data, progress=False, cache=True, **settings)
            net.eval()
    count = [sum(p.numel() for p in net.parameters()) for net in (cnn, mlp)]
    accuracy = {s: (shifted_accuracy(cnn, digits, s), shifted_accuracy(mlp, digits, s)) for s in shifts}
    return {"params": tuple(count), "accuracy": accuracy, "cnn": cnn, "mlp": mlp}
