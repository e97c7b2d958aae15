"""«¿Qué mira la red?»: saliencia, oclusión y Grad-CAM dan los números de Captum; explain_value suma
lo que calculó de verdad cada convolución; nada queda cambiado en la red ni en el generador global."""

import pytest
import torch

import trazos
from trazos import attribution as A
from trazos import digit_map, widgets
from trazos.capture import capture

from student_networks import BRANCHING, STUDENTS, DictOutput, TupleOutput, frozen_first_conv

captum = pytest.importorskip("captum.attr")

# Formas distintas: la del curso (16x16, logits), la clásica (28x28, log_softmax), la semilla 004
# (28x28, F.relu y log_softmax), Sequential con ReLU(inplace), BatchNorm, LeNet (5x5, AvgPool, sigmoid),
# sin padding, una convolución reutilizada y un `if` sobre los datos (sin fx).
NETWORKS = ["curso_cnn", "curso_classic", "semilla_004", "sequential", "batchnorm", "lenet_avgpool_sigmoid",
            "5x5_sin_padding", "modulos_reutilizados", "if_sobre_los_datos"]


class Softmaxed(torch.nn.Module):
    """Una red que termina en softmax: se explica lo que devuelve, como en Captum."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.net = trazos.CNN()

    def forward(self, x):
        return torch.softmax(self.net(x), dim=1)


def built(name):
    torch.manual_seed(0)
    if name == "softmax":
        return Softmaxed(), 16
    return STUDENTS[name].build(), STUDENTS[name].side


def state(model):
    return ([m.training for m in model.modules()], {k: v.clone() for k, v in model.state_dict().items()},
            [(m._forward_hooks.copy(), m._forward_pre_hooks.copy(), m._backward_hooks.copy()) for m in model.modules()])


def assert_untouched(model, before):
    modes, weights, hooks = state(model)
    assert modes == before[0]
    assert all(torch.equal(weights[k], before[1][k]) for k in weights)
    assert [tuple(map(len, h)) for h in hooks] == [tuple(map(len, h)) for h in before[2]]
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("name", NETWORKS + ["softmax"])
def test_maps_equal_captum_and_leave_the_network_as_it_was(name):
    model, side = built(name)
    x = torch.randn(3, 1, side, side, generator=torch.Generator().manual_seed(1))
    target = torch.tensor([1, 5, 7])
    before, rng = state(model), torch.random.get_rng_state()
    ours = (A.saliency(model, x, target), A.occlusion(model, x, target), A.grad_cam(model, x, target))
    assert_untouched(model, before)
    assert torch.equal(torch.random.get_rng_state(), rng)
    model.eval()  # Captum ejecuta la red en el modo en que está; trazos, en eval
    _, layer = A.find_layer(model)
    theirs = (captum.Saliency(model).attribute(x.clone(), target=target, abs=True)[:, 0],
              captum.Occlusion(model).attribute(x.clone(), target=target, sliding_window_shapes=(1, 4, 4),
                                                strides=(1, 2, 2), baselines=A.BLACK)[:, 0],
              captum.LayerGradCam(model, layer).attribute(x.clone(), target=target, relu_attributions=True)[:, 0])
    for mine, captums in zip(ours, theirs):
        assert mine.shape == captums.shape
        torch.testing.assert_close(mine, captums.detach(), atol=1e-5, rtol=1e-4)


def test_other_windows_strides_baselines_and_predicted_target():
    model, side = built("curso_classic")
    x = torch.randn(2, 1, side, side, generator=torch.Generator().manual_seed(2))
    model.eval()
    predicted = trazos.predict(model, x)[0]
    for window, stride in [(3, 3), (5, 2), (7, 4)]:  # 7 con stride 4 en 28: la última posición se recorta
        mine = A.occlusion(model, x, None, window, stride, baseline=0.5)
        theirs = captum.Occlusion(model).attribute(x, target=predicted, sliding_window_shapes=(1, window, window),
                                                   strides=(1, stride, stride), baselines=0.5)[:, 0]
        torch.testing.assert_close(mine, theirs, atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(A.saliency(model, x), A.saliency(model, x, predicted))
    cam = A.grad_cam(model, x, layer="conv1")
    assert cam.shape == (2, 28, 28) and A.upsample(cam, 28).shape == (2, 28, 28)


def test_probability_occlusion_is_a_drop_of_probability():
    model, side = built("curso_cnn")
    x = torch.randn(1, 1, side, side, generator=torch.Generator().manual_seed(3))
    drops = A.occlusion(model, x, 3, probability=True)
    assert drops.abs().max() <= 1


@pytest.mark.parametrize("name", NETWORKS)
def test_explain_value_adds_up_to_the_real_activation_of_every_convolution(name):
    model, side = built(name)
    x = torch.randn(1, 1, side, side, generator=torch.Generator().manual_seed(4))
    convs = [s for s in capture(model, x) if s.kind == "Conv2d"]
    assert convs
    for step in convs:
        _, c, h, w = step.output.shape
        for channel, row, col in [(0, 0, 0), (c - 1, h - 1, w - 1), (c // 2, h // 2, 0), (1, 0, w - 1)]:
            e = A.explain_value(model, x, step.name, channel, row, col)
            assert abs(e.value - e.actual) < 1e-4, (step.name, channel, row, col)
            assert e.window.shape == e.kernel.shape == e.products.shape
            pad = model.get_submodule(step.module).padding[0]
            if not pad or (row, col) == (0, 0):  # la esquina cae en el padding si lo hay; sin él, nunca
                assert bool(e.padding.any()) == (pad > 0)
            if (row, col) == (0, 0):
                assert (e.top, e.left) == (-pad, -pad)
    with pytest.raises(trazos.TrazosError, match="Pasos Conv2d"):
        A.explain_value(model, x, "no_existe", 0, 0, 0)


def test_explain_value_with_stride_dilation_groups_and_reflect_padding():
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=2, dilation=2, padding_mode="reflect"),
                                torch.nn.Conv2d(4, 6, 3, stride=2, padding=1, groups=2), torch.nn.Flatten(),
                                torch.nn.Linear(6 * 8 * 8, 10))
    x = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(5))
    for layer, channel, row, col in [("0", 3, 0, 15), ("1", 5, 7, 0), ("1", 0, 0, 0)]:
        e = A.explain_value(model, x, layer, channel, row, col)
        assert abs(e.value - e.actual) < 1e-5


def test_receptive_field_of_the_course_network():
    model = trazos.CNN()
    assert [trazos.receptive_field(model, s)[0] for s in ("conv1", "pool1", "conv2", "pool2")] == [3, 4, 8, 10]


@pytest.mark.slow
def test_on_the_trained_network(mnist_root):
    run = trazos.trained_model("cnn", progress=False)
    test = trazos.load_mnist(train=False)
    x = test[:4][0]
    model = run.model
    torch.testing.assert_close(A.saliency(model, x), captum.Saliency(model).attribute(
        x.clone(), target=trazos.predict(model, x)[0], abs=True)[:, 0])
    four = test[trazos.examples_of(test, 4)[0]][0]
    rng = torch.random.get_rng_state()
    result = A.adversarial(model, four, eps=0.25)
    assert result.changed and result.prediction != result.original and result.eps <= 0.25 + 1e-6
    assert int(trazos.predict(model, result.image)[0]) == result.prediction
    assert float(result.perturbation.abs().max()) * 0.3081 <= 0.25 + 1e-5
    three = A.class_image(model, 3, steps=60)
    assert int(trazos.predict(model, three)[0]) == 3
    assert torch.equal(torch.random.get_rng_state(), rng)
    sub = trazos.data.Digits(test.pixels[:500], test.labels[:500])
    before = trazos.separation(trazos.embedding(run.model_at(0), sub), sub.labels)
    after = trazos.separation(trazos.embedding(model, sub), sub.labels)
    assert after > before + 0.2
    patches = trazos.top_patches(model, sub, "relu2", 0, k=4)
    assert patches.crops.shape == (4, 8, 8) and patches.values == sorted(patches.values, reverse=True)


# --- Cada herramienta sigue todas las ramas -------------------------------------------------------

def gradient_box(model, step_name, row, col, side, samples=64):
    """Filas y columnas (primera, última) de los píxeles que mueven el valor (row, col) del paso: el
    soporte del gradiente de verdad, unido sobre `samples` imágenes al azar (un max-pool deja pasar
    el gradiente por un solo píxel de cada ventana; con muchas imágenes pasa por todos)."""
    from trazos.capture import trace
    graph = trace(model)
    x = torch.randn(samples, 1, side, side, generator=torch.Generator().manual_seed(7)).requires_grad_(True)
    env = {}
    calls = {}
    wanted = None
    for node in graph.graph.nodes:  # el grafo de fx, ejecutado a mano hasta el paso pedido
        if node.op == "placeholder":
            env[node] = x
            continue
        if node.op == "output":
            break
        args = torch.fx.node.map_arg(node.args, lambda n: env[n])
        kwargs = torch.fx.node.map_arg(node.kwargs, lambda n: env[n])
        if node.op == "call_module":
            count = calls.get(node.target, 0)
            calls[node.target] = count + 1
            name = node.target if count == 0 else f"{node.target}_{count}"
            env[node] = graph.get_submodule(node.target)(*args, **kwargs)
        elif node.op == "call_function":
            name, env[node] = node.name, node.target(*args, **kwargs)
        elif node.op == "call_method":
            name, env[node] = node.name, getattr(args[0], node.target)(*args[1:], **kwargs)
        else:
            name, env[node] = node.name, getattr(graph, node.target)
        if name == step_name:
            wanted = env[node]
            break
    (grad,) = torch.autograd.grad(wanted[:, :, row, col].sum(), x)
    rows, cols = torch.nonzero(grad.abs().sum(dim=(0, 1)), as_tuple=True)
    return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))


@pytest.mark.parametrize("name", list(BRANCHING))
def test_receptive_field_follows_every_branch_like_the_gradient(name):
    torch.manual_seed(0)
    model = BRANCHING[name]().eval()
    side = model.input_size
    for step in capture(model, torch.zeros(1, 1, side, side)):
        if step.output.ndim != 4:
            continue
        height = step.output.shape[2]
        row = col = height // 2
        field, jump, start = trazos.receptive_field(model, step.name)
        first = start + row * jump
        expected = (max(first, 0), min(first + field - 1, side - 1))
        assert gradient_box(model, step.name, row, col, side) == (expected, expected), (name, step.name)


def test_top_patches_crop_the_whole_field_of_a_branching_network(mnist_root):
    torch.manual_seed(0)
    model = BRANCHING["cat"]()
    digits = trazos.load_mnist(train=False, size=16, root=mnist_root, limit=30)
    assert trazos.receptive_field(model, "cat")[0] == 8  # conv1 (3), pool (4), conv2 (8): no solo conv1 y pool
    patches = trazos.top_patches(model, digits, "cat", 5, k=3)
    assert patches.side == 8 and patches.crops.shape == (3, 8, 8)


def test_features_come_from_what_enters_the_last_linear():
    class SideBranch(torch.nn.Module):  # lo último que se ejecuta antes de fc no es lo que entra en fc
        input_size = 16

        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(1, 2, 3, padding=1)
            self.fc = torch.nn.Linear(2 * 16 * 16, 10)
            self.other = torch.nn.Linear(16 * 16, 10)

        def forward(self, x):
            flat = self.conv(x).flatten(1)
            aside = self.other(x.flatten(1))
            return self.fc(flat) + 0 * aside

    model = SideBranch()
    x = torch.randn(4, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    assert digit_map.features(model, x).shape == (4, 2 * 16 * 16)


# --- Donde Captum funciona, trazos también; y si no, un mensaje en español ----------------------

def test_grad_cam_on_a_frozen_first_convolution_equals_captum():
    torch.manual_seed(0)
    model = frozen_first_conv()
    x = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    ours = A.grad_cam(model, x, torch.tensor([3, 8]), layer="conv1")
    model.eval()
    theirs = captum.LayerGradCam(model, model.conv1).attribute(x, target=torch.tensor([3, 8]),
                                                                relu_attributions=True)[:, 0]
    torch.testing.assert_close(ours, theirs.detach(), atol=1e-5, rtol=1e-4)
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("net", [TupleOutput, DictOutput])
def test_a_network_that_returns_a_tuple_or_a_dict_gets_spanish_also_with_a_target(net):
    model = net()
    x = torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    for call in (lambda: A.saliency(model, x), lambda: A.saliency(model, x, 3), lambda: A.occlusion(model, x, 3),
                 lambda: A.grad_cam(model, x, 3, layer="net.conv2"), lambda: A.class_image(model, 3, steps=2),
                 lambda: A.adversarial(model, x, target=2, eps=0.1)):
        with pytest.raises(trazos.TrazosError, match="debe devolver un tensor"):
            call()


def test_mistyped_arguments_get_spanish_messages():
    model, side = built("curso_cnn")
    x = torch.randn(2, 1, side, side, generator=torch.Generator().manual_seed(1))
    for target in ("7", 7.5, [1, 2, 3], 10, -1, True, torch.tensor([1.0, 2.0])):
        with pytest.raises(trazos.TrazosError, match="target debe ser un dígito del 0 al 9"):
            A.saliency(model, x, target)
    torch.testing.assert_close(A.saliency(model, x, [1, 2]), A.saliency(model, x, torch.tensor([1, 2])))
    with pytest.raises(trazos.TrazosError, match="'fc' da \\[2, 10\\], sin mapas.*conv1, conv2"):
        A.grad_cam(model, x, layer="fc")
    with pytest.raises(trazos.TrazosError, match="Capa desconocida: 'conv_1'.*conv1, conv2"):
        A.grad_cam(model, x, layer="conv_1")
    for kwargs in ({"stride": 0}, {"window": 0}, {"window": 17}, {"stride": 1.5}, {"window": "4"}):
        with pytest.raises(trazos.TrazosError, match="debe ser un entero entre 1 y 16"):
            A.occlusion(model, x, **kwargs)
    for eps in (-0.1, 0, 1.5, "0,1"):
        with pytest.raises(trazos.TrazosError, match="eps debe ser un número mayor que 0"):
            A.adversarial(model, x[:1], eps=eps)


def test_a_float64_network_runs_in_its_own_dtype(mnist_root):
    torch.manual_seed(0)
    model = trazos.CNN().double()
    x = torch.randn(2, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    reference = trazos.CNN()
    reference.load_state_dict({k: v.float() for k, v in model.state_dict().items()})
    torch.testing.assert_close(A.saliency(model, x, 3).float(), A.saliency(reference, x, 3), atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(A.grad_cam(model, x, 3).float(), A.grad_cam(reference, x, 3), atol=1e-5, rtol=1e-4)
    assert A.occlusion(model, x, 3).shape == (2, 16, 16)
    assert A.class_image(model, 3, steps=2).shape == (1, 16, 16)
    assert A.adversarial(model, x[:1], eps=0.05, steps=1, tries=1).image.shape == (1, 16, 16)
    e = A.explain_value(model, x[:1], "conv2", 0, 3, 3)
    assert abs(e.value - e.actual) < 1e-6
    digits = trazos.load_mnist(train=False, size=16, root=mnist_root, limit=20)
    assert trazos.top_patches(model, digits, "relu2", 0, k=2).crops.shape == (2, 8, 8)


@pytest.mark.parametrize("build", [frozen_first_conv, lambda: trazos.CNN().double()], ids=["congelada", "float64"])
def test_the_attribution_explorer_works_with_a_frozen_layer_and_float64(mnist_root, build):
    torch.manual_seed(0)
    explorer = widgets.attribution_explorer(build(), trazos.load_mnist(train=False, size=16, root=mnist_root,
                                                                       limit=60))
    for layer in explorer.layer.options:
        explorer.layer.value = layer
        for method in explorer.method.options:
            explorer.method.value = method
            assert explorer.message.value == "", explorer.message.value


def test_project_is_the_pca_of_embedding_and_the_new_figures_draw():
    """`digit_map.project` lleva cualquier matriz al plano como `embedding` (así se comparan los píxeles tal cual
    con la red); la rejilla de Grad-CAM por capa y los trozos junto a `filter_image` se dibujan."""
    from trazos import attribution_plots as figures
    from trazos import digit_map
    torch.manual_seed(0)
    model = trazos.CNN().eval()
    images = torch.randn(30, 1, 16, 16)
    labels = torch.arange(30) % 10
    digits = trazos.data.Digits((torch.rand(30, 1, 16, 16) * 255).to(torch.uint8), labels)
    torch.testing.assert_close(digit_map.project(digit_map.features(model, digits)), trazos.embedding(model, digits))
    assert digit_map.project(images.flatten(1)).shape == (30, 2)
    fig = figures.plot_grad_cam_grids(model, images[0], layers=("conv1", "relu2"))
    titles = [ax.get_title() for ax in fig.axes]
    assert "conv1: rejilla 16x16" in titles[0] and "relu2: rejilla 8x8,\ncasillas a 2 píxeles" in titles[1]
    patches = trazos.top_patches(model, digits, "relu2", 3, k=4)
    view = A.filter_image(model, "conv2", 3, steps=2)
    assert len(figures.plot_top_patches(patches, digits, "relu2", 3, filter_view=view).axes) == 3
    assert len(figures.plot_top_patches(patches, digits, "relu2", 3).axes) == 2
