"""El texto alternativo de las figuras (`trazos.alt_text`): cada función de dibujo dice qué dibuja,
y en un cuaderno ese texto se guarda con el PNG (lo lee el sitio web)."""

import matplotlib.figure
import matplotlib.pyplot as plt
import pytest
import torch
from PIL import Image

import trazos
from trazos import alt_text, diagrams, plots
from trazos.architecture import plot_architecture

HISTORY = [{"epoch": 1, "train_loss": 1.0, "val_loss": 0.5, "train_acc": 0.8, "val_acc": 0.9},
           {"epoch": 2, "train_loss": 0.5, "val_loss": 0.3, "train_acc": 0.9, "val_acc": 0.95}]


def _figures():
    torch.manual_seed(0)
    weight = torch.randn(4, 1, 3, 3)
    digits = torch.randn(4, 1, 16, 16)
    probs = torch.softmax(torch.randn(4, 10), dim=1)
    acts = {s: torch.randn(1, 4, 8, 8) for s in ("conv1", "relu1", "pool1")}
    return {
        "plot_history": plots.plot_history(HISTORY),
        "plot_kernels": plots.plot_kernels(weight),
        "plot_kernels_before_after": plots.plot_kernels_before_after(weight, 2 * weight),
        "plot_activations": plots.plot_activations(torch.randn(8, 6, 6), "conv1", image=digits[0]),
        "plot_confusion": plots.plot_confusion(torch.eye(10, dtype=torch.long) * 90 + 1),
        "plot_digits": plots.plot_digits(digits, ["a", "b", "c", "d"]),
        "plot_predictions": plots.plot_predictions(digits, [1, 2, 3, 4], [1, 2, 0, 4], probs),
        "plot_probabilities": plots.plot_probabilities(probs[0], label=3),
        "plot_batch_losses": plots.plot_batch_losses(torch.linspace(2, 0.1, 50)),
        "plot_kernel_responses": plots.plot_kernel_responses(weight, torch.randn(4, 8, 8)),
        "plot_channel_stages": plots.plot_channel_stages(acts, 1),
        "plot_confused_pairs": plots.plot_confused_pairs(digits, torch.tensor([3, 3, 5, 5]),
                                                         torch.tensor([5, 5, 3, 3]), probs, [(3, 5, 2)], per_pair=2),
        "plot_per_class_accuracy": plots.plot_per_class_accuracy(torch.linspace(0.95, 0.99, 10), 0.97),
        "plot_conv_positions": diagrams.plot_conv_positions(7, 3, 0, 3),
        "plot_max_pool": diagrams.plot_max_pool(torch.arange(16).reshape(4, 4)),
        "plot_probability_table": diagrams.plot_probability_table(probs),
        "plot_resized": diagrams.plot_resized(torch.randn(2, 1, 28, 28), torch.randn(2, 1, 16, 16), [1, 2]),
        "plot_architecture": plot_architecture(trazos.CNN()),
    }


def test_every_figure_says_what_it_draws():
    alts = {name: alt_text.describe(fig) for name, fig in _figures().items()}
    for name, alt in alts.items():
        assert not alt.startswith("Figura de"), f"{name} no tiene texto propio: {alt}"  # el compuesto: último recurso
        assert 40 <= len(alt) <= 600 and "\n" not in alt, f"{name}: {alt!r}"
    assert len(set(alts.values())) == len(alts), "dos figuras distintas con el mismo texto"
    assert "3x3" in alts["plot_kernels_before_after"] and "conv1" in alts["plot_kernels_before_after"]
    assert "[5, 7] [13, 15]" in alts["plot_max_pool"]  # dice también lo que se ve: la salida del pooling
    assert "✗ real 3 · pred 0" in alts["plot_predictions"]


def test_a_figure_without_its_own_text_is_described_by_its_titles_and_axes():
    fig = plots.Figure()
    left, right = fig.subplots(1, 2)
    left.set(title="lr = 0,02", xlabel="w", ylabel="pérdida")
    right.set_title("lr = 0,3")
    fig.suptitle("Descenso por el gradiente")
    assert alt_text.describe(fig) == ("Figura de 2 paneles, «Descenso por el gradiente»: «lr = 0,02»; «lr = 0,3». "
                                      "Ejes: w frente a pérdida.")
    assert alt_text.describe(alt_text.described(fig, "otra\n cosa")) == "otra cosa"


@pytest.fixture
def shell():
    from IPython.testing.globalipapp import start_ipython
    ipython = start_ipython()
    yield ipython
    formatter = ipython.display_formatter.mimebundle_formatter
    for kind in (matplotlib.figure.Figure, Image.Image):
        formatter.pop(kind, None)


def test_ipython_keeps_the_text_with_the_png(shell):
    assert alt_text.register(shell)
    _, metadata = shell.display_formatter.format(plots.plot_history(HISTORY))
    assert metadata["image/png"]["alt"].startswith("Pérdida y acierto por época")
    figure, _ = plt.subplots()  # también una figura de pyplot, hecha a mano en un cuaderno
    figure.axes[0].set_title("a mano")
    try:
        assert shell.display_formatter.format(figure)[1]["image/png"]["alt"] == "Figura de 1 panel: «a mano»."
    finally:
        plt.close(figure)
    image = Image.new("RGB", (4, 4))
    assert shell.display_formatter.format(image)[1] == {}  # una imagen sin texto: sin metadatos inventados
    image.info["alt"] = "un cuadrado negro"
    assert shell.display_formatter.format(image)[1] == {"image/png": {"alt": "un cuadrado negro"}}


def test_register_outside_ipython_does_nothing():
    assert alt_text.register(object()) is False
