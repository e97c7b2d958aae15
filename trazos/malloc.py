"""La memoria que glibc guarda al entrenar, y la que devuelve después (solo Linux con glibc).

glibc devuelve al sistema la memoria libre del final de cada montón en cuanto pasa de un umbral
(128 KiB), y sirve con mmap los bloques grandes. Al entrenar eso es caro: cada paso suelta las
activaciones y el siguiente vuelve a pedir (y a poner a cero) las mismas páginas. Con el umbral
en 32 MB y los bloques de hasta 8 MB servidos del montón, una época de la red clásica va un 25 %
más deprisa (`benchmarks/malloc.py`); es lo que hace la guía de rendimiento de PyTorch con
jemalloc o tcmalloc, sin instalar nada.

Pero el umbral vale para cada montón, y glibc da uno a cada hilo: con uno alto, cada hilo que
ha entrenado algo se queda con su memoria libre para siempre (`malloc_trim` no encoge los
montones de los hilos). Y glibc, por su cuenta, lo sube solo (hasta 64 MB) cada vez que suelta
un bloque grande. En el cuaderno 10, con un entrenamiento en vivo en cada sección, eran unos
50 MB de más por núcleo (`benchmarks/memory.py`). Por eso el umbral alto dura lo que dura un
entrenamiento (`kept_while_training`) y después queda fijo en 128 KiB (`steady_memory`, también
al crear un entrenamiento en vivo); los bloques grandes siguen en el montón (eso ahorra fallos
de página y no guarda memoria de más).

Si el sistema ya fija estos valores (MALLOC_TRIM_THRESHOLD_, MALLOC_MMAP_THRESHOLD_ o
GLIBC_TUNABLES), se respetan. En macOS y Windows no se hace nada.
"""

import contextlib
import ctypes
import os
import threading

__all__ = ["keep_freed_memory", "return_freed_memory", "steady_memory", "kept_while_training",
           "release_freed_memory"]

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3  # de <malloc.h>
KEPT, DEFAULT_TRIM, LARGE_BLOCK = 32 * 2**20, 128 * 2**10, 8 * 2**20
SYSTEM_SETTINGS = ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES")

_LOCK = threading.Lock()
_TRAINING = [0]  # cuántos entrenamientos hay en marcha en el proceso (pueden anidarse o ir en hilos)


def _mallopt():
    if any(name in os.environ for name in SYSTEM_SETTINGS):
        return None
    try:
        return ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # no es Linux con glibc
        return None


def keep_freed_memory():
    """Que el proceso guarde la memoria que libera cada paso. True si ha cambiado algo."""
    mallopt = _mallopt()
    return bool(mallopt and mallopt(M_TRIM_THRESHOLD, KEPT) and mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK))


def return_freed_memory():
    """Umbrales fijos, 128 KiB y bloques de 8 MB, y la memoria libre, al sistema. True si ha cambiado algo."""
    mallopt = _mallopt()
    if not (mallopt and mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM) and mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)):
        return False
    release_freed_memory()
    return True


def steady_memory():
    """Los umbrales de fuera de un entrenamiento (los de `return_freed_memory`), si no hay ninguno en marcha:
    glibc ya no los sube solo. Lo llama el entrenamiento en vivo, que da pasos sueltos en sus hilos."""
    with _LOCK:
        return _TRAINING[0] == 0 and return_freed_memory()


def release_freed_memory():
    """Devolver al sistema la memoria libre de todos los montones (`malloc_trim`): la que un
    entrenamiento en vivo ya no usa al pararse."""
    try:
        return bool(ctypes.CDLL("libc.so.6").malloc_trim(0))
    except (OSError, AttributeError):  # no es Linux con glibc
        return False


@contextlib.contextmanager
def kept_while_training():
    """Guarda la memoria libre mientras dura el bloque; al salir el último entrenamiento, la devuelve."""
    with _LOCK:
        _TRAINING[0] += 1
        if _TRAINING[0] == 1:
            keep_freed_memory()
    try:
        yield
    finally:
        with _LOCK:
            _TRAINING[0] -= 1
            if _TRAINING[0] == 0:
                return_freed_memory()
