"""Los hilos del entrenamiento en vivo (`live.LiveTraining`): el que entrena y el que mide.

- `worker` espera órdenes (`Control.running`, `budget`) y da pasos con `engine._advance()`.
- `measurer` toma cada foto pendiente y le pone su acierto en validación (`engine._measure`).
- `shutdown` los despierta y los espera: al cerrar, al desaparecer el motor o al salir.
- `failed`: si algo falla en un hilo, el error en español, para el siguiente `wait()` y la vista.
- `claim` apunta qué motor entrena cada red: uno solo (el último), y el anterior se cierra.

Ninguno guarda una referencia fuerte al motor mientras espera (solo un `weakref`), así que
un motor olvidado se recoge y su finalizador los para.
"""

import collections
import threading
import time
import weakref

import torch

from .errors import TrazosError, TrazosRuntimeError
from .malloc import release_freed_memory

__all__ = ["CLAIM", "Control", "claim", "failed", "shutdown", "measurer", "worker"]

# Red -> (weakref al) motor que la entrena en vivo. Dos motores sobre los mismos pesos harían dos
# hilos con backward a la vez sobre los mismos tensores: errores de autograd en inglés y, a veces,
# una violación de segmento dentro de PyTorch (el núcleo muere). `CLAIM` lo coge quien crea un motor.
_TRAINING = weakref.WeakKeyDictionary()
CLAIM = threading.RLock()


def claim(model, engine):
    """`engine` pasa a ser el único entrenamiento en vivo de `model` (con `CLAIM` cogido): si otro
    la estaba entrenando, se para y se cierra (y su explorador, si lo tiene), y se dice en una línea."""
    previous = _TRAINING.get(model)
    previous = previous() if previous is not None else None
    _TRAINING[model] = weakref.ref(engine)
    if previous is None or previous is engine or previous.closed:
        return
    step = previous.steps
    previous.close()
    hook = previous.superseded() if previous.superseded is not None else None
    if hook is not None:
        hook()
    print(f"Se ha parado el entrenamiento en vivo anterior de esta red (iba por el paso {step}): una red se "
          "entrena en vivo de una en una, y sigue el nuevo.")


class Control:
    """Lo que comparten el motor y su hilo: el cerrojo de los pesos, la condición y las órdenes."""

    def __init__(self):
        self.lock = threading.RLock()  # los pesos: un paso entero, o una copia entera
        self.shots = threading.Lock()  # la lista de fotos: leerla no espera a que acabe un paso
        self.readers = 0  # hilos esperando `lock` para copiar los pesos (la vista)
        self.cond = threading.Condition()
        self.running = False  # hay orden de entrenar
        self.busy = False  # el hilo está dentro de un paso
        self.budget = None  # pasos que quedan de un `step(n)` (None: hasta el final)
        self.closed = False
        self.error = None  # el error de un hilo, para el siguiente wait() o step() (se lanza una vez)
        self.failure = None  # el mismo error, para la vista, hasta el siguiente reset()
        self.pending = collections.deque()  # fotos sin medir aún (las mide `measurer`), con `cond`
        self.measuring = False  # el hilo de medir está con una foto
        self.measured = 0  # fotos medidas desde el último reinicio (la vista redibuja cuando cambia)


def failed(control, error, where, step, now=False):
    """Lo que hace un hilo cuando algo falla: el error, en español, para `wait()` y para la vista
    (`now`: se lanza ya, en la celda que lo pidió, y `wait()` no lo lanza otra vez)."""
    if not isinstance(error, TrazosError):
        message = f"{type(error).__name__}: {error}"
        wrapped = TrazosRuntimeError(f"El entrenamiento en vivo se ha parado en el paso {step}: falló "
                                     f"{where} ({message}). Revisa la red y los datos, y pulsa ⟲ Reiniciar "
                                     "(reset()) para empezar otra vez.")
        wrapped.__cause__ = error
        error = wrapped
    control.failure, control.error = error, None if now else error
    return error


def shutdown(control, *threads):
    """Para los hilos (al cerrar, al desaparecer el motor o al terminar el intérprete)."""
    with control.cond:
        control.closed = True
        control.running = False
        control.cond.notify_all()
    for thread in threads:
        if thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=5)


def measurer(control, engine_ref):
    """El hilo de medir: toma cada foto pendiente y le pone su acierto en validación (ver el principio)."""
    torch.set_num_threads(1)
    while True:
        with control.cond:
            while not control.pending and not control.closed:
                control.cond.wait()
            if control.closed:
                return
            shot = control.pending.popleft()
            control.measuring = True
        engine = engine_ref()
        try:
            if engine is None:
                return
            engine._measure(shot)
        except Exception as error:  # noqa: BLE001 - se enseña en wait(), como los del entrenamiento
            engine._failed(error, "al medir una foto en las imágenes de validación")
            with control.cond:
                control.pending.clear()
                control.running, control.budget = False, None  # el entrenamiento se para también
        finally:
            del engine
            with control.cond:
                control.measuring = False
                control.cond.notify_all()


def worker(control, engine_ref):
    """El bucle del hilo: espera órdenes y da pasos. Solo tiene el motor mientras da un paso."""
    torch.set_num_threads(1)  # solo para este hilo (OpenMP lo guarda por hilo): el otro núcleo, para la vista
    trimmed = True
    while True:
        with control.cond:
            if not control.running and not trimmed:  # en pausa o terminado: la memoria libre, al sistema
                release_freed_memory()
                trimmed = True
            while not control.running and not control.closed:
                control.cond.wait()
            if control.closed:
                return
            control.busy, trimmed = True, False
        engine = engine_ref()
        try:
            if engine is None:
                return
            finished = engine._advance()
        except Exception as error:  # noqa: BLE001 - se guarda y se enseña; el hilo no muere en silencio
            engine._failed(error, "un paso de entrenamiento")
            finished = True
        finally:
            del engine
            with control.cond:
                control.busy = False
                if control.budget is not None:
                    control.budget -= 1
                    if control.budget <= 0:
                        control.running, control.budget = False, None
                control.cond.notify_all()
        if control.readers:  # alguien espera para copiar los pesos: que lo consiga antes del siguiente paso
            time.sleep(0.0002)
        if finished:
            with control.cond:
                control.running, control.budget = False, None
                control.cond.notify_all()
