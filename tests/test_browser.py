"""El laboratorio en un navegador de verdad: Chromium sin pantalla, manejado con Playwright.

Las pruebas de test_widgets.py y test_draw.py mueven los controles desde Python; estas
comprueban lo que ve una persona: que los widgets (ipywidgets 8 y el lienzo de anywidget) se
dibujan, y que al mover un control, hacer clic o dibujar con el ratón cambia lo que se
muestra, y cambia a lo que la biblioteca calcula por su cuenta para esa misma elección.

- El cuaderno 08 se ejecuta en JupyterLab 4 (`python -m jupyterlab`) y también en Jupyter
  Notebook 7 (`python -m notebook`), cada uno con su servidor.
- Los servidores arrancan en 127.0.0.1, en un puerto libre, sin token ni contraseña, sin
  noticias ni comprobación de versiones, con configuración, ajustes y espacios de trabajo
  temporales. Trabajan sobre una copia temporal de notebooks/: nada se escribe en el repositorio.
- El núcleo es el python3 de este mismo entorno (el de ipykernel) y hereda el entorno de
  pytest, también TRAZOS_CACHE: la caché temporal de la sesión de pruebas (conftest.py de la
  raíz), así que la red del curso se entrena como mucho una vez por sesión, aquí o donde se
  necesite antes. MNIST, de la carpeta que usan las pruebas (`mnist_root`).
- Para comparar lo que se ve con lo que calcula la biblioteca, la prueba ejecuta código en el
  mismo núcleo del cuaderno (sin añadir celdas).
- Las capturas van a la carpeta de TRAZOS_SCREENSHOTS o, si no está definida, a una carpeta
  temporal; la ruta se imprime en la salida de la prueba.
- Sin Chromium la prueba se salta explicando por qué, salvo en CI (CI=true): allí falla.
"""

import base64
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = "08_laboratorio.ipynb"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SERVER_TIMEOUT = 90  # s para que el servidor responda
RUN_TIMEOUT = 300  # s para ejecutar el cuaderno entero (con la caché fría entrena la red)
UPDATE_TIMEOUT = 30_000  # ms para que un widget reaccione a un control
EXPLORERS = ("activation", "kernel", "padding", "softmax", "confusion", "draw")


def in_ci():
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def skip_or_fail(reason):
    """Sin navegador no hay prueba: se salta, salvo en CI, donde eso sería un error."""
    if in_ci():
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


def test_without_chromium_ci_fails_and_elsewhere_skips(monkeypatch):
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="En CI esta prueba no se puede saltar"):
        skip_or_fail("No se encontró Chromium.")
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="No se encontró Chromium"):
        skip_or_fail("No se encontró Chromium.")


# ---------------------------------------------------------------------------------------------
# Servidores de Jupyter y navegador.

@pytest.fixture(scope="module")
def chromium():
    """La ruta de Chromium; sin él (o sin playwright) se salta antes de arrancar ningún servidor."""
    path = find_chromium()
    if path is None:
        skip_or_fail("No se encontró Chromium (/usr/bin/chromium ni chromium en el PATH).")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        skip_or_fail("Falta el paquete playwright (pip install playwright; el navegador es el Chromium del sistema).")
    return path


@contextlib.contextmanager
def jupyter_server(app, base, data_root):
    """Arranca `python -m <app>` (jupyterlab o notebook) sobre una copia de notebooks/ y da su URL.

    Sus núcleos leen MNIST de `data_root` (la carpeta que usan las pruebas). Al salir se para
    siempre, con sus núcleos.
    """
    if not os.environ.get("TRAZOS_CACHE"):  # sin ella el núcleo usaría la caché del usuario
        pytest.fail("TRAZOS_CACHE no está definida en las pruebas (conftest.py la pone en una carpeta temporal "
                    "de la sesión); sin ella el navegador escribiría en la caché del usuario.", pytrace=False)
    notebooks = base / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    config, settings = base / "config", base / "settings"
    write_json(config / "jupyter_server_config.json", {
        "ServerApp": {"ip": "127.0.0.1", "port_retries": 0, "open_browser": False, "root_dir": str(notebooks),
                      "password": "", "terminals_enabled": False,
                      "allow_root": True},  # en contenedores y en CI se suele ser root
        "IdentityProvider": {"token": ""},
        "LabApp": {"news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                   "expose_app_in_browser": True},
        "JupyterNotebookApp": {"expose_app_in_browser": True},  # window.jupyterapp también en Notebook 7
    })
    write_json(config / "labconfig" / "page_config.json",
               {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    write_json(settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings",
               {"fetchNews": "false", "checkForUpdates": False})
    # Todas las celdas en el DOM (sin "windowing"): así se localizan sin depender del scroll.
    write_json(settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings",
               {"windowingMode": "none"})
    # Todo el entorno de pytest, TRAZOS_CACHE incluida, pasa al servidor y a sus núcleos.
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), JUPYTER_RUNTIME_DIR=str(base / "runtime"),
               JUPYTER_DATA_DIR=str(base / "data"), JUPYTERLAB_SETTINGS_DIR=str(settings),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "workspaces"), IPYTHONDIR=str(base / "ipython"),
               TRAZOS_DATA=str(data_root), PYTHONUNBUFFERED="1")
    port = free_port()
    log_path = base / "servidor.log"
    with open(log_path, "w") as log:
        # Sesión propia: al final se puede parar el servidor y sus núcleos por su grupo de procesos.
        server = subprocess.Popen([sys.executable, "-m", app, "--no-browser", f"--port={port}"], cwd=notebooks,
                                  env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + SERVER_TIMEOUT
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"{app} terminó al arrancar:\n{log_path.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(f"{url}/api/status", timeout=2) as answer:
                        if answer.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{app} no respondió en {SERVER_TIMEOUT} s:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.25)
            yield url
        finally:
            server.terminate()  # SIGTERM: el servidor apaga sus núcleos y termina
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
            try:  # lo que quede del grupo (un núcleo colgado, el propio servidor): fuera
                os.killpg(server.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            server.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    folder = os.environ.get("TRAZOS_SCREENSHOTS")
    folder = Path(folder) if folder else tmp_path_factory.mktemp("capturas")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def report(request):
    """Imprime una línea en la salida de pytest aunque capture la salida (cifras y rutas)."""
    manager = request.config.pluginmanager.getplugin("capturemanager")

    def say(line):
        with manager.global_and_fixture_disabled():
            print(f"\n{line}")
    return say


# ---------------------------------------------------------------------------------------------
# Lo que se pregunta al navegador.

KERNEL_READY = """() => { const p = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    return p && p.sessionContext && p.sessionContext.isReady && p.sessionContext.session
        && p.sessionContext.session.kernel && p.sessionContext.session.kernel.status === 'idle'; }"""

STARTED = """() => {
    const panel = window.jupyterapp && window.jupyterapp.shell.currentWidget;
    if (!panel || !panel.content || !panel.sessionContext.session) return false;
    const kernel = panel.sessionContext.session.kernel;
    return (kernel && kernel.status === 'busy')
        || panel.content.widgets.some(c => c.model.type === 'code' && c.model.executionCount !== null);
}"""

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

# Ejecuta código en el núcleo del cuaderno abierto y devuelve lo que imprime (sin tocar las celdas).
IN_KERNEL = """async (code) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const future = kernel.requestExecute({code, store_history: false});
    let text = '';
    future.onIOPub = msg => {
        if (msg.header.msg_type === 'stream') text += msg.content.text;
        if (msg.header.msg_type === 'error') text += `ERROR ${msg.content.ename}: ${msg.content.evalue}`;
    };
    await future.done;
    return text;
}"""

# Desde ahora, cuenta los mensajes de los widgets al núcleo y apunta cuándo se suelta el ratón y
# cuándo aparece la predicción (para medir cuánto tarda en verse).
WATCH_DRAWING = """(root) => {
    const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
    const watch = window.trazosWatch = {sent: 0, up: null, shown: null};
    kernel.anyMessage.connect((_, args) => {
        if (args.direction === 'send' && args.msg.header.msg_type === 'comm_msg') watch.sent += 1;
    });
    document.addEventListener('pointerup', () => { watch.up = performance.now(); }, true);
    const target = document.querySelector(root + ' .trazos-prediction');
    new MutationObserver(() => {
        if (watch.shown === null && target.innerText.includes('La red lee')) watch.shown = performance.now();
    }).observe(target, {subtree: true, childList: true, characterData: true});
}"""

# Los bytes (base64) de las imágenes que enseña el navegador.
IMAGE_BYTES = """async (selector) => Promise.all([...document.querySelectorAll(selector)].map(async img => {
    const bytes = new Uint8Array(await (await fetch(img.src)).arrayBuffer());
    let text = '';
    for (const b of bytes) text += String.fromCharCode(b);
    return btoa(text);
}))"""

# El canal rojo del lienzo del navegador (blanco y negro: basta uno), en base64.
CANVAS_PIXELS = """el => {
    const data = el.getContext('2d').getImageData(0, 0, el.width, el.height).data;
    let text = '';
    for (let i = 0; i < data.length; i += 4) text += String.fromCharCode(data[i]);
    return btoa(text);
}"""

# El explorador de dibujo del cuaderno (la salida de su celda) y lo que calcula la biblioteca, por
# su cuenta, para el dibujo que tiene Python. {python_stroke}: un trazo desde Python antes de mirar.
DRAWING_IN_KERNEL = """
import base64, json
from trazos import inspection as _inspection, render as _render
_explorer = [v for v in Out.values() if "trazos-draw-explorer" in getattr(v, "_dom_classes", ())][-1]
{python_stroke}
_result = _inspection.predict_drawing(model, _explorer.drawing)
_p = _result["prediction"]
_png = lambda picture: base64.b64encode(_render.to_png(picture)).decode()
print(json.dumps({{
    "strokes": [len(stroke) for stroke in _explorer.canvas.strokes],
    "prediction": f"La red lee un {{_p}} ({{_render.percent(_result['probs'][_p])}})",
    "seen": _png(_render.digit_picture(_result["image"], scale=8)),
    "stages": [_png(_render.maps_picture(output, cell=40)) for output in _result["activations"].values()],
    "drawing": base64.b64encode(_explorer.drawing.tobytes()).decode(),
}}))
"""

# Lo que enseña `select(verdadero, predicho)` en un explorador de confusión nuevo.
SELECT_IN_KERNEL = """
import json
from trazos import widgets as _widgets
_fresh = _widgets.confusion_explorer(model, test)
_fresh.select({true}, {pred})
print(json.dumps({{"title": _fresh.title.value, "gallery": _fresh.gallery.value}}))
"""


def in_kernel(page, code):
    """Ejecuta `code` en el núcleo del cuaderno y devuelve el JSON que imprime."""
    out = page.evaluate(IN_KERNEL, code)
    assert not out.startswith("ERROR"), out
    return json.loads(out)


def src(locator):
    return locator.get_attribute("src")


def text(html):
    """Texto visible de un HTML (sin etiquetas ni espacios repetidos)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def wait_text(page, selector, needle):
    """Espera a que el primer elemento que cumple `selector` contenga el texto `needle`."""
    script = "([sel, txt]) => { const el = document.querySelector(sel); return el && el.innerText.includes(txt); }"
    page.wait_for_function(script, arg=[selector, needle], timeout=UPDATE_TIMEOUT)


def wait_change(page, selector, before, what="src"):
    """Espera a que cambie el `src` (o el texto) del primer elemento que cumple `selector`."""
    read = "el.getAttribute('src')" if what == "src" else "el.innerText"
    script = f"([sel, old]) => {{ const el = document.querySelector(sel); return el && {read} !== old; }}"
    page.wait_for_function(script, arg=[selector, before], timeout=UPDATE_TIMEOUT)


def loaded(selector):
    """JS: ¿están cargadas y no vacías todas las imágenes que cumplen `selector`?"""
    return (f"() => {{ const imgs = [...document.querySelectorAll({json.dumps(selector)})];"
            f" return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }}")


def run_all(browser, url, timeout=RUN_TIMEOUT):
    """Abre el cuaderno de `url`, pulsa «Run All», espera a que acabe sin errores y devuelve la página."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    page = browser.new_page(viewport={"width": 1500, "height": 1200})
    page.goto(url, timeout=90_000)
    page.wait_for_function(KERNEL_READY, timeout=90_000)
    # Sin esperar a la promesa de la orden: page.evaluate no tiene límite de tiempo, y una orden
    # que la interfaz se traga (pasó una vez en Notebook 7, con el núcleo ya listo y sin ejecutar
    # nada) colgaba la prueba, y la CI, para siempre. Si a los 60 s no ha empezado ninguna celda,
    # se vuelve a pedir una vez, como haría quien pulsa «Run All» y no ve nada.
    for attempt in (1, 2):
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        try:
            page.wait_for_function(STARTED, timeout=60_000, polling=500)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    page.wait_for_function(ALL_DONE, timeout=timeout * 1000, polling=500)
    errors = page.evaluate(ERRORS)
    assert not errors, f"El cuaderno dio errores al ejecutarse: {errors}"
    assert "Error displaying widget" not in page.inner_text("body")
    return page


# El texto de la salida de la celda que crea el explorador `name` (para decir qué se ve en su lugar),
# y volver a ejecutar esa celda sola.
EXPLORER_CELL = """(name) => {
    const panel = window.jupyterapp.shell.currentWidget;
    const index = panel.content.widgets.findIndex(c => c.model.type === 'code'
        && c.model.sharedModel.getSource().includes(name + '_explorer('));
    return index < 0 ? null : {index, shown: panel.content.widgets[index].outputArea.node.innerText.slice(0, 300)};
}"""
RUN_CELL = """(index) => {
    const panel = window.jupyterapp.shell.currentWidget;
    panel.content.activeCellIndex = index;
    window.jupyterapp.commands.execute('notebook:run-cell');
}"""


def open_and_run(browser, url):
    """El cuaderno 08 entero (`run_all`), con sus seis exploradores y el lienzo dibujados.

    JupyterLab 4 a veces no llega a dibujar un widget cuya salida ya está («Loading widget...»,
    ipywidgets #3823, #3968): le pasó una vez en la CI a un explorador de este cuaderno, con la
    celda terminada y sin errores. Como haría quien lo ve, se vuelve a ejecutar esa celda una vez,
    con un aviso que dice qué se veía en su lugar; si tampoco aparece, la prueba falla.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    page = run_all(browser, url)
    for name in EXPLORERS:  # los seis exploradores están dibujados
        explorer = page.locator(f".trazos-{name}-explorer").first
        try:
            explorer.wait_for(state="attached", timeout=60_000)
        except PlaywrightTimeout:
            cell = page.evaluate(EXPLORER_CELL, name)
            assert cell is not None, f"no se encontró la celda del explorador {name}"
            warnings.warn(f"JupyterLab no dibujó el explorador {name} en 60 s (se veía: {cell['shown']!r}); "
                          f"se vuelve a ejecutar su celda ({cell['index']}).")
            page.evaluate(RUN_CELL, cell["index"])
            explorer.wait_for(state="attached", timeout=60_000)
    page.locator(".trazos-draw-explorer canvas").wait_for(state="attached", timeout=60_000)
    assert "Error displaying widget" not in page.inner_text("body")
    return page


def canvas_pixel(page, root, x, y):
    """El rojo (0-255) del píxel (x, y) del lienzo del navegador: blanco el trazo, negro el fondo."""
    return page.locator(f"{root} canvas").evaluate(
        "(el, [x, y]) => el.getContext('2d').getImageData(x, y, 1, 1).data[0]", [x, y])


def wait_pixel(page, root, x, y, white):
    """Espera a que el píxel (x, y) del lienzo sea blanco (o negro)."""
    script = """([sel, x, y, white]) => { const el = document.querySelector(sel + ' canvas');
        const red = el && el.getContext('2d').getImageData(x, y, 1, 1).data[0];
        return el && (white ? red > 200 : red < 50); }"""
    page.wait_for_function(script, arg=[root, x, y, white], timeout=UPDATE_TIMEOUT)


def erase(page, root):
    """«Borrar»: el lienzo queda en negro y las vistas, vacías."""
    page.locator(f"{root} .trazos-erase").click()
    wait_text(page, f"{root} .trazos-prediction", "Dibuja un dígito")
    wait_pixel(page, root, 140, 140, white=False)
    assert not page.evaluate(loaded(f"{root} img.trazos-stage-picture")), "sin dibujo no hay activaciones"


def check_shows_the_kernel_drawing(page, root, python_stroke=""):
    """Lo que se ve (predicción, «lo que ve la red», cada paso y el propio lienzo) es lo que la
    biblioteca calcula para el dibujo que tiene Python. Devuelve lo que calculó el núcleo."""
    expected = in_kernel(page, DRAWING_IN_KERNEL.format(python_stroke=python_stroke))
    page.wait_for_function("([sel, txt]) => document.querySelector(sel).innerText.trim() === txt",
                           arg=[f"{root} .trazos-prediction", expected["prediction"]], timeout=UPDATE_TIMEOUT)
    stages = f"{root} img.trazos-stage-picture"
    page.wait_for_function(loaded(stages), timeout=UPDATE_TIMEOUT)  # cada paso tiene su dibujo
    assert page.evaluate(IMAGE_BYTES, f"{root} img.trazos-seen") == [expected["seen"]]
    shown = page.evaluate(IMAGE_BYTES, stages)
    assert len(shown) == len(expected["stages"]) and shown == expected["stages"]
    # El dibujo de Python es el del lienzo del navegador (salvo algún píxel del borde suavizado).
    browser_pixels = np.frombuffer(base64.b64decode(page.locator(f"{root} canvas").evaluate(CANVAS_PIXELS)),
                                   np.uint8).reshape(280, 280) >= 128
    python_pixels = np.frombuffer(base64.b64decode(expected["drawing"]), np.uint8).reshape(280, 280) >= 128
    assert (browser_pixels != python_pixels).sum() < 0.01 * browser_pixels.sum()
    return expected


def draw_and_check(page, root):
    """Borra, dibuja un palo vertical con el ratón y luego una raya desde Python, y comprueba
    lo que se ve tras cada trazo. Devuelve los ms desde soltar el ratón hasta ver la predicción."""
    page.locator(root).scroll_into_view_if_needed()
    erase(page, root)  # el cuaderno puede haber dibujado algo desde Python: se empieza de cero
    seen_before = src(page.locator(f"{root} img.trazos-seen"))
    page.evaluate(WATCH_DRAWING, root)
    box = page.locator(f"{root} canvas").bounding_box()
    x = box["x"] + box["width"] / 2
    page.mouse.move(x, box["y"] + 0.15 * box["height"])
    page.mouse.down()
    page.mouse.move(x, box["y"] + 0.85 * box["height"], steps=15)
    # El trazo ya se ve en el navegador antes de soltar, y sin haber hablado con el núcleo.
    assert canvas_pixel(page, root, 140, 140) > 200 and canvas_pixel(page, root, 5, 5) < 50
    assert page.evaluate("window.trazosWatch.sent") == 0, "mover el ratón no debe mandar nada al núcleo"
    page.mouse.up()
    wait_text(page, f"{root} .trazos-prediction", "La red lee un")
    wait_change(page, f"{root} img.trazos-seen", seen_before)
    watch = page.evaluate("window.trazosWatch")
    assert watch["sent"] == 1, f"un trazo debería ser un solo mensaje al núcleo; fueron {watch['sent']}"
    expected = check_shows_the_kernel_drawing(page, root)
    assert len(expected["strokes"]) == 1 and expected["strokes"][0] >= 2, expected["strokes"]

    # Un trazo desde Python (explorer.draw) se pinta en el lienzo del navegador y se suma al del ratón.
    assert canvas_pixel(page, root, 50, 140) < 50
    expected = check_shows_the_kernel_drawing(page, root, "_explorer.draw([(40, 140), (240, 140)])")
    assert len(expected["strokes"]) == 2
    wait_pixel(page, root, 50, 140, white=True)
    assert canvas_pixel(page, root, 140, 60) > 200  # el palo del ratón sigue ahí
    return watch["shown"] - watch["up"]


# ---------------------------------------------------------------------------------------------
# JupyterLab 4: el cuaderno 08 entero.

@pytest.fixture(scope="module")
def lab(browser, tmp_path_factory, mnist_root, screenshots, report):
    with jupyter_server("jupyterlab", tmp_path_factory.mktemp("jupyterlab"), mnist_root) as url:
        start = time.monotonic()
        page = open_and_run(browser, f"{url}/lab/tree/{NOTEBOOK}")
        report(f"JupyterLab: cuaderno 08 ejecutado en {time.monotonic() - start:.1f} s.")
        page.screenshot(path=screenshots / "00_laboratorio.png")
        yield page
        page.close()


def test_lab_sliders_change_activations_kernels_and_padding(lab, screenshots, report):
    page = lab
    report(f"Capturas del navegador en: {screenshots}")
    # 1. Etapa y dígito del explorador de activaciones.
    explorer = page.locator(".trazos-activation-explorer").first
    explorer.scroll_into_view_if_needed()
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


def test_lab_confusion_click_shows_what_select_shows(lab, screenshots):
    page = lab
    true, pred = 3, 3  # al empezar está elegida la casilla con más errores, nunca una de aciertos
    confusion = page.locator(".trazos-confusion-explorer")
    confusion.scroll_into_view_if_needed()
    title, gallery = ".trazos-confusion-explorer .trazos-title", ".trazos-confusion-explorer .trazos-gallery"
    expected = in_kernel(page, SELECT_IN_KERNEL.format(true=true, pred=pred))
    assert text(expected["title"]).split(" (")[0] not in page.locator(title).inner_text()  # aún no está elegida
    gallery_before = page.locator(gallery).inner_text()
    confusion.locator(f".trazos-cell-{true}-{pred}").click()
    wait_text(page, title, f"Real {true}, predicho {pred}")
    wait_change(page, gallery, gallery_before, what="text")
    assert text(page.locator(title).inner_text()) == text(expected["title"])
    shown = page.locator(gallery).inner_text()
    assert re.findall(r"nº (\d+)", shown) == re.findall(r"nº (\d+)", expected["gallery"])
    assert re.findall(r"pred \d: [\d,]+ %", shown) == re.findall(r"pred \d: [\d,]+ %", expected["gallery"])
    assert re.findall(r"nº (\d+)", shown), "la casilla elegida no enseña ninguna imagen"
    confusion.screenshot(path=screenshots / f"07_confusion_{true}_{pred}.png")


def test_lab_draw_with_the_mouse(lab, browser, screenshots, report):
    root = ".trazos-draw-explorer"
    latency = draw_and_check(lab, root)
    report(f"JupyterLab: de soltar el ratón a ver la predicción, {latency:.0f} ms.")
    lab.locator(root).screenshot(path=screenshots / "08_dibujo.png")
    # Otra pestaña con el mismo cuaderno (guardado) y el mismo núcleo: el lienzo nuevo se pinta
    # con los trazos que ya tiene Python.
    lab.evaluate("window.jupyterapp.commands.execute('docmanager:save')")
    lab.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty", timeout=UPDATE_TIMEOUT)
    other = browser.new_page(viewport={"width": 1500, "height": 1200})
    try:
        other.goto(lab.url, timeout=90_000)
        other.locator(f"{root} canvas").wait_for(state="attached", timeout=60_000)
        other.locator(root).scroll_into_view_if_needed()
        wait_pixel(other, root, 140, 60, white=True)  # el palo del ratón
        wait_pixel(other, root, 50, 140, white=True)  # la raya de Python
        assert canvas_pixel(other, root, 5, 5) < 50
    finally:
        other.close()
    erase(lab, root)


# ---------------------------------------------------------------------------------------------
# Jupyter Notebook 7: el mismo cuaderno en la otra interfaz, con su propio servidor.

def test_notebook7_renders_the_widgets_and_draws(browser, tmp_path_factory, mnist_root, screenshots,
                                                 report):
    with jupyter_server("notebook", tmp_path_factory.mktemp("notebook7"), mnist_root) as url:
        start = time.monotonic()
        page = open_and_run(browser, f"{url}/notebooks/{NOTEBOOK}")
        assert page.evaluate("window.jupyterapp.name") == "Jupyter Notebook"  # no es JupyterLab
        report(f"Notebook 7: cuaderno 08 ejecutado en {time.monotonic() - start:.1f} s.")
        latency = draw_and_check(page, ".trazos-draw-explorer")
        report(f"Notebook 7: de soltar el ratón a ver la predicción, {latency:.0f} ms.")
        page.locator(".trazos-draw-explorer").screenshot(path=screenshots / "09_dibujo_notebook7.png")
        page.close()
