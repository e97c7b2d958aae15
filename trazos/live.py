"""Entrenar en vivo: el motor de `widgets.training_explorer`, sin widgets, para cualquier red.

`LiveTraining` entrena en un hilo aparte, paso a paso, con `training.train_step` (los mismos
pesos que el bucle de siempre con la misma semilla y el mismo orden de lotes) y guarda una
foto cada `every` pasos (y otra en el paso 0): la `timeline`, que luego se puede recorrer.
Se puede parar, seguir, dar n pasos exactos, volver al principio y cambiar la tasa de
aprendizaje, el tamaño de lote o el optimizador sin parar.

Hilos: el hilo de entrenamiento hace cada paso con `lock` cogido; quien quiera leer los
pesos vivos (la vista) los copia con ese mismo cerrojo (`live_state`). Cada foto guarda los
pesos al momento, y un segundo hilo (el de medir) le pone después su acierto en validación
(`live_shots`: qué guarda una foto, cómo se mide y por qué en otro hilo); `wait()` y `step()`
no vuelven hasta que todas están medidas. Los hilos no guardan una referencia fuerte al motor
mientras esperan: si el motor desaparece, o el intérprete termina (el núcleo se apaga), un
`weakref.finalize` los despierta y terminan (`live_threads`). `close()` los para y los espera.

Una red, un entrenamiento: crear otro para una red que ya se entrena en vivo (la celda del
explorador, ejecutada otra vez) para y cierra el anterior y lo dice en una línea; nunca hay
dos hilos cambiando los mismos pesos (`live_threads.claim`). Si algo falla dentro de un hilo,
el entrenamiento se para, el explorador lo dice y el siguiente `wait()` o `step()` lanza el
error, en español; `reset()` lo deja listo otra vez.

Sin efectos escondidos: los pesos iniciales salen de la semilla dentro de `runner.keep_rng`
(no se consume el generador global), el orden de los lotes de un generador propio, y el
hilo calcula con un solo hilo de PyTorch: en una CPU de 2 núcleos el otro queda para la vista
(dos hilos de cálculo peleando con la vista hacen cada paso 10 veces más lento, medido).
El dropout sortea con el generador global de PyTorch (no admite otro): durante cada paso el hilo
pone en él su propia secuencia, que sale de la semilla, y al acabar el paso le devuelve el
estado que tenía. Así la misma semilla da el mismo entrenamiento, y el cuaderno, mientras no
sortee nada a la vez que un paso, no nota que hay un entrenamiento en marcha: lo que sortee
durante un paso sale de la secuencia del entrenamiento (y cambia su dropout).
"""

import collections
import copy
import numbers
import threading
import time
import weakref

import torch

from .capture import TRACING
from .errors import TrazosValueError
from .live_setup import (DEFAULT_LR, OPTIMIZERS, check_batch_size, check_data, check_optimizer, fresh_weights,
                         make_live_optimizer, small_data)
from .live_shots import conv_grads, copy_state, first_batch, mean, measure, new_shot
from .live_threads import CLAIM, Control, claim, failed, measurer, shutdown, worker
from .malloc import steady_memory
from .models import conv_layers
from .runner import device_of, dtype_of, keep_rng, training_mode
from .training import train_step
from .values import learning_rate, positive_int

__all__ = ["OPTIMIZERS", "DEFAULT_LR", "LiveTraining", "make_live_optimizer", "small_data", "fresh_weights"]


class LiveTraining:
    """Entrena `model` (la red del estudiante, en su sitio) sobre `train` en un hilo aparte.

    - `play()`, `pause()`, `step(n)`, `reset()`, `wait()`, `close()`: ver cada método.
    - `timeline`: una foto (diccionario) cada `every` pasos y una en el paso 0; qué guarda cada
      una, en `live_shots.new_shot`. Se miden sobre `val_size` imágenes fijas de validación, `val`.
    - `seed`: los pesos iniciales salen de ella (`fresh_weights`; los parámetros congelados con
      requires_grad=False se quedan como están), el orden de los lotes y el dropout también;
      con `seed=None` se entrena desde los pesos que ya tiene la red.
    - Las imágenes van a la red en su tipo (float32, o float64 tras `model.double()`).
    """

    def __init__(self, model, train, val, *, epochs=1, batch_size=64, lr=None, every=20, optimizer="sgd",
                 seed=0, val_size=200, test_size=None):
        # Todo se comprueba antes de tocar los pesos ni arrancar nada: un error aquí no deja nada a medias.
        check_data(model, train, val)
        self.model, self.train, self.epochs = model, train, positive_int(epochs, "epochs")
        self.every = positive_int(every, "every", what=" (cada cuántos pasos se graba una foto)")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise TrazosValueError(f"seed debe ser un entero (o None para partir de los pesos que ya tiene la red); "
                                   f"se recibió {seed!r}.")
        self.seed = None if seed is None else int(seed)
        self._batch_size = check_batch_size(model, batch_size)
        self._optimizer_name = check_optimizer(optimizer)
        self._lr = DEFAULT_LR[optimizer] if lr is None else learning_rate(lr)
        size = positive_int(val_size if test_size is None else test_size, "val_size")
        self.device, self.dtype = device_of(model), dtype_of(model)
        self.val_images, self.val_labels = val[:min(size, len(val))]
        self.layers = conv_layers(model)
        self.control = Control()
        self.superseded = None  # quien avisar si otro entrenamiento de la misma red para este (el explorador)
        steady_memory()  # sus hilos no se quedan con la memoria que sueltan (trazos.malloc)
        with CLAIM:  # hasta que arrancan los hilos, nadie más crea un entrenamiento: uno por red
            claim(model, self)
            self._probe = copy.deepcopy(model)  # la copia con la que se miden las fotos, en el hilo de medir
            self._thread = threading.Thread(target=worker, args=(self.control, weakref.ref(self)),
                                            name="trazos-live-training", daemon=True)
            self._measure_thread = threading.Thread(target=measurer, args=(self.control, weakref.ref(self)),
                                                    name="trazos-live-measure", daemon=True)
            self._finalizer = weakref.finalize(self, shutdown, self.control, self._thread,
                                               self._measure_thread)  # también al salir
            self._initial = None if seed is not None else copy_state(model)
            self._restart()
            self._thread.start()
            self._measure_thread.start()

    # --- Órdenes ---------------------------------------------------------------------------

    def play(self):
        """Entrena (en el hilo) hasta terminar las épocas o hasta `pause()`. No espera."""
        self._check_open()
        self._raise_error()
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
        n = positive_int(n, "n", what=" (cuántos pasos dar)")
        self.pause()
        self._raise_error()
        if self.finished:
            return self.timeline
        with self.control.cond:
            self.control.budget, self.control.running = n, True
            self.control.cond.notify_all()
        return self.wait()

    def wait(self, timeout=None):
        """Espera a que el entrenamiento termine o quede en pausa; devuelve la `timeline`.

        Si un hilo falló, lanza su error (una vez), en español."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.control.cond:
            while (self.control.running or self.control.busy or self.control.pending
                   or self.control.measuring) and not self.control.closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self.control.cond.wait(left)
        self._raise_error()
        return self.timeline

    def reset(self):
        """Vuelve al paso 0: pesos nuevos de la misma semilla (o los iniciales), optimizador nuevo y
        timeline vacía, con la tasa, el lote y el optimizador elegidos ahora. Olvida un error de un
        hilo. No consume el generador aleatorio global de PyTorch."""
        self._check_open()
        self.pause()
        with self.control.lock:
            self._check_open()  # cerrado mientras esperaba (otro entrenamiento de esta red): no se toca nada
            self._restart()

    def close(self):
        """Para los hilos y los espera. El motor ya no entrena más (la timeline sigue ahí)."""
        self.pause()
        with self.control.lock:  # un paso o un reset a medias terminan antes; después, ninguno más
            with self.control.cond:
                self.control.closed, self.control.running = True, False
                self.control.cond.notify_all()
        self._finalizer()

    # --- Ajustes en marcha ---------------------------------------------------------------------

    @property
    def lr(self):
        return self._lr

    @lr.setter
    def lr(self, value):
        value = learning_rate(value)
        with self.control.lock:  # entre dos pasos: el siguiente ya va con la nueva tasa
            self._lr = value
            for group in self.optimizer.param_groups:
                group["lr"] = value

    @property
    def batch_size(self):
        return self._batch_size

    @batch_size.setter
    def batch_size(self, value):
        value = check_batch_size(self.model, value)
        with self.control.lock:  # el siguiente lote sale del mismo orden, a partir de donde iba
            self._batch_size = value

    @property
    def optimizer_name(self):
        return self._optimizer_name

    @optimizer_name.setter
    def optimizer_name(self, name):
        """Cambiar de optimizador en marcha empieza uno nuevo (Adam pierde sus medias) con la tasa actual."""
        check_optimizer(name)
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
    def failure(self):
        """El error que paró el entrenamiento (en español), hasta el próximo `reset()`; o None."""
        return self.control.failure

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
            state = copy_state(self.model)
            grads = conv_grads(self.model, self.layers)
            return {"step": self._steps, "epoch": self.epoch, "state": state, "grads": grads,
                    "loss": mean(self._losses), "train_acc": mean(self._hits)}
        finally:
            self.control.lock.release()

    # --- Por dentro ----------------------------------------------------------------------------------

    def _check_open(self):
        if self.control.closed:
            raise TrazosValueError("Este entrenamiento está cerrado (close(), o se empezó otro con la misma red); "
                                   "usa el nuevo, o crea otro con training_explorer(...).")

    def _raise_error(self):
        error, self.control.error = self.control.error, None
        if error is not None:
            raise error

    def _failed(self, error, where, now=False):
        """Lo que hace un hilo cuando algo falla (`live_threads.failed`, con el paso en que iba)."""
        return failed(self.control, error, where, self._steps, now)

    def _restart(self):
        if self.seed is None:
            self.model.load_state_dict(self._initial)
        else:
            fresh_weights(self.model, self.seed)
        self.model.zero_grad(set_to_none=True)
        self.optimizer = make_live_optimizer(self.model, self._optimizer_name, self._lr)
        seed = 0 if self.seed is None else self.seed
        self.generator = torch.Generator().manual_seed(seed)
        self._rng = torch.Generator().manual_seed(seed).get_state()  # el del dropout (ver el principio)
        self._order = torch.randperm(len(self.train), generator=self.generator)  # como data.batches
        self._epoch, self._position, self._steps, self._seconds = 0, 0, 0, 0.0
        self._losses = collections.deque(maxlen=self.every)
        self._hits = collections.deque(maxlen=self.every)
        with self.control.cond:
            self.control.pending.clear()  # las fotos de antes ya no se miden
            self.control.measured = 0
            self.control.error = self.control.failure = None
        self._record(first=True)  # la timeline nueva, ya con su foto del paso 0 medida: nunca se ve vacía

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
        if len(index) == 1 and self._batch_size > 1:  # la imagen suelta del final: BatchNorm no normaliza un lote
            return self._next_batch()  # de 1 (como train_epoch); con batch_size=1 todos son de 1 y valen
        return self.train[index]

    def _advance(self):
        """Un paso (lo llama el hilo). Devuelve True si ya no quedan pasos."""
        with self.control.lock:
            if self.control.closed:
                return True
            batch = self._next_batch()
            if batch is None:
                return True
            images, labels = batch
            start = time.perf_counter()
            # El dropout, con su propia secuencia (ver el principio); fx no lee otra red mientras tanto.
            with TRACING.reading(), keep_rng(), training_mode(self.model):
                torch.set_rng_state(self._rng)
                loss, hits = train_step(self.model, images.to(self.device, self.dtype), labels.to(self.device),
                                        self.optimizer)
                self._rng = torch.get_rng_state()
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
        """Acierto, pérdida y probabilidades de `shot` en las imágenes fijas de validación, con los pesos
        de la foto cargados en la copia `_probe` (nunca la red que se entrena)."""
        measured = measure(self._probe, shot["state"], self.val_images, self.val_labels)
        with self.control.shots:
            shot.update(measured)
            self.control.measured += 1

    def _first_batch(self):
        images, labels = self.train[self._order[:self._batch_size]]
        with TRACING.reading():
            return first_batch(self.model, self.layers, images.to(self.device, self.dtype), labels.to(self.device))

    def _record(self, first=False):
        """Una foto del momento actual en la timeline (con el cerrojo cogido); la mide el otro hilo,
        salvo la del paso 0, que se mide aquí (antes de entrenar, nadie espera)."""
        if first:
            try:
                loss, train_acc, grads = self._first_batch()
            except Exception as error:  # noqa: BLE001 - en español, en la celda que lo pidió
                raise self._failed(error, "el primer lote, antes de entrenar", now=True) from error
        else:
            loss, train_acc, grads = mean(self._losses), mean(self._hits), conv_grads(self.model, self.layers)
        shot = new_shot(step=self._steps, epoch=self.epoch, loss=loss, train_acc=train_acc, grads=grads,
                        state=copy_state(self.model), layers=self.layers, lr=self._lr, batch_size=self._batch_size,
                        optimizer=self._optimizer_name, seconds=self._seconds)
        if first:
            try:
                self._measure(shot)
            except Exception as error:  # noqa: BLE001 - en español, en la celda que lo pidió
                raise self._failed(error, "al medir el paso 0 en las imágenes de validación", now=True) from error
            with self.control.shots:
                self._timeline = [shot]
        else:
            with self.control.shots:
                self._timeline.append(shot)
            with self.control.cond:
                self.control.pending.append(shot)
                self.control.cond.notify_all()
