"""Entrenamiento, checkpoints y caché de modelos entrenados."""

import os

import pytest
import torch

from trazos import data
from trazos import training as train_module  # para sustituir su función `train` en las pruebas
from trazos.models import build_model
from trazos.training import RECIPE, Run, evaluate, recipe, save_atomic, seed_everything, trained_model

HISTORY_KEYS = {"epoch", "train_loss", "train_acc", "test_loss", "test_acc", "seconds"}


def _same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def _states_equal(first, second):
    return len(first) == len(second) and all(_same_weights(a, b) for a, b in zip(first, second))


@pytest.fixture
def train_calls(monkeypatch):
    """Cuenta las llamadas a `train` dentro de trained_model (sin cambiar lo que hace)."""
    calls = []
    real_train = train_module.train

    def spy(*args, **kwargs):
        calls.append(kwargs.get("epochs"))
        return real_train(*args, **kwargs)

    monkeypatch.setattr(train_module, "train", spy)
    return calls


class TrainingCalled(Exception):
    """Se llamó a `train` cuando no tocaba."""


@pytest.fixture
def forbid_training(monkeypatch):
    def fail(*args, **kwargs):
        raise TrainingCalled("no debería entrenar")

    monkeypatch.setattr(train_module, "train", fail)


def _only_file(folder):
    files = sorted(os.listdir(folder))
    assert len(files) == 1 and files[0].endswith(".pt"), files
    return folder / files[0]


# --- El bucle de entrenamiento ----------------------------------------------------------------------

def test_tiny_training_learns(tiny_run, test16):
    """3000 imágenes y una época bastan para pasar de ~10 % (azar) a más del 80 %."""
    assert len(tiny_run.history) == 1
    entry = tiny_run.history[0]
    assert set(entry) == HISTORY_KEYS
    assert entry["epoch"] == 1 and entry["seconds"] > 0
    assert entry["test_acc"] > 0.8
    assert entry["test_loss"] < 0.8 < 2.30  # ln(10) = 2,30 sería adivinar
    assert 0 < entry["train_acc"] <= 1
    assert tiny_run.test_accuracy == entry["test_acc"]
    # El historial dice la verdad: coincide con evaluar el modelo final.
    loss, accuracy = evaluate(tiny_run.model, test16)
    assert accuracy == pytest.approx(entry["test_acc"], abs=2e-3)
    assert loss == pytest.approx(entry["test_loss"], rel=1e-2)
    # Antes de entrenar la red acierta al azar.
    assert evaluate(tiny_run.model_at(0), test16)[1] < 0.3
    assert "acierto en test" in repr(tiny_run)


def test_checkpoints_and_model_at(tiny_run):
    assert len(tiny_run.checkpoints) == len(tiny_run.history) + 1
    first, last = tiny_run.model_at(0), tiny_run.model_at(len(tiny_run.history))
    assert _same_weights(first.state_dict(), tiny_run.checkpoints[0])
    assert not torch.equal(first.conv1.weight, last.conv1.weight)
    assert _same_weights(last.state_dict(), tiny_run.model.state_dict())
    assert not first.training
    # Una copia: tocarla no cambia el checkpoint guardado.
    with torch.no_grad():
        first.conv1.weight.zero_()
    assert tiny_run.checkpoints[0]["conv1.weight"].abs().sum() > 0
    for bad in (-1, len(tiny_run.checkpoints)):
        with pytest.raises(ValueError, match="epoch debe estar entre 0 y 1"):
            tiny_run.model_at(bad)


def _tiny_train(test16, train16, seed, n=512):
    torch.manual_seed(1234 + seed)
    torch.rand(seed + 1)  # el generador global en un estado cualquiera: no debe importar
    seed_everything(seed)  # la semilla fija también los pesos iniciales (se crean al construir la red)
    model = build_model("cnn")
    train_data = data.Digits(train16.images[:n], train16.labels[:n])
    test_data = data.Digits(test16.images[:500], test16.labels[:500])
    return train_module.train(model, train_data, test_data, epochs=1, batch_size=128, max_lr=0.01,
                              seed=seed, progress=False)


def test_same_seed_same_result(test16, train16):
    history_a, checkpoints_a = _tiny_train(test16, train16, seed=3)
    history_b, checkpoints_b = _tiny_train(test16, train16, seed=3)
    assert _states_equal(checkpoints_a, checkpoints_b)
    drop = lambda history: [{k: v for k, v in h.items() if k != "seconds"} for h in history]  # noqa: E731
    assert drop(history_a) == drop(history_b)
    _, checkpoints_c = _tiny_train(test16, train16, seed=4)
    assert not _same_weights(checkpoints_a[-1], checkpoints_c[-1])
    assert not _same_weights(checkpoints_a[0], checkpoints_c[0])  # también los pesos iniciales


def test_train_rejects_zero_epochs(test16):
    with pytest.raises(ValueError, match="epochs"):
        train_module.train(build_model("cnn"), test16, test16, epochs=0, progress=False)


def test_recipe():
    epochs, settings = recipe("cnn")
    assert epochs == RECIPE["cnn"]["epochs"] == 5
    assert settings == {k: v for k, v in RECIPE["cnn"].items() if k != "epochs"} and "epochs" not in settings
    assert RECIPE["cnn"] == {"epochs": 5, **settings}  # recipe no modifica la receta compartida
    assert recipe("classic", 3)[0] == 3
    with pytest.raises(ValueError, match="cnn, classic"):
        recipe("lenet")
    for bad in (0, -2, 1.5):
        with pytest.raises(ValueError, match="epochs debe ser un entero"):
            recipe("cnn", bad)


def test_trained_model_bad_arguments(forbid_training):
    with pytest.raises(ValueError, match="Opciones válidas: cnn, classic"):
        trained_model("vgg")
    with pytest.raises(ValueError, match="epochs"):
        trained_model("cnn", epochs=0)


# --- Guardado atómico ----------------------------------------------------------------------------

def test_save_atomic_round_trip(tmp_path):
    obj = {"pesos": torch.randn(3, 4), "historial": [1, 2.5], "nombre": "cnn"}
    path = tmp_path / "nueva" / "carpeta" / "run.pt"
    save_atomic(obj, path)
    loaded = torch.load(path, weights_only=True)
    assert torch.equal(loaded["pesos"], obj["pesos"]) and loaded["historial"] == [1, 2.5]
    save_atomic({"otra": torch.ones(2)}, str(path))  # sobrescribe
    assert torch.equal(torch.load(path, weights_only=True)["otra"], torch.ones(2))
    assert os.listdir(path.parent) == ["run.pt"]  # sin temporales


@pytest.mark.parametrize("error", [RuntimeError("disco lleno"), KeyboardInterrupt()])
def test_save_atomic_failure_leaves_nothing(tmp_path, monkeypatch, error):
    def half_save(obj, f, *args, **kwargs):
        f.write(b"PK\x03\x04 medio fichero")
        raise error

    monkeypatch.setattr(torch, "save", half_save)
    with pytest.raises(type(error)):
        save_atomic({"x": torch.ones(3)}, tmp_path / "run.pt")
    assert os.listdir(tmp_path) == []


def test_save_atomic_failure_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "run.pt"
    save_atomic({"x": torch.arange(3)}, path)
    good = path.read_bytes()

    def half_save(obj, f, *args, **kwargs):
        f.write(b"basura")
        raise OSError("se fue la luz")

    monkeypatch.setattr(torch, "save", half_save)
    with pytest.raises(OSError):
        save_atomic({"x": torch.zeros(3)}, path)
    assert path.read_bytes() == good
    assert os.listdir(tmp_path) == ["run.pt"]


# --- La caché de trained_model ----------------------------------------------------------------------

def test_trained_model_trains_once_then_loads(tmp_path, monkeypatch, train_calls, request):
    cache = tmp_path / "env-cache"
    monkeypatch.setenv("TRAZOS_CACHE", str(cache))
    first = trained_model("cnn", epochs=1, limit=2000, progress=False)
    assert train_calls == [1]
    path = _only_file(cache)  # escrito en TRAZOS_CACHE, sin temporales
    assert isinstance(first, Run) and first.name == "cnn" and first.seed == 0
    assert len(first.checkpoints) == 1 + 1
    assert first.test_accuracy > 0.5

    # Segunda vez: de la caché (ahora indicada con el argumento), sin entrenar.
    request.getfixturevalue("forbid_training")
    second = trained_model("cnn", epochs=1, limit=2000, cache=cache, progress=False)
    assert second.history == first.history
    assert _states_equal(second.checkpoints, first.checkpoints)
    assert _same_weights(second.model.state_dict(), first.model.state_dict())
    assert not second.model.training
    assert _same_weights(second.model_at(0).state_dict(), first.checkpoints[0])
    assert _only_file(cache) == path

    # Otros argumentos (otra semilla) no reutilizan ese fichero: otro entrenamiento.
    with pytest.raises(TrainingCalled):
        trained_model("cnn", epochs=1, limit=2000, seed=1, cache=cache, progress=False)


@pytest.fixture(scope="module")
def small_cached_run(tmp_path_factory):
    """Un trained_model pequeño (500 imágenes) guardado con `cache=`, con TRAZOS_CACHE en otra parte."""
    cache, elsewhere = tmp_path_factory.mktemp("arg-cache"), tmp_path_factory.mktemp("env-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRAZOS_CACHE", str(elsewhere))
        run = trained_model("cnn", epochs=1, limit=500, cache=cache, progress=False)
    return run, _only_file(cache), elsewhere


def test_cache_argument_beats_environment(small_cached_run):
    run, path, elsewhere = small_cached_run
    assert path.stat().st_size > 0
    assert os.listdir(elsewhere) == []


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_damaged_cache_warns_and_retrains(tmp_path, small_cached_run, train_calls, damage):
    run, good_path, _ = small_cached_run
    good = good_path.read_bytes()
    path = tmp_path / good_path.name
    path.write_bytes({"garbage": os.urandom(4096), "truncated": good[:len(good) // 2]}[damage])

    with pytest.warns(UserWarning, match="está dañada .*se vuelve a entrenar"):
        again = trained_model("cnn", epochs=1, limit=500, cache=tmp_path, progress=False)
    assert train_calls == [1]
    # Reentrenado con la misma semilla: el mismo resultado, y la caché queda sana.
    assert _states_equal(again.checkpoints, run.checkpoints)
    assert torch.load(path, weights_only=True)["checkpoints"][-1].keys() == run.checkpoints[-1].keys()
    assert _only_file(tmp_path) == path
