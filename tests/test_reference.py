"""La red de referencia del curso (`trazos.reference`): la que ven todas las pantallas de una clase.

- Es idéntica bit a bit con cualquier juego de instrucciones de la CPU y cualquier número de hilos
  (cada configuración, en su propio proceso: ATEN_CPU_CAPABILITY y OMP_NUM_THREADS se leen al
  arrancar PyTorch).
- Lo que trae el paquete es lo que hace hoy `python -m trazos referencia`: la huella guardada es
  la de la receta, la arquitectura y los datos actuales. Cambiar uno de ellos sin rehacer la
  referencia hace fallar esta prueba.
- Se puede reproducir: entrenar aquí, desde cero, da el mismo acierto con un margen (el test a
  0,3 puntos, la validación de cada época a 0,5), aunque los pesos no sean los mismos.
"""

import os
import subprocess
import sys

import pytest
import torch

import trazos
from trazos import reference
from trazos.training import course_key, recipe

NAMES = ["cnn", "classic"]

DIGEST = """
import hashlib, torch, trazos
digest = hashlib.blake2b(digest_size=16)
for name in ("cnn", "classic"):
    run = trazos.trained_model(name, progress=False)
    assert run.reference and not run.trained_now, name
    for state in [*run.checkpoints, run.model.state_dict()]:
        for key, tensor in state.items():
            digest.update(key.encode())
            digest.update(tensor.detach().contiguous().numpy().tobytes())
test = trazos.load_mnist(train=False)
digest.update(test.pixels.numpy().tobytes())
print(torch.backends.cpu.get_cpu_capability(), torch.get_num_threads(), digest.hexdigest())
"""


def _own_capability():
    return torch.backends.cpu.get_cpu_capability().lower()


@pytest.mark.slow
def test_the_reference_is_the_same_under_every_numeric_configuration(mnist_root, tmp_path):
    configurations = {("default", "1"), ("default", "2"), ("avx2", "1"), (_own_capability(), "2")}
    digests = {}
    for capability, threads in sorted(configurations):
        env = {**os.environ, "ATEN_CPU_CAPABILITY": capability, "OMP_NUM_THREADS": threads,
               "TRAZOS_DATA": str(mnist_root), "TRAZOS_CACHE": str(tmp_path / "vacia")}
        done = subprocess.run([sys.executable, "-c", DIGEST], env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        digests[(capability, threads)] = done.stdout.split()[-1]
    assert len(set(digests.values())) == 1, f"la referencia (o los datos) cambian con la configuración: {digests}"
    assert not (tmp_path / "vacia").exists() or not any((tmp_path / "vacia").iterdir()), "se entrenó algo"


@pytest.mark.parametrize("name", NAMES)
def test_what_ships_is_what_the_current_recipe_makes(name, mnist_root):
    path = reference.reference_file(name)
    assert path.exists(), f"falta {path}: hazla con «python -m trazos referencia»"
    saved = torch.load(path, weights_only=True)
    assert saved["key"] == course_key(name, root=mnist_root), (
        f"La referencia de {name} se hizo con otra receta, arquitectura o lectura de MNIST: rehazla con "
        "«python -m trazos referencia» y súbela con el cambio.")
    epochs, _ = recipe(name)
    assert len(saved["checkpoints"]) == epochs + 1
    assert path.stat().st_size < 8e6, "la referencia debe seguir siendo pequeña"


def test_trained_model_returns_the_reference_without_training(mnist_root, monkeypatch):
    def no_training(*args, **kwargs):
        raise AssertionError("trained_model entrenó en lugar de devolver la referencia")

    monkeypatch.setattr(trazos.training, "train", no_training)
    run = trazos.trained_model("cnn", root=mnist_root, progress=False)
    assert run.reference and not run.trained_now and run.path == reference.reference_file("cnn")
    saved = torch.load(run.path, weights_only=True)
    for key, tensor in run.model.state_dict().items():
        assert torch.equal(tensor, saved["checkpoints"][-1][key])
    assert run.test_accuracy >= 0.99
    assert "referencia" in repr(run)


def test_other_seeds_and_epochs_are_not_the_reference(mnist_root, tmp_path):
    run = trazos.trained_model("cnn", epochs=1, limit=500, cache=tmp_path, root=mnist_root, progress=False)
    assert not run.reference and run.trained_now


def _gaps(mine, ref):
    val = [abs(a["val_acc"] - b["val_acc"]) for a, b in zip(mine.history, ref.history)]
    return abs(mine.test_accuracy - ref.test_accuracy), val


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_the_reference_is_reproducible_here(name, mnist_root):
    # reference=False: el entrenamiento de esta máquina (el cuaderno 04 hace el mismo con "cnn" y lo comparte
    # a través de la caché de la sesión de pruebas).
    mine = trazos.trained_model(name, root=mnist_root, progress=False, reference=False)
    ref = trazos.trained_model(name, root=mnist_root, progress=False)
    assert not mine.reference and ref.reference
    test_gap, val_gaps = _gaps(mine, ref)
    print(f"{name}: test {mine.test_accuracy:.4f} frente a {ref.test_accuracy:.4f}; validación por época "
          f"{[round(h['val_acc'], 4) for h in mine.history]} frente a {[round(h['val_acc'], 4) for h in ref.history]}")
    assert test_gap <= 0.003, f"{name}: el test difiere {100 * test_gap:.2f} puntos de la referencia"
    assert max(val_gaps) <= 0.005, f"{name}: la validación difiere hasta {100 * max(val_gaps):.2f} puntos"


def test_the_reference_ships_with_the_package():
    import tomllib

    from trazos import cli
    assert "referencia" in cli.COMMANDS
    with open(os.path.join(os.path.dirname(__file__), "..", "pyproject.toml"), "rb") as f:
        package_data = tomllib.load(f)["tool"]["setuptools"]["package-data"]
    assert "reference_runs/*.pt" in package_data["trazos"]
    assert {p.name for p in reference.FOLDER.glob("*.pt")} == {f"{name}.pt" for name in NAMES}
