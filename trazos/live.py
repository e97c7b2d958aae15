"""Entrenar en vivo: el motor de `widgets.training_explorer`, sin widgets, para cualquier red.

`LiveTraining` entrena en un hilo aparte, paso a paso, con `training.train_step` (los mismos
pesos que el bucle de siempre con la misma semilla y el mismo orden de lotes) y guarda una
foto cada `every` pasos (y otra en el paso 0): la `timeline`, que luego se puede recorrer.
Se puede parar, seguir, dar n pasos exactos, volver al principio y cambiar la tasa de
aprendizaje, el tamaño de lote o el optimizador sin parar.

Hilos: el hilo de entrenamiento hace cada paso con `lock` cogido; quien quiera leer los
pesos vivos (la vista) los copia con ese mismo cerrojo (`live_state`). Cada foto guarda los
pesos al momento, y un segundo hilo (el de medir) calcula después, con su propia copia de la
red, su acierto y su pérdida en las imágenes fijas de test: así el entrenamiento no espera a
esas 200 pasadas (medido: sin esto, grabar la timeline costaba un 18 % del entrenamiento).
Hasta que se mide, una foto tiene test_acc, test_loss y probs a None; `wait()` y `step()`
no vuelven hasta que todas están medidas. Los hilos no guardan una referencia fuerte al motor
mientras esperan: si el motor desaparece, o el intérprete termina (el núcleo se apaga), un
`weakref.finalize` los despierta y terminan (`live_threads`). `close()` los para y los espera.

Sin efectos escondidos: los pesos iniciales salen de la semilla dentro de `runner.keep_rng`
(no se consume el generador global), el orden de los lotes de un generador propio, y el
hilo calcula con un solo hilo de PyTorch: en una CPU de 2 núcleos el otro queda para la vista
(dos hilos de cálculo peleando con la vista hacen cada paso 10 veces más lento, medido).
"""

import collections
import copy
import threading
import time
import weakref

import torch

from . import data
from .checks import check_network
from .errors import TrazosTypeError, TrazosValueError
from .models import conv_layers
from .runner import device_of, inspecting, keep_rng, log_probabilities, outputs, probabilities, training_mode
from .live_threads import Control, measurer, shutdown, worker
from .training import train_step

__all__ = ["OPTIMIZERS", "DEFAULT_LR", "LiveTraining", "make_live_optimizer", "small_data", "fresh_weights"]

OPTIMIZERS = ("sgd", "adam")
# Tasas que aprenden bien con la red del curso en pocos cientos de pasos (lotes de 64).
DEFAULT_LR = {"sgd": 0.1, "adam": 0.002}


def make_live_optimizer(model, name="sgd", lr=None):
    """El optimizador del entrenamiento en vivo: SGD sin momento (el de `w -= lr * w.grad`) o Adam.

    Sin programa de tasa (OneCycle): la tasa es la del control y se puede cambiar a mano.
    """
    if name not in OPTIMIZERS:
        raise TrazosValueError(f"Optimizador desconocido: {name!r}. Opciones: {', '.join(OPTIMIZERS)}.")
    lr = DEFAULT_LR[name] if lr is None else float(lr)
    if not lr > 0:
        raise TrazosValueError(f"La tasa de aprendizaje debe ser positiva; se recibió {lr!r}.")
    cls = torch.optim.SGD if name == "sgd" else torch.optim.Adam
    return cls(model.parameters(), lr=lr)


def fresh_weights(model, seed):
    """Pesos nuevos para `model` a partir de `seed` (el `reset_parameters` de cada capa), sin
    consumir el generador aleatorio global: la misma semilla da siempre la misma red."""
    with keep_rng(), torch.no_grad():
        torch.manual_seed(seed)
        for module in model.modules():
            if hasattr(module, "reset_parameters") and callable(module.reset_parameters):
                module.reset_parameters()


def small_data(digits, size=300, seed=0):
    """Unos pocos dígitos de `digits` (`size`, al azar pero siempre los mismos): para ver el sobreajuste."""
    order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(seed))[:size]
    return data.Digits(digits.pixels[order], digits.labels[order])


def _check_digits(value, name):
    if not (hasattr(value, "pixels") and hasattr(value, "labels")):
        raise TrazosTypeError(f"{name} deben ser unos Digits (trazos.load_mnist(...)); se recibió "
                              f"{type(value).__name__}.")


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise TrazosValueError(f"{name} debe ser un entero >= 1; se recibió {value!r}.")
    return value


class LiveTraining:
    """Entrena `model` (la red del estudiante, en su sitio) sobre `train` en un hilo aparte.

    - `play()`, `pause()`, `step(n)`, `reset()`, `wait()`: ver cada método.
    - `timeline`: una foto (diccionario) cada `every` pasos y una en el paso 0, con step,
      epoch, loss y train_acc (medias de los últimos `every` pasos; en el paso 0, los del
      primer lote sin entrenar), test_acc y test_loss (sobre `test_size` imágenes fijas de
      `test`; None durante unos milisegundos, hasta que el hilo de medir las calcula),
      first_conv (pesos de la primera convolución), weights y grads (de cada convolución),
      probs (probabilidades de cada imagen fija, también None hasta medirla), state (todos los pesos),
      lr, batch_size, optimizer y seconds (tiempo de entrenamiento acumulado).
    - `seed`: los pesos iniciales salen de ella (`fresh_weights`) y el orden de los lotes
      también; con `seed=None` se entrena desde los pesos que ya tiene la red.
    """

    def __init__(self, model, train, test, *, epochs=1, batch_size=64, lr=None, every=20, optimizer="sgd",
                 seed=0, test_size=200):
        _check_digits(train, "train")
        _check_digits(test, "test")
        self.model, self.train, self.epochs = model, train, _positive_int(epochs, "epochs")
        self.every, self.seed = _positive_int(every, "every"), seed
        self._batch_size = _positive_int(batch_size, "batch_size")
        self._optimizer_name = optimizer
        self._lr = DEFAULT_LR.get(optimizer, 0.1) if lr is None else lr
        make_live_optimizer(model, optimizer, self._lr)  # valida nombre y tasa antes de nada
        self.device = device_of(model)
        self.test_images, self.test_labels = test[:min(_positive_int(test_size, "test_size"), len(test))]
        check_network(model, train[:2][0])  # una red que no encaja: el error en español, aquí y no en el hilo
        self.layers = conv_layers(model)
        self.control = Control()
        self._probe = copy.deepcopy(model)  # la copia con la que se miden las fotos, en el hilo de medir
        self._thread = threading.Thread(target=worker, args=(self.control, weakref.ref(self)),
                                        name="trazos-live-training", daemon=True)
        self._measure_thread = threading.Thread(target=measurer, args=(self.control, weakref.ref(self)),
                                                name="trazos-live-measure", daemon=True)
        self._finalizer = weakref.finalize(self, shutdown, self.control, self._thread,
                                           self._measure_thread)  # también al salir
        self._initial = None if seed is not None else self._copy_state()
        self._restart()
        self._thread.start()
        self._measure_thread.start()

    # --- Órdenes ---------------------------------------------------------------------------

    def play(self):
        """Entrena (en el hilo) hasta terminar las épocas o hasta `pause()`. No espera."""
        self._check_open()
        if self.finished:
            return
        with self.control.cond:
            self.control.budget, self.control.running = None, True
            self.control.cond.notify_all()

    def pause(self):
        """Para tras el paso en curso y espera a que acabe: al volver, los pesos ya no cambian."""
        with self.control.cond:
            self.control.running, self.control.budget = False, None
            self.control.cond.notify_all()
            while self.control.busy:
                self.control.cond.wait()

    def step(self, n=1):
        """Exactamente `n` pasos del optimizador (menos si se acaban las épocas) y queda en pausa.

        Espera a que terminen: al volver, `steps` ha avanzado `n`.
        """
        self._check_open()
        n = _positive_int(n, "n")
        self.pause()
        if self.finished:
            return self.timeline
        with self.control.cond:
            self.control.budget, self.control.running = n, True
            self.control.cond.notify_all()
        return self.wait()

    def wait(self, timeout=None):
        """Espera a que el entrenamiento termine o quede en pausa; devuelve la `timeline`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.control.cond:
            while (self.control.running or self.control.busy or self.control.pending
                   or self.control.measuring) and not self.control.closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self.control.cond.wait(left)
        if self.control.error is not None:
            error, self.control.error = self.control.error, None
            raise error
        return self.timeline

    def reset(self):
        """Vuelve al paso 0: pesos nuevos de la misma semilla (o los iniciales), optimizador nuevo y
        timeline vacía, con la tasa, el lote y el optimizador elegidos ahora. No consume el
        generador aleatorio global de PyTorch."""
        self._check_open()
        self.pause()
        with self.control.lock:
            self._restart()

    def close(self):
        """Para el hilo y lo espera. El motor ya no entrena más (la timeline sigue ahí)."""
        self.pause()
        self._finalizer()

    # --- Ajustes en marcha ---------------------------------------------------------------------

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        value = float(value)
        if not value > 0:
            raise TrazosValueError(f"La tasa de aprendizaje debe ser positiva; se recibió {value!r}.")
        with self.control.lock:  # entre dos pasos: el siguiente ya va con la nueva tasa
            self._lr = value
            for group in self.optimizer.param_groups:
                group["lr"] = value

    @property
    def batch_size(self):
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value):
        with self.control.lock:  # el siguiente lote sale del mismo orden, a partir de donde iba
            self._batch_size = _positive_int(int(value), "batch_size")

    @property
    def optimizer_name(self):
        return self._optimizer_name

    @optimizer_name.setter
    def optimizer_name(self, name):
        """Cambiar de optimizador en marcha empieza uno nuevo (Adam pierde sus medias) con la tasa actual."""
        with self.control.lock:
            self.optimizer = make_live_optimizer(self.model, name, self._lr)
            self._optimizer_name = name

    # --- Estado -----------------------------------------------------------------------------------

    @property
    def timeline(self):
        with self.control.shots:
            return list(self._timeline)

    @property
    def steps(self):
        return self._steps

    @property
    def epoch(self):
        """Épocas completas y fracción de la actual (1,5 = a mitad de la segunda)."""
        return self._epoch + self._position / len(self.train)

    @property
    def finished(self):
        return self._epoch >= self.epochs

    @property
    def running(self):
        return self.control.running

    @property
    def closed(self):
        return self.control.closed

    @property
    def thread(self):
        return self._thread

    def live_state(self):
        """(paso, pesos, gradientes de cada convolución, pérdida y acierto recientes), copiados con
        el cerrojo: nunca a medio paso."""
        self.control.readers += 1  # sin esto, el hilo de entrenamiento vuelve a coger el cerrojo antes
        try:
            self.control.lock.acquire()
        finally:
            self.control.readers -= 1
        try:
            state = self._copy_state()
            grads = self._conv_grads()
            return {"step": self._steps, "epoch": self.epoch, "state": state, "grads": grads,
                    "loss": self._mean(self._losses), "train_acc": self._mean(self._hits)}
        finally:
            self.control.lock.release()

    # --- Por dentro ----------------------------------------------------------------------------------

    def _check_open(self):
        if self.control.closed:
            raise TrazosValueError("Este entrenamiento está cerrado (close()); crea otro con training_explorer(...).")

    def _copy_state(self):
        return {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}

    def _conv_grads(self):
        modules = dict(self.model.named_modules())
        grads = {}
        for name in self.layers:
            grad = modules[name].weight.grad
            grads[name] = torch.zeros_like(modules[name].weight, device="cpu") if grad is None \
                else grad.detach().to("cpu", copy=True)
        return grads

    @staticmethod
    def _mean(values):
        return sum(values) / len(values) if values else None

    def _restart(self):
        if self.seed is None:
            self.model.load_state_dict(self._initial)
        else:
            fresh_weights(self.model, self.seed)
        self.model.zero_grad(set_to_none=True)
        self.optimizer = make_live_optimizer(self.model, self._optimizer_name, self._lr)
        self.generator = torch.Generator().manual_seed(0 if self.seed is None else self.seed)
        self._order = torch.randperm(len(self.train), generator=self.generator)  # como data.batches
        self._epoch, self._position, self._steps, self._seconds = 0, 0, 0, 0.0
        self._losses = collections.deque(maxlen=self.every)
        self._hits = collections.deque(maxlen=self.every)
        with self.control.cond:
            self.control.pending.clear()  # las fotos de antes ya no se miden
            self.control.measured = 0
        with self.control.shots:
            self._timeline = []
        self._record(first=True)

    def _next_batch(self):
        """El siguiente lote del orden de la época (como `data.batches`); al acabarla, otro orden."""
        if self._position >= len(self.train):
            self._epoch += 1
            self._position = 0
            if self.finished:
                return None
            self._order = torch.randperm(len(self.train), generator=self.generator)
        index = self._order[self._position:self._position + self._batch_size]
        self._position += len(index)
        if len(index) == 1 and self._position > 1:  # BatchNorm no puede normalizar un lote de 1 (como train_epoch)
            return self._next_batch()
        return self.train[index]

    def _advance(self):
        """Un paso (lo llama el hilo). Devuelve True si ya no quedan pasos."""
        with self.control.lock:
            batch = self._next_batch()
            if batch is None:
                return True
            images, labels = batch
            start = time.perf_counter()
            with training_mode(self.model):
                loss, hits = train_step(self.model, images.to(self.device), labels.to(self.device), self.optimizer)
            self._seconds += time.perf_counter() - start
            self._steps += 1
            self._losses.append(loss)
            self._hits.append(hits / len(labels))
            if self._steps % self.every == 0:
                self._record()
            if self._position >= len(self.train) and self._epoch + 1 >= self.epochs:
                self._epoch, self._position = self._epoch + 1, 0  # la última época, completa: no hay más lotes
                return True
            return False

    def _measure(self, shot):
        """Acierto, pérdida y probabilidades de `shot` en las imágenes fijas de test, con los pesos de
        la foto cargados en la copia `_probe` (nunca la red que se entrena)."""
        self._probe.load_state_dict(shot["state"])
        output = outputs(self._probe, self.test_images)
        probs = probabilities(output)
        measured = {"probs": probs, "test_acc": float((probs.argmax(dim=1) == self.test_labels).float().mean()),
                    "test_loss": float(torch.nn.functional.nll_loss(log_probabilities(output), self.test_labels))}
        with self.control.shots:
            shot.update(measured)
            self.control.measured += 1

    def _record(self, first=False):
        """Una foto del momento actual en la timeline (con el cerrojo cogido); la mide el otro hilo,
        salvo la del paso 0, que se mide aquí (antes de entrenar, nadie espera)."""
        if first:  # sin pasos aún: la pérdida y el acierto del primer lote, sin entrenar
            images, labels = self.train[self._order[:self._batch_size]]
            with inspecting(self.model):
                first_output = self.model(images.to(self.device)).cpu()
            loss = float(torch.nn.functional.nll_loss(log_probabilities(first_output), labels))
            train_acc = float((first_output.argmax(dim=1) == labels).float().mean())
        else:
            loss, train_acc = self._mean(self._losses), self._mean(self._hits)
        state = self._copy_state()
        weights = {name: state[f"{name}.weight"] for name in self.layers}
        shot = {
            "step": self._steps, "epoch": self.epoch, "loss": loss, "train_acc": train_acc, "test_acc": None,
            "test_loss": None, "first_conv": weights[self.layers[0]] if self.layers else None,
            "weights": weights, "grads": self._conv_grads(), "probs": None, "state": state, "lr": self._lr,
            "batch_size": self._batch_size, "optimizer": self._optimizer_name, "seconds": self._seconds,
        }
        with self.control.shots:
            self._timeline.append(shot)
        if first:
            self._measure(shot)
        else:
            with self.control.cond:
                self.control.pending.append(shot)
                self.control.cond.notify_all()
