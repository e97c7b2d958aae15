"""Fixtures comunes de las pruebas de la biblioteca.

- Los datos: `mnist_root` busca MNIST igual que la biblioteca (`data.find_mnist`): la variable
  TRAZOS_DATA, si no la caché del usuario (~/.cache/trazos/data) y, con conexión, lo descarga
  ahí. Solo la piden las pruebas que leen MNIST; las demás no necesitan datos. Sin datos y sin
  conexión, esas pruebas fallan con el mensaje de la biblioteca, que dice qué falta y qué hacer.
- La caché de modelos: la pone para toda la sesión conftest.py de la raíz (TRAZOS_CACHE temporal).
- Lo caro se hace una vez por sesión: leer MNIST, un entrenamiento diminuto y la clase de prueba
  en un JupyterHub (tests/hub_class.py), que comparten test_hub.py y test_hub_progress.py.
"""

import shutil

import hub_class
import pytest
from test_browser import skip_or_fail

from trazos import data
from trazos.classroom.visit import Student
from trazos.training import trained_model

# Un entrenamiento diminuto pero útil: 3000 imágenes, 1 época (unos segundos en CPU).
TINY_LIMIT, TINY_EPOCHS = 3000, 1


@pytest.fixture(scope="session")
def mnist_root():
    """La carpeta que contiene MNIST/raw, encontrada (o descargada) como lo hace la biblioteca."""
    try:
        return data.find_mnist()
    except data.MNISTDataError as error:
        problem = str(error)
    # Fuera del except: así pytest muestra solo el mensaje de la biblioteca, sin la excepción encadenada.
    pytest.fail(f"Esta prueba necesita MNIST y no se encontró ni se pudo descargar.\n{problem}", pytrace=False)


@pytest.fixture(scope="session")
def executed_copies(tmp_path_factory):
    """Una carpeta, para toda la sesión, con las copias ejecutadas de los cuadernos de estudiante.

    La llena test_solutions.py (cada cuaderno resuelto que ejecuta, vuelto a su versión de
    estudiante con `web.student_copy`) y la lee test_web.py, que solo ejecuta los que falten:
    así ningún cuaderno se ejecuta dos veces con nbclient para construir el sitio.
    """
    return tmp_path_factory.mktemp("ejecutados")


@pytest.fixture(scope="session")
def test16(mnist_root):
    """El conjunto de test completo a 16x16 (10.000 imágenes), leído una sola vez."""
    return data.load_mnist(train=False, size=16, root=mnist_root)


@pytest.fixture(scope="session")
def train16(mnist_root):
    """Los primeros TINY_LIMIT ejemplos de entrenamiento a 16x16."""
    return data.load_mnist(train=True, size=16, root=mnist_root, limit=TINY_LIMIT)


@pytest.fixture(scope="session")
def tiny_run(mnist_root, tmp_path_factory):
    """Un `Run` de la red compacta entrenada una época con TINY_LIMIT imágenes (una vez por sesión)."""
    cache = tmp_path_factory.mktemp("tiny-run")
    return trained_model("cnn", epochs=TINY_EPOCHS, limit=TINY_LIMIT, cache=cache, root=mnist_root,
                         progress=False)


# ------------------------------------------------------------------ la clase de prueba en un JupyterHub

@pytest.fixture(scope="session")
def shared(mnist_root):
    """Las carpetas de datos y redes de la clase de prueba (tests/hub_class.py)."""
    folder = hub_class.shared_folders(mnist_root)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def classroom(shared):
    """`python -m trazos servidor --prueba` con tres estudiantes y una docente: una sola clase por sesión."""
    if problem := hub_class.missing():
        skip_or_fail(problem)
    running = hub_class.Class(shared, students=hub_class.CLASS_SIZE)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def students(classroom):
    """Los dos estudiantes que se comparan, dentro y con su servidor arrancado."""
    people = [Student(classroom.url, name, hub_class.PASSWORD) for name in hub_class.STUDENTS]
    for person in people:
        person.login()
        person.spawn()
    yield people
    for person in people:
        person.close()


def pytest_collection_modifyitems(items):
    hub_class.stop_test_last(items)
