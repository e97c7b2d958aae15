"""Fixtures comunes de las pruebas de trazos.

- Los datos: la copia local de MNIST que indica TRAZOS_DATA (la CI la define). Sin ella las
  pruebas fallan con un mensaje claro: no se saltan ni intentan descargar nada.
- La caché: TRAZOS_CACHE apunta a una carpeta temporal durante toda la sesión, así que
  ninguna prueba lee ni escribe la caché de modelos del usuario.
- Lo caro se hace una vez por sesión: leer MNIST y un entrenamiento diminuto.
"""

import os
from pathlib import Path

import pytest

from trazos import data
from trazos.training import trained_model

# Un entrenamiento diminuto pero útil: 3000 imágenes, 1 época (unos segundos en CPU).
TINY_LIMIT, TINY_EPOCHS = 3000, 1


@pytest.fixture(scope="session", autouse=True)
def mnist_root():
    """La carpeta de datos de TRAZOS_DATA; si falta, todas las pruebas fallan explicando por qué."""
    root = os.environ.get("TRAZOS_DATA")
    if not root:
        pytest.fail(
            "TRAZOS_DATA no está definida. Las pruebas usan una copia local de MNIST y no descargan nada: "
            "export TRAZOS_DATA=/ruta/a/data (la carpeta que contiene MNIST/raw).",
            pytrace=False,
        )
    raw = Path(root) / "MNIST" / "raw"
    missing = [name for name in data.MNIST_FILES if not (raw / name).is_file()]
    if missing:
        pytest.fail(f"TRAZOS_DATA={root} no contiene MNIST/raw completo; faltan: {', '.join(missing)}.",
                    pytrace=False)
    return Path(root)


@pytest.fixture(scope="session", autouse=True)
def isolated_cache(tmp_path_factory):
    """TRAZOS_CACHE en una carpeta temporal para toda la sesión: nunca la caché del usuario."""
    cache = tmp_path_factory.mktemp("trazos-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TRAZOS_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="session")
def test16(mnist_root):
    """El conjunto de test completo a 16x16 (10.000 imágenes), leído una sola vez."""
    return data.load_mnist(train=False, size=16)


@pytest.fixture(scope="session")
def train16(mnist_root):
    """Los primeros TINY_LIMIT ejemplos de entrenamiento a 16x16."""
    return data.load_mnist(train=True, size=16, limit=TINY_LIMIT)


@pytest.fixture(scope="session")
def tiny_run(mnist_root, tmp_path_factory):
    """Un `Run` de la red compacta entrenada una época con TINY_LIMIT imágenes (una vez por sesión)."""
    cache = tmp_path_factory.mktemp("tiny-run")
    return trained_model("cnn", epochs=TINY_EPOCHS, limit=TINY_LIMIT, cache=cache, progress=False)
