"""El curso publicado: las insignias de Colab y Binder, la celda que instala el curso y el sitio web.

- Rápidas: la lógica de la celda de instalación (simulando que falta trazos, con un
  `get_ipython` falso), las insignias (idempotentes, sin romper lo que leen las pruebas de los
  ejercicios) y la vista fija de un explorador a partir del estado de sus widgets.
- Lenta (`slow`, `browser`): construye el sitio en una carpeta temporal y lo abre en Chromium.
  Los cuadernos se ejecutan una vez en la sesión (con la caché de modelos de la sesión); con
  TRAZOS_WEB_EXECUTED=CARPETA toma de ahí copias ya ejecutadas (`python -m trazos web
  --guardar-ejecutados CARPETA` las deja).
- Lenta (`slow`, `browser`): el sitio en Chromium con axe-core (de npm: `npm ci --prefix tests`) en
  cada página, a 390x844 (un móvil) y a 1280x800: ninguna falta grave de WCAG 2.1 AA, un solo
  `h1`, un texto alternativo que dice algo en cada imagen, nada cortado ni diminuto en el móvil;
  y que ninguna respuesta de `soluciones/` (ni la guía del profesorado) llegue al sitio.
- `test_every_notebook_has_badges_and_install_cell` falla hasta que se ejecuta una vez
  `python -m trazos insignias` sobre notebooks/ (lo hace quien integra este cambio).
"""

import base64
import contextlib
import functools
import html
import http.server
import importlib.util
import json
import os
import re
import shutil
import sys
import threading
import time
import types
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from test_browser import report  # noqa: F401 - la misma línea impresa aunque pytest capture la salida
from trazos.classroom import badges, web
from trazos.classroom.static_view import WIDGET_STATE, WIDGET_VIEW
from trazos.render import decimal
from trazos.classroom import notebook_imports
from trazos.exercises.solutions import exercise_keys, fill_notebook, open_question_keys, read_solutions, solutions_path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
URL = "https://github.com/ejemplo/curso"
REQUIREMENT = f'"trazos @ git+{URL}"'


class FakeIPython:
    """Lo que la celda le pide a IPython: apunta cada orden mágica en vez de ejecutarla."""

    def __init__(self):
        self.magics = []

    def run_line_magic(self, name, line):
        self.magics.append((name, line))


def fake_colab(monkeypatch):
    """Un `google.colab.output` falso en sys.modules (como si la celda corriera en Colab)."""
    calls = []
    google, colab = types.ModuleType("google"), types.ModuleType("google.colab")
    output = types.ModuleType("google.colab.output")
    output.enable_custom_widget_manager = lambda: calls.append("enable_custom_widget_manager")
    google.colab, colab.output = colab, output
    for name, module in [("google", google), ("google.colab", colab), ("google.colab.output", output)]:
        monkeypatch.setitem(sys.modules, name, module)
    return calls


def without_trazos(monkeypatch):
    """`importlib.util.find_spec("trazos")` dice que no está instalado (el resto, como siempre)."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "trazos" else real(name, *a))


def run_install_cell(source, ipython):
    """Ejecuta la celda como IPython: primero convierte `%pip` en `get_ipython().run_line_magic`."""
    from IPython.core.inputtransformer2 import TransformerManager
    code = TransformerManager().transform_cell(source)
    exec(compile(code, "<celda de instalación>", "exec"), {"get_ipython": lambda: ipython})


# --- La celda de instalación ---------------------------------------------------------------------

def test_repository_url_is_kept_once_in_pyproject():
    import tomllib
    urls = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["urls"]
    assert badges.repository_url() == urls["Repository"].rstrip("/")
    assert badges.repository_url().startswith("https://github.com/")


def test_colab_and_binder_links_point_to_the_notebook():
    assert badges.colab_url("05_kernels.ipynb", URL) == \
        "https://colab.research.google.com/github/ejemplo/curso/blob/main/notebooks/05_kernels.ipynb"
    assert badges.binder_url("05_kernels.ipynb", URL) == \
        "https://mybinder.org/v2/gh/ejemplo/curso/main?labpath=notebooks%2F05_kernels.ipynb"
    with pytest.raises(ValueError, match="repositorio de GitHub"):
        badges.colab_url("05_kernels.ipynb", "https://ejemplo.org/curso")


def test_ensure_course_installs_only_when_trazos_is_missing():
    ipython = FakeIPython()
    done = badges.ensure_course(ipython, URL, find_spec=lambda name: None, modules={})
    assert ipython.magics == [("pip", f"install --quiet {REQUIREMENT}")]
    assert done == [f"%pip install --quiet {REQUIREMENT}"]
    ipython = FakeIPython()
    assert badges.ensure_course(ipython, URL, modules={}) == []  # aquí trazos sí se importa
    assert ipython.magics == []


def test_ensure_course_enables_custom_widgets_in_colab(monkeypatch):
    calls = fake_colab(monkeypatch)
    assert badges.ensure_course(FakeIPython(), URL) == ["enable_custom_widget_manager()"]
    assert calls == ["enable_custom_widget_manager"]


def test_install_cell_installs_when_trazos_is_missing(monkeypatch):
    without_trazos(monkeypatch)
    ipython = FakeIPython()
    run_install_cell(badges.install_cell_source(URL), ipython)
    assert ipython.magics == [("pip", f"install --quiet {REQUIREMENT}")]


def test_install_cell_does_nothing_where_trazos_is_installed(capsys):
    ipython = FakeIPython()
    run_install_cell(badges.install_cell_source(URL), ipython)
    assert ipython.magics == []
    assert capsys.readouterr() == ("", "")


def test_install_cell_in_colab_installs_and_enables_widgets(monkeypatch):
    without_trazos(monkeypatch)
    calls = fake_colab(monkeypatch)
    ipython = FakeIPython()
    run_install_cell(badges.install_cell_source(URL), ipython)
    assert ipython.magics == [("pip", f"install --quiet {REQUIREMENT}")] and calls == ["enable_custom_widget_manager"]


def test_install_cell_and_ensure_course_agree(monkeypatch):
    """La celda repite la lógica de `ensure_course`: con los mismos casos, las mismas órdenes."""
    for missing in (True, False):
        with monkeypatch.context() as m:
            if missing:
                without_trazos(m)
            cell, function = FakeIPython(), FakeIPython()
            run_install_cell(badges.install_cell_source(URL), cell)
            badges.ensure_course(function, URL, modules={})
            assert cell.magics == function.magics


# --- Las insignias en los cuadernos ----------------------------------------------------------------

def _student_notebook():
    return json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))


def test_add_badges_puts_two_cells_first_and_is_idempotent():
    original = _student_notebook()
    tags = (badges.BADGES_TAG, badges.INSTALL_TAG)  # el cuaderno como era antes de ponerle las insignias
    original["cells"] = [c for c in original["cells"] if not set(tags) & set(c.get("metadata", {}).get("tags", []))]
    once = badges.add_badges(json.loads(json.dumps(original)), NOTEBOOKS[0].name, URL)
    first, second = once["cells"][:2]
    assert first["cell_type"] == "markdown" and second["cell_type"] == "code"
    text = "".join(first["source"])
    assert "Abrir en Colab" in text and "Abrir en Binder" in text
    assert badges.colab_url(NOTEBOOKS[0].name, URL) in text and badges.binder_url(NOTEBOOKS[0].name, URL) in text
    assert "".join(second["source"]) == badges.install_cell_source(URL)
    assert second["outputs"] == [] and second["execution_count"] is None
    assert once["cells"][2:] == original["cells"]
    twice = badges.add_badges(json.loads(json.dumps(once)), NOTEBOOKS[0].name, URL)
    assert twice == once
    moved = badges.add_badges(json.loads(json.dumps(once)), NOTEBOOKS[0].name, "https://github.com/otro/sitio")
    assert len(moved["cells"]) == len(once["cells"])  # se actualizan en su sitio, sin duplicarse
    assert "github/otro/sitio/blob" in "".join(moved["cells"][0]["source"])
    assert "otro/sitio" in "".join(moved["cells"][1]["source"])


def test_badge_cells_do_not_change_what_the_exercise_tests_read():
    for path in NOTEBOOKS:
        original = json.loads(path.read_text(encoding="utf-8"))
        with_badges = badges.add_badges(json.loads(json.dumps(original)), path.name, URL)
        assert exercise_keys(with_badges) == exercise_keys(original)
        assert open_question_keys(with_badges) == open_question_keys(original)
        if exercise_keys(original) and solutions_path(path).exists():  # rellenar sigue funcionando, sin tocarlas
            filled = fill_notebook(with_badges, read_solutions(solutions_path(path)))
            assert filled["cells"][:2] == with_badges["cells"][:2]


def test_apply_badges_writes_each_notebook_once(tmp_path):
    for path in NOTEBOOKS:
        shutil.copy(path, tmp_path / path.name)
    changed = badges.apply_badges(tmp_path, URL)
    assert [p.name for p in changed] == [p.name for p in NOTEBOOKS]
    assert badges.apply_badges(tmp_path, URL) == []  # la segunda vez no cambia nada
    for path in tmp_path.glob("*.ipynb"):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        assert all(c.get("outputs", []) == [] and c.get("execution_count") is None
                   for c in notebook["cells"] if c["cell_type"] == "code"), "sin salidas, como se guardan"
    # `preparar` comprueba lo que importan los cuadernos: la celda no añade google (solo existe en Colab).
    assert "google" not in notebook_imports(tmp_path)


def test_insignias_command(tmp_path, capsys):
    shutil.copy(NOTEBOOKS[0], tmp_path / NOTEBOOKS[0].name)
    assert badges.main(["--cuadernos", str(tmp_path), "--url", URL]) == 0
    assert "1 de 1 cuadernos actualizados" in capsys.readouterr().out
    assert badges.main(["--cuadernos", str(tmp_path), "--url", "https://ejemplo.org/x"]) == 2
    assert "repositorio de GitHub" in capsys.readouterr().out


@pytest.mark.slow
def test_install_cell_runs_silently_in_a_real_kernel():
    """En un núcleo de verdad, con trazos instalado (como en nbval), la celda no falla ni escribe nada."""
    import nbformat
    from nbclient import NotebookClient
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(badges.install_cell_source(URL))])
    NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    assert notebook.cells[0].outputs == []


# Falla hasta que se aplica `python -m trazos insignias` a notebooks/ (una vez, al integrar el cambio).
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_notebook_has_badges_and_install_cell(path):
    notebook = json.loads(path.read_text(encoding="utf-8"))
    first, second = notebook["cells"][:2]
    assert badges.BADGES_TAG in first.get("metadata", {}).get("tags", []), \
        f"{path.name} no empieza con las insignias: ejecuta python -m trazos insignias"
    assert "".join(first["source"]) == badges.badges_markdown(path.name)
    assert badges.INSTALL_TAG in second.get("metadata", {}).get("tags", [])
    assert "".join(second["source"]) == badges.install_cell_source()


# --- La vista fija de los exploradores --------------------------------------------------------------

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 16).decode()


def _state():
    def model(name, **state):
        return {"model_name": name, "model_module": "@jupyter-widgets/controls", "model_module_version": "2.0.0",
                "state": {"layout": "IPY_MODEL_l", **state}}
    models = {
        "root": model("VBoxModel", children=["IPY_MODEL_html", "IPY_MODEL_row"], _dom_classes=["trazos-x-explorer"]),
        "row": model("HBoxModel", children=["IPY_MODEL_slider", "IPY_MODEL_menu", "IPY_MODEL_image", "IPY_MODEL_b"]),
        "html": model("HTMLModel", value="<b>Primera convolución</b>"),
        "slider": model("IntSliderModel", description="paso", value=3, min=0, max=9),
        "menu": model("DropdownModel", description="capa", _options_labels=["conv1", "conv2"], index=1),
        "image": {**model("ImageModel", format="png"), "buffers": [{"path": ["value"], "encoding": "base64",
                                                                   "data": PNG}]},
        "b": model("ButtonModel", description="7 → 1", style="IPY_MODEL_s"),
        "s": model("ButtonStyleModel", button_color="#ffcc00"),
        "l": model("LayoutModel", width="330px"),
    }
    return {"state": models, "version_major": 2, "version_minor": 0}


def test_static_widget_html_shows_every_part_of_an_explorer():
    page = web.static_widget_html(_state(), "root")
    assert "<b>Primera convolución</b>" in page
    assert f"src='data:image/png;base64,{PNG}'" in page
    assert "paso" in page and "<b>3</b>" in page and "conv2 ▾" in page
    assert "7 → 1" in page and "#ffcc00" in page
    assert "Vista fija del explorador" in page and "<script" not in page


def test_static_view_says_what_each_image_shows_and_fits_a_phone():
    state = _state()
    models = state["state"]
    models["root"]["state"]["_dom_classes"] = ["trazos-kernel-explorer"]
    models["cap"] = {"model_name": "HTMLModel", "state": {"value": "<b>conv2</b>: 32 kernels"}}
    models["row"]["state"]["children"][2:2] = ["IPY_MODEL_cap"]  # el pie, justo antes de la imagen
    models["grid"] = {"model_name": "GridBoxModel", "state": {"layout": "IPY_MODEL_gl", "children": []}}
    models["gl"] = {"model_name": "LayoutModel", "state": {"grid_template_columns": "110px 56px 56px"}}
    models["root"]["state"]["children"].append("IPY_MODEL_grid")
    models["html"]["state"]["value"] = "<table><tr><td>1</td></tr></table>"
    page = web.static_widget_html(state, "root")
    alt = re.search(r"<img [^>]*alt='([^']*)'", page)[1]
    assert alt == "conv2: 32 kernels. Explorador de kernels, con paso = 3; capa = conv2."  # el pie que la precede
    assert "Valores de los controles en esta vista: paso = 3; capa = conv2." in page
    assert "grid-template-columns: minmax(0, 110fr) minmax(0, 56fr) minmax(0, 56fr)" in page  # cabe en un móvil
    assert "max-width: 222px" in page
    assert "<div class='trazos-tabla' role='region' tabindex='0'" in page  # una tabla ancha se desliza en su caja


def test_static_view_of_the_canvas_and_of_a_progress_bar():
    state = _state()
    models = state["state"]
    models["root"]["state"]["children"].append("IPY_MODEL_canvas")
    models["canvas"] = {"model_name": "AnyModel", "model_module": "anywidget",
                        "state": {"size": 280, "pen": 18, "strokes": [[[150, 40], [60, 170]], [[10, 10]]]}}
    models["bar"] = {"model_name": "HBoxModel", "state": {"children": ["IPY_MODEL_progress"]}}
    models["progress"] = {"model_name": "FloatProgressModel", "state": {"value": 30, "max": 60}}
    page = web.static_widget_html(state, "root")
    assert "<svg" in page and "points='150,40 60,170'" in page and "points='10,10 10,10'" in page
    bar = web.static_widget_html(state, "bar")  # no es un explorador: sin la nota
    assert "<progress" in bar and "value='30'" in bar and "Vista fija" not in bar


def test_prepare_notebook_replaces_widgets_and_drops_the_install_cell():
    notebook = badges.add_badges({"cells": [{"cell_type": "code", "metadata": {}, "execution_count": 1, "source": "x",
                                             "outputs": [{"output_type": "display_data", "metadata": {}, "data": {
                                                 WIDGET_VIEW: {"model_id": "root"}, "text/plain": "VBox(...)"}}]}],
                                  "metadata": {"widgets": {WIDGET_STATE: _state()}}, "nbformat": 4,
                                  "nbformat_minor": 5}, "01_x.ipynb", URL)
    ready = web.prepare_notebook(notebook)
    assert "widgets" not in ready["metadata"]
    assert [c["cell_type"] for c in ready["cells"]] == ["markdown", "code"]  # sin la celda de instalación
    data = ready["cells"][1]["outputs"][0]["data"]
    assert list(data) == ["text/html"] and "data:image/png;base64" in data["text/html"]


def test_student_copy_puts_the_blanks_back_and_keeps_every_other_output():
    """Del cuaderno resuelto y ejecutado, la copia del estudiante: huecos en blanco, sin su salida."""
    path = next(p for p in NOTEBOOKS if exercise_keys(p))
    student = json.loads(path.read_text(encoding="utf-8"))
    solutions = read_solutions(solutions_path(path))
    solved = fill_notebook(student, solutions)
    for number, cell in enumerate(solved["cells"]):  # «ejecutado»: cada celda de código con una salida
        if cell["cell_type"] == "code":
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": f"celda {number}\n"}]
            cell["execution_count"] = number
    copy = web.student_copy(solved, student)
    changed = 0
    for number, (done, blank, result) in enumerate(zip(solved["cells"], student["cells"], copy["cells"])):
        assert "".join(result["source"]) == "".join(blank["source"])
        if result["cell_type"] != "code":
            continue
        if "".join(done["source"]) != "".join(blank["source"]):
            changed += 1
            assert result["outputs"] == [] and result["execution_count"] is None
        else:
            assert result["outputs"] == done["outputs"]
    assert 1 <= changed <= len(exercise_keys(path))  # una celda por ejercicio, o menos si comparten celda
    text = json.dumps(copy, ensure_ascii=False)
    for key in exercise_keys(path):
        for line in solutions[key].splitlines():
            if line.strip() and not line.strip().startswith("#") and "=" in line:
                assert line.strip() not in text, f"la solución de {key} sigue en la copia: {line.strip()}"
    with pytest.raises(ValueError):
        web.student_copy({"cells": solved["cells"][:-1]}, student)


def test_web_command_refuses_a_folder_that_is_not_a_site(tmp_path, capsys):
    (tmp_path / "mio.txt").write_text("no lo borres")
    assert web.main(["--out", str(tmp_path), "--sin-progreso"]) == 1
    assert "no es un sitio de trazos" in capsys.readouterr().err
    assert (tmp_path / "mio.txt").exists()


def test_web_help_is_in_spanish(capsys):
    with pytest.raises(SystemExit):
        web.main(["--help"])
    out = capsys.readouterr().out
    assert out.startswith("uso: trazos web") and "--out CARPETA" in out and "--ejecutados" in out


# --- El sitio entero, en Chromium --------------------------------------------------------------------

AXE = ROOT / "tests" / "node_modules" / "axe-core" / "axe.min.js"  # npm ci --prefix tests (tests/package.json)
SIZES = ((390, 844), (1280, 800))  # un móvil y un portátil
# Las figuras se cargan al acercarse a ellas (loading=lazy): antes de mirarlas, que se carguen todas.
LOAD_IMAGES = """async () => {
  const images = [...document.images];
  images.forEach(i => { i.loading = 'eager'; });
  await Promise.all(images.map(i => i.complete ? null : new Promise(done => { i.onload = i.onerror = done; })));
}"""
PAGE_ERRORS = "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80))"
LINKS = "() => [...document.querySelectorAll('a[href]')].map(a => a.href)"
PHONE = 390


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # el navegador cierra conexiones a medias: no es un fallo
        pass


@contextlib.contextmanager
def static_server(folder):
    """Sirve `folder` en 127.0.0.1, como un alojamiento de páginas estáticas cualquiera."""
    server = QuietServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=folder))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _expected_images(notebook):
    """Las figuras (PNG) que deja el cuaderno ejecutado: cada una debe ser una <img> en su página."""
    return sum("image/png" in out.get("data", {}) for cell in notebook["cells"] for out in cell.get("outputs", []))


def _widgets(notebook):
    """(salidas que son un widget, si alguna es un explorador del curso) del cuaderno ejecutado."""
    views = sum(WIDGET_VIEW in out.get("data", {}) for cell in notebook["cells"] for out in cell.get("outputs", []))
    state = notebook.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    explorers = any(css.endswith("-explorer") for model in state.values()
                    for css in model.get("state", {}).get("_dom_classes", []))
    return views, explorers


@pytest.fixture(scope="module")
def site(tmp_path_factory, mnist_root, report, executed_copies):
    """El sitio, construido con `build_site` a partir de copias ejecutadas de los cuadernos.

    Las copias salen de TRAZOS_WEB_EXECUTED (una carpeta de `execute_notebooks`) o de las que
    dejó test_solutions.py en esta sesión (los cuadernos resueltos, vueltos a su versión de
    estudiante); los que falten (p. ej. con `-m "not notebooks"`) se ejecutan aquí.
    """
    executed = os.environ.get("TRAZOS_WEB_EXECUTED")
    out = tmp_path_factory.mktemp("sitio") / "sitio"
    start = time.perf_counter()
    if executed:
        origin = f"copias de {executed}"
    else:
        executed = executed_copies
        missing = [path for path in NOTEBOOKS if not (executed / path.name).is_file()]
        origin = (f"{len(NOTEBOOKS) - len(missing)} copias de test_solutions.py y {len(missing)} cuadernos "
                  f"ejecutados ahora")
        if missing:
            os.environ.setdefault("TRAZOS_DATA", str(mnist_root))
            web.execute_notebooks(executed, missing, progress=False)
    executing = time.perf_counter() - start
    result = web.build_site(out, executed=executed, progress=False)
    seconds = time.perf_counter() - start
    report(f"sitio: {result['páginas']} páginas, {decimal(result['bytes'] / 1e6, 1)} MB, {decimal(seconds, 0)} s, "
           f"{decimal(executing, 0)} s de ellos ejecutando ({origin})")
    return out, Path(executed), result, seconds


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory):
    folder = os.environ.get("TRAZOS_SCREENSHOTS")
    folder = Path(folder) if folder else tmp_path_factory.mktemp("capturas-web")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow
@pytest.mark.browser
def test_the_site_opens_in_chromium(site, screenshots, report):
    from test_browser import CHROMIUM_ARGS, find_chromium, skip_or_fail
    chromium = find_chromium()
    if chromium is None:
        skip_or_fail("No se encontró Chromium (/usr/bin/chromium ni chromium en el PATH).")
    from playwright.sync_api import sync_playwright

    out, executed, result, seconds = site
    assert not result["avisos"], "Sphinx avisó:\n" + "\n".join(result["avisos"])
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html") if not p.parts[-2] == "_static")
    notebook_pages = {f"notebooks/{p.stem}.html": p for p in NOTEBOOKS}
    assert set(notebook_pages) | {"index.html", "search.html", "docs/glosario.html", "docs/publicar.html"} <= set(pages)
    for private in web.PRIVATE_DOCS:  # dan las respuestas de los ejercicios
        assert not (out / "docs" / private.replace(".md", ".html")).exists(), f"{private} no se publica"

    with static_server(out) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            problems, outside, links = [], set(), set()
            for width in (1280, PHONE):
                page = browser.new_page(viewport={"width": width, "height": dict(SIZES)[width]})
                page.on("console", lambda m: problems.append(f"{page.url}: consola: {m.text}")
                        if m.type == "error" else None)
                page.on("pageerror", lambda e: problems.append(f"{page.url}: error de JavaScript: {e}"))
                page.on("response", lambda r: problems.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
                page.on("request", lambda r: outside.add(r.url) if not r.url.startswith((base, "data:")) else None)
                for name in pages:
                    page.goto(f"{base}/{name}", wait_until="load")
                    page.wait_for_timeout(300)  # MathJax y los scripts del tema
                    if width == PHONE:
                        wide = page.evaluate("document.documentElement.scrollWidth")
                        assert wide <= PHONE, f"{name}: a {PHONE} px hay scroll horizontal ({wide} px)"
                        continue
                    page.evaluate(LOAD_IMAGES)
                    broken = page.evaluate(PAGE_ERRORS)
                    assert not broken, f"{name}: imágenes que no cargan: {broken}"
                    if name in notebook_pages:
                        notebook = json.loads((executed / notebook_pages[name].name).read_text(encoding="utf-8"))
                        floor = _expected_images(notebook)
                        count = page.evaluate("document.querySelectorAll('article img').length")
                        assert floor >= 1 and count >= floor, f"{name}: {count} imágenes; el cuaderno tiene {floor}"
                        views, explorers = _widgets(notebook)  # cada widget, en su sitio y fijo
                        shown = page.locator(".trazos-vista-fija, .trazos-widget-fijo").count()
                        assert shown >= views, f"{name}: {shown} widgets fijos; el cuaderno tiene {views}"
                        if explorers:
                            assert page.locator(".trazos-vista-fija").count() >= 1, f"{name}: sin vista fija"
                    links.update(page.evaluate(LINKS))
                if width == PHONE:
                    page.goto(f"{base}/notebooks/{NOTEBOOKS[0].stem}.html")
                    page.screenshot(path=str(screenshots / "sitio_movil_cuaderno.png"))
                    page.goto(f"{base}/index.html")
                    page.screenshot(path=str(screenshots / "sitio_movil_portada.png"))
                else:
                    page.goto(f"{base}/index.html")
                    page.screenshot(path=str(screenshots / "sitio_portada.png"))
                page.close()
            assert not problems, "\n".join(problems)
            assert not outside, f"el sitio pide cosas de fuera: {sorted(outside)}"

            # Ningún enlace interno roto (ni el fichero ni el ancla #...).
            ids = {}
            for link in sorted(links):
                if not link.startswith(base):
                    continue
                parsed = urlparse(link)
                target = out / unquote(parsed.path).lstrip("/")
                if target.is_dir():
                    target = target / "index.html"
                assert target.is_file(), f"enlace roto: {link}"
                if parsed.fragment and target.suffix == ".html":
                    if target not in ids:
                        ids[target] = set(re.findall(r'\sid="([^"]+)"', target.read_text(encoding="utf-8")))
                    assert unquote(parsed.fragment) in ids[target], f"ancla rota: {link}"

            # La navegación: de la portada al primer cuaderno con «Siguiente», y la búsqueda.
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/index.html")
            page.locator("a.right-next").click()
            page.wait_for_url(f"**/notebooks/{NOTEBOOKS[0].stem}.html")
            page.goto(f"{base}/search.html?q=padding")
            page.wait_for_selector("#search-results ul.search li", timeout=30_000)
            found = page.locator("#search-results ul.search li a").evaluate_all("links => links.map(a => a.href)")
            assert any(NOTEBOOKS[0].stem in href for href in found), found
            # El extracto de cada resultado sale del texto de la página, no de los botones de la cabecera.
            page.wait_for_selector("#search-results ul.search li p.context", timeout=30_000)
            snippets = page.locator("#search-results ul.search li p.context").all_inner_texts()
            assert snippets and not any("Claro" in text and "Oscuro" in text for text in snippets), snippets
            page.close()
        finally:
            browser.close()
    report(f"sitio en Chromium: {len(pages)} páginas sin errores, a 1280 y a {PHONE} px; capturas en {screenshots}")


# --- Accesible, legible en un móvil y sin respuestas ------------------------------------------------

# Lo que se mira en cada página, además de axe: un solo h1, el texto de cada imagen y, en el móvil,
# que nada se corte (figuras, vistas fijas, galerías, código) y que la letra de las vistas fijas se lea.
PAGE_CHECKS = """() => {
  const shown = el => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
  const images = [...document.querySelectorAll('article img')].filter(shown).map(img => ({
    src: img.currentSrc || img.src, alt: img.getAttribute('alt'), natural: img.naturalWidth, width: img.clientWidth,
    link: img.closest('a') ? img.closest('a').href : null}));
  const cut = sel => [...document.querySelectorAll(sel)].filter(shown)
    .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => el.className || el.tagName);
  const tiny = [...document.querySelectorAll('.trazos-vista-fija *')].filter(shown)
    .filter(el => [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .filter(el => parseFloat(getComputedStyle(el).fontSize) < 9).map(el => el.textContent.trim().slice(0, 40));
  return {h1: document.querySelectorAll('h1').length, images,
          cut: [...cut('.trazos-vista-fija'), ...cut('.galeria > div'), ...cut('div.highlight pre'),
                ...cut('div.cell_output pre')],
          tiny};
}"""
AXE_RUN = """async () => {
  const tags = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
  return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => `${v.id} (${v.impact}): ${v.nodes.length} nodos, p. ej. ${v.nodes[0].target.join(' ')}`);
}"""
FILE_NAME = re.compile(r"(^|/)[\w.-]+\.(png|jpe?g|gif|svg)$|^data:|_images/", re.IGNORECASE)
FOCUS = """() => { const el = document.activeElement; if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {what: el.outerHTML.slice(0, 80),
          outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2,
          shadow: style.boxShadow !== 'none', shown: el.getClientRects().length > 0}; }"""


def _image_problems(name, images, phone):
    """Lo que falla en las imágenes de una página: texto vacío, un nombre de fichero, el mismo texto para
    imágenes distintas y, en el móvil, una imagen reducida sin enlace para verla a tamaño completo."""
    problems, by_alt = [], {}
    for image in images:
        alt = (image["alt"] or "").strip()
        if len(alt) < 15 or FILE_NAME.search(alt):
            problems.append(f"{name}: imagen sin un texto alternativo que diga algo: alt={image['alt']!r}")
        by_alt.setdefault(alt, set()).add(image["src"])
        if phone and image["natural"] > 1.05 * image["width"] and image["link"] != image["src"]:
            problems.append(f"{name}: imagen de {image['natural']} px reducida a {image['width']} px sin enlace a "
                            f"su tamaño completo ({alt[:60]})")
    problems += [f"{name}: el mismo texto para {len(srcs)} imágenes distintas: {alt[:80]!r}"
                 for alt, srcs in by_alt.items() if alt and len(srcs) > 1]
    return problems


@pytest.mark.slow
@pytest.mark.browser
def test_the_site_is_accessible_and_readable_on_a_phone(site, screenshots, report):
    """axe-core (WCAG 2.0 y 2.1, A y AA) en Chromium en cada página, en un móvil y en un portátil: ninguna
    falta grave o crítica. Y lo que axe no ve: un h1, textos alternativos que dicen algo, foco visible y,
    en el móvil, nada cortado y figuras que se pueden abrir a tamaño completo."""
    from test_browser import CHROMIUM_ARGS, find_chromium, skip_or_fail
    chromium = find_chromium()
    if chromium is None:
        skip_or_fail("No se encontró Chromium (/usr/bin/chromium ni chromium en el PATH).")
    if not AXE.is_file():
        skip_or_fail(f"Falta axe-core ({AXE}): instálalo con `npm ci --prefix tests`.")
    from playwright.sync_api import sync_playwright

    out = site[0]
    pages = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.html") if "_static" not in p.parts)
    problems, table = [], {}
    with static_server(out) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            for width, height in SIZES:
                page = browser.new_page(viewport={"width": width, "height": height})
                for name in pages:
                    page.goto(f"{base}/{name}", wait_until="load")
                    page.wait_for_timeout(300)  # MathJax y los scripts del tema
                    page.add_script_tag(path=str(AXE))
                    found = page.evaluate(AXE_RUN)
                    table[(name, width)] = len(found)
                    problems += [f"{name} a {width} px: {line}" for line in found]
                    page.evaluate(LOAD_IMAGES)
                    checks = page.evaluate(PAGE_CHECKS)
                    if checks["h1"] != 1:
                        problems.append(f"{name}: {checks['h1']} h1")
                    problems += _image_problems(name, checks["images"], width < 600)
                    if width < 600:
                        problems += [f"{name} a {width} px: cortado: {what}" for what in checks["cut"]]
                        problems += [f"{name} a {width} px: letra de menos de 9 px: {what!r}"
                                     for what in checks["tiny"]]
                        page.screenshot(path=str(screenshots / f"movil_{name.replace('/', '_')}.png"), full_page=True)
                page.close()

            # Foco visible: cada control al que se llega con el tabulador lleva un anillo.
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/notebooks/{NOTEBOOKS[0].stem}.html", wait_until="load")
            for _ in range(20):
                page.keyboard.press("Tab")
                focus = page.evaluate(FOCUS)
                if focus and focus["shown"] and not (focus["outline"] or focus["shadow"]):
                    problems.append(f"sin foco visible: {focus['what']}")
            page.close()
        finally:
            browser.close()
    report("axe (faltas graves o críticas por página, a 390 y a 1280 px): " + ", ".join(
        f"{name} {table[(name, 390)]}/{table[(name, 1280)]}" for name in pages))
    assert not problems, "\n".join(problems)


def _answer_lines(path):
    """Las líneas de las soluciones de un cuaderno que no están en el cuaderno del estudiante: las respuestas."""
    student = " ".join(path.read_text(encoding="utf-8").split())
    lines = []
    for key, block in read_solutions(solutions_path(path)).items():
        for line in block.splitlines():
            code = line.split("  #")[0]  # `my_side = 24  # …`: la línea entera y también el código solo
            for text in {" ".join(line.strip().lstrip("#").split()), " ".join(code.split())}:
                if len(text) >= 12 and json.dumps(text)[1:-1] not in student and text not in student:
                    lines.append((key, text))
    return lines


@pytest.mark.slow
def test_the_site_publishes_no_answers(site):
    """Ninguna línea de `soluciones/` que no esté ya en el cuaderno del estudiante aparece en el sitio,
    ni la guía del profesorado (sus «dónde se atascan» y sus preguntas de salida dan las respuestas)."""
    out = site[0]
    text = {}
    for page in out.rglob("*.html"):
        if "_static" in page.parts:
            continue
        body = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page.read_text(encoding="utf-8"), flags=re.DOTALL)
        text[page.relative_to(out).as_posix()] = " ".join(html.unescape(re.sub(r"<[^>]+>", "", body)).split())
    published = [path for path in NOTEBOOKS if solutions_path(path).exists()]
    assert published, "no hay soluciones que buscar"
    leaks = [f"{name}: respuesta de {key}: {line!r}" for path in published for key, line in _answer_lines(path)
             for name, content in text.items() if line in content]
    assert not leaks, "\n".join(leaks)
    index = (out / "searchindex.js").read_text(encoding="utf-8")
    for private in web.PRIVATE_DOCS:
        assert private.removesuffix(".md") not in index, f"{private} está en el índice de la búsqueda"
    assert not any("Dónde se atascan" in content for content in text.values())
