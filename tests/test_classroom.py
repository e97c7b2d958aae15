"""El kit del aula: `python -m trazos preparar` y las carpetas compartidas de solo lectura.

Las pruebas de solo lectura se ejecutan como las vería un estudiante: root no obedece los
permisos de los ficheros, así que, si las pruebas corren como root, el cuaderno se ejecuta
con `setpriv` sin las capacidades que se los saltan (como en un servidor, root obedece
entonces los bits de permiso).
"""

import functools
import os
import shutil
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

import trazos
from trazos import classroom, cli, training

ROOT = Path(__file__).resolve().parent.parent
STUDENT = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search",
           "--inh-caps", "-dac_override,-dac_read_search", "--"]


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
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["classic", "cnn"]
    assert report[3].startswith("✓ Cuadernos:")

    # La segunda vez no entrena nada: si lo intentara, esto fallaría.
    def no_training(*args, **kwargs):
        raise AssertionError("preparar ha vuelto a entrenar")
    monkeypatch.setattr(training, "train", no_training)
    report, ready = classroom.prepare(mnist_root, cache, progress=False)
    assert ready and all("ya estaba en la caché" in line for line in report[1:3])


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
    assert any(line.startswith("✗ Falta la biblioteca paquete_que_no_existe (la usa 01_prueba.ipynb)") for line in report)


def test_every_notebook_import_is_found():
    imports = classroom.notebook_imports()
    assert {"torch", "trazos"} <= set(imports)
    assert all(where for where in imports.values())


def test_prepare_help_is_in_spanish():
    done = subprocess.run([sys.executable, "-m", "trazos", "preparar", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("uso: trazos preparar") and "--cache" in done.stdout


# ------------------------------------------------------------------ carpetas compartidas de solo lectura

def read_only(folder):
    """Quita el permiso de escritura a `folder` y a todo lo que contiene (como una carpeta compartida)."""
    for path in [folder, *folder.rglob("*")]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def run_as_student(cells, env, tmp_path):
    """Ejecuta un cuaderno con esas celdas en un kernel nuevo, como un estudiante; devuelve sus salidas."""
    source, result = tmp_path / "cuaderno.ipynb", tmp_path / "ejecutado.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), source)
    runner = ("import nbformat, sys\nfrom nbclient import NotebookClient\n"
              "nb = nbformat.read(sys.argv[1], as_version=4)\n"
              f"NotebookClient(nb, timeout=600, kernel_name='python3', resources={{'metadata': {{'path': {str(ROOT / 'notebooks')!r}}}}}).execute()\n"
              "nbformat.write(nb, sys.argv[2])\n")
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
    course = trazos.trained_model("cnn", progress=False)  # la de la sesión de pruebas (entrenada una vez)
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
        "import trazos\nrun = trazos.trained_model('cnn')\nprint('CURSO', run.trained_now, run.path)",
        # 2. La red del curso con otra receta no está en la compartida: se entrena y va a la caché propia.
        "mine = trazos.trained_model('cnn', epochs=1, limit=500, progress=False)\nprint('PROPIA', mine.path)",
        # 3. Una red de estudiante, escrita con funciones, con caché: también a la caché propia.
        "import torch.nn.functional as F\nfrom torch import nn\n"
        "class Mia(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n        self.conv = nn.Conv2d(1, 4, 3)\n        self.fc = nn.Linear(4 * 7 * 7, 10)\n"
        "    def forward(self, x):\n"
        "        return self.fc(F.max_pool2d(F.relu(self.conv(x)), 2).view(x.shape[0], -1))\n"
        "data = trazos.load_mnist(train=True, limit=300)\n"
        "test = trazos.load_mnist(train=False, limit=200)\n"
        "student = trazos.train_run(Mia(), data, test, epochs=1, cache=True, progress=False)\n"
        "print('ESTUDIANTE', student.path)",
    ], env, tmp_path)
    assert outputs[0].startswith(f"Modelo 'cnn' cargado de la caché ({shared / 'modelos'}")
    assert f"CURSO False {shared / 'modelos' / course.path.name}" in outputs[0]
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
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import trazos")]), folder / "01_sin_entrenar.ipynb")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(TRAINING_NOTEBOOK)]), folder / "02_entrena.ipynb")
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
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(broken)]), folder / "02_entrena.ipynb")
    report, ready = classroom.prepare(mnist_root, cache, folder, progress=False)
    assert not ready and report[-1].startswith("✗ 02_entrena.ipynb: falló al ejecutarlo (")
    assert "size" in report[-1]
