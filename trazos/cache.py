"""La caché de entrenamientos: guardar sin dejar ficheros a medias, volver a cargar y la clave
que distingue una red de otra.

Todas las redes se guardan con una huella de su arquitectura, sus ajustes y sus datos
(`fingerprint`): la red de un estudiante (`training.train_run`) y también las del curso
(`training.trained_model`, que además pone en el nombre la red, las épocas y la semilla), para
que una red cambiada (otro `forward`, otra capa) nunca cargue los pesos de otra.
"""

import hashlib
import inspect
import json
import os
import shutil
import tempfile
import types
import warnings

import torch

from . import data
from .runner import eval_mode, quiet

__all__ = ["save_atomic", "copy_atomic", "own_cache", "save_run", "load_run", "read_run", "architecture_text",
           "fingerprint"]


def save_atomic(obj, path):
    """`torch.save` a un fichero temporal y renombrado: un corte nunca deja un fichero a medias."""
    _write_atomic(path, lambda f: torch.save(obj, f))


def copy_atomic(source, path):
    """Copia el fichero `source` en `path` igual que guarda `save_atomic`: entero o nada."""
    with open(source, "rb") as original:
        _write_atomic(path, lambda f: shutil.copyfileobj(original, f))


def _write_atomic(path, write):
    path = os.fspath(path)
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        # mkstemp crea el fichero solo para su dueño (0600): los permisos de un fichero normal
        # (0666 menos la umask), para que los estudiantes lean las redes que prepara el profesorado.
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        os.replace(tmp, path)  # atómico en el mismo sistema de ficheros
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def own_cache():
    """La caché de modelos propia del usuario (~/.cache/trazos/models), aunque TRAZOS_CACHE diga otra."""
    return (data.user_cache() / "models").expanduser().resolve()


def _places(path):
    """Dónde puede estar guardado un entrenamiento: en `path` y, con el mismo nombre, en la caché
    propia del usuario (donde va a parar lo que se entrena con una caché compartida de solo lectura)."""
    mine = own_cache() / path.name
    return [path] if mine == path else [path, mine]


def save_run(path, history, checkpoints, test=None):
    """Guarda un entrenamiento (historial, pesos de cada época y, si se midió, el resultado en test
    `{"loss": ..., "acc": ...}`) de forma atómica y devuelve dónde.

    Si la carpeta de `path` no admite escritura (la caché compartida de un servidor, de solo
    lectura para los estudiantes), lo guarda en la caché propia del usuario y lo dice en una
    línea. Si tampoco puede, avisa y devuelve None: el entrenamiento no se pierde, sigue en
    memoria, y nunca queda un fichero a medias.
    """
    payload = {"history": json.dumps(history), "test": json.dumps(test), "checkpoints": checkpoints}
    problems = []
    for place in _places(path):
        try:
            save_atomic(payload, place)
        except OSError as error:
            problems.append(f"{place.parent}: {error.strerror or error}")
            continue
        if place != path:
            print(f"La caché {path.parent} es de solo lectura: esta red se guarda en tu propia caché, {place}.")
        return place
    warnings.warn("No se pudo guardar el entrenamiento (" + "; ".join(problems) + "). La red entrenada sigue en "
                  "memoria, pero habrá que volver a entrenarla en la próxima sesión.", stacklevel=3)
    return None


def read_run(path, model, epochs, key=None):
    """(historial, checkpoints, test) del fichero `path`, comprobados contra `model` y `epochs` y, si
    se da, contra la huella `key` con la que se guardó (lanza una excepción si no encajan o si el
    fichero está dañado); no carga nada en `model`."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    if key is not None and saved.get("key") != key:
        raise ValueError(f"hecha con otra receta (huella {saved.get('key')}, la actual es {key})")
    history, checkpoints = json.loads(saved["history"]), saved["checkpoints"]
    test = json.loads(saved.get("test", "null"))
    if len(checkpoints) != epochs + 1:
        raise ValueError("número de épocas distinto")
    # Antes de cargar nada: un fichero con otras capas no debe dejar la red a medio cargar.
    expected = {k: v.shape for k, v in model.state_dict().items()}
    if any({k: v.shape for k, v in c.items()} != expected for c in checkpoints):
        raise ValueError("los pesos guardados no encajan con la red")
    return history, checkpoints, test


def load_run(path, model, epochs, progress=True, label="red"):
    """(historial, checkpoints, ruta, test) de un entrenamiento guardado en `path` (o con su nombre en la
    caché propia del usuario), con sus últimos pesos ya cargados en `model`; None si no existe o
    si está dañado (avisa: se vuelve a entrenar).

    Si los dos sitios tienen el fichero, vale el primero que se carga bien, no el primero que
    existe: una copia dañada en la caché compartida deja pasar a la buena del estudiante, y al revés.
    """
    damaged = []
    for place in _places(path):
        if not place.exists():
            continue
        try:
            history, checkpoints, test = read_run(place, model, epochs)
            model.load_state_dict(checkpoints[-1])
        except Exception as error:  # noqa: BLE001 - un fichero dañado falla de muchas formas; todas se tratan igual
            damaged.append(f"La caché {place} está dañada ({type(error).__name__})")
            continue
        if progress:
            print(f"Modelo '{label}' cargado de la caché ({place}).")
        if place != path and not path.exists():
            _share(place, path)
        return history, checkpoints, place, test
    if damaged:  # solo si ninguno sirve: si otro se cargó bien, no hay nada que hacer
        warnings.warn("; ".join(damaged) + "; se vuelve a entrenar.", stacklevel=3)
    return None


def _share(place, path):
    """Lo cargado de la caché propia, también en la que se pidió, si se puede escribir en ella: así
    `preparar --cache CARPETA` deja en CARPETA las redes que quien prepara ya tenía en su caché (si no,
    los estudiantes, que no la ven, las entrenarían). En una caché compartida de solo lectura, nada."""
    try:
        copy_atomic(place, path)
    except OSError:
        pass


def _own_classes(model):
    """Las clases de las capas que no vienen de PyTorch (la red del estudiante y sus bloques)."""
    classes = {type(m) for m in model.modules() if not type(m).__module__.startswith("torch.")}
    return sorted(classes, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def _code_text(cls):
    """El código de una clase: su fuente si Python la encuentra; si no (una clase escrita en una
    celda o en la consola), el bytecode de su forward, que también cambia si cambia forward."""
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        code = getattr(getattr(cls, "forward", None), "__code__", None)
        if code is None:
            return cls.__qualname__
        constants = tuple(c for c in code.co_consts if not isinstance(c, types.CodeType))  # sin direcciones
        return f"{cls.__qualname__}:{code.co_code.hex()}:{constants!r}:{code.co_names!r}"


def architecture_text(model):
    """Un texto que cambia si cambia la arquitectura de `model` (no sus pesos): la clave de la caché.

    Reúne el repr (capas y sus ajustes), el nombre y la forma de cada peso, el forward tal
    como lo lee torch.fx (con las funciones, como F.relu o x.view(-1, 3136), y los números ya
    calculados) y el código de las clases propias. Cambiar un comentario también lo cambia:
    mejor entrenar otra vez que confundir una red con otra.
    """
    parts = [f"{type(model).__module__}.{type(model).__qualname__}", repr(model)]
    parts += [f"{k}: {tuple(v.shape)} {v.dtype}" for k, v in model.state_dict().items()]
    with eval_mode(model), quiet():  # quiet: fx ejecuta forward con Proxy y un print del estudiante saldría
        try:
            parts.append(torch.fx.symbolic_trace(model).code)
        except Exception:  # noqa: BLE001 - un forward que fx no sigue: quedan su código y el repr
            pass
    parts += [_code_text(cls) for cls in _own_classes(model)]
    return "\n".join(parts)


def fingerprint(model, settings, *datasets):
    """Huella corta de todo lo que decide el resultado de un entrenamiento, salvo los pesos iniciales."""
    digest = hashlib.blake2b(digest_size=8)
    digest.update(architecture_text(model).encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    for digits in datasets:  # los datos mismos, no solo cuántos: 512 de train no son 512 de test
        for tensor in (digits.pixels, digits.labels):
            tensor = tensor.detach().cpu().contiguous()
            digest.update(f"{tuple(tensor.shape)} {tensor.dtype}".encode())
            digest.update(tensor.numpy())
    return digest.hexdigest()
