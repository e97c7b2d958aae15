"""Redes escritas como las escriben los estudiantes, para `test_students.py`.

Cada una con lo que un estudiante hace a menudo: funciones F.relu y F.max_pool2d, un módulo
reutilizado, view/reshape/torch.flatten, nn.Sequential con nombres numéricos, dropout,
BatchNorm, AvgPool y sigmoid, kernels 5x5 sin padding, logits o log-probabilidades, un `if`
sobre los datos; y la red de la semilla 004 pegada tal cual la escribe el cuaderno original
(`CNN`). Al final, tres redes mal hechas para los mensajes de error.

`STUDENTS` dice, de cada una, cómo crearla, de qué lado son sus imágenes y qué pasos debe
capturar `trazos.activations`, en orden.
"""

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

import trazos

# ------------------------------------------------------------------ la red de la semilla 004, tal cual
# (copiada del cuaderno sin tocar nada: también el espacio al final de la línea de conv1 y sus
# comentarios, en español y en inglés)

class CNN(nn.Module):  # Definimos la red neuronal convolucional
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, kernel_size=3, padding=1) 
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.fc1 = nn.Linear(7 * 7 * 64, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        x = x.view(-1, 7 * 7 * 64)  # Aplanamiento tras las capas convolucionales
        x = F.relu(self.fc1(x))
        x = F.log_softmax(self.fc2(x), dim=1)  # Use log_softmax for cross-entropy loss
        return x


def seed_004():
    model = CNN()  # Instanciamos la red neuronal
    model.input_size = 28
    return model


# ------------------------------------------------------------------ otras redes de estudiantes

class PyTorchExample(nn.Module):
    """Como el ejemplo de MNIST de PyTorch: F.relu, F.max_pool2d, dropout, torch.flatten, log_softmax."""

    input_size = 28

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, 1)
        self.conv2 = nn.Conv2d(8, 16, 3, 1)
        self.dropout1 = nn.Dropout(0.25)
        self.dropout2 = nn.Dropout(0.5)
        self.fc1 = nn.Linear(16 * 12 * 12, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        x = self.dropout2(x)
        return F.log_softmax(self.fc2(x), dim=1)


class SharedLayers(nn.Module):
    """Módulos reutilizados: la misma ReLU tres veces, el mismo pooling dos, la misma convolución
    (los mismos pesos) dos; aplana con reshape y devuelve logits."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv_in = nn.Conv2d(1, 8, 3, padding=1)
        self.conv = nn.Conv2d(8, 8, 3, padding=1)
        self.act = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        x = self.pool(self.act(self.conv_in(x)))
        x = self.act(self.conv(x))
        x = self.pool(self.act(self.conv(x)))
        x = x.reshape(x.size(0), -1)
        return self.fc(x)


def sequential_net():
    """nn.Sequential con nombres numéricos y ReLU(inplace=True), como en torchvision; entregada en eval."""
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 4 * 4, 10),
    )
    model.input_size = 16
    return model.eval()


class BatchNormNet(nn.Module):
    """BatchNorm 2d y 1d, view(x.size(0), -1); se entrega con bn1 congelada (eval) y lo demás en train."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.bn3 = nn.BatchNorm1d(32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = x.view(x.size(0), -1)
        x = F.relu(self.bn3(self.fc1(x)))
        return self.fc2(x)


def batchnorm_net():
    model = BatchNormNet()
    model.bn1.eval()  # congelada a propósito: ninguna herramienta debe volver a ponerla en train
    return model


class LeNet(nn.Module):
    """LeNet-5: kernels 5x5, AvgPool2d y torch.sigmoid, logits."""

    input_size = 28

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.pool = nn.AvgPool2d(kernel_size=2, stride=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.sigmoid(self.conv1(x)))
        x = self.pool(torch.sigmoid(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = torch.sigmoid(self.fc1(x))
        x = torch.sigmoid(self.fc2(x))
        return self.fc3(x)


class NoPadding5x5(nn.Module):
    """Kernels 5x5 sin padding (16 -> 12 -> 6 -> 2) y un view(-1, ...) con el número correcto."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=5)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=5)
        self.fc = nn.Linear(16 * 2 * 2, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.relu(self.conv2(x))
        x = x.view(-1, 16 * 2 * 2)
        return self.fc(x)


class DataDependent(nn.Module):
    """Un `if` sobre los valores de la entrada: torch.fx no puede seguirla sin datos."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        if x.abs().max() > 100:  # imágenes en píxeles 0-255: se pasan a 0-1
            x = x / 255
        x = self.pool(F.relu(self.conv1(x)))
        x = self.pool(F.relu(self.conv2(x)))
        return self.fc(self.flatten(x))


def mlp():
    """Sin convoluciones: vale para todo menos para los kernels y el padding."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(16 * 16, 64), nn.ReLU(), nn.Linear(64, 10))
    model.input_size = 16
    return model


@dataclass(frozen=True)
class Student:
    build: object  # crea la red, nueva, como la entregaría el estudiante
    side: int  # lado de las imágenes
    steps: tuple  # los pasos que debe capturar `activations`, en orden


SEED_STEPS = ("conv1", "relu", "pool", "conv2", "relu_1", "pool_1", "view", "fc1", "relu_2", "fc2", "log_softmax")
STUDENTS = {
    "semilla_004": Student(seed_004, 28, SEED_STEPS),
    "semilla_004_sin_input_size": Student(CNN, 28, SEED_STEPS),
    "ejemplo_pytorch": Student(PyTorchExample, 28, (
        "conv1", "relu", "conv2", "relu_1", "max_pool2d", "dropout1", "flatten", "fc1", "relu_2", "dropout2", "fc2",
        "log_softmax")),
    "modulos_reutilizados": Student(SharedLayers, 16, (
        "conv_in", "act", "pool", "conv", "act_1", "conv_1", "act_2", "pool_1", "reshape", "fc")),
    "sequential": Student(sequential_net, 16, ("0", "1", "2", "3", "4", "5", "6", "7")),
    "batchnorm": Student(batchnorm_net, 16, (
        "conv1", "bn1", "relu", "max_pool2d", "conv2", "bn2", "relu_1", "max_pool2d_1", "view", "fc1", "bn3", "relu_2",
        "fc2")),
    "lenet_avgpool_sigmoid": Student(LeNet, 28, (
        "conv1", "sigmoid", "pool", "conv2", "sigmoid_1", "pool_1", "flatten", "fc1", "sigmoid_2", "fc2", "sigmoid_3",
        "fc3")),
    "5x5_sin_padding": Student(NoPadding5x5, 16, ("conv1", "relu", "max_pool2d", "conv2", "relu_1", "view", "fc")),
    # Con hooks solo se ven las capas (no F.relu), cada llamada de `pool` por separado.
    "if_sobre_los_datos": Student(DataDependent, 16, ("conv1", "pool", "conv2", "pool_1", "flatten", "fc")),
    "sin_convoluciones": Student(mlp, 16, ("0", "1", "2", "3")),
    # Las del curso conservan sus nombres (y su channels_last al entrenar, que no se nota fuera).
    "curso_cnn": Student(trazos.CNN, 16, ("conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc")),
    "curso_classic": Student(trazos.ClassicCNN, 28, (
        "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3", "fc2", "log_softmax")),
}


# ------------------------------------------------------------------ redes con ramas y otras formas
# (para las herramientas que recorren el grafo: campo receptivo, trozos que más encienden, Grad-CAM)

class CatSkip(nn.Module):
    """Una conexión que se salta una capa y se concatena: torch.cat([a, conv2(a)])."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(8 * 4 * 4, 10)

    def forward(self, x):
        a = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = torch.cat([a, F.relu(self.conv2(a))], dim=1)
        return self.fc(F.max_pool2d(x, 2).flatten(1))


class Residual(nn.Module):
    """Una suma residual, a + f(a), con la rama corta primero (la que seguía el campo receptivo)."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)
        self.conv3 = nn.Conv2d(4, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 4 * 4, 10)

    def forward(self, x):
        a = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = a + self.conv3(F.relu(self.conv2(a)))
        return self.fc(F.max_pool2d(F.relu(x), 2).flatten(1))


def frozen_first_conv():
    """La red del curso con la primera convolución puesta a mano (bordes verticales) y congelada."""
    model = trazos.CNN()
    with torch.no_grad():
        model.conv1.weight.copy_(torch.tensor([[-1.0, 0.0, 1.0]] * 3).expand(16, 1, 3, 3))
        model.conv1.bias.zero_()
    model.conv1.requires_grad_(False)
    return model


class TupleOutput(nn.Module):
    """Devuelve (logits, mapas), como algunas redes de ejemplo: las herramientas piden un tensor [N, 10]."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.net = trazos.CNN()

    def forward(self, x):
        return self.net(x), x


class DictOutput(TupleOutput):
    def forward(self, x):
        return {"logits": self.net(x)}


BRANCHING = {"cat": CatSkip, "residual": Residual, "modulos_reutilizados": SharedLayers, "curso_cnn": trazos.CNN}


# ------------------------------------------------------------------ redes mal hechas

class WrongLinear(nn.Module):
    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(8 * 7 * 7, 10)  # el estudiante contó 7x7; le llegan 8x8

    def forward(self, x):
        return self.fc(self.flatten(self.pool(F.relu(self.conv(x)))))


class FiveOutputs(nn.Module):
    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(4 * 16 * 16, 5)

    def forward(self, x):
        return self.fc(torch.flatten(F.relu(self.conv(x)), 1))


class BatchMixer(nn.Module):
    """view(-1, 128) cuando a cada imagen le quedan 256 valores: el lote sale con el doble de filas."""

    input_size = 16

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.fc(x.view(-1, 128))


# ------------------------------------------------------------------ lo que una herramienta no debe dejar

def hooks_left(model):
    """Los hooks que quedan puestos: en cada diccionario de hooks de cada módulo y de cada tensor
    (forward, pre-forward, backward, con kwargs, ...) y en los globales de torch.nn.

    Se buscan por nombre («hook» en el atributo) y no en una lista fija: así también se ven los
    que añada una versión nueva de PyTorch.
    """
    import torch.nn.modules.module as module_hooks
    left = [name for name, value in vars(module_hooks).items()
            if name.startswith("_global") and "hook" in name and isinstance(value, dict) and value]
    for name, module in model.named_modules():
        tensors = [(f"{name}.{k}", t) for k, t in [*module.named_parameters(recurse=False),
                                                   *module.named_buffers(recurse=False)]]
        left += [f"{name or '(la red)'}.{attr}" for attr, value in vars(module).items()
                 if "hook" in attr and isinstance(value, dict) and value]
        for where, tensor in tensors:  # los de un tensor son atributos de C: no están en vars(), sí en dir()
            left += [f"{where}.{attr}" for attr in dir(tensor)
                     if "hook" in attr and isinstance(getattr(tensor, attr, None), dict) and getattr(tensor, attr)]
    return left
