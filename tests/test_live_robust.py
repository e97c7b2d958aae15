"""El entrenamiento en vivo aguanta lo que hace un estudiante: volver a ejecutar la celda, un error
dentro del hilo, argumentos mal escritos, dropout, una capa congelada, una red en float64; y la
prueba de estrés, en otro proceso, con dos hilos que lo martillean todo a la vez.

Redes y datos diminutos: unas decenas de imágenes y unos pocos pasos.
"""

import gc
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

import trazos
from trazos import data, live, widgets
from trazos.errors import TrazosError

HERE = Path(__file__).parent


def live_threads():
    import threading
    return [t for t in threading.enumerate() if t.name.startswith("trazos-live")]


@pytest.fixture(scope="module")
def tiny(mnist_root):
    return (data.load_mnist(train=True, size=16, root=mnist_root, limit=96),
            data.load_mnist(train=False, size=16, root=mnist_root, limit=24))


def small_net(dropout=0.0, batchnorm=False):
    layers = [nn.Conv2d(1, 4, 3, padding=1)] + ([nn.BatchNorm2d(4)] if batchnorm else []) + [
        nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1), nn.ReLU(), nn.Dropout(dropout), nn.Flatten(),
        nn.Linear(6 * 8 * 8, 10)]
    net = nn.Sequential(*layers)
    net.input_size = 16
    return net


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


# --- Una red, un entrenamiento -------------------------------------------------------------------

@pytest.mark.slow
def test_stress_in_a_subprocess():
    """Dos hilos con play, pause, step, reset, close, lr, lote, botones y «otra vez la celda» (motor y
    explorador) sobre una misma red, en otro proceso: una violación de segmento se cuenta, no se sufre."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE.parent), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run([sys.executable, str(HERE / "live_stress.py"), "--operations", "600"], env=env,
                            capture_output=True, text=True, timeout=240)
    if result.returncode < 0:
        name = signal.Signals(-result.returncode).name
        pytest.fail(f"El proceso murió con la señal {name}:\n{result.stderr[-3000:]}")
    summary = [line for line in result.stdout.splitlines() if "órdenes en" in line or "PROBLEMA" in line]
    assert result.returncode == 0, "\n".join(summary) + "\n" + result.stderr[-3000:]
    assert any("600 órdenes" in line for line in summary)


@pytest.mark.slow
def test_a_second_training_of_the_same_network_stops_the_first(tiny, capsys):
    train, val = tiny
    model = small_net()
    first = live.LiveTraining(model, train, val, epochs=50, batch_size=16, every=2)
    explorer = None
    try:
        first.step(2)
        second = live.LiveTraining(model, train, val, epochs=50, batch_size=16, every=2)
        assert first.closed and not second.closed
        said = capsys.readouterr().out
        assert "Se ha parado el entrenamiento en vivo anterior de esta red (iba por el paso 2)" in said
        with pytest.raises(TrazosError, match="cerrado"):
            first.play()
        with pytest.raises(TrazosError, match="cerrado"):
            first.reset()
        second.step(1)
        assert second.steps == 1
        explorer = widgets.training_explorer(model, train, val, epochs=50, batch_size=16, every=2, panel=4)
        assert second.closed
        again = widgets.training_explorer(model, train, val, epochs=50, batch_size=16, every=2, panel=4)
        # El explorador anterior se queda quieto, con sus botones apagados y un mensaje que dice por qué.
        assert explorer.engine.closed and explorer.play_button.disabled
        assert "otra celda" in explorer.message.value
        again.step(1)
        assert again.steps == 1
        again.close()
    finally:
        first.close()
        if explorer is not None:
            explorer.close()
    assert not live_threads()


def test_other_networks_train_side_by_side(tiny, capsys):
    train, val = tiny
    a = live.LiveTraining(small_net(), train, val, epochs=5, batch_size=16)
    b = live.LiveTraining(small_net(), train, val, epochs=5, batch_size=16)
    try:
        assert not a.closed and not b.closed and "Se ha parado" not in capsys.readouterr().out
    finally:
        a.close()
        b.close()


# --- El paso 0, la validación y los errores del hilo ----------------------------------------------

def test_step_zero_records_the_first_batch_gradients_and_the_validation_keys(tiny):
    train, val = tiny
    engine = live.LiveTraining(trazos.CNN(), train, val, epochs=1, batch_size=16, every=2, val_size=20)
    try:
        first = engine.timeline[0]
        assert all(bool(g.abs().sum() > 0) for g in first["grads"].values())
        assert all(p.grad is None for p in engine.model.parameters())  # nada queda en .grad
        assert first["val_acc"] is not None and first["val_loss"] > 0
        assert "test_acc" not in first and "test_loss" not in first
        timeline = engine.step(2)
        assert timeline[-1]["val_loss"] is not None
    finally:
        engine.close()


def test_what_the_explorer_shows_names_the_held_out_images_validation(tiny):
    """Las imágenes fijas son de validación: ningún texto del explorador (estado, títulos, textos alternativos de
    los paneles) las llama «test», que en el curso es la medida final, una sola vez (issue 22)."""
    import re
    train, val = tiny
    explorer = widgets.training_explorer(trazos.CNN(), train, val, epochs=1, batch_size=16, every=2, val_size=20)
    try:
        explorer.step(2)
        explorer.show(len(explorer.timeline) - 1)
        frame = explorer.painter.frame(None)
        pictures = explorer.painter.pictures(frame, explorer.layer.value, 0, explorer.stage.value)
        texts = [explorer.status.value] + [title for title, _ in pictures.values()] + \
            [picture.info.get("alt", "") for _, picture in pictures.values()] + \
            [t.value for t in explorer.titles.values()]
        assert not [t for t in texts if re.search(r"\btest\b", t)]
        assert "validación" in explorer.status.value
        assert any("validación" in t for t in texts[1:])  # la matriz de confusión y las curvas lo dicen
    finally:
        explorer.close()


class Breakable(nn.Module):
    """Una red que falla cuando se le pide: en el paso de entrenamiento o al medir (en eval)."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.net = small_net()
        self.fail_in = None  # "train" o "eval"

    def forward(self, x):
        if self.fail_in == ("train" if self.training else "eval"):
            raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")
        return self.net(x)


@pytest.mark.parametrize("where", ["train", "eval"])
def test_an_error_in_a_thread_stops_the_training_and_reaches_the_student(tiny, where):
    train, val = tiny
    model = Breakable()
    explorer = widgets.training_explorer(model, train, val, epochs=50, batch_size=16, every=1, panel=4,
                                         val_size=8)
    try:
        model.fail_in = explorer.engine._probe.fail_in = where  # el hilo de medir usa su copia, `_probe`
        with pytest.raises(TrazosError, match="se ha parado en el paso") as caught:
            explorer.step(3)
        assert isinstance(caught.value, RuntimeError) and "mat1" in str(caught.value)
        assert not explorer.engine.running
        explorer.redraw()
        assert "parado por un error" in explorer.status.value and "se ha parado" in explorer.message.value
        explorer.wait()  # el error se lanza una vez
        model.fail_in = explorer.engine._probe.fail_in = None
        explorer.reset()
        explorer.step(2)
        assert explorer.steps == 2 and explorer.engine.failure is None
        assert "parado por un error" not in explorer.status.value
    finally:
        explorer.close()


# --- Argumentos -----------------------------------------------------------------------------------

def test_arguments_are_checked_where_they_enter(tiny):
    train, val = tiny
    model = small_net()
    with pytest.raises(TrazosError, match="con punto decimal.*0.01"):
        live.LiveTraining(model, train, val, lr="0,01")
    with pytest.raises(TrazosError, match="Escribe un número"):
        live.LiveTraining(model, train, val, lr="rápido")
    with pytest.raises(TrazosError, match="tasa de aprendizaje"):
        live.LiveTraining(model, train, val, lr=float("nan"))
    for bad in (0, -3, 2.5, "64", True):
        with pytest.raises(TrazosError, match="tamaño de lote"):
            live.LiveTraining(model, train, val, batch_size=bad)
    with pytest.raises(TrazosError, match="BatchNorm"):
        live.LiveTraining(small_net(batchnorm=True), train, val, batch_size=1)
    with pytest.raises(TrazosError, match="seed"):
        live.LiveTraining(model, train, val, seed="0")
    with pytest.raises(TrazosError, match="Optimizador desconocido"):
        live.LiveTraining(model, train, val, optimizer="rmsprop")
    with pytest.raises(TrazosError, match="crea la red con paréntesis, CNN()"):
        live.LiveTraining(trazos.CNN, train, val)
    for name in ("epochs", "every", "val_size"):
        with pytest.raises(TrazosError, match=f"{name} debe ser un entero"):
            live.LiveTraining(model, train, val, **{name: 0})
    assert not live_threads()
    engine = live.LiveTraining(model, train, val, epochs=5, batch_size=16)
    try:
        with pytest.raises(TrazosError, match="0.01"):
            engine.lr = "0,01"
        with pytest.raises(TrazosError, match="tamaño de lote"):
            engine.batch_size = "grande"
        with pytest.raises(TrazosError, match="n debe ser"):
            engine.step(0)
        assert engine.lr == 0.1 and engine.batch_size == 16
    finally:
        engine.close()


def test_validation_images_of_another_size_are_refused_before_the_thread_starts(tiny, mnist_root):
    train, _ = tiny
    val28 = data.load_mnist(train=False, size=28, root=mnist_root, limit=8)
    model = small_net()
    del model.input_size  # sin input_size: solo los datos dicen el tamaño
    with pytest.raises(TrazosError, match="16x16 y las de validación de 28x28"):
        live.LiveTraining(model, train, val28)
    assert not live_threads()


@pytest.mark.slow
def test_batch_size_one_trains_every_image(tiny):
    train, val = tiny
    engine = live.LiveTraining(small_net(), train, val, epochs=1, batch_size=1, every=50)
    try:
        engine.step(3)
        assert engine.steps == 3 and engine._position == 3
        engine.batch_size = 16
        engine.play()
        engine.wait()
        assert engine.finished and engine.steps == 3 + (len(train) - 3 + 15) // 16
    finally:
        engine.close()


def test_explorer_with_an_unknown_layer_speaks_spanish_and_leaves_nothing(tiny):
    train, val = tiny
    unraisable = []
    old, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with pytest.raises(TrazosError, match="Capa desconocida: 'conv_1'. Convoluciones de esta red: conv1, conv2"):
            widgets.training_explorer(trazos.CNN(), train, val, layer="conv_1")
        with pytest.raises(TrazosError, match="digit"):
            widgets.training_explorer(trazos.CNN(), train, val, digit=40)
        gc.collect()
    finally:
        sys.unraisablehook = old
    assert not unraisable, [str(u.exc_value) for u in unraisable]
    assert not live_threads()


# --- Semilla, dropout, capas congeladas, float64 ---------------------------------------------------

@pytest.mark.slow
def test_dropout_same_seed_same_training_whatever_the_notebook_drew_before(tiny):
    train, val = tiny
    results = []
    for before in (1, 2):
        torch.manual_seed(before)  # el cuaderno sorteó otra cosa antes: no cambia el entrenamiento
        engine = live.LiveTraining(small_net(dropout=0.5), train, val, epochs=5, batch_size=16, seed=3)
        try:
            rng = torch.get_rng_state()
            engine.step(4)
            assert torch.equal(rng, torch.get_rng_state())  # el generador global, como estaba
            results.append(weights(engine.model))
        finally:
            engine.close()
    assert same(*results)
    engine = live.LiveTraining(small_net(dropout=0.5), train, val, epochs=5, batch_size=16, seed=3)
    try:
        engine.step(2)
        engine.reset()
        engine.step(4)
        assert same(results[0], weights(engine.model))  # y tras reset(), otra vez lo mismo
    finally:
        engine.close()


def test_a_frozen_hand_set_first_layer_is_kept(tiny):
    train, val = tiny
    model = small_net()
    with torch.no_grad():
        model[0].weight.copy_(torch.arange(36.0).reshape(4, 1, 3, 3) / 36)
    model[0].weight.requires_grad_(False)
    hand_set = model[0].weight.detach().clone()
    engine = live.LiveTraining(model, train, val, epochs=5, batch_size=16, seed=0)
    try:
        assert torch.equal(model[0].weight, hand_set)
        engine.step(3)
        assert torch.equal(model[0].weight, hand_set)
        engine.reset()
        assert torch.equal(model[0].weight, hand_set)
    finally:
        engine.close()


def test_a_float64_network_trains_live(tiny):
    train, val = tiny
    model = small_net().double()
    explorer = widgets.training_explorer(model, train, val, epochs=5, batch_size=16, every=1, panel=4, val_size=8)
    try:
        timeline = explorer.step(2)
        assert explorer.steps == 2 and timeline[-1]["val_acc"] is not None
        explorer.redraw()
        assert explorer.message.value == "", explorer.message.value
    finally:
        explorer.close()


# --- La vista ---------------------------------------------------------------------------------------

def test_show_zero_is_not_cancelled_by_the_view_thread(tiny, monkeypatch):
    """La vista pide un dibujo nuevo mientras `show(0)` dibuja: antes lo cancelaba y `show` volvía sin
    enseñar el paso 0. Se simula sin tiempos: el pintor, a mitad del dibujo, sube el contador de dibujos
    pedidos como hace la vista al empezar el suyo."""
    train, val = tiny
    explorer = widgets.training_explorer(small_net(), train, val, epochs=5, batch_size=16, every=2, panel=4,
                                         val_size=8, refresh=0.01)
    try:
        explorer.step(4)
        assert "paso 4" in explorer.status.value
        pictures = explorer.painter.pictures

        def interrupted(*args, **kwargs):
            with explorer._lock:
                explorer._generation += 1  # la vista empieza otro dibujo
            return pictures(*args, **kwargs)

        monkeypatch.setattr(explorer.painter, "pictures", interrupted)
        explorer.show(0)
        assert "paso 0</span>" in explorer.status.value
        assert "acierto en validación" in explorer.status.value
        assert "validación" in explorer.titles["confusion"].value
    finally:
        explorer.close()


@pytest.mark.slow
def test_reading_other_networks_while_a_live_training_runs(tiny):
    """Mientras una red se entrena en vivo, el cuaderno mira otras con fx (`trazos.activations`, que
    cambia `nn.Module.__call__` para todo el proceso mientras lee): ni el entrenamiento ni la lectura
    se estropean (`capture.TRACING`)."""
    train, val = tiny
    engine = live.LiveTraining(small_net(), train, val, epochs=200, batch_size=16, every=5)
    other = trazos.CNN()
    x = val[:2][0]
    try:
        engine.play()
        names = [list(trazos.activations(other, x)) for _ in range(30)]
        engine.pause()
        assert engine.failure is None and engine.steps > 0
        assert all(n == names[0] for n in names) and names[0][0] == "conv1"
        engine.step(2)
    finally:
        engine.close()
