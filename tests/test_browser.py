"""El laboratorio en un navegador de verdad: JupyterLab + Chromium sin pantalla + Playwright.

Las pruebas de test_widgets.py mueven los controles desde Python; esta comprueba lo que
ve una persona: que los widgets (ipywidgets 8 e ipycanvas) se dibujan en JupyterLab 4 y
que al mover un control, hacer clic o dibujar con el ratón cambia lo que se muestra.

- JupyterLab arranca en 127.0.0.1, en un puerto libre, sin token ni contraseña, sin noticias
  ni comprobación de versiones, con configuración, ajustes y espacios de trabajo temporales.
  Trabaja sobre una copia temporal de notebooks/: nada se escribe en el repositorio.
- El núcleo es el python3 de este mismo entorno (el de ipykernel).
- La caché de modelos es temporal. Si el usuario ya tiene la red del curso entrenada, se copia
  allí (solo se lee); si no, el cuaderno la entrena (más lento, pero igual de válido).
- Las capturas van a la carpeta de TRAZOS_SCREENSHOTS o, si no está definida, a una carpeta
  temporal; la ruta se imprime en la salida de la prueba.
- Sin Chromium la prueba se salta explicando por qué, salvo en CI (variable CI): allí falla.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from trazos import data
from trazos.training import CACHE_VERSION, RECIPE

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "08_laboratorio.ipynb"
# Se lee al importar el módulo, antes de que conftest.py cambie TRAZOS_CACHE a una carpeta temporal.
USER_CACHE = data.cache_root()
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_TIMEOUT = 90  # s para que JupyterLab responda
RUN_TIMEOUT = 300  # s para ejecutar el cuaderno entero (con la caché fría entrena la red)
UPDATE_TIMEOUT = 30_000  # ms para que un widget reaccione a un control


def skip_or_fail(reason):
    """Sin navegador no hay prueba: se salta, salvo en CI, donde eso sería un error."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} En CI esta prueba no se puede saltar.", pytrace=False)
    pytest.skip(reason)


def find_chromium():
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_json(path, content):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(content, indent=1))


@pytest.fixture(scope="module")
def chromium():
    """La ruta de Chromium; sin él (o sin playwright) se salta antes de arrancar JupyterLab."""
    path = find_chromium()
    if path is None:
        skip_or_fail("No se encontró Chromium (/usr/bin/chromium ni chromium en el PATH).")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("Falta el paquete playwright (pip install playwright; el navegador es el Chromium del sistema).")
    return path


@pytest.fixture(scope="module")
def jupyter_lab(chromium, tmp_path_factory, mnist_root):
    """Un JupyterLab temporal; al terminar se para siempre, con sus núcleos."""
    base = tmp_path_factory.mktemp("jupyterlab")
    notebooks = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    cache = base / "cache"
    cache.mkdir()
    epochs = RECIPE["cnn"]["epochs"]
    warm = USER_CACHE / f"cnn-e{epochs}-s0-v{CACHE_VERSION}.pt"
    if warm.is_file():
        shutil.copy(warm, cache / warm.name)
    port = free_port()
    config = base / "config"
    write_json(config / "jupyter_server_config.json", {
        "ServerApp": {"ip": "127.0.0.1", "port": port, "port_retries": 0, "open_browser": False,
                      "root_dir": str(notebooks), "password": "", "terminals_enabled": False,
                      "allow_root": True},  # en contenedores y en CI se suele ser root
        "IdentityProvider": {"token": ""},
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "expose_app_in_browser": True},
    })
    write_json(config / "labconfig" / "page_config.json",
               {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    settings = base / "settings"
    write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
               {"fetchNews": "false", "checkForUpdates": False})
    # Todas las celdas en el DOM (sin "windowing"): así se localizan sin depender del scroll.
    write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
               {"windowingMode": "none"})
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_DATA_DIR=str(base / "data"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"), IPYTHONDIR=str(base / "ipython"),
               TRAZOS_CACHE=str(cache), TRAZOS_DATA=str(mnist_root), PYTHONUNBUFFERED="1")
    log = open(base / "jupyterlab.log", "w")
    # Sesión propia: al final se puede parar el servidor y sus núcleos por su grupo de procesos.
    server = subprocess.Popen([sys.executable, "-m", "jupyterlab", "--no-browser"], cwd=notebooks, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_TIMEOUT
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"JupyterLab terminó al arrancar:\n{(base / 'jupyterlab.log').read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/api/status", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab no respondió en {SERVER_TIMEOUT} s:\n"
                                   f"{(base / 'jupyterlab.log').read_text()[-3000:]}")
            time.sleep(0.25)
        yield {"url": url, "log": base / "jupyterlab.log"}
    finally:
        server.terminate()  # SIGTERM: JupyterLab apaga sus núcleos y termina
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        try:  # lo que quede del grupo (un núcleo colgado, el propio servidor): fuera
            os.killpg(server.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    folder = os.environ.get("TRAZOS_SCREENSHOTS")
    folder = Path(folder) if folder else tmp_path_factory.mktemp("capturas")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


ALL_DONE = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.sessionContext.session) return false;
    const kernel = panel.sessionContext.session.kernel;
    const cells = panel.content.widgets.filter(c => c.model.type === 'code');
    const failed = cells.some(c => c.model.outputs.toJSON().some(o => o.output_type === 'error'));
    return kernel && kernel.status === 'idle' && cells.length > 0
        && (failed || cells.every(c => c.model.executionCount !== null));  // un error para la ejecución
}"""

ERRORS = """() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const found = [];
    for (const cell of panel.content.widgets) {
        if (cell.model.type !== 'code') continue;
        for (const out of cell.model.outputs.toJSON()) {
            if (out.output_type === 'error') found.push(out.ename + ': ' + out.evalue);
        }
    }
    return found;
}"""


def src(locator):
    return locator.get_attribute("src")


def wait_text(page, selector, needle):
    """Espera a que el primer elemento que cumple `selector` contenga el texto `needle`."""
    script = "([sel, txt]) => { const el = document.querySelector(sel); return el && el.innerText.includes(txt); }"
    page.wait_for_function(script, arg=[selector, needle], timeout=UPDATE_TIMEOUT)


def wait_change(page, selector, before, what="src"):
    """Espera a que cambie el `src` (o el texto) del primer elemento que cumple `selector`."""
    read = "el.getAttribute('src')" if what == "src" else "el.innerText"
    script = f"([sel, old]) => {{ const el = document.querySelector(sel); return el && {read} !== old; }}"
    page.wait_for_function(script, arg=[selector, before], timeout=UPDATE_TIMEOUT)


def test_laboratory_in_a_real_browser(chromium, jupyter_lab, screenshots, capsys):
    from playwright.sync_api import sync_playwright

    with capsys.disabled():
        print(f"\nCapturas del navegador en: {screenshots}")
    start = time.monotonic()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1000})
            page.goto(f"{jupyter_lab['url']}/lab/tree/{NOTEBOOK}", timeout=90_000)
            page.wait_for_function("""() => { const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                return p && p.sessionContext && p.sessionContext.isReady
                    && p.sessionContext.session.kernel.status === 'idle'; }""", timeout=90_000)
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
            page.wait_for_function(ALL_DONE, timeout=RUN_TIMEOUT * 1000, polling=500)
            errors = page.evaluate(ERRORS)
            assert not errors, f"El cuaderno dio errores al ejecutarse: {errors}"

            # Los seis exploradores están dibujados (y ningún "Error displaying widget").
            for name in ("activation", "kernel", "padding", "softmax", "confusion", "draw"):
                page.locator(f".trazos-{name}-explorer").first.wait_for(state="visible", timeout=60_000)
            assert "Error displaying widget" not in page.inner_text(".jp-NotebookPanel")
            page.screenshot(path=screenshots / "00_laboratorio.png")

            # 1. Etapa y dígito del explorador de activaciones.
            explorer = page.locator(".trazos-activation-explorer").first
            explorer.scroll_into_view_if_needed()
            explorer.screenshot(path=screenshots / "01_activaciones_conv1.png")
            maps = ".trazos-activation-explorer img.trazos-maps"
            caption = ".trazos-activation-explorer .trazos-caption"
            before, caption_before = src(page.locator(maps).first), page.locator(caption).first.inner_text()
            assert "conv1: 16 mapas de 16x16" in caption_before
            explorer.locator(".trazos-stage .noUi-handle").focus()
            page.keyboard.press("ArrowRight")  # conv1 -> relu1 -> pool1
            page.keyboard.press("ArrowRight")
            wait_text(page, caption, "pool1: 16 mapas de 8x8")
            wait_change(page, maps, before)
            explorer.screenshot(path=screenshots / "02_activaciones_pool1.png")
            title = ".trazos-activation-explorer .trazos-title"
            title_before, input_before = page.locator(title).first.inner_text(), src(explorer.locator(".trazos-input"))
            assert "es un 0" in title_before
            explorer.locator(".trazos-digit .noUi-handle").focus()
            page.keyboard.press("ArrowRight")  # dígito 0 -> 1
            wait_text(page, title, "es un 1")
            wait_change(page, ".trazos-activation-explorer img.trazos-input", input_before)
            explorer.screenshot(path=screenshots / "03_activaciones_digito_1.png")

            # 2. La época de los kernels y el padding de la red.
            kernels = page.locator(".trazos-kernel-explorer")
            kernels.scroll_into_view_if_needed()
            kernels_before = src(page.locator("img.trazos-kernels"))
            kernels.locator(".trazos-epoch .noUi-handle").focus()
            page.keyboard.press("Home")  # época 0: antes de entrenar
            wait_text(page, ".trazos-kernel-explorer", "antes de entrenar")
            wait_change(page, "img.trazos-kernels", kernels_before)
            kernels.screenshot(path=screenshots / "04_kernels_epoca_0.png")
            padding = page.locator(".trazos-padding-explorer")
            padding.scroll_into_view_if_needed()
            assert "⚠" not in padding.inner_text()
            padding.locator(".trazos-padding .noUi-handle").focus()
            page.keyboard.press("ArrowLeft")  # padding 1 -> 0: la Linear ya no encaja
            wait_text(page, ".trazos-padding-explorer", "espera 512 entradas")
            assert "⌊(16 + 2·0 − 3) / 1⌋ + 1" in padding.inner_text()
            padding.screenshot(path=screenshots / "05_padding_0.png")
            page.locator(".trazos-softmax-explorer").screenshot(path=screenshots / "06_softmax.png")

            # 3. Una casilla de la matriz de confusión.
            confusion = page.locator(".trazos-confusion-explorer")
            confusion.scroll_into_view_if_needed()
            assert "Real 3, predicho 3" not in confusion.locator(".trazos-title").inner_text()
            gallery_before = page.locator(".trazos-gallery").inner_text()
            confusion.locator(".trazos-cell-3-3").click()
            wait_text(page, ".trazos-confusion-explorer .trazos-title", "Real 3, predicho 3")
            wait_change(page, ".trazos-gallery", gallery_before, what="text")
            assert "pred 3:" in page.locator(".trazos-gallery").inner_text()
            confusion.screenshot(path=screenshots / "07_confusion_3_3.png")

            # 4. Un trazo con el ratón en el lienzo.
            draw = page.locator(".trazos-draw-explorer")
            draw.scroll_into_view_if_needed()
            canvas = draw.locator("canvas")
            box = canvas.bounding_box()
            seen_before = src(page.locator(".trazos-draw-explorer img.trazos-seen"))
            assert "Dibuja un dígito" in page.locator(".trazos-prediction").inner_text()
            x = box["x"] + box["width"] / 2
            page.mouse.move(x, box["y"] + 0.15 * box["height"])
            page.mouse.down()
            page.mouse.move(x, box["y"] + 0.85 * box["height"], steps=15)
            page.mouse.up()
            wait_text(page, ".trazos-prediction", "La red lee un")
            wait_change(page, ".trazos-draw-explorer img.trazos-seen", seen_before)
            assert "La red lee un 1" in page.locator(".trazos-prediction").inner_text()
            # El trazo está en el lienzo del navegador: el centro es blanco, la esquina negra.
            pixels = canvas.evaluate("""el => { const c = el.getContext('2d');
                return [c.getImageData(el.width / 2, el.height / 2, 1, 1).data[0],
                        c.getImageData(5, 5, 1, 1).data[0]]; }""")
            assert pixels[0] > 200 and pixels[1] < 50, pixels
            draw.screenshot(path=screenshots / "08_dibujo.png")
            draw.locator(".trazos-erase").click()
            wait_text(page, ".trazos-prediction", "Dibuja un dígito")
        finally:
            browser.close()
    with capsys.disabled():
        print(f"Prueba en el navegador: {time.monotonic() - start:.1f} s (sin contar el arranque de JupyterLab).")
