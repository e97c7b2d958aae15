"""Entrenamiento, checkpoints y caché de modelos entrenados."""

import math
import os

import pytest
import torch

from trazos import data
from trazos import training as train_module  # para sustituir su función `train` en las pruebas
from trazos.models import build_model
from trazos.training import RECIPE, Run, evaluate, recipe, save_atomic, seed_everything, trained_model

HISTORY_KEYS = {"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "seconds"}


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
    assert entry["val_acc"] > 0.8
    # Antes de entrenar, la red reparte la probabilidad casi por igual: su pérdida es ~ln(10) = 2,30
    # (adivinar). Medida aquí, no escrita a mano; la entrenada tiene que quedar muy por debajo.
    untrained_loss, _ = evaluate(tiny_run.model_at(0), test16)
    assert untrained_loss == pytest.approx(math.log(10), abs=0.1)
    assert entry["val_loss"] < 0.8
    assert entry["val_loss"] < untrained_loss - 1.0
    assert 0 < entry["train_acc"] <= 1
    assert tiny_run.val_accuracy == entry["val_acc"]
    # El test se mide una vez, al final, y dice la verdad: coincide con evaluar el modelo final.
    loss, accuracy = evaluate(tiny_run.model, test16)
    assert tiny_run.test_accuracy == pytest.approx(accuracy, abs=1e-9)
    assert tiny_run.test_loss == pytest.approx(loss, rel=1e-6)
    # Antes de entrenar la red acierta al azar.
    assert evaluate(tiny_run.model_at(0), test16)[1] < 0.3
    assert "acierto en validación" in repr(tiny_run) and "acierto en test" in repr(tiny_run)


def test_the_validation_set_is_held_out_of_training(mnist_root):
    full = data.load_mnist(train=True, size=16, root=mnist_root)
    train, val = data.split_validation(full, 5000)
    assert (len(train), len(val)) == (55_000, 5000)
    assert torch.equal(torch.cat([train.labels, val.labels]), full.labels)  # los mismos, sin repetir ninguno
    course_train, course_val, course_test = train_module.course_data(16, root=mnist_root)
    assert torch.equal(course_val.pixels, val.pixels) and len(course_train) == 55_000 and len(course_test) == 10_000
    for bad in (0, 60_000, 2.5, True):
        with pytest.raises(ValueError, match="size debe ser un entero"):
            data.split_validation(full, bad)


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
    train_data = data.Digits(train16.pixels[:n], train16.labels[:n])
    test_data = data.Digits(test16.pixels[:500], test16.labels[:500])
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


# --- Sin sorpresas: la red vuelve como llegó -----------------------------------------------------

def _is_channels_last(tensor):
    return not tensor.is_contiguous() and tensor.is_contiguous(memory_format=torch.channels_last)


def _formats_seen(model, test16, train16):
    """Entrena una época corta y devuelve, de cada pasada, si la entrada y los pesos de la última
    convolución iban en channels_last (la primera tiene 1 canal: ahí los dos formatos coinciden)."""
    seen = []
    conv = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)][-1]
    handle = conv.register_forward_pre_hook(
        lambda module, inputs: seen.append((_is_channels_last(inputs[0]), _is_channels_last(module.weight))))
    try:
        train_module.train(model, data.Digits(train16.pixels[:256], train16.labels[:256]),
                           data.Digits(test16.pixels[:200], test16.labels[:200]), epochs=1, batch_size=128,
                           progress=False)
    finally:
        handle.remove()
    return seen


class ViewCNN(build_model("cnn").__class__):
    """La red del curso con el forward de un estudiante: x.view(-1, 512) falla con channels_last."""

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc(x.view(-1, 4 * 4 * 32))


def test_course_network_trains_in_channels_last_and_comes_back_as_it_came(test16, train16):
    model = build_model("cnn")
    seen = _formats_seen(model, test16, train16)
    assert seen and all(seen_input and seen_weight for seen_input, seen_weight in seen)  # el truco de velocidad
    assert model.conv2.weight.is_contiguous() and model.training  # y vuelve como llegó: contigua, en train

    given = build_model("cnn").to(memory_format=torch.channels_last).eval()
    _formats_seen(given, test16, train16)
    assert _is_channels_last(given.conv2.weight) and not given.training


def test_a_students_network_is_not_moved_to_channels_last(test16, train16):
    """Una subclase puede cambiar forward: el truco se aplica solo a las redes del curso tal cual."""
    model = ViewCNN()
    seen = _formats_seen(model, test16, train16)  # con channels_last, view fallaría en el primer lote
    assert seen and not any(seen_input or seen_weight for seen_input, seen_weight in seen)
    assert model.conv2.weight.is_contiguous()


def test_evaluate_gives_every_layer_back_in_its_mode():
    model = build_model("classic")
    model.train()
    model.relu1.eval()  # un modo distinto en una capa: no se debe perder
    before = [m.training for m in model.modules()]
    evaluate(model, data.Digits(torch.zeros(10, 1, 28, 28, dtype=torch.uint8), torch.zeros(10, dtype=torch.long)))
    assert [m.training for m in model.modules()] == before
    assert model.conv2.weight.is_contiguous()


# --- train_run: cualquier red, con historial, checkpoints y caché --------------------------------

class Small(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4 * 8 * 8, 10)

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.nn.functional.relu(self.conv(x)), 2)
        return self.fc(torch.flatten(x, 1))


class SmallSigmoid(Small):
    """Las mismas capas (el mismo repr) con otra función en forward: otra red."""

    def forward(self, x):
        x = torch.nn.functional.max_pool2d(torch.sigmoid(self.conv(x)), 2)
        return self.fc(torch.flatten(x, 1))


# Como quien reescribe la celda de `class Small` y la ejecuta otra vez: el mismo nombre, solo
# cambia forward (y, como la fuente se busca por el nombre, solo se nota en lo que lee fx).
SmallSigmoid.__name__ = SmallSigmoid.__qualname__ = "Small"


@pytest.fixture
def small_data(test16, train16):
    return (data.Digits(train16.pixels[:256], train16.labels[:256]),
            data.Digits(test16.pixels[:100], test16.labels[:100]))


def test_train_run_gives_a_run_for_a_students_network(small_data):
    seed_everything(0)
    model = Small()
    start = {k: v.clone() for k, v in model.state_dict().items()}
    run = train_module.train_run(model, *small_data, epochs=2, batch_size=64, progress=False)
    assert run.model is model and run.name == "Small" and model.training  # entrenada en su sitio, en su modo
    assert len(run.history) == 2 and len(run.checkpoints) == 3
    assert _same_weights(run.checkpoints[0], start) and _same_weights(run.checkpoints[-1], model.state_dict())
    middle = run.model_at(1)
    assert isinstance(middle, Small) and middle is not model and not middle.training
    assert _same_weights(middle.state_dict(), run.checkpoints[1])
    assert not _same_weights(run.checkpoints[1], run.checkpoints[2])
    with pytest.raises(ValueError, match="epochs debe ser un entero >= 1"):
        train_module.train_run(model, *small_data, epochs=0)


def test_train_run_cache_is_keyed_by_architecture_settings_and_data(tmp_path, small_data, train_calls, request):
    seed_everything(0)
    first = train_module.train_run(Small(), *small_data, epochs=1, batch_size=64, progress=False, cache=tmp_path)
    assert train_calls == [1]
    path = _only_file(tmp_path)
    assert path.name.startswith("Small-")

    request.getfixturevalue("forbid_training")
    again = Small()  # otra instancia, otros pesos iniciales: la misma red, los mismos ajustes y datos
    run = train_module.train_run(again, *small_data, epochs=1, batch_size=64, progress=False, cache=tmp_path)
    assert run.model is again and _same_weights(again.state_dict(), first.model.state_dict())
    assert run.history == first.history and _states_equal(run.checkpoints, first.checkpoints)

    train_data, test_data = small_data
    fewer = data.Digits(train_data.pixels[:200], train_data.labels[:200])
    other_images = data.Digits(train_data.pixels.flip(0), train_data.labels.flip(0))
    for changed in [lambda: train_module.train_run(SmallSigmoid(), *small_data, epochs=1, batch_size=64,
                                                   cache=tmp_path),
                    lambda: train_module.train_run(Small(), *small_data, epochs=1, batch_size=32, cache=tmp_path),
                    lambda: train_module.train_run(Small(), *small_data, epochs=1, batch_size=64, seed=1,
                                                   cache=tmp_path),
                    lambda: train_module.train_run(Small(), fewer, test_data, epochs=1, batch_size=64, cache=tmp_path),
                    lambda: train_module.train_run(Small(), other_images, test_data, epochs=1, batch_size=64,
                                                   cache=tmp_path)]:
        with pytest.raises(TrainingCalled):  # nada de lo guardado vale: hay que entrenar
            changed()


def test_train_run_with_a_damaged_cache_warns_and_trains(tmp_path, small_data, train_calls):
    train_module.train_run(Small(), *small_data, epochs=1, batch_size=64, progress=False, cache=tmp_path)
    path = _only_file(tmp_path)
    path.write_bytes(b"no es un fichero de torch")
    model = Small()
    with pytest.warns(UserWarning, match="está dañada .*se vuelve a entrenar"):
        train_module.train_run(model, *small_data, epochs=1, batch_size=64, progress=False, cache=tmp_path)
    assert train_calls == [1, 1] and _only_file(tmp_path) == path
    assert torch.load(path, weights_only=True)["checkpoints"][-1].keys() == model.state_dict().keys()


def test_architecture_text_sees_forward_even_without_source():
    """Una clase escrita en una celda (sin fuente que Python encuentre) y que fx no puede seguir:
    la diferencia de forward se ve igual, en su bytecode."""
    from trazos.cache import architecture_text

    template = (
        "class Net(torch.nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.fc = torch.nn.Linear(4, 10)\n"
        "    def forward(self, x):\n"
        "        if x.sum() > 0:\n"
        "            x = torch.{function}(x)\n"
        "        return self.fc(x)\n")
    texts = []
    for function in ("relu", "sigmoid", "relu"):
        namespace = {"torch": torch}
        exec(template.format(function=function), namespace)  # noqa: S102 - así no hay fichero fuente
        texts.append(architecture_text(namespace["Net"]()))
    assert texts[0] != texts[1] and texts[0] == texts[2]


def test_saved_runs_are_readable_by_others_like_any_new_file(tmp_path):
    """En un servidor, los estudiantes leen las redes que guarda el profesorado: el fichero de la
    caché tiene los permisos de un fichero nuevo cualquiera (0666 menos la umask), no 0600."""
    import os
    import stat

    from trazos.cache import save_atomic
    mask = os.umask(0o022)
    try:
        save_atomic({"x": 1}, tmp_path / "red.pt")
        plain = tmp_path / "normal.txt"
        plain.write_text("x")
    finally:
        os.umask(mask)
    mode = stat.S_IMODE((tmp_path / "red.pt").stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o644


def test_keep_freed_memory_respects_the_system(monkeypatch):
    """Si el sistema ya fija los umbrales de malloc, no los toca."""
    from trazos import malloc
    for name in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.setenv(name, "1")
        assert malloc.keep_freed_memory() is False and malloc.return_freed_memory() is False
        monkeypatch.delenv(name)


@pytest.mark.slow
def test_importing_trazos_changes_nothing_in_the_process_until_training_starts(mnist_root):
    """Importar no ajusta malloc: solo empezar a entrenar (contado al cargar la libc con ctypes)."""
    import subprocess
    import sys
    code = (
        "import ctypes, json, sys\n"
        "loaded = []\n"
        "real = ctypes.CDLL\n"
        "ctypes.CDLL = lambda name, *a, **k: (loaded.append(name), real(name, *a, **k))[1]\n"
        "import trazos, trazos.widgets, trazos.cli\n"
        "after_import = list(loaded)\n"
        "digits = trazos.load_mnist(limit=64)\n"
        "trazos.train(trazos.CNN(), digits, digits, epochs=1, batch_size=32, progress=False)\n"
        "print(json.dumps([after_import, loaded]))\n")
    env = {**os.environ, "TRAZOS_DATA": str(mnist_root)}
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    import json
    after_import, after_training = json.loads(out.stdout.strip().splitlines()[-1])
    assert "libc.so.6" not in after_import
    if sys.platform.startswith("linux") and os.path.exists("/lib/x86_64-linux-gnu/libc.so.6"):
        assert "libc.so.6" in after_training  # al entrenar sí se ajusta (en Linux con glibc)


def test_a_course_network_whose_forward_changed_does_not_load_stale_weights(small_cached_run, monkeypatch,
                                                                            request):
    """La red del curso usa la misma huella que la de un estudiante: si cambia su forward, la caché
    guardada con el forward de antes no vale."""
    run, path, _ = small_cached_run
    request.getfixturevalue("forbid_training")
    again = trained_model("cnn", epochs=1, limit=500, cache=path.parent, progress=False)  # sin cambios: carga
    assert _states_equal(again.checkpoints, run.checkpoints)
    model_class = build_model("cnn").__class__

    def forward(self, x):  # la misma red con una ReLU más al final
        return torch.relu(self.fc(self.flatten(self.pool2(self.relu2(self.conv2(self.pool1(self.relu1(
            self.conv1(x)))))))))

    monkeypatch.setattr(model_class, "forward", forward)
    with pytest.raises(TrainingCalled):
        trained_model("cnn", epochs=1, limit=500, cache=path.parent, progress=False)
