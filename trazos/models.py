"""Las dos redes del curso.

`CNN` es la red compacta del proyecto original (entrada 16x16, pensada para entrenar
sin GPU) y `ClassicCNN` la red clásica de 28x28 que se explica paso a paso.

Cada etapa es un módulo propio con nombre (conv1, relu1, pool1, ...): así la tabla de capas
y los exploradores muestran nombres que se leen solos. Las redes de los estudiantes no
necesitan escribirse así: `capture` sigue también `F.relu`, `x.view` o un `self.pool`
reutilizado. Aquí están también las dos preguntas que las herramientas hacen a cualquier red:
qué capas convolucionales tiene y de qué lado son sus imágenes.
"""

from torch import nn
from .errors import TrazosValueError

__all__ = ["CNN", "ClassicCNN", "MODELS", "build_model", "conv_layers", "input_side", "input_shape"]


class CNN(nn.Module):
    """Red compacta: 16x16 -> conv(1->16) -> conv(16->32) -> lineal(512->10).

    Devuelve logits (puntuaciones sin normalizar); la pérdida es `cross_entropy`.
    """

    input_size = 16  # lado de la imagen de entrada, en píxeles

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, kernel_size=3, padding=1)  # 1x16x16 -> 16x16x16
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2, 2)  # -> 16x8x8
        self.conv2 = nn.Conv2d(16, 32, kernel_size=3, padding=1)  # -> 32x8x8
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2, 2)  # -> 32x4x4
        self.flatten = nn.Flatten()  # -> 512 = 4 * 4 * 32
        self.fc = nn.Linear(4 * 4 * 32, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc(self.flatten(x))


class ClassicCNN(nn.Module):
    """Red clásica: 28x28 -> conv(1->32) -> conv(32->64) -> lineal(3136->128->10).

    Termina en `log_softmax(dim=1)`: devuelve log-probabilidades y la pérdida es `nll_loss`.
    """

    input_size = 28

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1)  # padding=1 conserva 28x28
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2, 2)  # -> 32x14x14
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)  # -> 64x14x14
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2, 2)  # -> 64x7x7
        self.flatten = nn.Flatten()  # -> 3136 = 7 * 7 * 64
        self.fc1 = nn.Linear(7 * 7 * 64, 128)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(128, 10)
        self.log_softmax = nn.LogSoftmax(dim=1)  # dim=1: normaliza las 10 clases de cada imagen

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        return self.log_softmax(self.fc2(x))


# Los nombres que aceptan la línea de órdenes, la caché y los widgets.
MODELS = {"cnn": CNN, "classic": ClassicCNN}


def build_model(name):
    """Crea un modelo nuevo (pesos aleatorios) a partir de su nombre: 'cnn' o 'classic'."""
    if name not in MODELS:
        raise TrazosValueError(f"Modelo desconocido: {name!r}. Opciones válidas: {', '.join(MODELS)}.")
    return MODELS[name]()


def conv_layers(model):
    """Nombres de las capas Conv2d del modelo, en orden."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d)]


def input_side(model, images=None):
    """Lado (en píxeles) de las imágenes que espera `model`.

    Es `model.input_size` si la red lo tiene; si no, el lado de `images` (un tensor o unos
    `Digits`) cuando se dan. Sin ninguno de los dos, un ValueError dice cómo indicarlo.
    """
    side = getattr(model, "input_size", None)
    if side is not None:
        return int(side)
    if images is not None:
        images = getattr(images, "images", images)
        return int(images.shape[-1])
    raise TrazosValueError("No sé de qué tamaño son las imágenes de esta red: añade el lado en píxeles con "
                     "modelo.input_size = 28 (o 16), o pasa también las imágenes (digits=...).")


def input_shape(model, input_size=None):
    """(canales, alto, ancho) de una imagen de entrada, para las funciones que aceptan `input_size=`.

    `input_size` puede ser un lado (28) o una tupla (1, 28, 28); si no se da, 1 x L x L con el
    lado de `input_side(model)`. Sin ninguno de los dos, un ValueError dice cómo indicarlo.
    """
    if input_size is None:
        if getattr(model, "input_size", None) is None:
            raise TrazosValueError("No sé de qué tamaño son las imágenes de esta red: indícalo con input_size=28 "
                                   "(o 16, o una tupla como (1, 28, 28)), o añade modelo.input_size = 28 a la red.")
        input_size = input_side(model)
    return (1, input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
