"""Ejecutar una red: la única puerta por la que cada herramienta de trazos pasa imágenes por una red.

`predict`, `evaluate`, `activations`, `summary`, `capture`, `check_network`, el entrenamiento y
cada explorador ejecutan la red a través de este módulo, para que la red de un estudiante,
escriba lo que escriba, se trate igual en todas partes:

- Las imágenes: un lote [N, 1, L, L] en float, o una imagen suelta [L, L] o [1, L, L], un
  array de NumPy o niveles de gris en bytes (uint8, como `digits.pixels`), que se normalizan
  como MNIST. Cualquier otra cosa, un error que dice qué llegó y qué se espera (`as_images`).
- El dispositivo: las imágenes van a donde están los pesos de la red (una red en la GPU, con
  `model.to("cuda")`, funciona igual) y los resultados vuelven a la CPU (`outputs`, `to_cpu`).
- Lo que devuelve la red: logits, log-probabilidades (termina en `log_softmax`) o
  probabilidades (termina en `softmax`). `probabilities` da siempre probabilidades de verdad,
  sin aplicar softmax dos veces, y `loss` entrena bien las tres (`output_kind`).
- El modo: para mirar, modo eval y sin gradientes, y luego cada capa vuelve a su modo
  (`inspecting`); para entrenar, modo train solo en las capas que estaban en train, así una
  BatchNorm congelada con `.eval()` sigue congelada (`training_mode`).
- Sin efectos escondidos: nada consume el generador aleatorio global de PyTorch (`keep_rng`)
  y los `print` del `forward` del estudiante no salen mientras torch.fx lee la red sin datos
  (`quiet`), aunque sí cuando la red se ejecuta de verdad.
"""

import contextlib
import io
import warnings
import weakref

import numpy as np
import torch
import torch.nn.functional as F

from .cpu import fit_threads
from .errors import TrazosTypeError, TrazosValueError

__all__ = ["NUM_CLASSES", "as_images", "device_of", "dtype_of", "to_cpu", "eval_mode", "inspecting", "training_mode",
           "keep_rng", "quiet", "check_output", "eval_batch_size", "outputs", "output_kind", "probabilities",
           "log_probabilities", "loss"]

NUM_CLASSES = 10  # un valor por dígito, del 0 al 9
MEAN, STD = 0.1307, 0.3081  # los de MNIST (data.MEAN, data.STD; aquí para no importar data)


# --- Las imágenes -------------------------------------------------------------------------------

def _expected(side):
    return f"[N, 1, {side}, {side}]" if side else "[N, 1, L, L]"


def as_images(images, model=None, side=None):
    """`images` como el lote que recibe una red: tensor float [N, 1, L, L].

    Acepta un lote [N, 1, L, L], una imagen suelta [L, L] o [1, L, L], unos `Digits` (todas sus
    imágenes), un array de NumPy y niveles de gris en bytes (uint8, 0-255), que se normalizan
    como MNIST. El lado se comprueba contra `side`, o contra `model.input_size` si la red lo
    tiene. Para cualquier otra cosa, un error en español que dice qué llegó y qué se espera.
    """
    side = side or getattr(model, "input_size", None)
    if hasattr(images, "pixels") and hasattr(images, "labels"):  # unos Digits: todas sus imágenes
        images = images.pixels
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(np.ascontiguousarray(images))
    if not isinstance(images, torch.Tensor):
        raise TrazosTypeError(f"Se esperaban imágenes (un tensor {_expected(side)} o una imagen [L, L]); se recibió "
                              f"{type(images).__name__}. Por ejemplo: imagen, etiqueta = digits[0].")
    if images.dtype == torch.uint8:  # bytes 0-255, como digits.pixels: se normalizan como MNIST
        images = images.to(torch.float32).div(255).sub(MEAN).div(STD)
    elif not images.is_floating_point():
        raise TrazosTypeError(f"Las imágenes son de tipo {images.dtype}: si son niveles de gris de 0 a 255, pásalas "
                              "como bytes (imagenes.to(torch.uint8)) y se normalizan como MNIST; si ya están "
                              "normalizadas, conviértelas con imagenes.float().")
    elif images.dtype != torch.float32:
        images = images.float()  # float64 de NumPy: los pesos de la red son float32
    if model is not None and dtype_of(model) != images.dtype:
        images = images.to(dtype_of(model))  # una red en float64 (model.double()) recibe float64
    shape = tuple(images.shape)
    if images.ndim == 2:
        images = images[None, None]
    elif images.ndim == 3 and shape[0] == 1:
        images = images[None]
    elif images.ndim == 3:
        raise TrazosValueError(f"Llegan imágenes de forma {list(shape)}: parecen {shape[0]} imágenes sin la dimensión "
                               f"del canal. La red espera {_expected(side)}: añádela con imagenes.unsqueeze(1).")
    if images.ndim != 4 or images.shape[1] != 1:
        raise TrazosValueError(f"Llegan imágenes de forma {list(shape)}; la red espera {_expected(side)}: un lote de "
                               "N imágenes de un solo canal (gris), o una imagen suelta [L, L].")
    if side and tuple(images.shape[2:]) != (side, side):
        raise TrazosValueError(f"Llegan imágenes de {images.shape[2]}x{images.shape[3]} y esta red espera "
                               f"{side}x{side} ({_expected(side)}): carga los dígitos con "
                               f"trazos.load_mnist(size={side}).")
    return images


# --- Dispositivo y modo -------------------------------------------------------------------------

def device_of(model):
    """El dispositivo donde están los pesos de la red (la CPU si no tiene ninguno)."""
    tensor = next(model.parameters(), None)
    if tensor is None:
        tensor = next(model.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


def dtype_of(model):
    """El tipo de los números de la red (float32; float64 tras `model.double()`): el de sus imágenes."""
    tensor = next((p for p in model.parameters() if p.is_floating_point()), None)
    return tensor.dtype if tensor is not None else torch.float32


def to_cpu(tensor):
    """Un resultado, sin gradientes y en la CPU (uno del dispositivo `meta`, que no tiene valores, se queda)."""
    tensor = tensor.detach()
    return tensor if tensor.device.type in ("cpu", "meta") else tensor.cpu()


@contextlib.contextmanager
def _modes(model, set_mode):
    """Aplica `set_mode` a cada capa mientras dura el bloque; al salir (también si algo falla),
    cada capa vuelve al modo que tenía, una a una: `model.train(antes)` cambiaría también una
    BatchNorm que el estudiante congeló a propósito con `.eval()`."""
    modes = [(module, module.training) for module in model.modules()]
    set_mode(modes)
    try:
        yield model
    finally:
        for module, training in modes:
            module.training = training


def eval_mode(model):
    """`model` en modo eval mientras dura el bloque (sin dropout, sin tocar las estadísticas de BatchNorm)."""
    return _modes(model, lambda modes: model.eval())


@contextlib.contextmanager
def inspecting(model):
    """Para mirar la red: modo eval y sin gradientes; al salir, cada capa vuelve a su modo.

    La primera vez en el proceso, los hilos de PyTorch se ajustan a la CPU que de verdad tiene (`cpu`).
    """
    fit_threads()
    with eval_mode(model), torch.no_grad():
        yield model


def _train_chosen(modes):
    # Si alguna capa está en train, las que están en eval las congeló el estudiante a propósito
    # (una BatchNorm con `.eval()`) y siguen en eval. Una red entera en eval (la dejó así
    # `model.eval()` o una herramienta) se entrena entera.
    some_training = any(training for _, training in modes)
    for module, training in modes:
        module.training = training if some_training else True


def training_mode(model):
    """Para entrenar: modo train en las capas que estaban en train (o en todas si ninguna lo estaba)."""
    return _modes(model, _train_chosen)


def keep_rng():
    """Un bloque que no consume el generador aleatorio global de PyTorch (crear una capa sortea sus
    pesos): sin esto, lo que sale en las celdas siguientes dependería de cuántas veces el
    estudiante movió un deslizador."""
    return torch.random.fork_rng(devices=[])


@contextlib.contextmanager
def quiet():
    """Calla los `print` mientras dura el bloque: torch.fx lee `forward` con objetos de mentira
    (Proxy) y un `print(x.shape)` del estudiante escribiría «Proxy(getattr_1)» cada vez."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


# --- Lo que devuelve la red ---------------------------------------------------------------------

def _described(shape, batch):
    """[N, 5] si la primera dimensión es el lote; si no, la forma tal cual: [83, 10]."""
    dims = [str(d) for d in shape]
    if dims and shape[0] == batch:
        dims[0] = "N"
    return f"[{', '.join(dims)}]"


def check_output(output, batch):
    """Comprueba que la salida de la red para un lote de `batch` imágenes es [N, 10] y la devuelve.

    Si no, un error en español dice qué forma devuelve la red y qué debería dar.
    """
    if not isinstance(output, torch.Tensor):
        raise TrazosValueError(f"La red devuelve un {type(output).__name__}; debe devolver un tensor "
                               f"[N, {NUM_CLASSES}]: {NUM_CLASSES} valores por imagen, uno por dígito.")
    if output.shape == (batch, NUM_CLASSES):
        return output
    if output.ndim >= 1 and output.shape[0] == batch:
        raise TrazosValueError(f"La red devuelve {_described(output.shape, batch)}; la última capa debe dar "
                               f"{NUM_CLASSES} valores, uno por dígito (por ejemplo nn.Linear(..., {NUM_CLASSES})), "
                               f"y devolver [N, {NUM_CLASSES}].")
    images = "1 imagen" if batch == 1 else f"{batch} imágenes"
    raise TrazosValueError(f"Para un lote de {images} la red devuelve {_described(output.shape, batch)}: "
                           f"debería devolver [{batch}, {NUM_CLASSES}], una fila por imagen. Algún paso mezcla las "
                           "imágenes del lote; suele ser un x.view(-1, ...) con un número que no corresponde a la "
                           "entrada: x.flatten(1) o x.view(x.size(0), -1) no las mezclan.")


BATCH_PIXELS = 256 * 16 * 16  # un lote para mirar o evaluar: 256 imágenes de 16x16, o las que quepan si son más grandes


def eval_batch_size(side):
    """Imágenes por lote al mirar o evaluar imágenes de `side` x `side`: 256 de 16x16 y, si son más grandes,
    menos (una potencia de 2), para que las activaciones de un lote ocupen lo mismo. Con 28x28 son 64: la red
    de 32 canales del cuaderno 09 pasaba de unos 20 MB a más de 70 por lote con 256, y no iba más deprisa."""
    fits = max(1, BATCH_PIXELS // (int(side) * int(side)))
    return max(16, min(256, 2 ** (fits.bit_length() - 1)))


def outputs(model, images, batch_size=None):
    """Lo que devuelve `model` para `images` ([N, 10], en la CPU), por lotes, en modo eval y sin gradientes.

    Las imágenes van al dispositivo de la red; cada capa vuelve a su modo. Lotes de 256 imágenes
    de 16x16, y de menos si son más grandes (`eval_batch_size`): con 1000 imágenes de 28x28 de
    golpe, un paso de la red clásica ocuparía 100 MB. Unos `Digits` o niveles de gris (uint8)
    se normalizan lote a lote: todo el test a 28x28, en float, serían 31 MB más.
    """
    if hasattr(images, "pixels") and hasattr(images, "labels"):  # unos Digits: sus bytes, lote a lote
        images = images.pixels
    raw = isinstance(images, torch.Tensor) and images.dtype == torch.uint8 and images.ndim == 4
    images = images if raw else as_images(images, model)
    batch_size = batch_size or eval_batch_size(images.shape[-1])
    device = device_of(model)
    with inspecting(model):
        parts = [to_cpu(check_output(model((as_images(batch, model) if raw else batch).to(device)), len(batch)))
                 for batch in images.split(batch_size)]
    return torch.cat(parts)


def output_kind(output):
    """Qué devuelve la red: "logits", "log_probabilities" (termina en log_softmax) o "probabilities"
    (termina en softmax), mirando sus filas: unas probabilidades no son negativas y suman 1; unas
    log-probabilidades no son positivas y sus exponenciales suman 1. Lo demás son logits."""
    x = output.detach()
    if x.device.type == "meta" or x.numel() == 0:
        return "logits"  # sin valores no se puede saber; lo que da la mayoría de las redes
    x = x.double().reshape(-1, x.shape[-1])
    if bool((x >= 0).all()) and torch.allclose(x.sum(dim=1), torch.ones(len(x), dtype=x.dtype), atol=1e-3):
        return "probabilities"
    if bool((x <= 0).all()) and torch.allclose(x.exp().sum(dim=1), torch.ones(len(x), dtype=x.dtype), atol=1e-3):
        return "log_probabilities"
    return "logits"


def probabilities(output):
    """Probabilidades de verdad [N, 10] (o [10]) a partir de lo que devuelva la red.

    softmax para logits y para log-probabilidades (el softmax de log_softmax(z) es softmax(z));
    unas probabilidades se dejan como están: otro softmax las aplastaría (0,996 pasaría a 0,231).
    """
    output = torch.as_tensor(output).detach().float()
    if output_kind(output) == "probabilities":
        return output
    return torch.softmax(output, dim=-1)


def log_probabilities(output):
    """Log-probabilidades a partir de lo que devuelva la red (para la pérdida)."""
    if output_kind(output) == "probabilities":
        return output.clamp_min(1e-12).log()  # el mínimo: log(0) sería -inf y el gradiente, nan
    return F.log_softmax(output, dim=-1)


_WARNED = weakref.WeakKeyDictionary()  # redes ya avisadas de que terminan en softmax


def loss(output, labels, model=None):
    """Entropía cruzada media, bien calculada devuelva la red logits, log-probabilidades o probabilidades.

    `F.cross_entropy` espera logits o log-probabilidades (les aplica log_softmax, que deja
    igual unas log-probabilidades); sobre probabilidades calcularía otra cosa y la red apenas
    aprendería. Por eso una red que termina en softmax se entrena con el logaritmo de sus
    probabilidades (la misma pérdida), y se avisa una vez de por qué conviene quitar ese softmax.
    """
    if output_kind(output) != "probabilities":
        return F.cross_entropy(output, labels)
    if model is not None and model not in _WARNED:
        _WARNED[model] = True
        warnings.warn(f"La red {type(model).__name__} termina en softmax: devuelve probabilidades. La entropía "
                      "cruzada de PyTorch (F.cross_entropy) espera logits o log-probabilidades, así que trazos la "
                      "entrena con el logaritmo de tus probabilidades, que es la misma pérdida. Aun así, es mejor "
                      "que la red devuelva logits (quita el softmax) o log_softmax(x, dim=1): restar el máximo "
                      "dentro de log_softmax evita que los números se desborden, y los gradientes son más "
                      "estables cuando la red ya está muy segura.", stacklevel=3)
    return F.nll_loss(log_probabilities(output), labels)
