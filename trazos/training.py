"""Entrenamiento: la receta, con barra de progreso, validación en cada época, checkpoints y caché.

La receta (entradas normalizadas, lotes de 256, AdamW con programa OneCycle y
`channels_last`) lleva la red compacta a >= 99 % de acierto en 5 épocas en una CPU. Cada
época se mide en la validación (5.000 imágenes apartadas del entrenamiento) y el test se mide
una sola vez, al final: lo que se mira para decidir ya no sirve para medir.
`trained_model` entrena una sola vez las redes del curso y guarda el resultado en la caché:
los cuadernos que vienen después del entrenamiento lo cargan al instante. `train_run` hace lo
mismo con cualquier red, también la que escribe un estudiante. El bucle en sí (un paso, una
época, evaluar) está en `loop`.
"""

import copy
import time

import torch
from tqdm.auto import tqdm

from . import data, render
from .cache import fingerprint, load_run, save_atomic, save_run
from .checks import check_network
from .errors import TrazosValueError
# El bucle vive en `loop`; sus funciones se importan también desde aquí (trazos.training.train_epoch).
from .loop import (_before_training, _input_format, _lent, evaluate, is_course_network, loss_fn,
                   make_optimizer, pick_device, seed_everything, train_epoch, train_step)
from .malloc import kept_while_training
from .models import MODELS, build_model
from .reference import load_reference, reference_file
from .runner import keep_rng

__all__ = ["RECIPE", "VALIDATION", "recipe", "seed_everything", "pick_device", "loss_fn", "is_course_network",
           "train_step", "train_epoch", "evaluate", "train", "make_optimizer", "save_atomic", "Run", "course_data",
           "trained_model", "course_key", "train_run"]

# Receta de cada modelo: épocas, tamaño de lote, tasa máxima de OneCycle y weight decay de AdamW.
# La referencia del curso (semilla 0, trazos/reference_runs): la compacta llega a 99,19 % en test y la clásica a
# 99,26 %; entrenadas en otra máquina, unas décimas arriba o abajo (tests/test_reference.py lo comprueba).
RECIPE = {
    "cnn": {"epochs": 5, "batch_size": 256, "max_lr": 0.02, "weight_decay": 0.05},
    "classic": {"epochs": 2, "batch_size": 64, "max_lr": 0.003, "weight_decay": 0.05},
}
CACHE_VERSION = 5  # súbelo si cambia la receta o el bucle (v5: validación aparte): invalida las cachés antiguas


def recipe(name, epochs=None):
    """(épocas, argumentos de `train`) de la receta del curso para el modelo `name`."""
    build_model(name)  # un nombre desconocido da aquí un ValueError con las opciones
    settings = dict(RECIPE[name])
    default_epochs = settings.pop("epochs")
    if epochs is None:
        return default_epochs, settings
    # `epochs or default_epochs` convertiría epochs=0 en 5 épocas sin avisar.
    if not isinstance(epochs, int) or epochs < 1:
        raise TrazosValueError(f"epochs debe ser un entero >= 1 (o None para la receta: {default_epochs}); "
                         f"se recibió {epochs!r}.")
    return epochs, settings


def train(model, train_data, val_data, epochs=5, batch_size=256, max_lr=0.02, weight_decay=0.0, seed=0,
          device=None, progress=True):
    """Entrena `model` (cualquier red que devuelva [N, 10]) y devuelve (historial, checkpoints).

    historial: una lista con un diccionario por época (epoch, train_loss, train_acc, val_loss,
    val_acc, seconds), medido en `val_data`, la validación: unos dígitos que la red no ve al
    aprender y con los que se decide (cuántas épocas, qué variante). El test se guarda para
    el final (`Run.test_accuracy`). checkpoints: los pesos iniciales y los de después de cada
    época (`checkpoints[0]` antes de entrenar, `checkpoints[-1]` al final), en la CPU.

    La red se entrena en su sitio y vuelve con el dispositivo, el formato de memoria y el
    modo de cada capa que tenía. Antes de empezar, una pasada de prueba con dos imágenes: si
    un paso no encaja o la salida no es [N, 10], el error dice en español qué paso y qué formas.
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise TrazosValueError(f"epochs debe ser un entero >= 1; se recibió {epochs!r}.")
    _before_training()
    seed_everything(seed)
    device = torch.device(device) if device else pick_device()
    with _lent(model, device, fast=is_course_network(model)), kept_while_training():
        check_network(model, train_data[:2][0].to(device, memory_format=_input_format(model)))
        return _train_epochs(model, train_data, val_data, epochs, batch_size, max_lr, weight_decay, seed, device,
                             progress)


def _train_epochs(model, train_data, val_data, epochs, batch_size, max_lr, weight_decay, seed, device, progress):
    generator = torch.Generator().manual_seed(seed)
    optimizer, scheduler = make_optimizer(model, epochs * ((len(train_data) + batch_size - 1) // batch_size),
                                          max_lr, weight_decay)
    checkpoints = [_cpu_state(model)]
    history = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        with tqdm(total=len(train_data), desc=f"Época {epoch}/{epochs}", unit="img", disable=not progress,
                  leave=True, mininterval=0.5) as bar:
            train_loss, train_acc = train_epoch(model, train_data, optimizer, scheduler, batch_size,
                                                generator, device, bar)
            seconds = time.perf_counter() - start
            val_loss, val_acc = evaluate(model, val_data, device=device)
            bar.set_postfix(pérdida=render.decimal(train_loss, 3), validación=render.percent(val_acc, 2))
        history.append({"epoch": epoch, "train_loss": train_loss, "train_acc": train_acc,
                        "val_loss": val_loss, "val_acc": val_acc, "seconds": seconds})
        checkpoints.append(_cpu_state(model))
    return history, checkpoints


def _cpu_state(model):
    return {k: v.detach().to("cpu", copy=True).contiguous() for k, v in model.state_dict().items()}


def _test(model, test_data):
    """{"loss", "acc"} de la red en el test, medido una sola vez, al final; None si no hay test."""
    if test_data is None:
        return None
    loss, acc = evaluate(model, test_data)
    return {"loss": loss, "acc": acc}


class Run:
    """Un entrenamiento guardado: modelo final, historial (con la validación de cada época), los
    pesos de cada época y el resultado en test, medido una vez al final."""

    def __init__(self, name, model, history, checkpoints, seed, path=None, trained_now=True, test=None,
                 reference=False):
        self.name, self.model, self.history, self.checkpoints, self.seed = name, model, history, checkpoints, seed
        self.path = path  # dónde está guardado (None si no se guardó)
        self.trained_now = trained_now  # False si salió de la caché o es la referencia
        self.reference = reference  # True si es la red de referencia del paquete (trazos.reference)
        self.test = test  # {"loss", "acc"} en el test, o None si no se midió

    @property
    def val_accuracy(self):
        """Acierto en validación tras la última época: con el que se comparan y eligen las redes."""
        return self.history[-1]["val_acc"]

    @property
    def test_accuracy(self):
        """Acierto en test, medido una sola vez al final (None si el entrenamiento no tenía test)."""
        return self.test["acc"] if self.test else None

    @property
    def test_loss(self):
        return self.test["loss"] if self.test else None

    def model_at(self, epoch):
        """Una copia del modelo, en modo eval, con los pesos de la época `epoch` (0 = antes de entrenar).

        La copia sale de `self.model` (copy.deepcopy): vale igual para una red del curso que
        para la de un estudiante, que no se puede reconstruir a partir de un nombre.
        """
        if epoch not in range(len(self.checkpoints)):
            raise TrazosValueError(f"epoch debe estar entre 0 y {len(self.checkpoints) - 1}; se recibió {epoch!r}.")
        model = copy.deepcopy(self.model)
        model.load_state_dict(self.checkpoints[epoch])
        return model.eval()

    def __repr__(self):
        test = f", acierto en test={render.percent(self.test_accuracy, 2)}" if self.test else ""
        kind = ", referencia del curso" if self.reference else ""
        return (f"Run({self.name!r}{kind}, épocas={len(self.history)}, "
                f"acierto en validación={render.percent(self.val_accuracy, 2)}{test})")


VALIDATION = 5000  # de las 60.000 de entrenamiento, las que se apartan para validar (como en fastbook)


def course_data(size, root=None, limit=None):
    """(entrenamiento, validación, test) de las redes del curso: las 60.000 de entrenamiento menos
    5.000 para validar (o una de cada doce, con `limit`), y las 10.000 de test."""
    full = data.load_mnist(train=True, size=size, root=root, limit=limit)
    train_data, val_data = data.split_validation(full, min(VALIDATION, max(1, len(full) // 12)))
    return train_data, val_data, data.load_mnist(train=False, size=size, root=root)


def course_key(name, epochs=None, seed=0, root=None, limit=None):
    """La huella del entrenamiento de la red del curso `name` con esa receta, semilla y datos: el
    nombre de su fichero en la caché y la marca de la referencia (`trazos.reference`)."""
    epochs, settings = recipe(name, epochs)
    model = build_model(name)
    return _course_fingerprint(model, settings, epochs, seed, course_data(model.input_size, root, limit))


def _course_fingerprint(model, settings, epochs, seed, datasets):
    """La huella de un entrenamiento de la red del curso: una sola cuenta para la caché y para la referencia,
    así que las dos nunca pueden separarse."""
    return fingerprint(model, {**settings, "epochs": epochs, "seed": seed, "version": CACHE_VERSION}, *datasets)


def trained_model(name="cnn", epochs=None, seed=0, cache=None, root=None, limit=None, progress=True,
                  retrain=False, reference=True):
    """El modelo `name` entrenado con la receta del curso. Devuelve un `Run`.

    Con la receta tal cual (sus épocas, la semilla 0, todos los datos), es **la red de referencia**
    que trae el paquete (`trazos.reference`): no entrena nada y da los mismos pesos en todas las
    máquinas, así que toda la clase y el proyector ven la misma red. `reference=False` da en
    cambio tu propio entrenamiento: de la caché si ya existe, y si no lo entrena aquí;
    `retrain=True` entrena aunque haya caché (y la sobrescribe).

    Se entrena con 55.000 imágenes, se valida cada época con las otras 5.000 (`course_data`) y
    se mide el test una vez, al final. El resultado (pesos de cada época, historial y test) se
    guarda en `cache` (por defecto `TRAZOS_CACHE` o ~/.cache/trazos/models), con la misma clave
    que cualquier red (`cache.fingerprint`: arquitectura, receta y datos), así que cambiar el
    `forward` de la red nunca carga pesos viejos. Si el fichero está dañado, avisa y vuelve a
    entrenar. `limit` entrena con solo los primeros ejemplos (para pruebas rápidas).
    """
    # keep_rng: cargar (o entrenar) la red del curso no cambia el generador aleatorio del cuaderno,
    # así que las celdas siguientes dan lo mismo con la caché llena o vacía.
    with keep_rng():
        return _trained_model(name, epochs, seed, cache, root, limit, progress, retrain, reference)


def _trained_model(name, epochs, seed, cache, root, limit, progress, retrain, reference):
    default_epochs, _ = recipe(name)
    epochs, settings = recipe(name, epochs)
    model = build_model(name)
    train_data, val_data, test_data = course_data(model.input_size, root, limit)
    key = _course_fingerprint(model, settings, epochs, seed, (train_data, val_data, test_data))
    if reference and not retrain and (epochs, seed, limit) == (default_epochs, 0, None):
        found = load_reference(name, model, epochs, key)
        if found is not None:
            history, checkpoints, test = found
            if progress:
                print(f"Red '{name}' de referencia del curso: la misma en todas las máquinas ({reference_file(name)}).")
            return Run(name, model.eval(), history, checkpoints, seed, reference_file(name), trained_now=False,
                       test=test, reference=True)
    path = data.cache_root(cache) / f"{name}-e{epochs}-s{seed}-{key}.pt"
    saved = None if retrain else load_run(path, model, epochs, progress, name)
    if saved is not None:
        history, checkpoints, found, test = saved
        return Run(name, model.eval(), history, checkpoints, seed, found, trained_now=False, test=test)
    # Otra vez, tras fijar la semilla: los pesos iniciales salen del generador global, y sin
    # ella la misma semilla daría otra red.
    seed_everything(seed)
    model = build_model(name)
    history, checkpoints = train(model, train_data, val_data, epochs=epochs, seed=seed, progress=progress,
                                 **settings)
    test = _test(model, test_data)
    saved_at = save_run(path, history, checkpoints, test)
    return Run(name, model.eval(), history, checkpoints, seed, saved_at, test=test)


def _settings(model, epochs, batch_size, max_lr, weight_decay):
    """Los ajustes de `train_run`: los indicados y, para el resto, la receta de la red del curso
    si `model` lo es, o la de la red clásica, prudente para una red nueva."""
    name = next((n for n, cls in MODELS.items() if type(model) is cls), "classic")
    settings = dict(RECIPE[name])
    given = {"epochs": epochs, "batch_size": batch_size, "max_lr": max_lr, "weight_decay": weight_decay}
    settings.update({k: v for k, v in given.items() if v is not None})
    for key in ("epochs", "batch_size"):
        if isinstance(settings[key], bool) or not isinstance(settings[key], int) or settings[key] < 1:
            raise TrazosValueError(f"{key} debe ser un entero >= 1; se recibió {settings[key]!r}.")
    return settings


def train_run(model, train_data, val_data, test_data=None, epochs=None, batch_size=None, max_lr=None,
              weight_decay=None, seed=0, device=None, progress=True, cache=False):
    """Entrena cualquier red, también la tuya, y devuelve un `Run` como el de las redes del curso:
    historial (con la validación de cada época), pesos de después de cada época y
    `run.model_at(época)`. El explorador de kernels (`trazos.widgets.kernel_explorer(run)`) lo
    recorre época a época. Con `test_data`, el test se mide una vez al final (`run.test_accuracy`).

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
        datasets = [d for d in (train_data, val_data, test_data) if d is not None]
        key = fingerprint(model, {**settings, "epochs": epochs, "seed": seed, "version": CACHE_VERSION}, *datasets)
        path = data.cache_root(None if cache is True else cache) / f"{name}-{key}.pt"
        saved = load_run(path, model, epochs, progress, name)
        if saved is not None:
            history, checkpoints, found, test = saved
            return Run(name, model, history, checkpoints, seed, found, trained_now=False, test=test)
    history, checkpoints = train(model, train_data, val_data, epochs=epochs, seed=seed, device=device,
                                 progress=progress, **settings)
    test = _test(model, test_data)
    saved_at = save_run(path, history, checkpoints, test) if path is not None else None
    return Run(name, model, history, checkpoints, seed, saved_at, test=test)
