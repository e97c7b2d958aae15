"""La capa que ejecuta las redes (`trazos.runner`): cada herramienta recibe lo que le da un
estudiante y lo trata igual.

Imágenes de cualquier forma razonable, redes que terminan en softmax, redes en otro dispositivo,
una BatchNorm congelada, un `print` en `forward`, el generador aleatorio global intacto y los
errores que en Jupyter se ven como su mensaje y nada más. Cada comprobación se hace contra
PyTorch normal (la red llamada a mano), no contra la propia biblioteca.
"""

import json
import sys
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import trazos
from trazos import data, runner, widgets
from trazos.errors import TrazosError
from trazos.models import CNN

from student_networks import batchnorm_net, seed_004


class SoftmaxNet(nn.Module):
    """Como la escriben muchos estudiantes: termina en F.softmax (devuelve probabilidades)."""

    input_size = 16

    def __init__(self, sharpness=1.0):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.fc = nn.Linear(8 * 8 * 8, 10)
        self.sharpness = sharpness  # > 1: probabilidades lejos del reparto uniforme ya sin entrenar

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return F.softmax(self.fc(x.flatten(1)) * self.sharpness, dim=1)


class Talkative(CNN):
    """Una red con un print en forward, como cuando un estudiante depura las formas."""

    def forward(self, x):
        print("forma:", x.shape)
        return super().forward(x)


class DeviceSpy(nn.Module):
    """Anota en qué dispositivo le llegan las imágenes a forward (sin hooks: no deja nada puesto)."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 16 * 16, 10)
        self.seen = []

    def forward(self, x):
        self.seen.append(x.device.type)
        return self.fc(F.relu(self.conv(x)).flatten(1))


def _images(n=4, side=16):
    return torch.randn(n, 1, side, side, generator=torch.Generator().manual_seed(1))


# --- Las imágenes -------------------------------------------------------------------------------

def test_every_reasonable_image_form_becomes_the_same_batch():
    pixels = torch.randint(0, 256, (16, 16), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    normalized = data.normalize(pixels)[None, None]
    for form in (pixels, pixels[None], pixels[None, None], pixels.numpy(), normalized, normalized[0],
                 normalized[0, 0], normalized.numpy(), normalized.double()):
        batch = runner.as_images(form, CNN())
        assert batch.shape == (1, 1, 16, 16) and batch.dtype == torch.float32
        torch.testing.assert_close(batch, normalized)


def test_digits_pixels_in_bytes_give_the_same_predictions_as_normalized_images(test16):
    model = CNN().eval()
    with torch.no_grad():
        expected = torch.softmax(model(test16.images[:8]), dim=1)
    _, probs = trazos.predict(model, test16.pixels[:8])
    torch.testing.assert_close(probs, expected)


@pytest.mark.parametrize("images, words", [
    (torch.zeros(5, 16, 16), ["[5, 16, 16]", "5 imágenes sin la dimensión del canal", "unsqueeze(1)"]),
    (torch.zeros(2, 3, 16, 16), ["[2, 3, 16, 16]", "[N, 1, 16, 16]"]),
    (torch.zeros(2, 1, 28, 28), ["28x28", "16x16", "load_mnist(size=16)"]),
    (torch.zeros(16, 16, dtype=torch.int64), ["torch.int64", "uint8"]),
    ([[0.0] * 16] * 16, ["list", "[N, 1, 16, 16]"]),
])
def test_anything_else_gets_a_spanish_error_naming_what_came_and_what_is_expected(images, words):
    for tool in (lambda m, x: trazos.predict(m, x), lambda m, x: trazos.activations(m, x)):
        with pytest.raises(TrazosError) as info:
            tool(CNN(), images)
        for word in words:
            assert word in str(info.value)


# --- Lo que devuelve la red ---------------------------------------------------------------------

def test_output_kind_tells_logits_log_probabilities_and_probabilities_apart():
    logits = torch.randn(6, 10, generator=torch.Generator().manual_seed(0)) * 3
    assert runner.output_kind(logits) == "logits"
    assert runner.output_kind(F.log_softmax(logits, dim=1)) == "log_probabilities"
    assert runner.output_kind(F.softmax(logits, dim=1)) == "probabilities"
    for output in (logits, F.log_softmax(logits, dim=1), F.softmax(logits, dim=1)):
        torch.testing.assert_close(runner.probabilities(output), F.softmax(logits, dim=1))


def test_a_network_ending_in_softmax_shows_its_own_probabilities_everywhere(test16):
    torch.manual_seed(0)
    model = SoftmaxNet(sharpness=15).eval()
    images = test16.images[:16]
    with torch.no_grad():
        own = model(images)  # lo que dice la red, sin trazos
    assert own.max() > 0.5, "la red de prueba debe dar alguna probabilidad lejos de 1/10"
    predictions, probs = trazos.predict(model, images)
    torch.testing.assert_close(probs, own)  # sin un segundo softmax (que aplastaría 0,9 en ~0,2)
    assert predictions.tolist() == own.argmax(1).tolist()
    drawing = trazos.predict_drawing(model, test16.raw(0)[0].numpy() * 255)
    with torch.no_grad():
        torch.testing.assert_close(drawing["probs"], model(drawing["image"])[0])
    explorer = widgets.activation_explorer(model, test16)
    i = data.example_index(test16, explorer.digit.value, explorer.index.value)
    with torch.no_grad():
        p = model(test16[i][0][None])[0]
    assert trazos.render.percent(p.max()) in explorer.title.value


def test_training_a_softmax_network_warns_once_and_still_learns(mnist_root):
    train = data.load_mnist(train=True, size=16, root=mnist_root, limit=1024)
    val = data.load_mnist(train=False, size=16, root=mnist_root, limit=512)
    torch.manual_seed(0)
    model = SoftmaxNet()
    with pytest.warns(UserWarning, match="termina en softmax") as caught:
        history, _ = trazos.train(model, train, val, epochs=2, batch_size=64, max_lr=0.01, progress=False)
    assert sum("termina en softmax" in str(w.message) for w in caught) == 1  # una vez, no una por lote
    assert history[-1]["val_acc"] > 0.6  # aprende de verdad (con cross_entropy sobre probabilidades, apenas)
    # y la pérdida que informa es la entropía cruzada de verdad: -log p(etiqueta)
    images, labels = val[:512]
    with torch.no_grad():
        expected = F.nll_loss(model.eval()(images).log(), labels).item()
    assert trazos.evaluate(model, val)[0] == pytest.approx(expected, rel=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # la misma red otra vez: ya se avisó
        trazos.train(model, train, val, epochs=1, batch_size=64, progress=False)


# --- Dispositivo ---------------------------------------------------------------------------------

def test_images_go_to_the_networks_device_and_results_come_back():
    """El dispositivo `meta` hace de GPU en una máquina sin GPU: tiene formas y no valores, y
    cualquier mezcla con la CPU da el error de PyTorch. Cada herramienta debe llevar las
    imágenes al dispositivo de la red (y las que solo miran formas, funcionar enteras)."""
    model = seed_004().to("meta")
    images = torch.zeros(2, 1, 28, 28)
    assert [row["name"] for row in trazos.summary(model)][-1] == "log_softmax"
    assert trazos.stage_names(model)[:3] == ["conv1", "relu", "pool"]
    assert trazos.runner.outputs(model, images).shape == (2, 10)
    maps = trazos.activations(model, images)
    assert maps["pool_1"].shape == (2, 64, 7, 7)
    predictions, probs = trazos.predict(model, images)
    assert probs.shape == (2, 10) and predictions.shape == (2,)
    trazos.checks.check_network(model, images)
    trazos.plot_architecture(model)
    assert next(model.parameters()).device.type == "meta"  # la red no se movió


def test_a_network_elsewhere_receives_its_images_there_and_returns_cpu_tensors():
    model = DeviceSpy().to("meta")
    trazos.predict(model, torch.zeros(3, 1, 16, 16))
    trazos.activations(model, torch.zeros(16, 16))
    seen = [d for d in model.seen if isinstance(d, str)]  # al trazar, fx le pasa un Proxy: no cuenta
    assert seen and set(seen) == {"meta"}
    cpu = DeviceSpy()
    _, probs = trazos.predict(cpu, torch.zeros(3, 1, 16, 16))
    assert probs.device.type == "cpu" and not probs.requires_grad


# --- Modos ---------------------------------------------------------------------------------------

def test_a_frozen_batchnorm_stays_frozen_while_training(mnist_root):
    train = data.load_mnist(train=True, size=16, root=mnist_root, limit=256)
    val = data.load_mnist(train=False, size=16, root=mnist_root, limit=64)
    torch.manual_seed(0)
    model = batchnorm_net()
    frozen = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    frozen.eval()  # el estudiante congela su BatchNorm
    mean_before = frozen.running_mean.clone()
    conv_before = next(model.parameters()).detach().clone()
    trazos.train(model, train, val, epochs=1, batch_size=64, progress=False)
    torch.testing.assert_close(frozen.running_mean, mean_before, rtol=0, atol=0)
    assert not torch.equal(next(model.parameters()), conv_before), "el resto de la red sí debe entrenar"
    assert model.training and not frozen.training  # cada capa, con su modo


def test_a_network_left_in_eval_mode_is_trained_whole(mnist_root):
    train = data.load_mnist(train=True, size=16, root=mnist_root, limit=256)
    torch.manual_seed(0)
    model = batchnorm_net().eval()  # p. ej. tras mirarla con .eval(): nada está congelado a propósito
    norm = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    before = norm.running_mean.clone()
    trazos.train(model, train, train, epochs=1, batch_size=64, progress=False)
    assert not torch.equal(norm.running_mean, before)
    assert not model.training and not norm.training  # vuelve como llegó


def test_inspecting_restores_every_modules_own_mode():
    model = batchnorm_net()
    norm = next(m for m in model.modules() if isinstance(m, nn.BatchNorm2d))
    norm.eval()
    modes = {name: m.training for name, m in model.named_modules()}
    trazos.predict(model, torch.zeros(2, 1, 16, 16))
    trazos.activations(model, torch.zeros(2, 1, 16, 16))
    assert {name: m.training for name, m in model.named_modules()} == modes


# --- El generador aleatorio global ---------------------------------------------------------------

def test_no_tool_touches_the_global_random_generator(tiny_run, test16):
    model, student = tiny_run.model, seed_004()  # crear la red sí sortea: antes de mirar el generador
    tools = {
        "summary": lambda: trazos.summary(model),
        "network_shapes": lambda: trazos.shapes.network_shapes(16, 5, 0, 2),
        "network_shapes del estudiante": lambda: trazos.shapes.network_shapes(28, 3, 0, 1, model=student),
        "padding_explorer": lambda: widgets.padding_explorer().kernel_size.set_trait("value", 5),
        "activation_explorer": lambda: widgets.activation_explorer(model, test16).index.set_trait("value", 3),
        "kernel_explorer": lambda: widgets.kernel_explorer(tiny_run),
        "draw_explorer": lambda: widgets.draw_explorer(model).draw([(40, 40), (160, 200)]),
        "confusion_explorer": lambda: widgets.confusion_explorer(model, test16),
        "plot_architecture": lambda: trazos.plot_architecture(model),
        "predict": lambda: trazos.predict(model, test16.images[:10]),
        "check_network": lambda: trazos.checks.check_network(model, test16.images[:2]),
    }
    for name, tool in tools.items():
        before = torch.get_rng_state()
        tool()
        assert torch.equal(torch.get_rng_state(), before), f"{name} consume el generador aleatorio global"


# --- Los print del estudiante --------------------------------------------------------------------

def test_prints_in_forward_are_silenced_while_tracing_but_not_while_running(capsys, test16):
    model = Talkative().eval()
    trazos.summary(model)
    trazos.activations(model, test16.images[:2])
    trazos.plot_architecture(model)
    trazos.cache.architecture_text(model)
    assert "Proxy" not in capsys.readouterr().out
    trazos.predict(model, test16.images[:3])  # aquí la red se ejecuta de verdad: su print sale
    assert capsys.readouterr().out.strip() == "forma: torch.Size([3, 1, 16, 16])"


# --- Errores que lee un estudiante ---------------------------------------------------------------

def test_library_errors_are_trazos_errors_and_keep_their_old_classes():
    with pytest.raises(ValueError) as info:
        trazos.predict(CNN(), torch.zeros(2, 1, 28, 28))
    assert isinstance(info.value, TrazosError)
    with pytest.raises(RuntimeError) as info:  # StepError: también el RuntimeError de PyTorch
        trazos.summary(CNN(), 20)
    assert isinstance(info.value, TrazosError)
    assert issubclass(data.MNISTDataError, TrazosError)
    lines = info.value._render_traceback_()
    assert len(lines) == 1 and "no acepta su entrada" in lines[0]


@pytest.mark.slow
def test_in_jupyter_a_mistake_shows_the_spanish_message_and_no_traceback(tmp_path):
    """Un núcleo de verdad (nbclient), una celda con un error típico: la salida tiene el mensaje
    y ninguna línea de la traza (ni de trazos ni de torch.fx)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    cells = [
        "import torch, trazos\nmodel = trazos.CNN()\nmodel.fc = torch.nn.Linear(100, 10)  # no encaja",
        "trazos.activations(model, torch.zeros(1, 1, 16, 16))",
        "trazos.predict(model, torch.zeros(3, 16, 16))",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    outputs = []
    for cell in (1, 2):
        one = nbformat.v4.new_notebook(cells=[nb.cells[0], nb.cells[cell]])
        client = NotebookClient(one, timeout=120, kernel_name="python3", allow_errors=True,
                                resources={"metadata": {"path": str(tmp_path)}})
        try:
            client.execute()
        except CellExecutionError:  # pragma: no cover - allow_errors: no debería pasar
            pass
        error = [o for o in one.cells[1].outputs if o.output_type == "error"]
        assert len(error) == 1, json.dumps(one.cells[1].outputs, ensure_ascii=False)
        outputs.append("\n".join(error[0].traceback))
    step, shape = outputs
    assert "StepError" in step and "El paso 'fc'" in step
    assert "unsqueeze(1)" in shape
    for text in outputs:
        assert "File " not in text and "torch/fx" not in text and "Traceback" not in text
        assert "site-packages" not in text and "trazos/" not in text
        assert len(text.splitlines()) == 1
    assert sys.executable  # el núcleo es el de este entorno (nbclient usa python3 del venv)


def test_numpy_images_and_single_images_work_in_every_inspection_tool():
    model = CNN().eval()
    image = np.random.default_rng(0).normal(size=(16, 16)).astype(np.float32)
    with torch.no_grad():
        expected = torch.softmax(model(torch.from_numpy(image)[None, None]), dim=1)
    torch.testing.assert_close(trazos.predict(model, image)[1], expected)
    assert trazos.activations(model, image)["conv1"].shape == (1, 16, 16, 16)
    assert trazos.stage_names(model, image)[0] == "conv1"


def test_outputs_batches_by_image_size_and_normalizes_each_batch():
    """Lotes de 256 imágenes de 16x16 y de 64 de 28x28 (las activaciones de un lote ocupan lo mismo), y unos
    Digits se normalizan lote a lote: el resultado es el mismo que con todas las imágenes normalizadas a la vez."""
    assert [runner.eval_batch_size(side) for side in (8, 16, 20, 28)] == [256, 256, 128, 64]
    for side, expected in [(16, [256, 44]), (28, [64, 64, 64, 64, 44])]:
        digits = trazos.load_mnist(train=False, size=side, limit=300)
        torch.manual_seed(0)
        model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.Flatten(), nn.LazyLinear(10))
        model(digits[:1][0])  # fija la capa perezosa
        seen = []
        model.register_forward_pre_hook(lambda module, args: seen.append(len(args[0])))
        by_batches = runner.outputs(model, digits)
        assert seen == expected
        assert torch.equal(by_batches, runner.outputs(model, digits.images))
        assert torch.equal(by_batches, runner.outputs(model, digits.pixels))
