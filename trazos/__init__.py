"""trazos: ver cómo aprende a leer dígitos una red convolucional pequeña (MNIST, PyTorch).

Un módulo por idea, para leer de arriba abajo:
- `data`: MNIST en memoria, redimensionado y normalizado.
- `models`: las dos redes del curso, `CNN` (16x16) y `ClassicCNN` (28x28).
- `shapes`: la fórmula del tamaño de salida y la tabla de capas de cualquier red.
- `train`: el bucle de entrenamiento, los checkpoints y la caché de modelos entrenados.
- `inspection`: activaciones (hooks), predicciones y matriz de confusión.
- `plots`: las figuras.
- `widgets`: los exploradores interactivos para los cuadernos.
"""

from .data import MNISTDataError, batches, examples_of, load_mnist, prepare_image
from .inspection import activations, confusion_matrix, most_confused, per_class_accuracy, predict
from .models import CNN, ClassicCNN, build_model, stage_names
from .plots import (plot_activations, plot_confusion, plot_digits, plot_history, plot_kernels,
                    plot_kernels_before_after, plot_predictions, plot_probabilities)
from .shapes import conv_output_size, summary
from .training import evaluate, pick_device, seed_everything, train, trained_model

__version__ = "0.1.0"
