"""El kit del aula: `python -m trazos preparar` y las carpetas compartidas de solo lectura.

Las pruebas de solo lectura se ejecutan como las vería un estudiante: root no obedece los
permisos de los ficheros, así que, si las pruebas corren como root, el cuaderno se ejecuta
con `setpriv` sin las capacidades que se los saltan (como en un servidor, root obedece
entonces los bits de permiso).
"""

import functools
import json
import os
import shutil
import stat
import subprocess
import sys
import types
import urllib.error
import urllib.request
import warnings
from pathlib import Path

import nbformat
import pytest
import torch
from torch import nn

import trazos
from trazos import cache, cli, data, training
from trazos.classroom import room as classroom  # el módulo: las pruebas cambian sus nombres

STUDENT = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
           "--inh-caps", "-dac_override,-dac_read_search", "--"]


def write_notebook(path, *cells):
    """Un cuaderno con esas celdas de código."""
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)


@pytest.fixture
def quick_recipe(monkeypatch):
    """`preparar` con una receta de juguete (1 época, 1000 imágenes): la lógica es la misma."""
    monkeypatch.setattr(classroom, "trained_model", functools.partial(training.trained_model, epochs=1, limit=1000))


def test_prepare_trains_once_then_only_checks(mnist_root, tmp_path, quick_recipe, monkeypatch, capsys):
    # Sin ejecutar el 09 (un minuto entrenando sus variantes): ese paso tiene su prueba más abajo.
    monkeypatch.setattr(classroom, "training_notebooks", lambda folder: [])
    cache = tmp_path / "modelos"
    report, ready = classroom.prepare(mnist_root, cache, progress=False)
    assert ready
    assert report[0].startswith("✓ Datos: MNIST en") and str(mnist_root) in report[0]
    assert all(", 1 épocas" not in line and "1 época" in line and "entrenada ahora" in line for line in report[1:3])
    # la compacta del cuaderno 04, con la misma receta de juguete: la misma que la de arriba, ya en la caché
    assert report[3].startswith("✓ Red compacta (16x16) entrenada en esta máquina (cuaderno 04)")
    assert "ya estaba" in report[3]
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["classic", "cnn", "preparado.json"]
    assert report[4].startswith("✓ Cuadernos:")
    assert classroom.prepared(cache) and json.loads((cache / "preparado.json").read_text())["trazos"]

    # La segunda vez no entrena nada: si lo intentara, esto fallaría.
    def no_training(*args, **kwargs):
        raise AssertionError("preparar ha vuelto a entrenar")
    monkeypatch.setattr(training, "train", no_training)
    report, ready = classroom.prepare(mnist_root, cache, progress=False)
    assert ready and all("ya estaba en la caché" in line for line in report[1:4])


def test_prepare_without_data_and_network_stops_with_the_data_error(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("sin conexión (simulado)")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert cli.main(["preparar", "--data", str(tmp_path / "vacía"), "--cache", str(tmp_path / "c")]) == 2
    out = capsys.readouterr().out
    assert "Error:" in out and "MNIST" in out and "TRAZOS_DATA" in out
    assert not (tmp_path / "c").exists()  # no ha entrenado nada


def test_prepare_reports_a_missing_library(mnist_root, tmp_path, quick_recipe):
    folder = tmp_path / "cuadernos"
    folder.mkdir()
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import torch\nimport paquete_que_no_existe")])
    nbformat.write(notebook, folder / "01_prueba.ipynb")
    report, ready = classroom.prepare(mnist_root, tmp_path / "modelos", folder, progress=False)
    assert not ready
    expected = "✗ Falta la biblioteca paquete_que_no_existe (la usa 01_prueba.ipynb)"
    assert any(line.startswith(expected) for line in report)


def test_every_notebook_import_is_found():
    imports = classroom.notebook_imports()
    assert {"torch", "trazos"} <= set(imports)
    assert all(where for where in imports.values())


def test_prepare_help_is_in_spanish():
    done = subprocess.run([sys.executable, "-m", "trazos", "preparar", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("uso: trazos preparar") and "--cache" in done.stdout


def test_prepare_without_notebooks_fails_with_code_1(tmp_path, monkeypatch, capsys):
    """Sin cuadernos (p. ej. instalado con pip, sin la carpeta del curso) no hay aula: código 1, y antes de entrenar."""
    missing = tmp_path / "sin_cuadernos"
    monkeypatch.setattr(classroom, "NOTEBOOKS", missing)

    def no_training(*args, **kwargs):
        raise AssertionError("preparar ha entrenado sin cuadernos")
    monkeypatch.setattr(classroom, "trained_model", no_training)
    assert cli.main(["preparar", "--data", str(tmp_path / "datos"), "--cache", str(tmp_path / "c")]) == 1
    out = capsys.readouterr().out
    assert f"✗ No hay cuadernos del curso (NN_nombre.ipynb) en {missing}. preparar los comprueba y ejecuta" in out
    assert "Falta algo (✗ arriba)" in out and "Listo" not in out
    assert not (tmp_path / "c").exists() and not (tmp_path / "datos").exists()  # ni descargó ni entrenó
    missing.mkdir()  # una carpeta vacía, igual
    assert classroom.prepare(folder=missing, progress=False)[1] is False


# ------------------------------------------------------------------ el kernel de Jupyter que ejecuta los cuadernos

def fake_kernel(folder, python):
    """Un kernel «python3» en `folder/kernels` (la carpeta va en JUPYTER_PATH) que lanza `python`."""
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    argv = [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Python 3", "language": "python"}))
    return spec


def test_the_kernel_of_this_environment_runs_this_python():
    assert classroom.kernel_problem() is None


@pytest.mark.parametrize("python", ["python", "python3", "python{}.{}".format(*sys.version_info[:2]), sys.executable])
def test_a_kernel_that_runs_this_python_is_accepted(python, tmp_path, monkeypatch):
    """«python» y compañía los cambia jupyter_client por este Python al lanzar el kernel."""
    fake_kernel(tmp_path, python)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert classroom.kernel_problem() is None


@pytest.mark.skipif(os.name == "nt", reason="el Python de mentira es un guion de sh")
def test_a_kernel_that_runs_another_python_stops_prepare_with_what_to_run(mnist_root, tmp_path, monkeypatch):
    other = tmp_path / "otro" / "python"
    other.parent.mkdir()
    other.write_text("#!/bin/sh\necho /usr/otro-python\n")  # otro Python: otro sys.prefix
    other.chmod(0o755)
    spec = fake_kernel(tmp_path / "jupyter", other)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    problem = classroom.kernel_problem()
    assert problem.startswith(f"El kernel «python3» de Jupyter (en {spec}) ejecuta {other}, no este Python "
                              f"({sys.executable}): los cuadernos no encontrarían trazos")
    assert problem.endswith(f"ejecuta: {sys.executable} -m ipykernel install --user")
    folder = tmp_path / "cuadernos"
    folder.mkdir()
    write_notebook(folder / "01_entrena.ipynb", TRAINING_NOTEBOOK)
    with pytest.raises(RuntimeError, match="ipykernel install --user"):
        classroom.run_notebook(folder / "01_entrena.ipynb")

    # preparar lo dice en su lista, no ejecuta los cuadernos y no da el aula por lista.
    course = types.SimpleNamespace(history=[{}], test_accuracy=0.99, trained_now=False, reference=False,
                                   path=tmp_path / "red.pt")
    monkeypatch.setattr(classroom, "trained_model", lambda *args, **kwargs: course)  # sin entrenar: no hace falta

    def not_run(*args, **kwargs):
        raise AssertionError("preparar ejecutó un cuaderno con el kernel de otro Python")
    monkeypatch.setattr(classroom, "run_notebook", not_run)
    report, ready = classroom.prepare(mnist_root, tmp_path / "modelos", folder, progress=False)
    assert not ready and report[-1] == f"✗ {problem}"


def test_without_the_kernel_prepare_says_what_to_install():
    problem = classroom.kernel_problem("kernel_que_no_existe")  # como «python3» sin ipykernel
    assert problem.startswith("Jupyter no tiene el kernel «kernel_que_no_existe» que usan los cuadernos")
    assert f"{sys.executable} -m pip install ipykernel" in problem


# ------------------------------------------------------------------ dos copias de la misma red

@pytest.fixture
def two_places(tmp_path, monkeypatch):
    """La ruta de una red en una caché compartida y la de su copia en la caché propia del usuario."""
    monkeypatch.setattr(data, "user_cache", lambda: tmp_path / "propia")
    shared = tmp_path / "compartida" / "red.pt"
    return shared, cache.own_cache() / shared.name


def _save(path, value, epochs=1):
    """Un entrenamiento de una capa Linear(2, 2) con todos los pesos a `value`; o basura, si value es None."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if value is None:
        path.write_bytes(b"no es un fichero de PyTorch")
        return
    weights = {name: torch.full_like(t, value) for name, t in nn.Linear(2, 2).state_dict().items()}
    cache.save_atomic({"history": json.dumps([{"epoch": e} for e in range(1, epochs + 1)]), "test": "null",
                       "checkpoints": [weights] * (epochs + 1)}, path)


@pytest.mark.parametrize("shared_value, own_value, expected", [
    (None, 2.0, "own"),  # la compartida está dañada: vale la del estudiante
    (1.0, None, "shared"),  # la del estudiante está dañada: vale la compartida
    (1.0, 2.0, "shared"),  # las dos bien: la primera de _places
])
def test_the_first_copy_that_loads_wins(two_places, shared_value, own_value, expected):
    shared, own = two_places
    _save(shared, shared_value)
    _save(own, own_value)
    model = nn.Linear(2, 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # si una copia se carga, ningún aviso de caché dañada
        history, checkpoints, path, test = cache.load_run(shared, model, epochs=1, progress=False)
    assert path == {"shared": shared, "own": own}[expected]
    assert torch.all(model.weight == {"shared": shared_value, "own": own_value}[expected])
    assert history == [{"epoch": 1}] and len(checkpoints) == 2 and test is None


def test_a_run_found_only_in_the_own_cache_is_copied_to_the_requested_one(two_places):
    """`preparar --cache CARPETA` con las redes ya en la caché propia de quien prepara: quedan también en CARPETA,
    la que verán los estudiantes, enteras y legibles para todos."""
    shared, own = two_places
    _save(own, 2.0)
    model = nn.Linear(2, 2)
    assert cache.load_run(shared, model, epochs=1, progress=False)[2] == own
    assert shared.read_bytes() == own.read_bytes() and shared.stat().st_mode & 0o044 == 0o044
    assert not list(shared.parent.glob("*.tmp"))
    # Una copia que ya está en la pedida no se toca (aunque no se haya podido cargar).
    _save(shared, 1.0, epochs=3)
    before = shared.read_bytes()
    assert cache.load_run(shared, model, epochs=1, progress=False)[2] == own
    assert shared.read_bytes() == before


def test_a_copy_for_other_epochs_falls_through_too(two_places):
    shared, own = two_places
    _save(shared, 1.0, epochs=3)  # otra receta con el mismo nombre: no encaja, no se carga
    _save(own, 2.0)
    model = nn.Linear(2, 2)
    assert cache.load_run(shared, model, epochs=1, progress=False)[2] == own
    assert torch.all(model.weight == 2.0)


def test_when_no_copy_loads_the_warning_names_both(two_places):
    shared, own = two_places
    _save(shared, None)
    _save(own, None)
    model = nn.Linear(2, 2)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.warns(UserWarning, match="está dañada .*se vuelve a entrenar") as caught:
        assert cache.load_run(shared, model, epochs=1, progress=False) is None
    message = str(caught[0].message)
    assert f"La caché {shared} está dañada" in message and f"La caché {own} está dañada" in message
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # la red, como estaba


# ------------------------------------------------------------------ carpetas compartidas de solo lectura

def read_only(folder):
    """Quita el permiso de escritura a `folder` y a todo lo que contiene (como una carpeta compartida)."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def run_as_student(cells, env, tmp_path):
    """Ejecuta un cuaderno con esas celdas en un kernel nuevo, como un estudiante; devuelve sus salidas."""
    source, result = tmp_path / "cuaderno.ipynb", tmp_path / "ejecutado.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), source)
    # Con run_notebook, como `preparar`: comprueba antes que el kernel «python3» es este mismo Python.
    runner = ("import nbformat, sys\nfrom trazos.classroom import run_notebook\n"
              "nbformat.write(run_notebook(sys.argv[1], timeout=600), sys.argv[2])\n")
    command = [sys.executable, "-c", runner, str(source), str(result)]
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.fail("Las pruebas corren como root y no hay setpriv para obedecer los permisos.")
        command = STUDENT + command
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    nb = nbformat.read(result, as_version=4)
    return ["".join(out.get("text", "") for out in cell.outputs) for cell in nb.cells]


@pytest.mark.slow
def test_notebooks_with_read_only_shared_data_and_models(mnist_root, tmp_path):
    # El profesorado prepara las carpetas compartidas: los datos y la red del curso.
    shared = tmp_path / "compartido"
    (shared / "datos").mkdir(parents=True)
    shutil.copytree(mnist_root / "MNIST", shared / "datos" / "MNIST")
    # Un entrenamiento propio de la red del curso (el de la sesión de pruebas, que comparten el cuaderno 04 y
    # test_reference.py): la de referencia viene en el paquete y no pasa por la caché.
    course = trazos.trained_model("cnn", progress=False, reference=False)
    (shared / "modelos").mkdir()
    shutil.copy(course.path, shared / "modelos" / course.path.name)
    read_only(shared)
    home = tmp_path / "estudiante"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "TRAZOS_DATA": str(shared / "datos"),
           "TRAZOS_CACHE": str(shared / "modelos"), "MPLBACKEND": "Agg"}
    env.pop("XDG_CACHE_HOME", None)

    outputs = run_as_student([
        # 1. La red del curso se carga de la carpeta compartida, sin entrenar.
        "import trazos\nrun = trazos.trained_model('cnn', reference=False)\nprint('CURSO', run.trained_now, run.path)\n"
        "print('REFERENCIA', trazos.trained_model('cnn', progress=False).reference)",
        # 2. La red del curso con otra receta no está en la compartida: se entrena y va a la caché propia.
        "mine = trazos.trained_model('cnn', epochs=1, limit=500, progress=False)\nprint('PROPIA', mine.path)",
        # 3. Una red de estudiante, escrita con funciones, con caché: también a la caché propia.
        "import torch.nn.functional as F\nfrom torch import nn\n"
        "class Mia(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.conv = nn.Conv2d(1, 4, 3)\n        self.fc = nn.Linear(4 * 7 * 7, 10)\n"
        "    def forward(self, x):\n"
        "        return self.fc(F.max_pool2d(F.relu(self.conv(x)), 2).view(x.shape[0], -1))\n"
        "data = trazos.load_mnist(train=True, limit=300)\n"
        "test = trazos.load_mnist(train=False, limit=200)\n"
        "student = trazos.train_run(Mia(), data, test, epochs=1, cache=True, progress=False)\n"
        "print('ESTUDIANTE', student.path)",
    ], env, tmp_path)
    assert outputs[0].startswith(f"Modelo 'cnn' cargado de la caché ({shared / 'modelos'}")
    assert f"CURSO False {shared / 'modelos' / course.path.name}" in outputs[0]
    assert "REFERENCIA True" in outputs[0]  # la de referencia, del paquete, sin tocar ninguna caché
    own = home / ".cache" / "trazos" / "models"
    for output, tag in ((outputs[1], "PROPIA"), (outputs[2], "ESTUDIANTE")):
        assert f"La caché {shared / 'modelos'} es de solo lectura: esta red se guarda en tu propia caché" in output
        saved = Path(output.split(f"{tag} ")[1].strip())
        assert saved.parent == own and saved.is_file()
    # La carpeta compartida sigue como estaba: ni un fichero nuevo, ni uno a medias.
    assert sorted(p.name for p in (shared / "modelos").iterdir()) == [course.path.name]
    assert not list(shared.rglob("*.tmp"))


# ------------------------------------------------------------------ cuadernos que entrenan sus propias redes

TRAINING_NOTEBOOK = (
    "import trazos\nfrom torch import nn\n"
    "class Diminuta(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n        self.fc = nn.Linear(16 * 16, 10)\n"
    "    def forward(self, x):\n"
    "        return self.fc(x.flatten(1))\n"
    "run = trazos.train_run(Diminuta(), trazos.load_mnist(limit=300), trazos.load_mnist(train=False, limit=100),\n"
    "                       epochs=1, batch_size=100, cache=True, progress=False)\n"
    "print('GUARDADA', run.path)"
)


@pytest.mark.slow  # lanza dos kernels
def test_prepare_runs_the_notebooks_that_train_their_own_networks(mnist_root, tmp_path, quick_recipe, monkeypatch):
    """Un cuaderno con train_run(..., cache=True), como el 09: preparar lo ejecuta y sus redes quedan en la caché."""
    folder, cache = tmp_path / "cuadernos", tmp_path / "modelos"
    folder.mkdir()
    write_notebook(folder / "01_sin_entrenar.ipynb", "import trazos")
    write_notebook(folder / "02_entrena.ipynb", TRAINING_NOTEBOOK)
    assert [p.name for p in classroom.training_notebooks(folder)] == ["02_entrena.ipynb"]
    assert [p.name for p in classroom.training_notebooks()] == ["09_cambia_la_red.ipynb"]

    report, ready = classroom.prepare(mnist_root, cache, folder, progress=False)
    assert ready and report[-1].startswith("✓ 02_entrena.ipynb: ejecutado entero, 1 red entrenada ahora y en la caché")
    saved = [p.name for p in cache.glob("Diminuta-*.pt")]
    assert len(saved) == 1
    assert os.environ.get("TRAZOS_CACHE") != str(cache)  # el entorno de quien llama queda como estaba

    # La segunda vez el cuaderno carga su red de la caché: nada nuevo.
    report, ready = classroom.prepare(mnist_root, cache, folder, progress=False)
    assert ready and report[-1].startswith("✓ 02_entrena.ipynb: ejecutado entero, sus redes ya estaban en la caché")
    assert [p.name for p in cache.glob("Diminuta-*.pt")] == saved

    # Un cuaderno que falla: una línea ✗ que dice cuál, y preparar no da el aula por lista.
    broken = TRAINING_NOTEBOOK.replace("limit=300", "limit=300, size=99")
    write_notebook(folder / "02_entrena.ipynb", broken)
    report, ready = classroom.prepare(mnist_root, cache, folder, progress=False)
    assert not ready and report[-1].startswith("✗ 02_entrena.ipynb: falló al ejecutarlo (")
    assert "size" in report[-1]


def test_the_server_warns_when_the_networks_were_not_prepared(tmp_path, capsys):
    """Sin la marca que deja `preparar`, `servidor` avisa de que el 04 y el 09 entrenarían en cada núcleo."""
    from trazos.classroom import server
    cache = tmp_path / "modelos"
    cache.mkdir()
    options = {"python": sys.executable, "data": str(tmp_path), "cache": str(cache), "notebooks": str(tmp_path)}
    server._warnings(options)
    warning = capsys.readouterr().err
    assert "no las ha dejado listas «python -m trazos preparar»" in warning and f"--cache {cache}" in warning
    (cache / "preparado.json").write_text("{}")
    server._warnings(options)
    assert "preparar" not in capsys.readouterr().err
