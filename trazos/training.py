"""Entrenamiento: el bucle de siempre, con barra de progreso, historial y checkpoints.

La receta (entradas normalizadas, lotes de 256, AdamW con programa OneCycle y
`channels_last`) lleva la red compacta a >= 99 % de acierto en 5 épocas en una CPU.
`trained_model` entrena una sola vez las redes del curso y guarda el resultado en la caché:
los cuadernos que vienen después del entrenamiento lo cargan al instante. `train_run` hace lo
mismo con cualquier red, también la que escribe un estudiante.

Sin sorpresas para la red de un estudiante: el truco de velocidad `channels_last` se aplica
solo a las dos redes del curso (se sabe que aplanan con nn.Flatten, que lo admite; un
`x.view(-1, 7 * 7 * 64)` falla con él), y la red vuelve siempre con el dispositivo, el
formato de memoria y el modo (train/eval) que tenía.
"""

import contextlib
import copy
import ctypes
import os
import random
import time

import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from . import data, render
from .cache import fingerprint, load_run, save_atomic, save_run
from .capture import eval_mode
from .checks import check_network, check_output
from .models import MODELS, build_model

__all__ = ["RECIPE", "recipe", "seed_everything", "pick_device", "loss_fn", "is_course_network", "train_epoch",
           "evaluate", "train", "save_atomic", "Run", "trained_model", "train_run"]

# Receta de cada modelo: épocas, tamaño de lote, tasa máxima de OneCycle y weight decay de AdamW.
# Con la semilla 0, en 2 núcleos: la compacta llega a 99,2 % y la clásica a 99,2 % (benchmarks/speed.py).
RECIPE = {
    "cnn": {"epochs": 5, "batch_size": 256, "max_lr": 0.02, "weight_decay": 0.05},
    "classic": {"epochs": 2, "batch_size": 64, "max_lr": 0.003, "weight_decay": 0.05},
}
CACHE_VERSION = 4  # súbelo si cambian la receta o los datos (v4: MNIST en bytes): invalida las cachés antiguas


def keep_freed_memory():
    """En Linux, que el proceso guarde la memoria que libera cada paso de entrenamiento, en vez de devolverla.

    glibc devuelve al sistema la memoria libre del final del montón en cuanto pasa de un umbral
    que ajusta solo, según los bloques grandes que ha ido liberando; si el umbral queda bajo,
    cada paso vuelve a pedir al sistema (y a poner a cero) las páginas de las activaciones que
    acaba de soltar. Fijarlo en 32 MB, con los bloques de hasta 8 MB servidos del montón, hace
    una época de la red clásica un 25 % más rápida (de 21 s a 15,5 s, medido) sin cambiar el
    pico de memoria de los cuadernos (`benchmarks/memory.py`). Es lo que hace la guía de
    rendimiento de PyTorch con jemalloc o tcmalloc, sin instalar nada. Si el sistema ya fija
    esos valores (MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_ o GLIBC_TUNABLES), se respetan.
    Devuelve True si ha cambiado algo; en macOS y Windows no hace nada.
    """
    if any(name in os.environ for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")):
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # no es Linux con glibc
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # de <malloc.h>
    return bool(mallopt(M_TRIM_THRESHOLD, 32 * 2**20)) and bool(mallopt(M_MMAP_THRESHOLD, 8 * 2**20))


keep_freed_memory()  # al importar: también lo aprovechan los bucles escritos en los cuadernos


def recipe(name, epochs=None):
    """(épocas, argumentos de `train`) de la receta del curso para el modelo `name`."""
    build_model(name)  # un nombre desconocido da aquí un ValueError con las opciones
    settings = dict(RECIPE[name])
    default_epochs = settings.pop("epochs")
    if epochs is None:
        return default_epochs, settings
    # `epochs or default_epochs` convertiría epochs=0 en 5 épocas sin avisar.
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs debe ser un entero >= 1 (o None para la receta: {default_epochs}); "
                         f"se recibió {epochs!r}.")
    return epochs, settings


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


def loss_fn(output, labels):
    """Pérdida de entropía cruzada, sea la salida logits (CNN) o log-probabilidades (ClassicCNN).

    cross_entropy(z) = nll_loss(log_softmax(z)), y log_softmax de unas log-probabilidades
    las deja igual: una sola función sirve para las dos redes.
    """
    return F.cross_entropy(output, labels)


def is_course_network(model):
    """¿Es `model` una de las dos redes del curso (CNN o ClassicCNN, no una subclase)?

    Solo con ellas se sabe que `channels_last` es seguro: una subclase puede cambiar forward.
    """
    return type(model) in MODELS.values()


def _device(model):
    """El dispositivo donde están los pesos de la red (la CPU si no tiene ninguno)."""
    tensor = next(model.parameters(), None)
    if tensor is None:
        tensor = next(model.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


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

    Al salir, también si algo falla, vuelve con el dispositivo, el formato de memoria y el
    modo de cada capa que tenía: quien la pasó la recupera como era, solo con otros pesos.
    """
    home, layout = _device(model), _memory_format(model)
    modes = [(module, module.training) for module in model.modules()]
    model.to(device)
    if fast:
        model.to(memory_format=torch.channels_last)
    try:
        yield model
    finally:
        model.to(home)
        if fast:
            model.to(memory_format=layout)
        for module, training in modes:
            module.training = training


def train_epoch(model, digits, optimizer, scheduler=None, batch_size=128, generator=None, device="cpu", bar=None):
    """Una época: para cada lote, zero_grad -> forward -> pérdida -> backward -> step.

    Devuelve (pérdida media, acierto) sobre los ejemplos de entrenamiento vistos. Las
    imágenes van en channels_last solo si la red es del curso y ya está en ese formato.
    """
    model.train()
    layout = _input_format(model)
    total_loss, correct, seen = 0.0, 0, 0
    for images, labels in data.batches(digits, batch_size, shuffle=True, generator=generator):
        if len(labels) == 1 and seen:
            continue  # un último lote de 1 imagen: BatchNorm en modo train no puede normalizarlo
        images = images.to(device, memory_format=layout)
        labels = labels.to(device)
        optimizer.zero_grad()
        output = check_output(model(images), len(labels))
        loss = loss_fn(output, labels)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.item() * len(labels)
        correct += (output.argmax(dim=1) == labels).sum().item()
        seen += len(labels)
        if bar is not None:
            bar.update(len(labels))
            bar.set_postfix(pérdida=f"{total_loss / seen:.3f}", acierto=f"{correct / seen:.3f}", refresh=False)
    return total_loss / seen, correct / seen


@torch.no_grad()
def evaluate(model, digits, batch_size=256, device=None):
    """Pérdida media y acierto del modelo sobre `digits`, en modo eval y sin tocar los pesos.

    La red vuelve con el dispositivo, el formato de memoria y el modo que tenía. Lotes de 256,
    como en `predict`: más grandes no van más rápido y ocupan más memoria.
    """
    device = torch.device(device) if device else _device(model)
    total_loss, correct = 0.0, 0
    with _lent(model, device, fast=is_course_network(model)), eval_mode(model):
        layout = _input_format(model)
        for images, labels in data.batches(digits, batch_size):
            images = images.to(device, memory_format=layout)
            labels = labels.to(device)
            output = check_output(model(images), len(labels))
            total_loss += F.cross_entropy(output, labels, reduction="sum").item()
            correct += (output.argmax(dim=1) == labels).sum().item()
    return total_loss / len(digits), correct / len(digits)


def train(model, train_data, test_data, epochs=5, batch_size=256, max_lr=0.02, weight_decay=0.0, seed=0,
          device=None, progress=True):
    """Entrena `model` (cualquier red que devuelva [N, 10]) y devuelve (historial, checkpoints).

    historial: una lista con un diccionario por época (train_loss, train_acc, test_loss,
    test_acc, seconds). checkpoints: los pesos iniciales y los de después de cada época
    (`checkpoints[0]` antes de entrenar, `checkpoints[-1]` al final), todos de esta misma
    ejecución, en la CPU.

    La red se entrena en su sitio y vuelve con el dispositivo, el formato de memoria y el
    modo que tenía. Antes de empezar, una pasada de prueba con dos imágenes: si un paso no
    encaja o la salida no es [N, 10], el error dice en español qué paso y qué formas.
    """
    if epochs < 1:
        raise ValueError(f"epochs debe ser >= 1; se recibió {epochs!r}.")
    seed_everything(seed)
    device = torch.device(device) if device else pick_device()
    with _lent(model, device, fast=is_course_network(model)):
        check_network(model, train_data[:2][0].to(device, memory_format=_input_format(model)))
        return _train_epochs(model, train_data, test_data, epochs, batch_size, max_lr, weight_decay, seed, device,
                             progress)


def _train_epochs(model, train_data, test_data, epochs, batch_size, max_lr, weight_decay, seed, device, progress):
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr / 25, weight_decay=weight_decay)
    steps = epochs * ((len(train_data) + batch_size - 1) // batch_size)
    # OneCycle: la tasa sube hasta max_lr y luego baja casi a cero; converge en pocas épocas.
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=max_lr, total_steps=steps)
    checkpoints = [_cpu_state(model)]
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        with tqdm(total=len(train_data), desc=f"Época {epoch}/{epochs}", unit="img", disable=not progress,
                  leave=True, mininterval=0.5) as bar:
            train_loss, train_acc = train_epoch(model, train_data, optimizer, scheduler, batch_size,
                                                generator, device, bar)
            seconds = time.perf_counter() - start
            test_loss, test_acc = evaluate(model, test_data, device=device)
            bar.set_postfix(pérdida=f"{train_loss:.3f}", test=f"{test_acc:.4f}")
        history.append({"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                        "test_loss": test_loss, "test_acc": test_acc, "seconds": seconds})
        checkpoints.append(_cpu_state(model))
    return history, checkpoints


def _cpu_state(model):
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}


class Run:
    """Un entrenamiento guardado: modelo final, historial y los pesos de cada época."""

    def __init__(self, name, model, history, checkpoints, seed, path=None, trained_now=True):
        self.name, self.model, self.history, self.checkpoints, self.seed = name, model, history, checkpoints, seed
        self.path = path  # dónde está guardado (None si no se guardó)
        self.trained_now = trained_now  # False si salió de la caché

    @property
    def test_accuracy(self):
        return self.history[-1]["test_acc"]

    def model_at(self, epoch):
        """Una copia del modelo, en modo eval, con los pesos de la época `epoch` (0 = antes de entrenar).

        La copia sale de `self.model` (copy.deepcopy): vale igual para una red del curso que
        para la de un estudiante, que no se puede reconstruir a partir de un nombre.
        """
        if epoch not in range(len(self.checkpoints)):
            raise ValueError(f"epoch debe estar entre 0 y {len(self.checkpoints) - 1}; se recibió {epoch!r}.")
        model = copy.deepcopy(self.model)
        model.load_state_dict(self.checkpoints[epoch])
        return model.eval()

    def __repr__(self):
        return (f"Run({self.name!r}, épocas={len(self.history)}, "
                f"acierto en test={render.percent(self.test_accuracy, 2)})")


def trained_model(name="cnn", epochs=None, seed=0, cache=None, root=None, limit=None, progress=True,
                  retrain=False):
    """El modelo `name` entrenado con la receta del curso: de la caché si ya existe, si no lo entrena.

    El resultado (pesos de cada época e historial) se guarda en `cache` (por defecto
    `TRAZOS_CACHE` o ~/.cache/trazos/models). Si el fichero de caché está dañado, avisa y
    vuelve a entrenar. `limit` entrena con solo los primeros ejemplos (para pruebas rápidas);
    `retrain=True` entrena aunque haya caché (y la sobrescribe).
    Devuelve un `Run`.
    """
    epochs, settings = recipe(name, epochs)
    model = build_model(name)
    subset = f"-n{limit}" if limit else ""
    path = data.cache_root(cache) / f"{name}-e{epochs}-s{seed}{subset}-v{CACHE_VERSION}.pt"
    saved = None if retrain else load_run(path, model, epochs, progress, name)
    if saved is not None:
        history, checkpoints, found = saved
        return Run(name, model.eval(), history, checkpoints, seed, found, trained_now=False)
    train_data = data.load_mnist(train=True, size=model.input_size, root=root, limit=limit)
    test_data = data.load_mnist(train=False, size=model.input_size, root=root)
    # Otra vez, tras fijar la semilla: los pesos iniciales salen del generador global, y sin
    # ella la misma semilla daría otra red.
    seed_everything(seed)
    model = build_model(name)
    history, checkpoints = train(model, train_data, test_data, epochs=epochs, seed=seed, progress=progress,
                                 **settings)
    saved_at = save_run(path, history, checkpoints)
    return Run(name, model.eval(), history, checkpoints, seed, saved_at)


def _settings(model, epochs, batch_size, max_lr, weight_decay):
    """Los ajustes de `train_run`: los indicados y, para el resto, la receta de la red del curso
    si `model` lo es, o la de la red clásica, prudente para una red nueva."""
    name = next((n for n, cls in MODELS.items() if type(model) is cls), "classic")
    settings = dict(RECIPE[name])
    given = {"epochs": epochs, "batch_size": batch_size, "max_lr": max_lr, "weight_decay": weight_decay}
    settings.update({k: v for k, v in given.items() if v is not None})
    for key in ("epochs", "batch_size"):
        if not isinstance(settings[key], int) or settings[key] < 1:
            raise ValueError(f"{key} debe ser un entero >= 1; se recibió {settings[key]!r}.")
    return settings


def train_run(model, train_data, test_data, epochs=None, batch_size=None, max_lr=None, weight_decay=None, seed=0,
              device=None, progress=True, cache=False):
    """Entrena cualquier red, también la tuya, y devuelve un `Run` como el de las redes del curso:
    historial, pesos de después de cada época y `run.model_at(época)`. El explorador de kernels
    (`trazos.widgets.kernel_explorer(run)`) lo recorre época a época.

    `model` se entrena en su sitio (`run.model` es el mismo objeto) y vuelve con el
    dispositivo, el formato de memoria y el modo que tenía. No necesita `input_size`: las
    imágenes son las de `train_data` (p. ej. `trazos.load_mnist(size=28, limit=2000)`). Lo que
    no se indica sale de una receta: la del curso si `model` es CNN o ClassicCNN; si no, la de
    la red clásica (2 épocas, lotes de 64, max_lr 0,003), prudente para una red nueva.

    `cache=True` (o una carpeta) guarda el resultado y, la próxima vez, lo carga en `model` sin
    entrenar. La clave es la arquitectura (`cache.architecture_text`), los ajustes y los datos: una red
    cambiada nunca se confunde con una guardada. No mira los pesos iniciales: misma red, mismos
    ajustes y mismos datos dan el entrenamiento guardado.
    """
    settings = _settings(model, epochs, batch_size, max_lr, weight_decay)
    epochs = settings.pop("epochs")
    name = type(model).__name__
    path = None
    if cache is not None and cache is not False:
        key = fingerprint(model, {**settings, "epochs": epochs, "seed": seed, "version": CACHE_VERSION},
                           train_data, test_data)
        path = data.cache_root(None if cache is True else cache) / f"{name}-{key}.pt"
        saved = load_run(path, model, epochs, progress, name)
        if saved is not None:
            history, checkpoints, found = saved
            return Run(name, model, history, checkpoints, seed, found, trained_now=False)
    history, checkpoints = train(model, train_data, test_data, epochs=epochs, seed=seed, device=device,
                                 progress=progress, **settings)
    saved_at = save_run(path, history, checkpoints) if path is not None else None
    return Run(name, model, history, checkpoints, seed, saved_at)
