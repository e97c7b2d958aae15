"""Las redes que escriben los estudiantes, por todas las herramientas de trazos.

Cada red de `student_networks.py` (escrita como la escribe un estudiante; la de la semilla
004 pegada tal cual, con `model.input_size = 28` y también sin él) pasa por la tabla de
capas, las activaciones (con la lista exacta de pasos), un entrenamiento corto, la
predicción, el diagrama y cada explorador con sus controles movidos. Después de cada
herramienta la red tiene que estar como se entregó: el modo de cada capa, el dispositivo y
la disposición en memoria de cada tensor y, salvo al entrenar, los mismos pesos.
"""

import inspect
import io
import re
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

import trazos
from trazos import inspection, widgets
from trazos.architecture import plot_architecture
from trazos.capture import StepError
from trazos.training import train_run

from student_networks import (CNN, STUDENTS, hooks_left, BatchMixer, DataDependent, FiveOutputs, SharedLayers,
                              WrongLinear, mlp, sequential_net)

IDS = list(STUDENTS)

# Un `if` sobre los datos obliga a usar hooks: el aviso sale una vez por red, y aquí se cuenta
# en su propia prueba (test_data_dependent_network_warns_once).
pytestmark = pytest.mark.filterwarnings("ignore:torch.fx no puede seguir:UserWarning")

TRAIN_LIMIT, TEST_LIMIT, DIGITS_LIMIT = 256, 128, 300


# ------------------------------------------------------------------ utilidades

def as_given(model):
    """Lo que un estudiante notaría si una herramienta le cambiara la red sin decírselo: el modo
    de cada capa y, de cada tensor, dispositivo, tipo, forma y disposición en memoria (strides:
    channels_last los cambia)."""
    modes = [(name, module.training) for name, module in model.named_modules()]
    tensors = {k: (v.device, v.dtype, tuple(v.shape), v.stride()) for k, v in model.state_dict(keep_vars=True).items()}
    return modes, tensors


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def first_conv(model):
    return next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)


def assert_untouched(model, given, before):
    """La red sigue como se entregó: mismo modo, mismo formato y dispositivo, mismos pesos."""
    assert as_given(model) == given
    assert same_weights(weights(model), before)


def has_input_size(model):
    return getattr(model, "input_size", None) is not None


def takes_side(explorer):
    return "side" in inspect.signature(explorer).parameters


def side_option(explorer, model, side):
    """`side=` para un explorador sin imágenes (padding, dibujo) si la red no tiene input_size, o
    None si el explorador aún no lo acepta (entonces debe pedirlo en español: ver
    test_explorers_that_need_the_side_say_how_to_give_it)."""
    if has_input_size(model):
        return {}
    return {"side": side} if takes_side(explorer) else None


def moved(explorer, control, values):
    """Pone `control` en cada valor y comprueba que el explorador no muestra ningún error."""
    for value in values:
        control.value = value[1] if isinstance(value, tuple) else value
        assert explorer.message.value == "", (control.description, value, explorer.message.value)


@pytest.fixture(scope="module")
def mnist(mnist_root):
    """load_mnist(train, side, limit) leyendo de la carpeta de las pruebas."""
    return lambda train, side, limit: trazos.load_mnist(train=train, size=side, limit=limit, root=mnist_root)


@pytest.fixture(scope="module")
def trained(mnist):
    """Cada red, entrenada una vez (una época corta) con train_run; con cómo se entregó y sus pesos."""
    done = {}

    def get(key):
        if key not in done:
            spec = STUDENTS[key]
            trazos.seed_everything(0)
            model = spec.build()
            given, before = as_given(model), weights(model)
            held_out = mnist(False, spec.side, TEST_LIMIT)  # de validación y de test: aquí no se elige nada
            run = train_run(model, mnist(True, spec.side, TRAIN_LIMIT), held_out, held_out,
                            epochs=1, batch_size=64, progress=False)
            done[key] = run, given, before
        return done[key]

    return get


# ------------------------------------------------------------------ tabla de capas y activaciones

@pytest.mark.parametrize("key", IDS)
def test_summary_lists_every_step(key):
    spec = STUDENTS[key]
    model = spec.build()
    given, before = as_given(model), weights(model)
    table = trazos.summary(model) if has_input_size(model) else trazos.summary(model, (1, spec.side, spec.side))
    assert [row["name"] for row in table] == list(spec.steps)
    assert table.total_params == sum(p.numel() for p in model.parameters())  # cada peso contado una vez
    assert table[-1]["shape"] == (10,)
    assert trazos.render.integer(table.total_params) in str(table)
    assert_untouched(model, given, before)


@pytest.mark.parametrize("key", IDS)
def test_activations_capture_every_step_in_order(key, mnist):
    spec = STUDENTS[key]
    model = spec.build()
    given, before = as_given(model), weights(model)
    images = mnist(False, spec.side, 5).images
    outputs = trazos.activations(model, images)
    assert list(outputs) == list(spec.steps)
    assert all(out.shape[0] == 5 for out in outputs.values())
    assert tuple(outputs[spec.steps[-1]].shape) == (5, 10)
    if has_input_size(model):
        assert trazos.stage_names(model) == list(spec.steps)
    assert_untouched(model, given, before)


def test_inplace_relu_does_not_overwrite_the_convolution_it_follows(mnist):
    """ReLU(inplace=True) escribe sobre la salida de la convolución: la captura debe guardar
    la convolución antes de que la ReLU la cambie (con valores negativos) y la ReLU después."""
    model = sequential_net()
    images = mnist(False, 16, 5).images
    outputs = trazos.activations(model, images)
    assert outputs["0"].min() < 0 and outputs["1"].min() == 0
    assert torch.equal(outputs["1"], outputs["0"].clamp(min=0))
    assert torch.equal(model[0](images), outputs["0"])

    class Untraceable(nn.Module):  # lo mismo por el camino de los hooks (un `if` sobre los datos)
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            if x.abs().max() > 100:
                x = x / 255
            return self.relu(self.conv(x))

    model = Untraceable()
    outputs = trazos.activations(model, images)
    assert list(outputs) == ["conv", "relu"] and outputs["conv"].min() < 0
    assert torch.equal(outputs["relu"], outputs["conv"].clamp(min=0))


# ------------------------------------------------------------------ entrenar, predecir y el diagrama

@pytest.mark.slow
@pytest.mark.parametrize("key", IDS)
def test_training_gives_a_run_and_gives_the_model_back_as_it_was(key, trained):
    run, given, before = trained(key)
    model = run.model
    assert as_given(model) == given  # mismo modo, dispositivo y formato (no channels_last)
    conv = first_conv(model)
    if conv is not None:
        assert conv.weight.is_contiguous()
    assert not same_weights(weights(model), before), "el entrenamiento no cambió los pesos"
    assert same_weights(run.checkpoints[0], before)
    assert same_weights(run.checkpoints[-1], weights(model))
    assert len(run.history) == 1 and len(run.checkpoints) == 2
    assert {"train_loss", "val_loss", "val_acc", "seconds"} <= set(run.history[0])
    assert 0 <= run.test_accuracy <= 1 and run.test_accuracy == run.val_accuracy  # los mismos dígitos
    assert run.name == type(model).__name__
    start = run.model_at(0)  # una copia con los pesos de antes de entrenar: la red no se toca
    assert same_weights(weights(start), before) and start is not model and not start.training
    assert as_given(model) == given


@pytest.mark.slow
@pytest.mark.parametrize("key", IDS)
def test_predict_and_architecture_diagram(key, trained, mnist):
    spec = STUDENTS[key]
    run, _, _ = trained(key)
    model = run.model
    given, before = as_given(model), weights(model)
    digits = mnist(False, spec.side, 50)
    predictions, probs = trazos.predict(model, digits.images, batch_size=16)
    assert probs.shape == (50, 10) and torch.allclose(probs.sum(dim=1), torch.ones(50))
    assert torch.equal(predictions, probs.argmax(dim=1))
    assert_untouched(model, given, before)

    fig = plot_architecture(model) if has_input_size(model) else plot_architecture(model, spec.side)
    texts = [t.get_text() for t in fig.axes[0].texts]
    for name in spec.steps:
        assert name in texts, f"falta la caja de {name}"
    numbers = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "paso"]
    assert numbers == [str(i) for i in range(1, len(spec.steps) + 1)]  # una caja numerada por paso, en orden
    picture = Image.open(io.BytesIO(fig._repr_png_()))
    assert picture.width > 300 and picture.height > 300
    assert_untouched(model, given, before)


def test_architecture_diagram_counts_parameters_like_the_table():
    model = SharedLayers()
    fig = plot_architecture(model)
    texts = [t.get_text() for t in fig.axes[0].texts]
    total = trazos.render.integer(sum(p.numel() for p in model.parameters()))
    assert f"SharedLayers: 10 etapas, {total} parámetros" in texts
    assert "584 parámetros" in texts and "pesos de conv" in texts  # conv_1: la misma capa, sin sumar otra vez
    assert texts.count("sin parámetros") == 6  # act, pool, act_1, act_2, pool_1 y reshape
    with pytest.raises(ValueError, match="input_size=28"):
        plot_architecture(CNN())


# ------------------------------------------------------------------ los exploradores

@pytest.mark.slow
@pytest.mark.parametrize("key", IDS)
def test_every_explorer_works_and_leaves_the_model_as_it_was(key, trained, mnist):
    spec = STUDENTS[key]
    run, _, _ = trained(key)
    model = run.model
    given, before = as_given(model), weights(model)
    digits = mnist(False, spec.side, DIGITS_LIMIT)

    explorer = widgets.activation_explorer(model, digits)
    assert list(explorer.stage.options) == list(spec.steps)
    moved(explorer, explorer.stage, explorer.stage.options)
    moved(explorer, explorer.digit, range(10))
    moved(explorer, explorer.index, [explorer.index.max, 0])
    assert explorer.maps.value and explorer.picture.value
    assert_untouched(model, given, before)

    if first_conv(model) is None:
        with pytest.raises(ValueError, match="no tiene capas Conv2d"):
            widgets.kernel_explorer(run)
        with pytest.raises(ValueError, match="no tiene capas Conv2d"):
            widgets.padding_explorer(model)
    else:
        explorer = widgets.kernel_explorer(run)
        assert explorer.epoch.max == 1  # la red del estudiante también se recorre época a época
        for layer in explorer.layer.options:
            moved(explorer, explorer.layer, [layer])
            moved(explorer, explorer.view, explorer.view.options)
            moved(explorer, explorer.epoch, [0, 1])
            moved(explorer, explorer.filter, list(explorer.filter.options)[:3])
        assert_untouched(model, given, before)

        option = side_option(widgets.padding_explorer, model, spec.side)
        if option is not None:
            explorer = widgets.padding_explorer(model, **option)
            for control, values in [(explorer.kernel_size, [5, 3]), (explorer.padding, [0, 2, 1]),
                                    (explorer.stride, [2, 1]), (explorer.size, [20, spec.side])]:
                moved(explorer, control, values)
            assert_untouched(model, given, before)

    explorer = widgets.confusion_explorer(model, digits)
    assert int(explorer.matrix.sum()) == len(digits)
    for true, pred in [(0, 0), (3, 5), (7, 7)]:
        explorer.select(true, pred)
        assert explorer.message.value == ""
        assert f"Real {true}, predicho {pred}" in explorer.title.value
    assert_untouched(model, given, before)

    option = side_option(widgets.draw_explorer, model, spec.side)
    if option is not None:
        explorer = widgets.draw_explorer(model, **option)
        explorer.draw([(140, 40), (140, 240)])  # un 1
        explorer.draw([(100, 60), (180, 60), (120, 230)])  # un 7 encima
        assert explorer.message.value == ""
        assert_untouched(model, given, before)

    stroke = np.zeros((280, 280), dtype=np.float32)
    stroke[40:240, 130:150] = 255
    result = inspection.predict_drawing(model, stroke, side=spec.side)
    assert list(result["activations"]) == list(spec.steps) and 0 <= result["prediction"] <= 9
    assert_untouched(model, given, before)


def test_explorers_that_need_the_side_say_how_to_give_it():
    """Sin input_size, sin imágenes y sin `side=`, los exploradores que dibujan la entrada piden
    el lado en español (y con `side=` funcionan: lo prueba test_every_explorer_works...)."""
    for explorer in (widgets.padding_explorer, widgets.draw_explorer):
        assert takes_side(explorer)
        with pytest.raises(ValueError, match="input_size") as info:
            explorer(CNN())  # la red de la semilla sin input_size
        assert "side=" in str(info.value) or "input_size = 28" in str(info.value)


# ------------------------------------------------------------------ un `if` sobre los datos: hooks y un aviso

@pytest.mark.slow
def test_data_dependent_network_warns_once(mnist):
    model = DataDependent()
    digits = mnist(False, 16, DIGITS_LIMIT)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trazos.summary(model)
        trazos.activations(model, digits.images[:3])
        run = train_run(model, mnist(True, 16, TRAIN_LIMIT), digits, epochs=1, progress=False)
        trazos.predict(model, digits.images)
        plot_architecture(model)
        widgets.activation_explorer(model, digits).stage.value = "pool_1"
        widgets.kernel_explorer(run)
        widgets.confusion_explorer(model, digits)
        widgets.draw_explorer(model).draw([(140, 40), (140, 240)])
    messages = [str(w.message) for w in caught if "torch.fx" in str(w.message)]
    assert len(messages) == 1, messages
    assert "DataDependent" in messages[0] and "F.relu" in messages[0]
    # El aviso apunta al código del estudiante, no a las tripas de trazos.
    first = next(w for w in caught if "torch.fx" in str(w.message))
    assert first.filename == __file__


def test_hooks_left_sees_every_kind_of_hook():
    """La comprobación de abajo mira de verdad: cada tipo de hook que se deja puesto aparece."""
    model = DataDependent()
    conv = model.conv1
    handles = [conv.register_forward_hook(lambda *a: None), conv.register_forward_pre_hook(lambda *a: None),
               conv.register_forward_hook(lambda *a, **k: None, with_kwargs=True),
               conv.register_forward_pre_hook(lambda *a, **k: None, with_kwargs=True),
               conv.register_full_backward_hook(lambda *a: None), conv.register_full_backward_pre_hook(lambda *a: None),
               conv.weight.register_hook(lambda grad: None),
               nn.modules.module.register_module_forward_hook(lambda *a: None)]
    try:
        left = hooks_left(model)
        for expected in ("conv1._forward_hooks", "conv1._forward_pre_hooks", "conv1._forward_hooks_with_kwargs",
                         "conv1._forward_pre_hooks_with_kwargs", "conv1._backward_hooks",
                         "conv1._backward_pre_hooks", "conv1.weight._backward_hooks", "_global_forward_hooks"):
            assert expected in left, (expected, left)
    finally:
        for handle in handles:
            handle.remove()
    assert hooks_left(model) == []


class Exploding(DataDependent):
    """Un `if` sobre los datos (obliga a usar hooks) y un fallo a mitad del forward."""

    def forward(self, x):
        if x.sum() > 0:
            x = x / 2
        self.pool(F.relu(self.conv1(x)))
        raise RuntimeError("fallo a propósito")


def test_the_hooks_of_the_fallback_are_all_removed(mnist, monkeypatch):
    """Una red que fx no puede seguir pasa por el plan B de la captura, que pone hooks (forward y
    pre-forward): al terminar, y también si forward falla a medias, no queda ninguno."""
    installed = []
    register = nn.Module.register_forward_pre_hook

    def counted(self, *args, **kwargs):
        installed.append(type(self).__name__)
        return register(self, *args, **kwargs)

    monkeypatch.setattr(nn.Module, "register_forward_pre_hook", counted)
    model = DataDependent()
    images = mnist(False, 16, 8).images
    trazos.activations(model, images)
    assert installed, "la captura no usó hooks: esta prueba no mira el plan B"
    assert hooks_left(model) == []
    trazos.summary(model)
    trazos.predict(model, images)
    plot_architecture(model)
    assert hooks_left(model) == []
    broken = Exploding()
    with pytest.raises(Exception, match="fallo a propósito"):
        trazos.activations(broken, images)
    assert hooks_left(broken) == []


# ------------------------------------------------------------------ redes mal hechas: errores en español

def _train(model, mnist, side=16):
    return trazos.train(model, mnist(True, side, 128), mnist(False, side, 64), epochs=1, progress=False)


def test_a_layer_that_does_not_fit_is_named_with_its_shapes(mnist):
    model = WrongLinear()
    given, before = as_given(model), weights(model)
    with pytest.raises(StepError, match=r"El paso 'fc' \(Linear\) no acepta su entrada, de forma 512"):
        _train(model, mnist)
    with pytest.raises(StepError, match=r"'fc' \(Linear\)"):
        trazos.summary(model)
    assert_untouched(model, given, before)  # no llegó a entrenar ni se quedó en otro formato

    seed = CNN()  # la red de 28x28 con imágenes de 16x16: view(-1, 3136) no puede con 64x4x4
    with pytest.raises(StepError, match=r"El paso 'view' \(view\) no acepta su entrada, de forma 64x4x4"):
        _train(seed, mnist)


def test_an_output_that_is_not_ten_values_says_so_everywhere(mnist):
    expected = re.escape("La red devuelve [N, 5]; la última capa debe dar 10 valores, uno por dígito")
    model = FiveOutputs()
    given, before = as_given(model), weights(model)
    digits = mnist(False, 16, DIGITS_LIMIT)
    with pytest.raises(ValueError, match=expected):
        _train(model, mnist)
    with pytest.raises(ValueError, match=expected):
        trazos.predict(model, digits.images[:4])
    explorer = widgets.activation_explorer(model, digits)  # el explorador sigue vivo y lo dice
    assert re.search(expected, explorer.message.value)
    with pytest.raises(ValueError, match=expected):
        widgets.confusion_explorer(model, digits)
    explorer = widgets.draw_explorer(model)
    explorer.draw([(140, 40), (140, 240)])
    assert re.search(expected, explorer.message.value)
    assert_untouched(model, given, before)


def test_a_network_that_mixes_the_batch_names_the_step(mnist):
    model = BatchMixer()
    with pytest.raises(ValueError, match=r"El paso 'view' \(view\) mezcla las imágenes del lote: le llegan 2 de "
                                         r"forma 4x8x8 \(256 valores cada una\) y devuelve \[4, 128\]"):
        _train(model, mnist)
    with pytest.raises(ValueError, match=r"la red devuelve \[8, 10\]: debería devolver \[4, 10\]"):
        trazos.predict(model, mnist(False, 16, 4).images)


def test_kernels_need_a_convolution():
    model = mlp()
    with pytest.raises(ValueError, match="La red Sequential no tiene capas Conv2d"):
        widgets.kernel_explorer(model)
    with pytest.raises(ValueError, match="no tiene capas Conv2d"):
        inspection.kernel_history(model, "0")
