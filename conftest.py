"""Configuración de pytest para todo el repositorio: la biblioteca (tests/), los cuadernos y el navegador.

Está en la raíz, y no en tests/, porque así vale también para los cuadernos de notebooks/ que
ejecuta nbval (`python -m pytest --nbval-lax`).

- Una sola caché de modelos por sesión. Al arrancar, TRAZOS_CACHE pasa a ser una carpeta
  temporal nueva, y se pone en `os.environ`: la heredan los núcleos que arranca nbval y el
  servidor de Jupyter de la prueba del navegador. Así la red del curso se entrena como mucho
  una vez por sesión, y ninguna prueba lee ni escribe la caché de modelos del usuario.
  Igual con el progreso de los ejercicios (TRAZOS_PROGRESO, en trazos.progress): cada `check` de
  las pruebas y de los cuadernos se registra en esa carpeta temporal, no en la del usuario.
- Marcas, para elegir qué se ejecuta (`-m "not slow and not notebooks and not browser"`):
  los cuadernos llevan `notebooks`; la prueba del navegador, `browser` y `slow`; las pruebas
  que entrenan una red (piden una de SLOW_FIXTURES), `slow`.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
NOTEBOOKS = ROOT / "notebooks"
BROWSER_TEST = ROOT / "tests" / "test_browser.py"
# Fixtures que entrenan una red o lanzan `python -m trazos`: las pruebas que las piden son lentas.
SLOW_FIXTURES = {
    "tiny_run",  # tests/conftest.py: una época con 3000 imágenes
    "cli_run", "subprocess_runs",  # tests/test_cli.py
    "train_calls", "small_cached_run",  # tests/test_training.py: entrenan a través de trained_model
}

SESSION_CACHE = pytest.StashKey[Path]()
PREVIOUS_CACHE = pytest.StashKey[str | None]()
PREVIOUS_PROGRESS = pytest.StashKey[str | None]()
SESSION_PROGRESS = pytest.StashKey[Path]()


def pytest_configure(config):
    cache = Path(tempfile.mkdtemp(prefix="trazos-cache-"))
    config.stash[SESSION_CACHE] = cache
    config.stash[PREVIOUS_CACHE] = os.environ.get("TRAZOS_CACHE")
    os.environ["TRAZOS_CACHE"] = str(cache)
    config.stash[PREVIOUS_PROGRESS] = os.environ.get("TRAZOS_PROGRESO")
    config.stash[SESSION_PROGRESS] = Path(tempfile.mkdtemp(prefix="trazos-progreso-"))
    os.environ["TRAZOS_PROGRESO"] = str(config.stash[SESSION_PROGRESS])


def pytest_unconfigure(config):
    if SESSION_CACHE not in config.stash:
        return
    previous = config.stash[PREVIOUS_CACHE]
    if previous is None:
        os.environ.pop("TRAZOS_CACHE", None)
    else:
        os.environ["TRAZOS_CACHE"] = previous
    if config.stash[PREVIOUS_PROGRESS] is None:
        os.environ.pop("TRAZOS_PROGRESO", None)
    else:
        os.environ["TRAZOS_PROGRESO"] = config.stash[PREVIOUS_PROGRESS]
    shutil.rmtree(config.stash[SESSION_CACHE], ignore_errors=True)
    shutil.rmtree(config.stash[SESSION_PROGRESS], ignore_errors=True)


def pytest_report_header(config):
    return f"trazos: caché de modelos de esta sesión en {config.stash[SESSION_CACHE]}"


def _is_notebook_cell(item):
    try:
        from nbval.plugin import IPyNbCell
    except ImportError:  # sin nbval no hay celdas de cuaderno
        IPyNbCell = ()
    path = Path(item.path).resolve()
    return isinstance(item, IPyNbCell) or NOTEBOOKS in path.parents


@pytest.hookimpl(tryfirst=True)  # antes de que `-m` deseleccione por marcas
def pytest_collection_modifyitems(config, items):
    for item in items:
        if _is_notebook_cell(item):
            item.add_marker(pytest.mark.notebooks)
        elif Path(item.path).resolve() == BROWSER_TEST:
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.slow)
        elif SLOW_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def isolated_cache(pytestconfig):
    """La carpeta temporal de TRAZOS_CACHE de esta sesión (la que crea pytest_configure)."""
    return pytestconfig.stash[SESSION_CACHE]
