"""La red de referencia del curso: la misma en todas las pantallas de una clase.

Entrenar la red del curso en dos máquinas da dos redes distintas: el mismo acierto (unas
décimas arriba o abajo), pero otros kernels. Las sumas de coma flotante no son asociativas, y
cada procesador (con o sin AVX2 o AVX-512) y cada número de hilos las hace en otro orden; tras
miles de pasos, esas diferencias en el último bit ya son otros pesos. Un profesor que señala
«el kernel 5» en el proyector señalaría otro kernel en cada portátil.

Por eso el paquete trae, para `CNN` y `ClassicCNN`, su entrenamiento con la receta del curso y
la semilla 0 (los pesos antes de entrenar y tras cada época, el historial y el test), hecho
con una sola orden a partir del código de la biblioteca (`trazos.make_reference`):

    python -m trazos referencia

`trazos.trained_model("cnn")` devuelve esa referencia sin entrenar, idéntica bit a bit en todas
las máquinas. Cada fichero guarda la huella de la receta que lo hizo (`cache.fingerprint`:
arquitectura, ajustes, semilla, épocas y datos); si la receta cambia y nadie vuelve a hacer la
referencia, no se usa (se entrena en la máquina, con un aviso) y una prueba lo detecta.
"""

import warnings
from pathlib import Path

from .cache import read_run

__all__ = ["FOLDER", "reference_file", "load_reference"]

FOLDER = Path(__file__).with_name("reference_runs")


def reference_file(name):
    """Dónde está, dentro del paquete, la referencia de la red `name` ("cnn" o "classic")."""
    return FOLDER / f"{name}.pt"


def load_reference(name, model, epochs, key):
    """(historial, checkpoints, test) de la referencia de `name` si se hizo con la receta de huella
    `key`, con sus últimos pesos ya cargados en `model`; None si no hay referencia o es de otra
    receta (entonces avisa: habrá que entrenar aquí)."""
    path = reference_file(name)
    if not path.exists():
        return None
    try:
        history, checkpoints, test = read_run(path, model, epochs, key=key)
    except Exception as error:  # noqa: BLE001 - otra receta o un fichero dañado: se entrena aquí, avisando
        warnings.warn(f"La red de referencia {path} no sirve para la receta actual ({error}); se entrena en esta "
                      "máquina. Quien mantiene el curso la rehace con «python -m trazos referencia».", stacklevel=4)
        return None
    model.load_state_dict(checkpoints[-1])
    return history, checkpoints, test
