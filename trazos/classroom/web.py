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

Lo que se escribe en la carpeta fuente (la portada, el conf.py de Sphinx, los estilos, MathJax y las
insignias) está en `trazos.classroom.web_source`; aquí, ejecutar los cuadernos y construir el sitio.
Después, `trazos.classroom.web_pages` retoca el HTML de Sphinx: el texto alternativo de cada figura, los
nombres accesibles en español, los iconos sin Font Awesome y el extracto de la búsqueda.

La herramienta es Sphinx con myst-nb (lee los .ipynb ya ejecutados, sin volver a ejecutarlos) y
el tema sphinx-book-theme: todo viene de PyPI con `pip install -e ".[web]"`, el tema trae sus
tipos de letra e iconos y no descarga nada al construir. Las fórmulas se dibujan con la copia
de MathJax 2 que trae el paquete jupyter-server-mathjax, copiada dentro del sitio: el sitio
tampoco pide nada a internet al abrirlo, y se puede abrir con doble clic en index.html.
"""

import contextlib
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from .. import render
from . import web_pages
from .static_view import prepare_notebook, static_widget_html  # la vista fija de los exploradores
from .web_source import (CSS, DOCS, FAVICON, PRIVATE_DOCS, PUBLISHED_DOCS, ROOT, copy_mathjax, index_page,
                         notebook_title, sphinx_conf, web_badges)

__all__ = ["NOTEBOOKS", "DOCS", "PUBLISHED_DOCS", "PRIVATE_DOCS", "execute_notebooks", "student_copy",
           "static_widget_html", "prepare_notebook", "build_site", "add_arguments", "run", "main"]

NOTEBOOKS = ROOT / "notebooks"
# PUBLISHED_DOCS y PRIVATE_DOCS (web_source): la guía del profesorado y la clave de respuestas se quedan fuera.
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


# --- Construir el sitio ------------------------------------------------------------------------------

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
                    cell["source"] = web_badges(name, url)
            titles.append((name, notebook_title(notebook, name)))
            (source / "notebooks" / name).write_text(json.dumps(notebook, ensure_ascii=False), encoding="utf-8")
        (source / "docs").mkdir()
        for name in PUBLISHED_DOCS:
            if (DOCS / name).is_file():
                shutil.copy(DOCS / name, source / "docs" / name)
        (source / "index.md").write_text(index_page(titles, url), encoding="utf-8")
        (source / "conf.py").write_text(sphinx_conf(url), encoding="utf-8")
        (source / "_static").mkdir()
        (source / "_static" / "trazos.css").write_text(CSS, encoding="utf-8")
        (source / "_static" / "favicon.svg").write_text(FAVICON, encoding="utf-8")
        copy_mathjax(source / "_static" / "mathjax")

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
