"""La orden `python -m trazos referencia`: rehace la red de referencia del curso (`trazos.reference`).

Entrena cada red del curso con su receta y la semilla 0, desde cero (sin caché ni la referencia
anterior), y guarda su entrenamiento dentro del paquete, con la huella de la receta que lo hizo.
Es para quien mantiene el curso, después de cambiar la receta, una red o la lectura de MNIST.
"""

import json
import platform
import tempfile
from pathlib import Path

import torch

from . import render
from .cache import save_atomic
from .reference import FOLDER
from .training import course_key, trained_model

__all__ = ["make_reference", "add_arguments", "run"]


def make_reference(names=("cnn", "classic"), folder=FOLDER, progress=True):
    """Entrena cada red de `names` con la receta del curso y la semilla 0, desde cero (sin caché ni
    referencia), y guarda su entrenamiento en `folder`. Devuelve las rutas escritas."""
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
