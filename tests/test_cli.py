"""La línea de órdenes: `python -m trazos` entrena, escribe las figuras y metrics.json, y falla con claridad."""

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

FIGURES = ["curvas.png", "kernels_conv1.png", "kernels_conv2.png", "activaciones_relu1.png",
           "activaciones_relu2.png", "confusion.png", "aciertos.png"]


@pytest.fixture(scope="module")
def subprocess_runs(tmp_path_factory):
    """`python -m trazos --help` y `python -m trazos --data <carpeta vacía>`, lanzados a la vez.

    El segundo intenta descargar MNIST (la biblioteca no tiene un modo «sin conexión»). Para que
    nunca toque la red, tampoco en una CI con internet, el proceso usa un proxy inexistente
    (127.0.0.1:9, conexión rechazada al instante): es lo que ve un alumno sin conexión.
    """
    work = tmp_path_factory.mktemp("cli-subprocess")
    empty = work / "vacia"
    empty.mkdir()
    commands = {"help": [sys.executable, "-m", "trazos", "--help"],
                "no_data": [sys.executable, "-m", "trazos", "--data", str(empty), "--out", str(work / "figuras")]}
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
    assert len(metrics["history"]) == 1 and metrics["history"][0]["test_acc"] == metrics["test_accuracy"]
    # errores.png solo si hubo errores (con 10.000 imágenes de test, casi seguro).
    assert (out / "errores.png").is_file() == (metrics["test_accuracy"] < 1)
    for pair in metrics["most_confused"]:
        assert set(pair) == {"real", "predicho", "veces"} and pair["real"] != pair["predicho"]
    assert sorted(os.listdir(out)) == sorted(FIGURES + ["metrics.json"] + ["errores.png"] * (metrics["test_accuracy"] < 1))


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


def test_cli_bad_limit(capsys, tmp_path):
    assert cli.main(["--limit", "0", "--out", str(tmp_path / "f")]) == 2
    assert "limit debe ser un entero positivo" in capsys.readouterr().err


def test_cli_bad_epochs_and_model(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--epochs", "0"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "--epochs debe ser un entero positivo" in err and err.startswith("uso: trazos")
    with pytest.raises(SystemExit):
        cli.main(["--model", "resnet"])
    assert "cnn" in capsys.readouterr().err


def test_cli_output_folder_cannot_be_created(tmp_path, capsys):
    blocker = tmp_path / "un_fichero"
    blocker.write_text("no soy una carpeta")
    assert cli.main(["--limit", "100", "--epochs", "1", "--out", str(blocker / "figuras")]) == 2
    assert "no se puede crear la carpeta de salida" in capsys.readouterr().err
