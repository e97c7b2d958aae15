"""El curso como sitio web estático: `python -m trazos web --out CARPETA`.

Construye, sin internet, un sitio HTML con todo el curso:

- cada cuaderno de notebooks/ ejecutado de principio a fin en un núcleo nuevo (o tomado de una
  carpeta de copias ya ejecutadas, `--ejecutados`), con todas sus salidas y figuras;
- cada explorador (ipywidgets/anywidget) como su vista fija (`static_view`, a su lado): la que tenía al terminar de
  ejecutarse el cuaderno, compuesta en HTML a partir del estado de sus widgets (imágenes PNG,
  textos y el valor de cada control). Sin JavaScript de widgets ni nada de fuera;
- el glosario, cómo se publica y una portada que dice qué es el curso y en qué orden se lee.
  La guía del profesorado y la clave de respuestas NO se publican: dan las respuestas de los
  ejercicios (dónde se atascan, las preguntas de salida), y se leen en el repositorio.

Después, `trazos.classroom.web_pages` retoca el HTML de Sphinx: el texto alternativo de cada figura, los
nombres accesibles en español, los iconos sin Font Awesome y el extracto de la búsqueda.

La herramienta es Sphinx con myst-nb (lee los .ipynb ya ejecutados, sin volver a ejecutarlos) y
el tema sphinx-book-theme: todo viene de PyPI con `pip install -e ".[web]"`, el tema trae sus
tipos de letra e iconos y no descarga nada al construir. Las fórmulas se dibujan con la copia
de MathJax 2 que trae el paquete jupyter-server-mathjax, copiada dentro del sitio: el sitio
tampoco pide nada a internet al abrirlo, y se puede abrir con doble clic en index.html.
"""

import contextlib
import html
import io
import json
import re
import shutil
import sys
import tempfile
import time
import tomllib
from pathlib import Path

from .. import render
from . import web_pages
from .static_view import prepare_notebook, static_widget_html  # la vista fija de los exploradores

__all__ = ["NOTEBOOKS", "DOCS", "execute_notebooks", "student_copy", "static_widget_html", "prepare_notebook",
           "build_site", "add_arguments", "run", "main"]

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
DOCS = ROOT / "docs"
# La guía del profesorado y la clave de respuestas se quedan fuera: dan las respuestas de los ejercicios.
PUBLISHED_DOCS = ("glosario.md", "publicar.md")
PRIVATE_DOCS = ("guia_docente.md", "clave_de_respuestas.md")
MARKER = ".sitio-trazos"  # fichero que deja el sitio: así se sabe que la carpeta se puede reemplazar


def _notebooks(folder):
    """Los cuadernos del curso de una carpeta, en orden; o la lista de rutas tal cual, si ya es una lista."""
    if isinstance(folder, (list, tuple)):
        return [Path(path) for path in folder]
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def _seconds(seconds):
    return f"{render.decimal(seconds, 1)} s"


# --- Ejecutar los cuadernos ----------------------------------------------------------------------

def execute_notebooks(out, notebooks=NOTEBOOKS, progress=True, timeout=1800):
    """Ejecuta cada cuaderno de `notebooks` (una carpeta o una lista de rutas) en un núcleo nuevo y
    guarda la copia ejecutada en `out`.

    Guarda también el estado de los widgets (lo que dibuja cada explorador al terminar), del que
    sale su vista fija en el sitio. Devuelve las rutas de las copias. Un cuaderno que falla
    lanza el error de nbclient, con el nombre del cuaderno delante.
    """
    import nbformat
    from nbclient import NotebookClient
    from tqdm.auto import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = _notebooks(notebooks)
    written = []
    for number, path in enumerate(paths, start=1):
        notebook = nbformat.read(path, as_version=4)
        cells = sum(cell.cell_type == "code" for cell in notebook.cells)
        start = time.perf_counter()
        bar = tqdm(total=cells, desc=f"{path.stem} ({number} de {len(paths)})", unit="celda", disable=not progress,
                   bar_format="{desc}: {n_fmt}/{total_fmt} celdas |{bar}| {elapsed}", file=sys.stdout)
        client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", store_widget_state=True,
                                resources={"metadata": {"path": str(path.parent)}},
                                on_cell_executed=lambda **_: bar.update(1))
        try:
            client.execute()
        except Exception as error:
            bar.close()
            raise RuntimeError(f"El cuaderno {path.name} falló al ejecutarlo: {error}") from error
        bar.close()
        if progress:
            print(f"  ✓ {path.name}: ejecutado en {_seconds(time.perf_counter() - start)}", flush=True)
        target = out / path.name
        nbformat.write(notebook, target)
        written.append(target)
    return written


def student_copy(solved, student):
    """La copia ejecutada de un cuaderno de estudiante, sacada de la de su versión resuelta.

    `solved` es el cuaderno con las soluciones de `soluciones/` dentro (`fill_notebook`), ya
    ejecutado; `student`, el cuaderno tal como lo abre el estudiante. Cada celda que las
    soluciones cambiaron (las de los ejercicios) vuelve a ser la del estudiante, con su hueco y
    sin salidas, como la verá al abrirla; las demás conservan sus salidas. Así el sitio no enseña
    ninguna solución, y las pruebas no ejecutan cada cuaderno dos veces (ver tests/test_web.py).
    """
    import copy

    if len(solved["cells"]) != len(student["cells"]):
        raise ValueError("El cuaderno resuelto y el del estudiante no tienen las mismas celdas.")
    notebook = copy.deepcopy(solved)
    for index, (done, blank) in enumerate(zip(solved["cells"], student["cells"])):
        if done["cell_type"] != blank["cell_type"]:
            raise ValueError(f"La celda {index} no es del mismo tipo en los dos cuadernos.")
        if "".join(done["source"]) != "".join(blank["source"]):
            cell = copy.deepcopy(blank)
            if cell["cell_type"] == "code":
                cell["outputs"], cell["execution_count"] = [], None
            notebook["cells"][index] = cell
    return notebook


# --- La portada, la configuración de Sphinx y lo que se copia ------------------------------------

INTRO = """\
**trazos** es un curso en Jupyter, en español, que hace visible cómo una red convolucional pequeña aprende a
leer dígitos escritos a mano (MNIST) con PyTorch: los kernels antes y después de entrenar, las activaciones de
cada capa, la matriz de confusión y los aciertos y errores de la red.

Este sitio es el curso para leer: cada cuaderno con todas sus salidas y figuras, tal como queda al ejecutarlo de
principio a fin. Los exploradores interactivos aparecen como una vista fija; para mover sus controles, abre el
cuaderno con los botones «Abrir en Colab» o «Abrir en Binder» del principio de cada página, o instala el curso
en tu ordenador.
"""

ORDER = """\
## En qué orden se lee

Los cuadernos se leen en orden, del 01 al {last}: cada uno usa lo que enseñó el anterior. Del 01 al 07 se
construye y se entrena la red y se mira por dentro; el 08 reúne todos los exploradores en un laboratorio y los
que siguen son para quien quiere ir más allá.
"""

CSS = """\
/* Los colores de Colab y de Binder, oscurecidos hasta 4,9:1 y 6,8:1 con el texto blanco (WCAG AA). */
.trazos-insignias a { display: inline-block; margin: 0 .4em .4em 0; padding: .15em .6em; border-radius: .3em;
  background: #bf4c00; color: #fff !important; font-weight: 600; text-decoration: none; font-size: .9em; }
.trazos-insignias a.binder { background: #1f5f8b; }
/* Un anillo de foco que se ve en cada control, también en los botones del tema. */
a:focus-visible, button:focus-visible, input:focus-visible, summary:focus-visible, [tabindex]:focus-visible,
.btn:focus-visible { outline: 3px solid #1f5f8b !important; outline-offset: 2px; box-shadow: 0 0 0 5px #fff; }
/* Cada figura se abre a tamaño completo; en un móvil lo dice debajo. */
a.trazos-figura { display: inline-block; max-width: 100%; }
a.trazos-figura img { max-width: 100%; height: auto; }
@media (max-width: 600px) {
  a.trazos-figura::after { content: "Toca para ver a tamaño completo"; display: block; font-size: .8rem;
    color: #454545; }
  /* El código y las salidas largas se parten en la caja en vez de obligar a deslizar de lado. */
  div.highlight pre, div.cell_output pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  .trazos-vista-fija [style*="width"], .trazos-vista-fija [style*="min-width"] { width: auto !important;
    min-width: 0 !important; }
  .trazos-vista-fija .trazos-fijo-boton { font-size: .68rem; padding: 0; margin: 0; white-space: nowrap; }
  .trazos-tabla table { font-size: .75rem; }
  .trazos-tabla th, .trazos-tabla td { padding: 1px 3px; }
}
.trazos-vista-fija { border: 1px dashed #999; border-radius: .4em; padding: .6em; margin: .3em 0; max-width: 100%;
  overflow-x: auto; }
.trazos-tabla { overflow-x: auto; max-width: 100%; }
.trazos-vista-fija-nota { font-size: .85em; color: #454545; margin: 0 0 .5em 0; }
.trazos-vista-fija img { max-width: 100%; height: auto; }
.trazos-fijo-control { display: flex; align-items: center; gap: .5em; flex-wrap: wrap; max-width: 100%; }
.trazos-fijo-control input[type=range] { width: 10em; }
.trazos-fijo-etiqueta { min-width: 5em; }
.trazos-fijo-boton { display: inline-block; border: 1px solid #bbb; border-radius: .2em; padding: .1em .5em;
  margin: .1em; background: #eee; font-size: .9em; }
.trazos-fijo-boton.elegido { background: #2f6db5; color: #fff; }
.trazos-fijo-lienzo { border: 1px solid #bbb; padding: 1em; color: #454545; }
.trazos-vista-fija [style*="width"] { max-width: 100%; }
div.cell_output img { max-width: 100%; height: auto; }
div.cell_output .output.text_html { overflow-x: auto; max-width: 100%; }
div.cell_output { overflow-x: auto; max-width: 100%; }
/* En un móvil, un nombre largo en `código` dentro de un párrafo se parte en vez de ensanchar la página. */
p code, li code, td code { overflow-wrap: anywhere; word-break: break-word; }
p code span.pre, li code span.pre, td code span.pre { white-space: pre-wrap; overflow-wrap: anywhere; }
""" + web_pages.ICONS_CSS

FAVICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" '
           'fill="#2f6db5"/><path d="M4 4h8M8 4v9" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/></svg>')

MATHJAX_KEEP_LOCALES = ("es",)
MATHJAX_SKIP = ("jax/output/SVG", "extensions/a11y", "config/Safe.js")  # sin uso: salida HTML-CSS, sin a11y


def _readme_rows():
    """{cuaderno: qué enseña} de la tabla del README (la misma que presenta el curso)."""
    readme = ROOT / "README.md"
    if not readme.is_file():
        return {}
    return dict(re.findall(r"^\| `(\d\d_\w+\.ipynb)` \| (.+?) \|\s*$", readme.read_text(encoding="utf-8"),
                           flags=re.MULTILINE))


def _title(notebook, fallback):
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            found = re.search(r"^#\s+(.+)$", "".join(cell["source"]), flags=re.MULTILINE)
            if found:
                return found[1].strip()
    return fallback


def _index(notebooks, repository):
    """El Markdown de la portada: qué es el curso, el orden de lectura y el índice."""
    rows = _readme_rows()
    table = ["| cuaderno | qué enseña |", "| --- | --- |"]
    for name, title in notebooks:
        what = rows.get(name, "").replace("|", "\\|")
        table.append(f"| [{title}](notebooks/{name}) | {what} |")
    pages = "\n".join(f"notebooks/{name.removesuffix('.ipynb')}" for name, _ in notebooks)
    docs = "\n".join(f"docs/{name.removesuffix('.md')}" for name in PUBLISHED_DOCS if (DOCS / name).is_file())
    order = ORDER.format(last=notebooks[-1][0][:2] if notebooks else "01")
    return (f"# trazos: cómo aprende a leer dígitos una red convolucional\n\n{INTRO}\n{order}\n" + "\n".join(table) +
            "\n\n## Para el profesorado y de consulta\n\n"
            "- [Glosario](docs/glosario.md): cada término en español y en inglés, tal como aparece en PyTorch.\n"
            "- [Publicar el curso](docs/publicar.md): cómo se construye este sitio y cómo se publica.\n"
            "- La guía para el profesorado (qué enseña cada cuaderno, cuánto tarda, cómo preparar un aula y qué "
            "recorrido hacer) y la clave de respuestas no están en este sitio, porque dan las respuestas de los "
            f"ejercicios: están en la carpeta `docs/` del [repositorio del curso]({repository}).\n\n"
            f"```{{toctree}}\n:caption: Cuadernos\n:maxdepth: 1\n:hidden:\n\n{pages}\n```\n\n"
            f"```{{toctree}}\n:caption: Glosario y profesorado\n:maxdepth: 1\n:hidden:\n\n{docs}\n```\n")


def _authors(pyproject=ROOT / "pyproject.toml"):
    """Quien firma el curso: los `authors` de pyproject.toml (o «trazos», si no hay)."""
    try:
        authors = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["project"].get("authors", [])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        authors = []
    return ", ".join(a["name"] for a in authors if a.get("name")) or "trazos"


def _conf(repository):
    """El conf.py de Sphinx del sitio."""
    settings = {
        "project": "trazos",
        "author": _authors(),  # el pie de cada página dice «Por …»
        "html_title": "trazos · curso de redes convolucionales",
        "language": "es",
        "extensions": ["myst_nb"],
        "exclude_patterns": ["_build", "**.ipynb_checkpoints"],
        # Los cuadernos llegan ya ejecutados: myst-nb no ejecuta nada.
        "nb_execution_mode": "off",
        "nb_output_stderr": "remove",  # las barras de progreso del entrenamiento (tqdm) no son contenido
        "nb_merge_streams": True,
        "nb_ipywidgets_js": {},  # nada de JavaScript de widgets de internet: los exploradores van como vista fija
        "myst_enable_extensions": ["dollarmath"],
        "myst_heading_anchors": 3,
        # MathJax 2 local (de jupyter-server-mathjax, en _static/mathjax): las fórmulas se ven sin conexión.
        "myst_update_mathjax": False,
        "mathjax_path": "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full",
        "mathjax2_config": {
            "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True},
            "HTML-CSS": {"availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web", "webFont": "STIX-Web",
                         "imageFont": None, "linebreaks": {"automatic": True},
                         # MathJax 2 pide una letra vacía a about:blank, y Chromium lo anota como error en la
                         # consola; con local() no pide nada y se comporta igual (la letra no está).
                         "styles": {"@font-face": {"font-family": "MathJax_Blank", "src": "local('MathJax_Blank')"}}},
            "menuSettings": {"locale": "es"},
            "showMathMenu": True,
            "messageStyle": "none",
        },
        "html_theme": "sphinx_book_theme",
        "html_theme_options": {
            "repository_url": repository,
            "repository_branch": "main",
            "use_repository_button": True,
            "use_download_button": False,  # bajaría las copias de _sources, que no se publican
            "use_fullscreen_button": False,
            "home_page_in_toc": True,
            "show_navbar_depth": 1,
            "navigation_with_keys": False,
            "navbar_persistent": [],  # la búsqueda ya está en la barra lateral: sin una segunda barra arriba
        },
        "html_favicon": "_static/favicon.svg",  # con icono propio el navegador no pide /favicon.ico (un 404)
        "html_context": {"default_mode": "light"},  # sin esto el tema anota «invalid theme mode» en la consola
        "html_static_path": ["_static"],
        "html_css_files": ["trazos.css"],
        "html_show_sourcelink": False,
        "html_copy_source": False,  # los cuadernos se abren en Colab o Binder: sin copias en _sources (3,5 MB)
        "html_last_updated_fmt": None,
        "suppress_warnings": ["mystnb.unknown_mime_type"],
    }
    return "# Generado por trazos/classroom/web.py: no lo edites a mano.\n" + "".join(
        f"{name} = {value!r}\n" for name, value in settings.items())


def _copy_mathjax(target):
    import jupyter_server_mathjax
    source = Path(jupyter_server_mathjax.__file__).parent / "static"

    def ignore(folder, names):
        relative = Path(folder).relative_to(source).as_posix()
        skipped = [n for n in names if f"{relative}/{n}".lstrip("./") in MATHJAX_SKIP]
        if relative == "localization":
            skipped += [n for n in names if n not in MATHJAX_KEEP_LOCALES]
        return skipped

    shutil.copytree(source, target, ignore=ignore)


def _web_badges(name, url):
    """Las dos insignias como enlaces de texto: en el sitio no se carga ninguna imagen de fuera."""
    from .badges import binder_url, colab_url
    return (f'<p class="trazos-insignias">'
            f'<a class="colab" href="{html.escape(colab_url(name, url))}">▶ Abrir en Colab</a>'
            f'<a class="binder" href="{html.escape(binder_url(name, url))}">▶ Abrir en Binder</a></p>')


def _prune(site):
    """Quita lo que el tema copia y ninguna página usa: mapas de fuentes (.map, solo para depurar su
    JavaScript), los catálogos de traducción (ya están dentro de las páginas) y sus plantillas."""
    static = Path(site) / "_static"
    for path in [*static.rglob("*.map"), *static.glob("*webpack-macros.html")]:
        path.unlink()
    shutil.rmtree(static / "locales", ignore_errors=True)


def _folder_size(folder):
    return sum(path.stat().st_size for path in Path(folder).rglob("*") if path.is_file())


def _check_output(out):
    """Si `out` tiene ya otros ficheros que no son un sitio de trazos, no se toca: error en español."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} es un fichero, no una carpeta.")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists():
        raise FileExistsError(f"La carpeta {out} ya tiene otros ficheros y no es un sitio de trazos: elige una "
                              f"carpeta vacía o nueva (no se borra nada que no haya hecho esta orden).")


def build_site(out, executed=None, progress=True):
    """Construye el sitio del curso en la carpeta `out` y devuelve {páginas, segundos, bytes, carpeta}.

    Sin `executed`, ejecuta cada cuaderno de notebooks/ en un núcleo nuevo (con los datos de
    TRAZOS_DATA y las redes de TRAZOS_CACHE, como `trazos preparar`). Con `executed`, una carpeta
    de copias ya ejecutadas con `execute_notebooks`, las toma de ahí. `out` se crea o, si ya es
    un sitio de trazos, se reemplaza entero.
    """
    from sphinx.application import Sphinx

    from .badges import BADGES_TAG, add_badges, repository_url

    start = time.perf_counter()
    out = Path(out)
    _check_output(out)
    names = [path.name for path in _notebooks(NOTEBOOKS)]
    with tempfile.TemporaryDirectory(prefix="trazos-web-") as temporary:
        temporary = Path(temporary)
        source = temporary / "fuente"
        (source / "notebooks").mkdir(parents=True)
        if executed is None:
            if progress:
                print(f"Ejecutando los {len(names)} cuadernos, cada uno en un núcleo nuevo:", flush=True)
            executed = temporary / "ejecutados"
            execute_notebooks(executed, NOTEBOOKS, progress=progress)
        executed = Path(executed)
        missing = [name for name in names if not (executed / name).is_file()]
        if missing:
            raise FileNotFoundError(f"En {executed} faltan cuadernos ejecutados: {', '.join(missing)}.")
        url = repository_url()
        titles, alts = [], {}
        for name in names:
            notebook = add_badges(json.loads((executed / name).read_text(encoding="utf-8")), name, url)
            alts.update(web_pages.figure_alts(notebook))
            notebook = prepare_notebook(notebook)
            for cell in notebook["cells"]:
                if BADGES_TAG in cell.get("metadata", {}).get("tags", []):
                    cell["source"] = _web_badges(name, url)
            titles.append((name, _title(notebook, name)))
            (source / "notebooks" / name).write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
        (source / "docs").mkdir()
        for name in PUBLISHED_DOCS:
            if (DOCS / name).is_file():
                shutil.copy(DOCS / name, source / "docs" / name)
        (source / "index.md").write_text(_index(titles, url), encoding="utf-8")
        (source / "conf.py").write_text(_conf(url), encoding="utf-8")
        (source / "_static").mkdir()
        (source / "_static" / "trazos.css").write_text(CSS, encoding="utf-8")
        (source / "_static" / "favicon.svg").write_text(FAVICON, encoding="utf-8")
        _copy_mathjax(source / "_static" / "mathjax")

        if progress:
            print("Construyendo las páginas con Sphinx...", flush=True)
        html_out, warnings = temporary / "html", io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()):
            app = Sphinx(str(source), str(source), str(html_out), str(temporary / "doctrees"), "html",
                         status=None, warning=warnings, freshenv=True, verbosity=0)
            app.build()
        if app.statuscode:
            raise RuntimeError(f"Sphinx no pudo construir el sitio:\n{warnings.getvalue()}")
        _prune(html_out)
        missing_alts = web_pages.finish_site(html_out, alts)
        (html_out / ".nojekyll").write_text("", encoding="utf-8")  # GitHub Pages: publica también _static/
        (html_out / MARKER).write_text("Sitio del curso trazos: python -m trazos web --out CARPETA\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        shutil.copytree(html_out, out)
    pages = len(list(out.rglob("*.html")))
    result = {"carpeta": out, "páginas": pages, "segundos": time.perf_counter() - start, "bytes": _folder_size(out),
              "avisos": [line for line in warnings.getvalue().splitlines() if line.strip()] + missing_alts}
    if progress:
        for line in result["avisos"]:
            print(f"  aviso de Sphinx: {line}")
        print(f"Sitio listo en {out}: {pages} páginas HTML, {render.decimal(result['bytes'] / 1e6, 1)} MB, en "
              f"{_seconds(result['segundos'])}. Ábrelo con {out / 'index.html'} o publica la carpeta tal cual.",
              flush=True)
    return result


# --- La orden `python -m trazos web` ---------------------------------------------------------------

def add_arguments(parser):
    parser.add_argument("--out", type=Path, required=True, metavar="CARPETA",
                        help="carpeta donde se escribe el sitio (nueva, vacía o un sitio anterior, que se reemplaza)")
    parser.add_argument("--ejecutados", type=Path, default=None, metavar="CARPETA",
                        help="toma los cuadernos ya ejecutados de esta carpeta en vez de ejecutarlos "
                             "(las de --guardar-ejecutados o las de python -m trazos ejecutar)")
    parser.add_argument("--guardar-ejecutados", type=Path, default=None, metavar="CARPETA",
                        help="ejecuta los cuadernos, guarda aquí las copias ejecutadas y construye con ellas")
    parser.add_argument("--sin-progreso", action="store_true", help="no muestra el progreso, solo el resultado")
    return parser


def run(args):
    progress = not args.sin_progreso
    executed = args.ejecutados
    try:
        _check_output(args.out)
        if executed is None and args.guardar_ejecutados is not None:
            if progress:
                print(f"Ejecutando los cuadernos y guardando las copias en {args.guardar_ejecutados}:", flush=True)
            execute_notebooks(args.guardar_ejecutados, progress=progress)
            executed = args.guardar_ejecutados
        result = build_site(args.out, executed=executed, progress=progress)
    except (OSError, RuntimeError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nConstrucción interrumpida: la carpeta de salida no se ha tocado.", file=sys.stderr)
        return 130
    if not progress:
        print(f"Sitio listo en {result['carpeta']}: {result['páginas']} páginas HTML, "
              f"{render.decimal(result['bytes'] / 1e6, 1)} MB.")
    return 0


def main(argv=None):
    from ..arguments import SpanishArgumentParser
    parser = SpanishArgumentParser(
        prog="trazos web",
        description="Construye, sin internet, el curso como sitio web estático: cada cuaderno ejecutado con sus "
                    "figuras, el glosario y una portada (sin la guía del profesorado ni las respuestas).",
        epilog="Ejemplo: python -m trazos web --out sitio. Luego abre sitio/index.html o publica la carpeta en "
               "cualquier alojamiento de páginas estáticas (docs/publicar.md).")
    add_arguments(parser)  # con la ayuda y los títulos en español de SpanishArgumentParser
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
