"""Mirar dentro de la red: hooks, predicciones y matriz de confusión."""

import random

import pytest
import torch
from torch import nn

from trazos.inspection import activations, confusion_matrix, most_confused, per_class_accuracy, predict
from trazos.inspection import stage_names
from trazos.models import CNN, ClassicCNN, build_model

from student_networks import hooks_left

CNN_SHAPES = {"conv1": (16, 16, 16), "relu1": (16, 16, 16), "pool1": (16, 8, 8), "conv2": (32, 8, 8),
              "relu2": (32, 8, 8), "pool2": (32, 4, 4), "flatten": (512,), "fc": (10,)}


def _no_hooks_left(model):
    return not hooks_left(model)


# --- Activaciones con hooks ------------------------------------------------------------------------

def test_activations_of_every_stage(test16):
    torch.manual_seed(0)
    model = CNN()
    images = test16.images[:4]
    maps = activations(model, images)
    assert list(maps) == stage_names(model)  # en el orden en que se ejecutan
    assert {name: tuple(t.shape[1:]) for name, t in maps.items()} == CNN_SHAPES
    assert all(t.shape[0] == 4 for t in maps.values())
    # Son de verdad las salidas de cada etapa.
    torch.testing.assert_close(maps["relu1"], maps["conv1"].clamp(min=0))
    torch.testing.assert_close(maps["pool1"], nn.functional.max_pool2d(maps["relu1"], 2))
    torch.testing.assert_close(maps["fc"], model(images))
    assert not any(t.requires_grad for t in maps.values())
    assert _no_hooks_left(model)


def test_activations_of_the_classic_model():
    model = ClassicCNN()
    maps = activations(model, torch.randn(2, 1, 28, 28), stages=["pool2", "fc1", "log_softmax"])
    assert list(maps) == ["pool2", "fc1", "log_softmax"]
    assert maps["pool2"].shape == (2, 64, 7, 7) and maps["fc1"].shape == (2, 128)
    torch.testing.assert_close(maps["log_softmax"].exp().sum(dim=1), torch.ones(2))
    assert _no_hooks_left(model)


def test_activations_single_stage_and_single_image(test16):
    model = CNN()
    maps = activations(model, test16.images[0, 0], stages="relu2")  # una imagen suelta [16, 16]
    assert list(maps) == ["relu2"] and maps["relu2"].shape == (1, 32, 8, 8)
    assert (maps["relu2"] >= 0).all()
    assert _no_hooks_left(model)


def test_unknown_stage_lists_the_valid_ones(test16):
    model = CNN()
    with pytest.raises(ValueError, match="relu3") as info:
        activations(model, test16.images[:1], stages=["relu1", "relu3"])
    for name in stage_names(model):
        assert name in str(info.value)
    assert "Etapas válidas" in str(info.value)
    with pytest.raises(ValueError, match="Etapas válidas"):
        activations(model, test16.images[:1], stages=[])
    assert _no_hooks_left(model)


@pytest.mark.parametrize("shape", [(2, 1, 28, 28), (2, 3, 16, 16), (2, 1, 16, 15), (1, 2, 1, 16, 16)])
def test_wrong_image_shape(shape):
    model = CNN()
    with pytest.raises(ValueError, match=r"\[N, 1, 16, 16\]"):
        activations(model, torch.zeros(shape))
    with pytest.raises(ValueError, match=r"\[N, 1, 16, 16\]"):
        predict(model, torch.zeros(shape))
    assert _no_hooks_left(model)


def test_not_a_tensor():
    with pytest.raises(TypeError, match="se recibió list"):
        activations(CNN(), [[0.0] * 16] * 16)


class Exploding(CNN):
    """Una red que falla a mitad del forward, después de pasar por conv1 y relu1."""

    def forward(self, x):
        self.relu1(self.conv1(x))
        raise RuntimeError("fallo a propósito")


def test_hooks_are_removed_even_if_forward_fails():
    model = Exploding()
    with pytest.raises(RuntimeError, match="fallo a propósito"):
        activations(model, torch.zeros(1, 1, 16, 16))
    assert _no_hooks_left(model)
    # Y el modelo sigue sano: otra llamada normal no ve hooks viejos.
    assert list(activations(CNN(), torch.zeros(1, 1, 16, 16))) == stage_names(CNN())


def test_activations_on_a_students_sequential():
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten())
    maps = activations(model, torch.randn(2, 1, 10, 10))
    assert {k: tuple(v.shape) for k, v in maps.items()} == {"0": (2, 3, 8, 8), "1": (2, 3, 8, 8), "2": (2, 192)}
    assert _no_hooks_left(model)


# --- Predicciones ------------------------------------------------------------------------------

def test_predict_matches_the_model(tiny_run, test16):
    model, images = tiny_run.model, test16.images[:300]
    predictions, probs = predict(model, images, batch_size=64)
    assert predictions.shape == (300,) and probs.shape == (300, 10)
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(300))
    with torch.no_grad():
        logits = model(images)
    assert torch.equal(predictions, logits.argmax(dim=1))
    torch.testing.assert_close(probs, torch.softmax(logits, dim=1))
    # Por lotes o de una vez, el resultado es el mismo.
    torch.testing.assert_close(predict(model, images, batch_size=1000)[1], probs)
    assert (predictions == test16.labels[:300]).float().mean() > 0.8


def test_predict_classic_gives_probabilities():
    """ClassicCNN devuelve log-probabilidades: predict las convierte en probabilidades."""
    model = build_model("classic").eval()
    images = torch.randn(3, 1, 28, 28)
    _, probs = predict(model, images)
    with torch.no_grad():
        torch.testing.assert_close(probs, model(images).exp())
    torch.testing.assert_close(probs.sum(dim=1), torch.ones(3))


# --- Matriz de confusión ------------------------------------------------------------------------

def _hand_count(labels, predictions, n=10):
    matrix = [[0] * n for _ in range(n)]
    for t, p in zip(labels, predictions):
        matrix[t][p] += 1
    return matrix


@pytest.mark.parametrize("seed", range(5))
def test_confusion_matrix_equals_a_hand_count(seed):
    rng = random.Random(seed)
    size = rng.randint(1, 400)
    labels = [rng.randrange(10) for _ in range(size)]
    predictions = [t if rng.random() < 0.6 else rng.randrange(10) for t in labels]
    matrix = confusion_matrix(torch.tensor(labels), torch.tensor(predictions))
    assert matrix.shape == (10, 10)
    assert matrix.tolist() == _hand_count(labels, predictions)
    assert matrix.sum() == size
    # Con listas de Python también funciona.
    assert torch.equal(confusion_matrix(labels, predictions), matrix)


def test_confusion_matrix_other_number_of_classes():
    labels, predictions = [0, 1, 2, 2, 1], [0, 2, 2, 1, 1]
    assert confusion_matrix(labels, predictions, num_classes=3).tolist() == _hand_count(labels, predictions, 3)


def test_confusion_matrix_bad_input():
    with pytest.raises(ValueError, match="vacía"):
        confusion_matrix(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long))
    with pytest.raises(ValueError, match="misma longitud"):
        confusion_matrix([1, 2, 3], [1, 2])
    # Una clase fuera de rango no se cuenta en otra casilla: es un error.
    with pytest.raises(ValueError, match="entre 0 y 9"):
        confusion_matrix([1, 2], [1, 10])
    with pytest.raises(ValueError, match="entre 0 y 2"):
        confusion_matrix([0, 3], [0, 1], num_classes=3)
    with pytest.raises(ValueError, match="entre 0 y 9"):
        confusion_matrix([-1, 2], [1, 2])


def test_most_confused_order():
    matrix = torch.zeros(10, 10, dtype=torch.long)
    matrix.fill_diagonal_(100)  # la diagonal (aciertos) no cuenta
    matrix[4, 9], matrix[7, 1], matrix[3, 5], matrix[9, 4], matrix[5, 3] = 12, 7, 9, 3, 1
    assert most_confused(matrix, k=3) == [(4, 9, 12), (3, 5, 9), (7, 1, 7)]
    assert most_confused(matrix, k=10) == [(4, 9, 12), (3, 5, 9), (7, 1, 7), (9, 4, 3), (5, 3, 1)]
    assert torch.equal(matrix.diagonal(), torch.full((10,), 100))  # no modifica la matriz


def test_most_confused_on_random_predictions():
    rng = random.Random(7)
    labels = [rng.randrange(10) for _ in range(500)]
    predictions = [rng.randrange(10) for _ in range(500)]
    matrix = confusion_matrix(labels, predictions)
    top = most_confused(matrix, k=8)
    counts = [c for _, _, c in top]
    assert counts == sorted(counts, reverse=True)
    assert all(t != p and matrix[t, p] == c for t, p, c in top)
    off_diagonal = sorted((matrix[t, p].item() for t in range(10) for p in range(10) if t != p), reverse=True)
    assert counts == off_diagonal[:8]


def test_per_class_accuracy():
    labels = [0, 0, 0, 0, 1, 1, 2, 2, 2]
    predictions = [0, 0, 0, 1, 1, 0, 2, 2, 2]
    accuracy = per_class_accuracy(confusion_matrix(labels, predictions))
    assert accuracy.shape == (10,)
    assert accuracy[:3].tolist() == [0.75, 0.5, 1.0]
    assert accuracy[3:].tolist() == [0.0] * 7  # clases sin ejemplos: 0, sin dividir por cero


def test_per_class_accuracy_of_the_tiny_run(tiny_run, test16):
    predictions, _ = predict(tiny_run.model, test16.images)
    matrix = confusion_matrix(test16.labels, predictions)
    accuracy = per_class_accuracy(matrix)
    for digit in range(10):
        chosen = test16.labels == digit
        expected = (predictions[chosen] == digit).double().mean()
        assert accuracy[digit].item() == pytest.approx(expected.item())
    assert matrix.trace().item() / len(test16) == pytest.approx(tiny_run.test_accuracy, abs=2e-3)
