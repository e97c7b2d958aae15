"""La fuente del sitio del curso: la portada, el conf.py de Sphinx, los estilos, MathJax y las insignias.

`trazos.classroom.web` ejecuta los cuadernos y llama a Sphinx; aquí está lo que escribe en la carpeta
fuente antes de llamarlo: qué documentos se publican (y cuáles no, porque dan las respuestas), el
Markdown de la portada con el orden de lectura, la configuración de Sphinx y de MathJax 2 (local,
sin internet), la hoja de estilos y el icono, y las insignias de Colab y Binder como enlaces de texto.
Separado de la construcción porque es contenido: se cambia sin tocar cómo se construye el sitio.
"""

import html
import re
import shutil
import tomllib
from pathlib import Path

from . import web_pages

__all__ = ["ROOT", "DOCS", "PUBLISHED_DOCS", "PRIVATE_DOCS", "INTRO", "ORDER", "CSS", "FAVICON", "notebook_title",
           "index_page", "authors", "sphinx_conf", "copy_mathjax", "web_badges"]

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
# La guía del profesorado y la clave de respuestas se quedan fuera: dan las respuestas de los ejercicios.
PUBLISHED_DOCS = ("glosario.md", "publicar.md")
PRIVATE_DOCS = ("guia_docente.md", "clave_de_respuestas.md")


# --- La portada ----------------------------------------------------------------------------------

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

def _readme_rows():
    """{cuaderno: qué enseña} de la tabla del README (la misma que presenta el curso)."""
    readme = ROOT / "README.md"
    if not readme.is_file():
        return {}
    return dict(re.findall(r"^\| `(\d\d_\w+\.ipynb)` \| (.+?) \|\s*$", readme.read_text(encoding="utf-8"),
                           flags=re.MULTILINE))


def notebook_title(notebook, fallback):
    """El primer título «# …» del cuaderno (o `fallback`): el de su página y su fila en la portada."""
    for cell in notebook["cells"]:
        if cell["cell_type"] == "markdown":
            found = re.search(r"^#\s+(.+)$", "".join(cell["source"]), flags=re.MULTILINE)
            if found:
                return found[1].strip()
    return fallback


def index_page(notebooks, repository):
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


# --- Los estilos y el icono ---------------------------------------------------------------------

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

# --- Sphinx, MathJax y las insignias -------------------------------------------------------------

MATHJAX_KEEP_LOCALES = ("es",)
MATHJAX_SKIP = ("jax/output/SVG", "extensions/a11y", "config/Safe.js")  # sin uso: salida HTML-CSS, sin a11y


def authors(pyproject=ROOT / "pyproject.toml"):
    """Quien firma el curso: los `authors` de pyproject.toml (o «trazos», si no hay)."""
    try:
        people = tomllib.loads(Path(pyproject).read_text(encoding="utf-8"))["project"].get("authors", [])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        people = []
    return ", ".join(a["name"] for a in people if a.get("name")) or "trazos"


def sphinx_conf(repository):
    """El conf.py de Sphinx del sitio."""
    settings = {
        "project": "trazos",
        "author": authors(),  # el pie de cada página dice «Por …»
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
    return "# Generado por trazos/classroom/web_source.py: no lo edites a mano.\n" + "".join(
        f"{name} = {value!r}\n" for name, value in settings.items())


def copy_mathjax(target):
    import jupyter_server_mathjax
    source = Path(jupyter_server_mathjax.__file__).parent / "static"

    def ignore(folder, names):
        relative = Path(folder).relative_to(source).as_posix()
        skipped = [n for n in names if f"{relative}/{n}".lstrip("./") in MATHJAX_SKIP]
        if relative == "localization":
            skipped += [n for n in names if n not in MATHJAX_KEEP_LOCALES]
        return skipped

    shutil.copytree(source, target, ignore=ignore)


def web_badges(name, url):
    """Las dos insignias como enlaces de texto: en el sitio no se carga ninguna imagen de fuera."""
    from .badges import binder_url, colab_url
    return (f'<p class="trazos-insignias">'
            f'<a class="colab" href="{html.escape(colab_url(name, url))}">▶ Abrir en Colab</a>'
            f'<a class="binder" href="{html.escape(binder_url(name, url))}">▶ Abrir en Binder</a></p>')

