"""La línea de órdenes: `python -m trazos` entrena, escribe las figuras y metrics.json, y falla con claridad."""

import errno
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import torch

from trazos import cli, training
from trazos.arguments import SpanishArgumentParser

FIGURES = ["curvas.png", "kernels_conv1.png", "kernels_conv2.png", "activaciones_relu1.png",
           "activaciones_relu2.png", "confusion.png", "aciertos.png"]


@pytest.fixture(scope="module")
def subprocess_runs(tmp_path_factory):
    """`python -m trazos` con `--help`, con `--data <carpeta vacía>` y con `--seed -1`, lanzados a la vez.

    El segundo intenta descargar MNIST (la biblioteca no tiene un modo «sin conexión»). Para que
    nunca toque la red, tampoco en una CI con internet, el proceso usa un proxy inexistente
    (127.0.0.1:9, conexión rechazada al instante): es lo que ve un alumno sin conexión.
    """
    work = tmp_path_factory.mktemp("cli-subprocess")
    empty = work / "vacia"
    empty.mkdir()
    commands = {"help": [sys.executable, "-m", "trazos", "--help"],
                "no_data": [sys.executable, "-m", "trazos", "--data", str(empty), "--out", str(work / "figuras")],
                "bad_seed": [sys.executable, "-m", "trazos", "--seed", "-1", "--out", str(work / "figuras")]}
    proxy = "http://127.0.0.1:9"
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONIOENCODING="utf-8", http_proxy=proxy, https_proxy=proxy,
               HTTP_PROXY=proxy, HTTPS_PROXY=proxy, no_proxy="", NO_PROXY="")
    start = time.perf_counter()
    running = {name: subprocess.Popen(command, cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, encoding="utf-8")
               for name, command in commands.items()}
    results = {}
    for name, process in running.items():
        try:
            stdout, stderr = process.communicate(timeout=240)
        except subprocess.TimeoutExpired:
            process.kill()
            pytest.fail(f"`{' '.join(commands[name])}` no terminó en 240 s")
        results[name] = (process.returncode, stdout, stderr, time.perf_counter() - start)
    return results, empty, work


def test_help_is_in_spanish(subprocess_runs):
    results, _, _ = subprocess_runs
    code, stdout, stderr, _ = results["help"]
    assert code == 0, stderr
    assert "opciones" in stdout and "muestra esta ayuda" in stdout
    assert stdout.startswith("uso: trazos")
    for option in ("--model", "--epochs", "--out", "--data", "--seed", "--limit"):
        assert option in stdout
    for english in ("usage:", "options:", "show this help"):
        assert english not in stdout


def test_missing_data_fails_cleanly_in_a_real_process(subprocess_runs):
    results, empty, work = subprocess_runs
    code, stdout, stderr, seconds = results["no_data"]
    assert code != 0
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert stderr.startswith("Error: ")
    assert str(empty.resolve() / "MNIST" / "raw") in stderr
    assert "TRAZOS_DATA" in stderr and "train-images-idx3-ubyte" in stderr
    assert "No se pudo descargar MNIST" in stderr and "Descargando MNIST" in stdout
    assert not (work / "figuras").exists()  # no llegó a escribir nada
    assert seconds < 180  # sin red, el intento de descarga falla pronto en vez de quedarse colgado


def test_bad_seed_fails_cleanly_in_a_real_process(subprocess_runs):
    """Lo que pedía el issue: `python -m trazos --seed -1` acaba con un mensaje en español y el código 2."""
    results, _, work = subprocess_runs
    code, stdout, stderr, _ = results["bad_seed"]
    assert code == 2
    assert "Traceback" not in stderr and stdout == ""
    assert stderr.startswith("uso: trazos")
    assert "argumento --seed: debe ser un entero entre 0 y 4294967295; se recibió -1" in stderr
    assert not (work / "figuras").exists()


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    """Una ejecución completa dentro del proceso: 2000 imágenes, 1 época."""
    out = tmp_path_factory.mktemp("cli") / "figuras"
    code = cli.main(["--limit", "2000", "--epochs", "1", "--out", str(out)])
    return code, out


def test_cli_writes_figures_and_metrics(cli_run):
    code, out = cli_run
    assert code == 0
    for name in FIGURES:
        path = out / name
        assert path.is_file(), name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["model"] == "cnn" and metrics["epochs"] == 1 and metrics["seed"] == 0
    assert metrics["train_examples"] == 2000
    assert metrics["train_seconds"] > 0
    assert 0.5 < metrics["test_accuracy"] <= 1
    assert len(metrics["history"]) == 1 and 0.5 < metrics["history"][0]["val_acc"] <= 1
    # errores.png solo si hubo errores (con 10.000 imágenes de test, casi seguro).
    assert (out / "errores.png").is_file() == (metrics["test_accuracy"] < 1)
    # Con algún error hay pares confundidos: el bucle de abajo no puede pasar sin mirar nada.
    assert bool(metrics["most_confused"]) == (metrics["test_accuracy"] < 1)
    for pair in metrics["most_confused"]:
        assert set(pair) == {"real", "predicho", "veces"} and pair["real"] != pair["predicho"] and pair["veces"] > 0
    errors = ["errores.png"] * (metrics["test_accuracy"] < 1)
    assert sorted(os.listdir(out)) == sorted(FIGURES + ["metrics.json"] + errors)


def test_cli_leaves_the_trained_model_in_the_cache(cli_run, monkeypatch):
    """Lo que entrena la línea de órdenes queda en la caché: los cuadernos no vuelven a entrenar."""
    code, out = cli_run
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))

    def no_training(*args, **kwargs):
        raise AssertionError("trained_model volvió a entrenar: la CLI no dejó el modelo en la caché")

    monkeypatch.setattr(training, "train", no_training)
    run = training.trained_model("cnn", epochs=1, limit=2000, progress=False)
    assert run.test_accuracy == metrics["test_accuracy"]


@pytest.mark.parametrize("argv, spanish", [
    (["--model", "lenet"], "valor no válido"),
    (["--epochs", "dos"], "no es un número entero"),
    (["--modelo", "cnn"], "argumentos no reconocidos"),
])
def test_usage_errors_are_in_spanish(argv, spanish, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("uso: trazos") and spanish in err
    for english in ("invalid choice", "invalid int value", "unrecognized arguments", "argument "):
        assert english not in err


class Stop(Exception):
    """Corta la ejecución de main justo al empezar a entrenar."""


def test_seed_fixes_the_initial_weights(monkeypatch, tmp_path):
    """Con la misma --seed, la red empieza con los mismos pesos aunque el generador global esté en otro estado."""
    initial = []

    def capture(model, *args, **kwargs):
        initial.append({k: v.clone() for k, v in model.state_dict().items()})
        raise Stop

    monkeypatch.setattr(training, "train", capture)  # la CLI entrena a través de trained_model
    for noise, seed in [(1, "5"), (2, "5"), (3, "6")]:
        torch.manual_seed(noise)
        with pytest.raises(Stop):
            cli.main(["--limit", "100", "--epochs", "1", "--seed", seed, "--out", str(tmp_path / "f")])
    same, other = initial[1], initial[2]
    assert all(torch.equal(initial[0][k], same[k]) for k in same)
    assert not torch.equal(initial[0]["conv1.weight"], other["conv1.weight"])


def test_cli_missing_data_in_process(tmp_path, monkeypatch, capsys):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("sin conexión (simulado)")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert cli.main(["--data", str(tmp_path), "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error: No se pudo descargar MNIST")
    assert str(tmp_path.resolve() / "MNIST" / "raw") in err and "TRAZOS_DATA" in err
    assert not (tmp_path / "f").exists()


@pytest.fixture
def no_training(monkeypatch):
    """Si main llegara a entrenar, la prueba falla: los valores malos se rechazan antes."""
    def fail(*args, **kwargs):
        raise AssertionError("main empezó a entrenar con un valor que debía rechazar")

    monkeypatch.setattr(training, "train", fail)


@pytest.mark.parametrize("argv, expected", [
    (["--seed", "-1"], "argumento --seed: debe ser un entero entre 0 y 4294967295; se recibió -1"),
    (["--seed", str(2**32)], f"argumento --seed: debe ser un entero entre 0 y 4294967295; se recibió {2**32}"),
    (["--seed", "uno"], "argumento --seed: no es un número entero: 'uno'"),
    (["--limit", "0"], "argumento --limit: debe ser un entero mayor o igual que 1; se recibió 0"),
    (["--limit", "-5"], "argumento --limit: debe ser un entero mayor o igual que 1; se recibió -5"),
    (["--limit", "2.5"], "argumento --limit: no es un número entero: '2.5'"),
    (["--epochs", "0"], "argumento --epochs: debe ser un entero mayor o igual que 1; se recibió 0"),
    (["--epochs", "-3"], "argumento --epochs: debe ser un entero mayor o igual que 1; se recibió -3"),
    (["--epochs"], "argumento --epochs: necesita un valor"),
    (["--model", "resnet"], "argumento --model: valor no válido: 'resnet'"),
])
def test_bad_values_end_with_a_spanish_message_and_code_2(argv, expected, capsys, no_training, tmp_path):
    with pytest.raises(SystemExit) as info:
        cli.main(argv + ["--out", str(tmp_path / "f")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("uso: trazos")
    assert f"\ntrazos: error: {expected}" in err
    assert not (tmp_path / "f").exists()


def test_the_edges_of_the_valid_ranges_are_accepted():
    args = cli.parse_args(["--seed", str(2**32 - 1), "--limit", "1", "--epochs", "1"])
    assert (args.seed, args.limit, args.epochs) == (2**32 - 1, 1, 1)
    assert cli.parse_args(["--seed", "0"]).seed == 0
    assert cli.parse_args([]).epochs is None  # sin --epochs: las de la receta


@pytest.mark.parametrize("where, reason", [("under_a_file", "una parte de la ruta es un fichero, no una carpeta"),
                                           ("is_a_file", "ya existe un fichero con ese nombre")])
def test_output_folder_that_cannot_be_written(where, reason, tmp_path, capsys, no_training):
    blocker = tmp_path / "un_fichero"
    blocker.write_text("no soy una carpeta")
    out = blocker / "figuras" if where == "under_a_file" else blocker
    assert cli.main(["--limit", "100", "--epochs", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Error: no se puede escribir en la carpeta de salida {out}: {reason}.")
    assert "--out" in err and "Traceback" not in err
    assert blocker.read_text() == "no soy una carpeta"


def test_output_folder_without_permission(tmp_path, capsys, monkeypatch, no_training):
    """Una carpeta que existe pero no deja escribir (como root no se puede crear una de verdad: se simula)."""
    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(cli.tempfile, "TemporaryFile", denied)
    assert cli.main(["--limit", "100", "--epochs", "1", "--out", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"Error: no se puede escribir en la carpeta de salida {tmp_path}: "
                                              "permiso denegado.")


def test_model_cache_that_cannot_be_written(tmp_path, capsys, monkeypatch, no_training):
    blocker = tmp_path / "un_fichero"
    blocker.write_text("no soy una carpeta")
    monkeypatch.setenv("TRAZOS_CACHE", str(blocker / "modelos"))
    assert cli.main(["--limit", "100", "--epochs", "1", "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"Error: no se puede escribir en la caché de modelos {blocker / 'modelos'}: ")
    assert "TRAZOS_CACHE" in err


def test_ctrl_c_while_training_ends_without_a_traceback(tmp_path, capsys, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(training, "train", interrupted)
    assert cli.main(["--limit", "100", "--epochs", "1", "--out", str(tmp_path / "f")]) == 130
    err = capsys.readouterr().err
    assert "Entrenamiento interrumpido" in err
    assert os.listdir(tmp_path / "f") == []  # ninguna figura ni metrics.json a medias


# ------------------------------------------------------------------ las órdenes (subanalizadores)

@pytest.mark.parametrize("name", list(cli.COMMANDS))
def test_every_command_has_its_help_in_spanish(name, capsys):
    with pytest.raises(SystemExit) as info:
        cli.main([name, "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    prog = "trazos" if name == cli.DEFAULT else f"trazos {name}"
    assert out.startswith(f"uso: {prog} [-h]") and "opciones:" in out and "muestra esta ayuda y termina" in out
    for english in ("usage:", "options:", "show this help"):
        assert english not in out


def test_the_default_command_is_training():
    """`python -m trazos --out x` es `python -m trazos entrenar --out x`, como dice el README."""
    plain = cli.parse_args(["--out", "x", "--seed", "3"])
    named = cli.parse_args(["entrenar", "--out", "x", "--seed", "3"])
    assert vars(plain) == vars(named) and plain.run is cli.run and plain.seed == 3
    # Solo la primera palabra elige la orden: una carpeta que se llama como una orden sigue siendo una carpeta.
    assert str(cli.parse_args(["--out", "preparar"]).out) == "preparar"


def test_unknown_arguments_are_reported_by_their_command(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["clave", "--modelo", "cnn"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("uso: trazos clave [-h]")
    assert "\ntrazos clave: error: argumentos no reconocidos: --modelo cnn" in err


def test_a_new_command_is_one_line_in_the_registry(monkeypatch, capsys, tmp_path):
    """Lo que dice el docstring de cli: un módulo con add_arguments y run, y una línea en COMMANDS."""
    module = type(sys)("trazos_eco_de_prueba")

    def add_arguments(parser):
        parser.add_argument("--veces", type=int, default=1, help="cuántas veces")

    def run(args):
        print("eco " * args.veces)
        return 7

    module.add_arguments, module.run = add_arguments, run
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(cli.COMMANDS, "eco", (module.__name__, "repite eco"))
    assert cli.main(["eco", "--veces", "2"]) == 7
    assert capsys.readouterr().out == "eco eco \n"
    with pytest.raises(SystemExit):
        cli.main(["eco", "--help"])
    assert capsys.readouterr().out.startswith("uso: trazos eco [-h] [--veces VECES]")
    with pytest.raises(SystemExit):
        cli.main(["--help"])  # la ayuda de la orden por defecto nombra la nueva
    assert "«python -m trazos eco» repite eco" in " ".join(capsys.readouterr().out.split())


def test_the_spanish_parser_translates_its_own_help_and_errors(capsys):
    parser = SpanishArgumentParser(prog="prueba")
    parser.add_argument("--lado", type=int, required=True)
    assert parser.format_help().startswith("uso: prueba [-h] --lado LADO") and "opciones:" in parser.format_help()
    with pytest.raises(SystemExit):
        parser.parse_args([])
    assert "prueba: error: faltan los argumentos: --lado" in capsys.readouterr().err
    manual = SpanishArgumentParser(prog="otra", add_help=False)  # quien pone su propio -h
    manual.add_argument("-h", "--help", action="help", help="ayuda")
    assert "ayuda" in manual.format_help()


def test_importing_changes_no_backend_and_has_no_cycle(tmp_path):
    """Importar cli no elige backend de matplotlib, y las órdenes no importan cli (no hay círculo).

    Con un backend de pantalla (TkAgg) y sin DISPLAY, la CLI escribe igual sus PNG: sus figuras
    no pasan por pyplot.
    """
    code = (
        "import sys, matplotlib, torch\n"
        "matplotlib.use('pdf')\n"
        "import trazos.classroom.room, trazos.classroom.web, trazos.exercises.answer_key\n"
        "assert 'trazos.cli' not in sys.modules, 'una orden importa cli'\n"
        "from trazos import cli, plots\n"
        "assert matplotlib.get_backend() == 'pdf', matplotlib.get_backend()\n"
        "matplotlib.use('TkAgg', force=False)\n"
        "from pathlib import Path\n"
        "cli.save(plots.plot_confusion(torch.eye(10, dtype=torch.long) * 5), Path(sys.argv[1]), 'c.png')\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n")
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
