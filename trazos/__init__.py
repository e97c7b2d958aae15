"""trazos: ver cómo aprende a leer dígitos una red convolucional pequeña (MNIST, PyTorch).

Un módulo por idea, para leer de arriba abajo:
- `data`: MNIST en memoria, redimensionado y guardado en bytes; se normaliza al pedirlo.
- `models`: las dos redes del curso, `CNN` (16x16) y `ClassicCNN` (28x28); qué capas
  convolucionales tiene una red y de qué lado son sus imágenes.
- `errors`: los errores que lanza trazos, en español (en Jupyter, solo el mensaje).
- `runner`: la única puerta para ejecutar una red: imágenes, dispositivo, modo, qué devuelve la red.
- `capture`: una pasada hacia delante paso a paso (capas, funciones, módulos reutilizados).
- `shapes`: la fórmula del tamaño de salida y la tabla de pasos de cualquier red.
- `loop`: el bucle de entrenamiento: un paso, una época, evaluar.
- `training`: la receta, la validación, los checkpoints y la caché, para las redes del curso y las tuyas.
- `cache`: guardar y recuperar entrenamientos, con una clave que distingue una red de otra.
- `checks`: comprobar que una red encaja con los dígitos (acepta sus imágenes, devuelve [N, 10]).
- `inspection`: activaciones, predicciones, historia de los kernels y matriz de confusión.
- `attribution`: qué mira la red (saliencia, oclusión, Grad-CAM, adversarios, la imagen de un dígito).
- `conv_value`: de dónde sale un valor de una convolución (ventana por kernel, más el sesgo).
- `digit_map`: el mapa de los dígitos en 2-D (PCA), el campo receptivo y los trozos que más excitan un canal.
- `live`: el entrenamiento en vivo, en un hilo, con instantáneas; sus piezas, en `live_setup` (lo que
  se prepara antes), `live_threads` (los hilos), `live_shots` (las fotos) y `live_panels` (los dibujos).
- `render`: disposición y colores de cada dibujo, compartidos por figuras y exploradores.
- `pixels`: los colores del curso y las piezas con que se pinta (colorear, mosaico, PNG).
- `plots`: las figuras de los resultados de una red (curvas, confusión, predicciones; matplotlib).
- `layer_plots`: las figuras de dentro de una red: kernels y activaciones (también en `plots`).
- `figure`: la `Figure` que Jupyter muestra sola, con su texto alternativo.
- `architecture`: el diagrama de cualquier red, una caja por paso.
- `diagrams`: los dibujos de las ideas (padding, pooling, softmax).
- `widgets`: los exploradores interactivos, uno por fichero.
- `exercises`: el ayudante `check` de los ejercicios y los ejercicios de cada cuaderno.
- `numbers`: los números en español (coma decimal, punto de miles).
- `lean`: lo que un núcleo no carga sin GPU (Triton, 75 MB por estudiante).
- `malloc`: la memoria que glibc guarda mientras se entrena, y devuelve al terminar.
- `cli`: la línea de órdenes (`python -m trazos`).

Lo del profesorado (preparar un aula, el servidor de la clase, el sitio web, las insignias)
vive en el subpaquete `trazos.classroom`, que `import trazos` no carga.
"""

from . import capture, data, diagrams, errors, inspection, lean, loop, models, plots, render, runner, shapes, training  # noqa: F401
from .data import MNISTDataError, batches, examples_of, load_mnist, prepare_image, split_validation
from .errors import TrazosError
from .inspection import (activations, confusion_matrix, kernel_history, most_confused, per_class_accuracy, predict,
                         predict_drawing, stage_names)
from .models import CNN, ClassicCNN, build_model, conv_layers, input_side
from .plots import (plot_activations, plot_confusion, plot_digits, plot_history, plot_kernels,
                    plot_kernels_before_after, plot_predictions, plot_probabilities)
from .shapes import conv_formula, conv_output_size, summary
from .architecture import plot_architecture
from .attribution import adversarial, class_image, explain_value, filter_image, grad_cam, occlusion, saliency, upsample
from .digit_map import embedding, embedding_epochs, receptive_field, separation, shift_comparison, top_patches
from .training import evaluate, pick_device, seed_everything, train, train_run, trained_model

__version__ = "0.2.0"

# Antes de que algo importe torch._dynamo (lo hace el primer optimizer.step()), que cargaría Triton.
lean.skip_triton()
