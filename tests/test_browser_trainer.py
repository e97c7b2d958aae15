"""El entrenamiento en vivo en un navegador de verdad (JupyterLab 4 y Notebook 7), con Chromium sin pantalla.

Se ejecuta el cuaderno 10 entero y, con el explorador de la sección 4 (que queda en pausa en
el paso 160 y enseñando la foto 0), se comprueba lo que ve una persona:
- ▶: las imágenes cambian con el tiempo;
- ⏸: dejan de cambiar tras, como mucho, los dibujos que ya estaban en camino: los de un segundo
  al ritmo al que llegaban con ▶ en ese navegador (con la máquina ocupada llegan menos por segundo y
  se acumulan más; el ritmo medido escala con la carga); cuánto tarda desde el clic se imprime
  (objetivo, 200 ms: es una cifra de la máquina y de su carga, y va en el README, no en una aserción);
- «Un paso»: el contador avanza exactamente uno y se ve un solo cambio;
- el deslizador «foto» de vuelta al 0: los kernels son otra vez los del paso 0.
Servidores, navegador y utilidades, los de tests/test_browser.py.
"""

import math
import time

import pytest

from test_browser import (IMAGE_BYTES, browser, chromium, jupyter_server, report, run_all,  # noqa: F401
                          screenshots, src)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "10_mira_como_aprende.ipynb"
ROOT = ".trazos-training-explorer"
KERNELS = f"{ROOT} img.trazos-live-kernels"
COUNT = f"{ROOT} .trazos-step-count"
IN_FLIGHT = 1.0  # s: tras ⏸ llegan, como mucho, los dibujos de un segundo al ritmo de ▶ (los que ya viajaban)

# Desde ahora, apunta cada cambio de las imágenes y del contador de pasos del primer explorador,
# y el momento de cada clic en sus botones.
WATCH = """(root) => {
    const box = document.querySelector(root);
    const watch = window.trazosLive = {changes: [], clicks: [], counts: [], kernelTimes: []};
    new MutationObserver(records => {
        for (const r of records) {
            if (r.type === 'attributes' && r.target.tagName === 'IMG') {
                watch.changes.push(performance.now());
                if (r.target.classList.contains('trazos-live-kernels')) {
                    watch.kernels = (watch.kernels || 0) + 1;
                    watch.kernelTimes.push(performance.now());
                }
            }
        }
    }).observe(box, {subtree: true, attributes: true, attributeFilter: ['src']});
    const count = box.querySelector('.trazos-step-count').parentElement;
    new MutationObserver(() => {
        const el = box.querySelector('.trazos-step-count');
        if (el) watch.counts.push(el.innerText);
    }).observe(count, {subtree: true, childList: true, characterData: true});
    box.addEventListener('click', () => watch.clicks.push(performance.now()), true);
}"""


def run_notebook(browser, url):
    page = run_all(browser, url, timeout=300)
    page.locator(KERNELS).first.wait_for(state="attached", timeout=60_000)
    return page


def step_number(page):
    return int(page.locator(COUNT).first.inner_text().split()[-1])


def check_live_controls(page, name, report, screenshots):
    root = page.locator(ROOT).first
    root.scroll_into_view_if_needed()
    page.wait_for_function("sel => document.querySelector(sel).innerText.trim() === 'paso 0'", arg=COUNT,
                           timeout=30_000)  # el cuaderno dejó enseñando la foto 0
    start_kernels = page.evaluate(IMAGE_BYTES, KERNELS)[0]  # los bytes del PNG: la URL blob: se libera al cambiar
    page.evaluate(WATCH, ROOT)

    # ▶: las imágenes cambian una y otra vez.
    root.locator(".trazos-play").click()
    page.wait_for_function("() => window.trazosLive.changes.length >= 6", timeout=30_000)
    time.sleep(1.0)
    playing = page.evaluate("window.trazosLive.changes.length")
    root.screenshot(path=screenshots / f"10_{name}_entrenando.png")

    # ⏸: dejan de cambiar, tras los dibujos que ya estaban en camino.
    root.locator(".trazos-pause").click()
    time.sleep(1.5)
    watch = page.evaluate("window.trazosLive")
    clicked = watch["clicks"][-1]
    after = [t for t in watch["changes"] if t > clicked]
    latency = (after[-1] - clicked) if after else 0.0
    drawn_after = len([t for t in watch["kernelTimes"] if t > clicked])
    during_play = [t for t in watch["kernelTimes"] if t < clicked]  # desde que empezó a mirar, con ▶
    rate = len(during_play) / max((clicked - during_play[0]) / 1000, 1e-3) if during_play else 0.0
    in_flight = max(1, math.ceil(rate * IN_FLIGHT))
    report(f"{name}: de pulsar ⏸ al último cambio de la vista, {latency:.0f} ms, {drawn_after} dibujo(s) tras el "
           f"clic ({playing} cambios de imagen mientras entrenaba).")
    time.sleep(0.5)
    still = page.evaluate("window.trazosLive.changes.length")
    assert still == len(watch["changes"]), "en pausa, la vista sigue cambiando"
    paused_at = step_number(page)
    assert paused_at > 160

    # «Un paso»: el contador avanza uno, y se ve un solo dibujo nuevo.
    kernels_before = src(page.locator(KERNELS).first)
    kernel_changes = page.evaluate("window.trazosLive.kernels || 0")
    root.locator(".trazos-step").click()
    page.wait_for_function("([sel, n]) => document.querySelector(sel).innerText.trim() === 'paso ' + n",
                           arg=[COUNT, paused_at + 1], timeout=30_000)
    time.sleep(1.0)
    assert step_number(page) == paused_at + 1
    assert src(page.locator(KERNELS).first) != kernels_before  # los kernels del paso nuevo
    changed = page.evaluate("window.trazosLive.kernels || 0") - kernel_changes
    assert changed == 1, f"un paso debería ser un solo cambio de los kernels; hubo {changed}"

    # El deslizador «foto», de vuelta al principio: los kernels del paso 0.
    root.locator(".trazos-scrubber .noUi-handle").focus()
    page.keyboard.press("Home")
    page.wait_for_function("sel => document.querySelector(sel).innerText.trim() === 'paso 0'", arg=COUNT,
                           timeout=30_000)
    page.wait_for_function(f"() => {{ const i = document.querySelector({KERNELS!r}); return i && i.complete; }}")
    time.sleep(0.5)
    assert page.evaluate(IMAGE_BYTES, KERNELS)[0] == start_kernels, "con la foto 0 no se ven los kernels del paso 0"
    root.screenshot(path=screenshots / f"10_{name}_foto_0.png")
    # Al final, para que las demás comprobaciones se hagan aunque esta falle.
    assert drawn_after <= in_flight, (f"tras ⏸ llegaron {drawn_after} dibujos nuevos (con ▶, {rate:.1f} por segundo): "
                                      "la vista siguió entrenando")


def test_lab_live_training(browser, tmp_path_factory, mnist_root, screenshots, report):
    with jupyter_server("jupyterlab", tmp_path_factory.mktemp("jupyterlab10"), mnist_root) as url:
        start = time.monotonic()
        page = run_notebook(browser, f"{url}/lab/tree/{NOTEBOOK}")
        report(f"JupyterLab: cuaderno 10 ejecutado en {time.monotonic() - start:.1f} s.")
        check_live_controls(page, "jupyterlab", report, screenshots)
        page.close()


def test_notebook7_live_training(browser, tmp_path_factory, mnist_root, screenshots, report):
    with jupyter_server("notebook", tmp_path_factory.mktemp("notebook7_10"), mnist_root) as url:
        start = time.monotonic()
        page = run_notebook(browser, f"{url}/notebooks/{NOTEBOOK}")
        assert page.evaluate("window.jupyterapp.name") == "Jupyter Notebook"
        report(f"Notebook 7: cuaderno 10 ejecutado en {time.monotonic() - start:.1f} s.")
        check_live_controls(page, "notebook7", report, screenshots)
        page.close()
