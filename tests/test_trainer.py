"""El entrenamiento en vivo (`widgets.training_explorer`, `live.LiveTraining`): su contrato
(play, pause, step, reset, wait, timeline, model) con la red del curso y con redes de
estudiantes, los hilos y que da los mismos pesos que `train_step`.

Entrenamientos diminutos: unos cientos de imágenes y unas decenas de pasos.
"""

import threading
import time

import numpy as np
import pytest
import torch

import trazos
from trazos import data, live, live_panels, runner, training, widgets

from student_networks import STUDENTS


def digits(mnist_root, side, train, count):
    return data.load_mnist(train=train, size=side, root=mnist_root, limit=count)


@pytest.fixture(scope="module")
def small16(mnist_root):
    return digits(mnist_root, 16, True, 640), digits(mnist_root, 16, False, 100)


def live_threads():
    return [t for t in threading.enumerate() if t.name.startswith("trazos-live")]


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow
def test_contract_on_the_course_network(small16):
    train, test = small16
    explorer = widgets.training_explorer(trazos.CNN(), train, test, epochs=1, batch_size=64, every=5)
    try:
        assert [s["step"] for s in explorer.timeline] == [0]
        first = explorer.timeline[0]
        for key in ("step", "epoch", "loss", "val_acc", "first_conv"):
            assert key in first
        assert first["first_conv"].shape == (16, 1, 3, 3)
        assert 1.5 < first["loss"] < 3.5  # sin entrenar, cerca de ln(10)
        explorer.step(3)
        assert explorer.steps == 3
        explorer.play()
        timeline = explorer.wait(timeout=120)
        assert explorer.engine.finished and explorer.steps == 10  # 640 imágenes en lotes de 64
        assert [s["step"] for s in timeline] == [0, 5, 10]
        assert timeline[-1]["val_acc"] is not None and timeline[-1]["loss"] < first["loss"]
        assert explorer.model.conv1.weight.shape == (16, 1, 3, 3)
        assert not explorer.scrubber.disabled and explorer.scrubber.max == 2
        explorer.show(0)  # el deslizador en el paso 0: los kernels del principio
        assert "paso 0" in explorer.status.value
        figure = live_panels.plot_timeline(explorer, steps=[0, 10])
        assert len(figure.axes) == 2 * 8
    finally:
        explorer.close()
    assert not live_threads()


@pytest.mark.slow
@pytest.mark.parametrize("name", ["semilla_004", "modulos_reutilizados", "5x5_sin_padding", "batchnorm",
                                  "if_sobre_los_datos"])
def test_contract_on_student_networks(mnist_root, name):
    student = STUDENTS[name]
    model = student.build()
    frozen = [m for m in model.modules() if not m.training]
    train, test = digits(mnist_root, student.side, True, 96), digits(mnist_root, student.side, False, 40)
    explorer = widgets.training_explorer(model, train, test, epochs=1, batch_size=32, every=1, panel=10,
                                         val_size=40)
    try:
        assert explorer.model is model
        before = weights(model)
        explorer.step(2)
        assert explorer.steps == 2 and not same(before, weights(model))
        explorer.play()
        timeline = explorer.wait(timeout=120)
        assert [s["step"] for s in timeline] == [0, 1, 2, 3]
        assert all(0 <= s["val_acc"] <= 1 for s in timeline)
        assert all(not m.training for m in frozen)  # una BatchNorm congelada sigue congelada
        explorer.redraw()
        assert explorer.message.value == "", explorer.message.value
        for stage in explorer.stage.options:  # cada paso de la red tiene su dibujo
            explorer.stage.value = stage
            assert explorer.message.value == "", explorer.message.value
        explorer.reset()
        assert explorer.steps == 0 and len(explorer.timeline) == 1
    finally:
        explorer.close()
    assert not live_threads()


@pytest.mark.slow
def test_pause_stops_the_weights_and_step_moves_exactly(small16):
    train, test = small16
    # 200 épocas (8000 pasos): en 0,3 s no termina ni en una máquina mucho más rápida.
    engine = live.LiveTraining(trazos.CNN(), train, test, epochs=200, batch_size=16, every=10)
    try:
        engine.play()
        time.sleep(0.3)
        engine.pause()
        paused_at, frozen = engine.steps, weights(engine.model)
        assert paused_at > 0 and not engine.running and not engine.finished
        time.sleep(0.3)
        assert engine.steps == paused_at and same(frozen, weights(engine.model))
        engine.step(3)
        assert engine.steps == paused_at + 3 and not engine.running
        time.sleep(0.1)
        assert engine.steps == paused_at + 3
    finally:
        engine.close()


@pytest.mark.slow
def test_reset_restores_the_start_without_touching_the_global_rng(small16):
    train, test = small16
    torch.manual_seed(123)
    engine = live.LiveTraining(trazos.CNN(), train, test, epochs=1, every=4)
    try:
        start = weights(engine.model)
        rng = torch.get_rng_state()
        engine.step(4)
        assert not same(start, weights(engine.model))
        engine.reset()
        assert engine.steps == 0 and [s["step"] for s in engine.timeline] == [0]
        assert same(start, weights(engine.model))
        assert torch.equal(rng, torch.get_rng_state())
        other = live.LiveTraining(trazos.CNN(), train, test, epochs=1, every=4)  # misma semilla, mismo inicio
        assert same(start, weights(other.model))
        other.close()
    finally:
        engine.close()


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_same_weights_as_plain_train_step(small16, optimizer):
    train, test = small16
    engine = live.LiveTraining(trazos.CNN(), train, test, epochs=2, batch_size=48, optimizer=optimizer, every=7)
    try:
        engine.step(17)  # cruza el final de la primera época (640 / 48 = 14 lotes)
        model = trazos.CNN()
        live.fresh_weights(model, 0)
        opt = live.make_live_optimizer(model, optimizer)
        generator, done = torch.Generator().manual_seed(0), 0
        # Con un hilo de cálculo, como el motor: con dos, las sumas se reparten en otro orden y
        # los pesos difieren en la última cifra.
        with widgets.single_thread(), runner.training_mode(model):
            while done < 17:
                for images, labels in data.batches(train, 48, shuffle=True, generator=generator):
                    training.train_step(model, images, labels, opt)
                    done += 1
                    if done == 17:
                        break
        assert same(weights(model), weights(engine.model))
    finally:
        engine.close()


@pytest.mark.slow
def test_controls_act_on_the_running_training(small16):
    train, test = small16
    # 50 épocas (1000 pasos): en los 0,3 s de ▶ no puede terminar, y «Un paso» tiene pasos que dar.
    explorer = widgets.training_explorer(trazos.CNN(), train, test, epochs=50, every=2)
    try:
        explorer.lr.value = 0.01
        explorer.batch_size.value = 32
        explorer.step(2)
        assert explorer.engine.optimizer.param_groups[0]["lr"] == pytest.approx(0.01)
        assert explorer.timeline[-1]["batch_size"] == 32 and explorer.timeline[-1]["lr"] == pytest.approx(0.01)
        explorer.optimizer.value = "adam"
        explorer.step(2)
        assert isinstance(explorer.engine.optimizer, torch.optim.Adam) and explorer.timeline[-1]["optimizer"] == "adam"
        explorer.play_button.click()
        time.sleep(0.3)
        explorer.pause_button.click()
        moved = explorer.steps
        assert moved > 4 and not explorer.engine.running and not explorer.engine.finished
        explorer.step_button.click()
        assert explorer.steps == moved + 1
        explorer.reset_button.click()
        assert explorer.steps == 0
    finally:
        explorer.close()


@pytest.mark.slow
def test_no_thread_left_after_close_or_when_forgotten(small16):
    train, test = small16
    explorer = widgets.training_explorer(trazos.CNN(), train, test, epochs=50)
    explorer.play()
    time.sleep(0.2)
    explorer.close()
    assert not live_threads()
    engine = live.LiveTraining(trazos.CNN(), train, test, epochs=50)
    thread = engine.thread
    engine.play()
    time.sleep(0.1)
    engine.pause()
    del engine  # nadie lo cierra: el finalizador para el hilo
    import gc
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()
    deadline = time.monotonic() + 5  # y el hilo de medir, también
    while live_threads() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not live_threads()


@pytest.mark.slow
def test_every_shot_is_measured_with_its_own_weights(small16):
    """El hilo de medir pone a cada foto el acierto y la pérdida en test de sus propios pesos: los
    mismos números que da PyTorch a mano con el state de la foto, aunque la red ya haya seguido."""
    train, test = small16
    engine = live.LiveTraining(trazos.CNN(), train, test, epochs=10, batch_size=32, every=5, val_size=100)
    try:
        timeline = engine.step(30)
        assert [s["step"] for s in timeline] == [0, 5, 10, 15, 20, 25, 30]
        images, labels = test[:100]
        reference = trazos.CNN()
        for shot in timeline:
            reference.load_state_dict(shot["state"])
            reference.eval()
            with torch.no_grad():
                logits = reference(images)
            assert shot["val_acc"] == pytest.approx(float((logits.argmax(1) == labels).float().mean()))
            assert shot["val_loss"] == pytest.approx(float(torch.nn.functional.cross_entropy(logits, labels)),
                                                      rel=1e-5)
            assert torch.allclose(shot["probs"], torch.softmax(logits, dim=1), atol=1e-6)
        assert len({s["val_loss"] for s in timeline}) == len(timeline)  # cada una, la suya
    finally:
        engine.close()


def test_bad_arguments_speak_spanish(small16):
    train, test = small16
    with pytest.raises(ValueError, match="Optimizador desconocido"):
        widgets.training_explorer(trazos.CNN(), train, test, optimizer="rmsprop")
    with pytest.raises(ValueError, match="tasa de aprendizaje"):
        live.LiveTraining(trazos.CNN(), train, test, lr=-1)
    with pytest.raises(TypeError, match="Digits"):
        live.LiveTraining(trazos.CNN(), train.images, test)
    assert not live_threads()


def test_pictures_are_plain_functions():
    timeline = [{"step": 0, "loss": 2.3, "train_acc": 0.1, "val_acc": 0.1},
                {"step": 10, "loss": float("inf"), "train_acc": 0.5, "val_acc": 0.4}]
    assert live_panels.curves_picture(timeline, now=10).size == (520, 190)
    # La pérdida de validación, dibujada junto a la de entrenamiento (issue 22): el color de la
    # validación aparece también en el gráfico de la pérdida, la mitad izquierda.
    timeline = [{"step": 0, "loss": 2.3, "train_acc": 0.1, "val_acc": 0.1, "val_loss": 2.2},
                {"step": 10, "loss": 1.0, "train_acc": 0.5, "val_acc": 0.4, "val_loss": 1.4}]
    loss_half = np.asarray(live_panels.curves_picture(timeline))[:150, :250]
    assert (loss_half == live_panels.VAL).all(axis=2).sum() > 20
    labels = torch.arange(10)
    assert live_panels.confusion_picture(labels, labels).size[0] > 200
    images = torch.zeros(12, 1, 16, 16)
    probs = torch.softmax(torch.randn(12, 10, generator=torch.Generator().manual_seed(0)), dim=1)
    panel = np.asarray(live_panels.digits_panel(images, torch.zeros(12, dtype=torch.long), probs))
    green = (panel == live_panels.RIGHT).all(axis=2).sum()
    red = (panel == live_panels.WRONG).all(axis=2).sum()
    assert green + red > 0
