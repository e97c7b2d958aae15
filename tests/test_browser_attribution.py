"""«¿Qué mira la red?» en un navegador de verdad (JupyterLab 4), con Chromium sin pantalla.

Se ejecuta el cuaderno 11 entero y se comprueba lo que ve una persona en sus exploradores:
- el de atribución: al pulsar otro método (Grad-CAM) cambia el mapa sobre el dígito, y al
  volver a «saliencia» se ve otra vez exactamente el mismo mapa que al principio;
- el del mapa de los dígitos: con el deslizador de época al principio (la red sin entrenar) el
  dibujo cambia, y al volver a la última época es el de antes.
Servidores, navegador y utilidades, los de tests/test_browser.py.
"""

import time

import pytest

from test_browser import (IMAGE_BYTES, browser, chromium, jupyter_server, report, run_all,  # noqa: F401
                          screenshots)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "11_que_mira_la_red.ipynb"
ATTRIBUTION = ".trazos-attribution-explorer"
MAP = f"{ATTRIBUTION} img.trazos-map"
EMBEDDING = ".trazos-embedding-explorer"
SCATTER = f"{EMBEDDING} img.trazos-scatter"


def run_notebook(browser, url):
    return run_all(browser, url, timeout=600)


def image_bytes(page, selector):
    page.wait_for_function("sel => { const i = document.querySelector(sel); return i && i.complete && i.src; }",
                           arg=selector, timeout=30_000)
    return page.evaluate(IMAGE_BYTES, selector)[0]


def wait_for_new_image(page, selector, old, timeout=30.0):
    """Los bytes del PNG que se ve en `selector` cuando ya no son `old` (falla si no cambian a tiempo)."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        now = image_bytes(page, selector)
        if now != old:
            return now
        time.sleep(0.2)
    raise AssertionError(f"la imagen {selector} no cambió en {timeout:.0f} s")


def test_lab_attribution_and_embedding_explorers(browser, tmp_path_factory, mnist_root, screenshots, report):
    with jupyter_server("jupyterlab", tmp_path_factory.mktemp("jupyterlab11"), mnist_root) as url:
        start = time.monotonic()
        page = run_notebook(browser, f"{url}/lab/tree/{NOTEBOOK}")
        report(f"JupyterLab: cuaderno 11 ejecutado en {time.monotonic() - start:.1f} s.")

        root = page.locator(ATTRIBUTION).first
        root.scroll_into_view_if_needed()
        saliency = image_bytes(page, MAP)
        root.locator(".trazos-method button", has_text="grad-cam").click()
        grad_cam = wait_for_new_image(page, MAP, saliency)
        root.screenshot(path=screenshots / "11_atribucion_grad_cam.png")
        root.locator(".trazos-method button", has_text="saliencia").click()
        assert wait_for_new_image(page, MAP, grad_cam) == saliency, "volver a «saliencia» no da el mismo mapa"

        box = page.locator(EMBEDDING).first
        box.scroll_into_view_if_needed()
        trained = image_bytes(page, SCATTER)
        box.locator(".trazos-epoch .noUi-handle").focus()
        page.keyboard.press("Home")  # época 0: la red sin entrenar
        untrained = wait_for_new_image(page, SCATTER, trained)
        box.screenshot(path=screenshots / "11_mapa_sin_entrenar.png")
        page.keyboard.press("End")
        assert wait_for_new_image(page, SCATTER, untrained) == trained, "la última época no vuelve a su dibujo"
        report(f"Capturas del cuaderno 11 en {screenshots}")
        page.close()
