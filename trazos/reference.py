"""La red de referencia del curso: la misma en todas las pantallas de una clase.

Entrenar la red del curso en dos máquinas da dos redes distintas: el mismo acierto (unas
décimas arriba o abajo), pero otros kernels. Las sumas de coma flotante no son asociativas, y
cada procesador (con o sin AVX2 o AVX-512) y cada número de hilos las hace en otro orden; tras
miles de pasos, esas diferencias en el último bit ya son otros pesos. Un profesor que señala
«el kernel 5» en el proyector señalaría otro kernel en cada portátil.

Por eso el paquete trae, para `CNN` y `ClassicCNN`, su entrenamiento con la receta del curso y
la semilla 0 (los pesos antes de entrenar y tras cada época, el historial y el test), hecho
con una sola orden a partir del código de la biblioteca:

    python -m trazos referencia

`trazos.trained_model("cnn")` devuelve esa referencia sin entrenar, idéntica bit a bit en todas
las máquinas. Cada fichero guarda la huella de la receta que lo hizo (`cache.fingerprint`:
arquitectura, ajustes, semilla, épocas y datos); si la receta cambia y nadie vuelve a hacer la
referencia, no se usa (se entrena en la máquina, con un aviso) y una prueba lo detecta.
"""

import json
import platform
import tempfile
import warnings
from pathlib import Path

import torch

from . import render
from .cache import read_run, save_atomic

__all__ = ["FOLDER", "reference_file", "load_reference", "make_reference", "add_arguments", "run"]

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


def make_reference(names=("cnn", "classic"), folder=FOLDER, progress=True):
    """Entrena cada red de `names` con la receta del curso y la semilla 0, desde cero (sin caché ni
    referencia), y guarda su entrenamiento en `folder`. Devuelve las rutas escritas."""
    from .training import course_key, trained_model  # training importa este módulo

    written = []
    for name in names:
        with tempfile.TemporaryDirectory() as scratch:  # ni la caché del usuario ni la referencia vieja
            run = trained_model(name, cache=scratch, progress=progress, retrain=True)
        key = course_key(name)
        made_with = {"torch": torch.__version__, "cpu": torch.backends.cpu.get_cpu_capability(),
                     "threads": torch.get_num_threads(), "machine": platform.machine()}
        payload = {"history": json.dumps(run.history), "test": json.dumps(run.test), "checkpoints": run.checkpoints,
                   "key": key, "made_with": json.dumps(made_with)}
        path = Path(folder) / f"{name}.pt"
        save_atomic(payload, path)
        written.append(path)
        if progress:
            print(f"{name}: {render.percent(run.test_accuracy, 2)} en test, {len(run.checkpoints)} pesos guardados, "
                  f"{render.decimal(path.stat().st_size / 1e6, 2)} MB en {path}")
    return written


# ------------------------------------------------------------------ la orden: python -m trazos referencia

def add_arguments(parser):
    parser.add_argument("--modelo", choices=["cnn", "classic"], action="append", default=None, metavar="RED",
                        help="la red que se rehace: cnn o classic (se puede repetir; por defecto, las dos)")
    parser.add_argument("--out", type=Path, default=FOLDER, metavar="CARPETA",
                        help=f"dónde se escriben (por defecto, dentro del paquete: {FOLDER})")
    parser.epilog = ("Para quien mantiene el curso: después de cambiar la receta (trazos.training.RECIPE), una red "
                     "del curso o la lectura de MNIST. Entrena desde cero con la semilla 0 y deja los ficheros "
                     "que trazos.trained_model devuelve en todas las máquinas; súbelos con el cambio.")


def run(args):
    make_reference(args.modelo or ("cnn", "classic"), args.out)
    return 0
