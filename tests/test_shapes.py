"""La fórmula del tamaño de salida y la tabla de capas, comparadas con lo que hace PyTorch."""

import itertools

import pytest
import torch
from torch import nn

from trazos.inspection import stage_names
from trazos.models import CNN, ClassicCNN
from trazos.shapes import conv_output_size, summary

from student_networks import hooks_left

# 7 x 4 x 3 x 3 x 2 = 504 combinaciones; cada una es una convolución diminuta.
SIDES = [1, 2, 3, 5, 8, 16, 28]
KERNELS = [1, 2, 3, 5]
PADDINGS = [0, 1, 2]
STRIDES = [1, 2, 3]
DILATIONS = [1, 2]


def test_conv_output_size_matches_conv2d():
    checked = fitting = 0
    x_cache = {}
    for n, k, p, s, d in itertools.product(SIDES, KERNELS, PADDINGS, STRIDES, DILATIONS):
        x = x_cache.setdefault(n, torch.zeros(1, 1, n, n))
        conv = nn.Conv2d(1, 1, kernel_size=k, padding=p, stride=s, dilation=d, bias=False)
        try:
            expected = conv(x).shape[-1]
        except RuntimeError:
            expected = None  # PyTorch tampoco puede: la fórmula debe negarse igual
        if expected is None:
            with pytest.raises(ValueError, match="no cabe"):
                conv_output_size(n, k, p, s, d)
        else:
            assert conv_output_size(n, k, p, s, d) == expected, (n, k, p, s, d)
            fitting += 1
        checked += 1
    assert checked == 504
    assert fitting > 300  # la mayoría de combinaciones encajan: el test compara números de verdad


def test_conv_output_size_matches_maxpool2d():
    checked = 0
    for n, k, p, s, d in itertools.product(SIDES, [1, 2, 3, 4], [0, 1, 2], [1, 2, 3], DILATIONS):
        if p > k // 2:  # MaxPool2d solo admite padding <= kernel/2
            continue
        pool = nn.MaxPool2d(kernel_size=k, padding=p, stride=s, dilation=d)
        try:
            expected = pool(torch.zeros(1, 1, n, n)).shape[-1]
        except RuntimeError:
            continue
        assert conv_output_size(n, k, p, s, d) == expected, (n, k, p, s, d)
        checked += 1
    assert checked > 100


def test_course_examples():
    assert conv_output_size(28, 3, padding=1) == 28  # el ejemplo del cuaderno original
    assert conv_output_size(28, 2, stride=2) == 14
    assert conv_output_size(16, 3, padding=1) == 16
    assert conv_output_size(28, 3) == 26


@pytest.mark.parametrize("kwargs, name", [
    (dict(n=0, kernel_size=3), "n"),
    (dict(n=28, kernel_size=0), "kernel_size"),
    (dict(n=28, kernel_size=3, padding=-1), "padding"),
    (dict(n=28, kernel_size=3, stride=0), "stride"),
    (dict(n=28, kernel_size=3, dilation=0), "dilation"),
    (dict(n=28.0, kernel_size=3), "n"),
    (dict(n=28, kernel_size="3"), "kernel_size"),
])
def test_conv_output_size_invalid_arguments_in_spanish(kwargs, name):
    with pytest.raises(ValueError, match="debe ser un entero") as info:
        conv_output_size(**kwargs)
    assert str(info.value).startswith(name)


def test_conv_output_size_kernel_too_big_in_spanish():
    with pytest.raises(ValueError, match="no cabe en la entrada"):
        conv_output_size(4, 5)
    with pytest.raises(ValueError, match="dilatación"):
        conv_output_size(4, 3, dilation=2)


@pytest.mark.parametrize("model_class", [CNN, ClassicCNN])
def test_summary_matches_the_model(model_class):
    model = model_class()
    table = summary(model)
    assert [row["name"] for row in table] == stage_names(model)
    # Las formas son las de las salidas reales de cada etapa.
    x = torch.zeros(1, 1, model.input_size, model.input_size)
    modules = dict(model.named_modules())
    for row in table:
        x = modules[row["name"]](x)
        assert row["shape"] == tuple(x.shape[1:]), row["name"]
        assert row["type"] == type(modules[row["name"]]).__name__
        assert row["params"] == sum(p.numel() for p in modules[row["name"]].parameters())
    assert table.total_params == sum(p.numel() for p in model.parameters())


def test_summary_of_the_compact_cnn():
    table = summary(CNN())
    assert table.total_params == 9_930
    rows = {row["name"]: row for row in table}
    assert rows["pool2"]["shape"] == (32, 4, 4)
    assert rows["flatten"]["shape"] == (512,)
    text = str(table)
    assert "forma de salida" in text and "parámetros" in text
    assert "9930" in text.splitlines()[-1]  # cuatro cifras, sin punto (render.integer)


def test_summary_of_a_students_sequential():
    model = nn.Sequential(
        nn.Conv2d(3, 8, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(8 * 6 * 6, 20), nn.ReLU(), nn.Linear(20, 4),
    )
    table = summary(model, input_size=(3, 16, 16))
    assert [row["shape"] for row in table] == [(8, 12, 12), (8, 12, 12), (8, 6, 6), (288,), (20,), (20,), (4,)]
    assert table.total_params == sum(p.numel() for p in model.parameters())
    assert [row["name"] for row in table] == ["0", "1", "2", "3", "4", "5", "6"]


def test_summary_without_input_size_asks_for_it():
    with pytest.raises(ValueError, match="input_size"):
        summary(nn.Sequential(nn.Flatten(), nn.Linear(4, 2)))


def test_summary_names_the_mismatched_linear():
    model = nn.Sequential(nn.Conv2d(1, 4, 3), nn.ReLU(), nn.Flatten(), nn.Linear(100, 10))
    with pytest.raises(ValueError, match=r"'3' \(Linear\) no acepta") as info:
        summary(model, input_size=(1, 16, 16))
    assert "forma 784" in str(info.value)  # la salida de Flatten: 4 x 14 x 14


def test_summary_names_fc_after_changing_padding():
    model = CNN()
    model.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=0)  # 16 -> 14 -> 7 -> 3: ya no son 512 entradas
    with pytest.raises(ValueError, match="'fc'"):
        summary(model)
    # Los hooks se quitan también cuando falla.
    assert not hooks_left(model)


def test_summary_leaves_no_hooks_and_does_not_touch_batchnorm():
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 8), nn.BatchNorm1d(8), nn.Linear(8, 2))
    model.train()
    before = model[2].running_mean.clone(), model[2].num_batches_tracked.clone()
    table = summary(model, input_size=(1, 4, 4))
    assert [row["shape"] for row in table] == [(16,), (8,), (8,), (2,)]
    assert model.training  # vuelve al modo en que estaba
    torch.testing.assert_close(model[2].running_mean, before[0])
    assert model[2].num_batches_tracked == before[1]
    assert not hooks_left(model)
