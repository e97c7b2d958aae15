"""Lo que comparten los exploradores: un hilo para las imágenes sueltas, errores que no matan
el widget, la imagen PNG reutilizable y los valores por defecto (la red del curso, el test).
"""

import contextlib
import html

import ipywidgets as widgets
import torch

from .. import data
from ..errors import TrazosError
from ..models import input_side
from ..training import trained_model

__all__ = ["single_thread", "attempt", "guard", "image", "explorer", "default_run", "default_digits"]


@contextlib.contextmanager
def single_thread():
    """PyTorch con un solo hilo mientras dura el bloque.

    Una imagen suelta es tan poco trabajo que repartirla entre hilos cuesta más que hacerla:
    con 2 núcleos ocupados, una pasada de la CNN tarda ~0,5 ms con un hilo y ~50 ms con dos.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def error_html(error):
    """El texto de un error para la zona de mensajes (los nuestros, TrazosError, ya vienen en español)."""
    text = str(error) if isinstance(error, (TrazosError, ValueError)) else f"{type(error).__name__}: {error}"
    return (f"<div style='color:#b00020;white-space:pre-wrap'>⚠ No se pudo actualizar la vista. "
            f"{html.escape(text, quote=False)}</div>")


def attempt(message, action, *args):
    """Ejecuta `action(*args)`; si falla, el error se muestra en `message` y el widget sigue vivo."""
    try:
        with single_thread():
            action(*args)
    except Exception as error:  # noqa: BLE001 - cualquier fallo: mejor un mensaje que un widget muerto
        message.value = error_html(error)
        return
    if message.value:
        message.value = ""


def guard(message, update):
    """Una actualización lista para `observe` u `on_click` (ignora sus argumentos), protegida."""
    return lambda *_: attempt(message, update)


def image():
    """Un ipywidgets.Image para PNG, a su tamaño natural (sin estirarse al ancho de su columna)."""
    return widgets.Image(format="png", layout=widgets.Layout(width="auto", align_self="flex-start"))


def explorer(children, css, **parts):
    """Un VBox con clase CSS `css` y sus controles como atributos (explorer.stage, ...)."""
    box = widgets.VBox(children)
    box.add_class(css)
    for name, part in parts.items():
        setattr(box, name, part)
    return box


def default_run():
    """La red compacta del curso, entrenada (de la caché si ya lo está)."""
    return trained_model("cnn")


def default_digits(model, digits):
    """`digits`, o el test de MNIST al tamaño que espera el modelo."""
    return digits if digits is not None else data.load_mnist(train=False, size=input_side(model))
