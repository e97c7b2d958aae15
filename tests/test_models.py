"""Las dos redes: formas de entrada y salida, y que cada etapa sea un módulo propio con nombre."""

import pytest
import torch
from torch import nn

from trazos.inspection import stage_names
from trazos.models import MODELS, CNN, ClassicCNN, build_model


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.mark.parametrize("n", [1, 5])
def test_cnn_gives_10_logits_per_16x16_image(n):
    model = CNN().eval()
    out = model(torch.randn(n, 1, 16, 16))
    assert out.shape == (n, 10)
    # Son logits, no probabilidades: no están normalizados por fila.
    assert not torch.allclose(out.exp().sum(dim=1), torch.ones(n), atol=1e-3)


@pytest.mark.parametrize("n", [1, 5])
def test_classic_gives_10_log_probabilities_per_28x28_image(n):
    model = ClassicCNN().eval()
    out = model(torch.randn(n, 1, 28, 28))
    assert out.shape == (n, 10)
    assert (out <= 0).all()
    torch.testing.assert_close(out.exp().sum(dim=1), torch.ones(n))


def test_each_model_rejects_the_other_input_size():
    with pytest.raises(RuntimeError):
        CNN()(torch.randn(2, 1, 28, 28))
    with pytest.raises(RuntimeError):
        ClassicCNN()(torch.randn(2, 1, 16, 16))


@pytest.mark.parametrize("name", list(MODELS))
def test_no_module_is_used_twice(name):
    model = build_model(name)
    all_modules = [m for _, m in model.named_modules(remove_duplicate=False)]
    assert len({id(m) for m in all_modules}) == len(all_modules)


@pytest.mark.parametrize("name", list(MODELS))
def test_each_stage_runs_exactly_once_in_order(name):
    """Un hook en cada etapa se dispara una sola vez por forward, en el orden de stage_names."""
    model = build_model(name).eval()
    names = stage_names(model)  # antes de poner hooks: stage_names ejecuta la red una vez
    calls = []
    handles = [module.register_forward_hook(lambda m, i, o, name=stage: calls.append(name))
               for stage, module in model.named_modules() if stage in names]
    try:
        model(torch.randn(2, 1, model.input_size, model.input_size))
    finally:
        for h in handles:
            h.remove()
    assert calls == names


@pytest.mark.parametrize("name", list(MODELS))
def test_stages_in_sequence_reproduce_forward(name):
    """Aplicar las etapas una tras otra da la misma salida: no hay operaciones funcionales escondidas."""
    model = build_model(name).eval()
    x = torch.randn(3, 1, model.input_size, model.input_size)
    modules = dict(model.named_modules())
    y = x
    for stage in stage_names(model):
        y = modules[stage](y)
    torch.testing.assert_close(y, model(x))


@pytest.mark.parametrize("name", list(MODELS))
def test_relu_is_a_module_per_stage(name):
    model = build_model(name)
    relus = [stage for stage, m in model.named_modules() if isinstance(m, nn.ReLU)]
    assert relus and all(stage.startswith("relu") for stage in relus)
    assert len(relus) == len({id(getattr(model, s)) for s in relus})


def test_stage_names():
    assert stage_names(CNN()) == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc"]
    assert stage_names(ClassicCNN()) == ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten",
                                         "fc1", "relu3", "fc2", "log_softmax"]
    seq = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Sequential(nn.ReLU(), nn.Flatten()))
    assert stage_names(seq, torch.zeros(1, 1, 8, 8)) == ["0", "1.0", "1.1"]


def test_build_model_types_and_fresh_weights():
    assert isinstance(build_model("cnn"), CNN)
    assert isinstance(build_model("classic"), ClassicCNN)
    a, b = build_model("cnn"), build_model("cnn")
    assert a is not b
    assert not torch.equal(a.conv1.weight, b.conv1.weight)


def test_build_model_unknown_name_lists_choices():
    with pytest.raises(ValueError, match="desconocido") as info:
        build_model("resnet")
    assert "cnn" in str(info.value) and "classic" in str(info.value)


def test_parameter_counts():
    # conv1 16·9+16, conv2 32·16·9+32, fc 512·10+10
    assert sum(p.numel() for p in CNN().parameters()) == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (512 * 10 + 10)
    assert sum(p.numel() for p in ClassicCNN().parameters()) == (
        (32 * 9 + 32) + (64 * 32 * 9 + 64) + (3136 * 128 + 128) + (128 * 10 + 10))
