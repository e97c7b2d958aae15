"""Abrir cada cuaderno en Colab o Binder con un clic: `python -m trazos insignias`.

Cada cuaderno empieza con dos celdas que pone (o actualiza) `add_badges`:

1. una de Markdown con las insignias «Abrir en Colab» y «Abrir en Binder» de ese cuaderno;
2. una de código que instala el curso (`%pip install` desde su repositorio) solo si `trazos`
   no se puede importar, como en Colab; en Colab, además, activa los widgets de terceros
   (`output.enable_custom_widget_manager()`), que dibujan el lienzo y los exploradores. En un
   ordenador con el curso instalado (y en Binder, que lo instala con environment.yml) no hace
   nada ni escribe nada.

La dirección del repositorio está una sola vez, en `[project.urls]` de pyproject.toml
(`Repository`): quien publique el curso cambia esa línea y vuelve a ejecutar la orden. Las dos
celdas se reconocen por su etiqueta (`trazos-insignias`, `trazos-instalar`), así que volver a
ejecutarla las actualiza en su sitio, sin duplicarlas.

La lógica de la celda de instalación es la de `ensure_course`, que se puede probar sin Colab;
la celda la repite con lo mínimo (sin importar trazos, que allí aún no existe).
"""

import importlib
import importlib.util
import json
import sys
import tomllib
from pathlib import Path
from urllib.parse import quote

__all__ = ["BADGES_TAG", "INSTALL_TAG", "BRANCH", "repository_url", "install_requirement", "colab_url",
           "binder_url", "badges_markdown", "install_cell_source", "ensure_course", "add_badges", "apply_badges",
           "add_arguments", "run", "main"]

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
NOTEBOOKS = ROOT / "notebooks"
BADGES_TAG = "trazos-insignias"
INSTALL_TAG = "trazos-instalar"
BRANCH = "main"  # la rama publicada de la que Colab y Binder leen los cuadernos
COLAB_BADGE = "https://colab.research.google.com/assets/colab-badge.svg"
BINDER_BADGE = "https://mybinder.org/badge_logo.svg"


def repository_url(pyproject=PYPROJECT):
    """La dirección pública del curso: `Repository` de `[project.urls]` (pyproject.toml, o los
    metadatos del paquete instalado si no hay pyproject al lado)."""
    pyproject = Path(pyproject)
    if pyproject.is_file():
        urls = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("urls", {})
        if urls.get("Repository"):
            return urls["Repository"].rstrip("/")
    from importlib.metadata import PackageNotFoundError, metadata
    try:
        for entry in metadata("trazos").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() == "repository":
                return url.strip().rstrip("/")
    except PackageNotFoundError:
        pass
    raise LookupError("No se encontró la dirección del curso: falta `Repository` en [project.urls] de pyproject.toml.")


def _github_path(url):
    """«dueño/repositorio» de una dirección de GitHub (Colab y Binder abren repositorios de GitHub)."""
    prefix = "https://github.com/"
    if not url.startswith(prefix) or len(url[len(prefix):].strip("/").split("/")) != 2:
        raise ValueError(f"La dirección del curso debe ser la de un repositorio de GitHub "
                         f"(https://github.com/dueño/nombre); se recibió {url!r}.")
    return url[len(prefix):].strip("/").removesuffix(".git")


def install_requirement(url=None):
    """Lo que se pasa a `pip install` para instalar el curso desde su repositorio."""
    return f"trazos @ git+{url or repository_url()}"


def colab_url(notebook, url=None, branch=BRANCH):
    path = _github_path(url or repository_url())
    return f"https://colab.research.google.com/github/{path}/blob/{branch}/notebooks/{notebook}"


def binder_url(notebook, url=None, branch=BRANCH):
    path = _github_path(url or repository_url())
    return f"https://mybinder.org/v2/gh/{path}/{branch}?labpath={quote(f'notebooks/{notebook}', safe='')}"


def badges_markdown(notebook, url=None):
    """El Markdown de la primera celda: las dos insignias del cuaderno `notebook` (su nombre)."""
    url = url or repository_url()
    return (f"[![Abrir en Colab]({COLAB_BADGE})]({colab_url(notebook, url)}) "
            f"[![Abrir en Binder]({BINDER_BADGE})]({binder_url(notebook, url)})")


def install_cell_source(url=None):
    """El código de la celda de instalación (lo mismo que `ensure_course`, sin importar trazos)."""
    requirement = install_requirement(url)
    return "\n".join([
        "# En Colab (o donde falte el curso) instala trazos desde su repositorio. Si ya está instalado, no hace nada.",
        "import importlib",
        "import importlib.util",
        "import sys",
        "",
        'if importlib.util.find_spec("trazos") is None:',
        f"    %pip install --quiet {json.dumps(requirement)}",
        "    importlib.invalidate_caches()",
        'if "google.colab" in sys.modules:  # Colab: que dibuje los widgets del curso (el lienzo, los exploradores)',
        '    importlib.import_module("google.colab.output").enable_custom_widget_manager()',
    ])


def ensure_course(ipython=None, url=None, find_spec=None, modules=None):
    """La lógica de la celda de instalación; devuelve lo que ha hecho (lista vacía: nada).

    Si `trazos` no se puede importar, pide a IPython `%pip install "trazos @ git+URL"`; si corre
    en Colab (`google.colab` ya importado), activa los widgets de terceros.
    """
    find_spec = find_spec or importlib.util.find_spec
    modules = sys.modules if modules is None else modules
    done = []
    if find_spec("trazos") is None:
        if ipython is None:
            from IPython import get_ipython
            ipython = get_ipython()
        arguments = f"install --quiet {json.dumps(install_requirement(url))}"
        ipython.run_line_magic("pip", arguments)
        importlib.invalidate_caches()
        done.append(f"%pip {arguments}")
    if "google.colab" in modules:
        importlib.import_module("google.colab.output").enable_custom_widget_manager()
        done.append("enable_custom_widget_manager()")
    return done


# --- Las dos celdas en cada cuaderno ---------------------------------------------------------------

def _tagged(notebook, tag):
    cells = notebook["cells"]
    return next((i for i, cell in enumerate(cells) if tag in cell.get("metadata", {}).get("tags", [])), None)


def add_badges(notebook, name, url=None):
    """Pone (o actualiza en su sitio) las insignias y la celda de instalación del cuaderno.

    `notebook` es el diccionario de nbformat (se modifica y se devuelve); `name`, el nombre del
    fichero (`01_padding_y_stride.ipynb`). Es idempotente: dos veces dan lo mismo que una.
    """
    url = url or repository_url()
    cells = notebook["cells"]
    lines = lambda text: text.splitlines(keepends=True)  # noqa: E731 - como guarda Jupyter: una cadena por línea
    with_ids = notebook.get("nbformat", 4) > 4 or notebook.get("nbformat_minor", 0) >= 5
    wanted = [
        (BADGES_TAG, {"cell_type": "markdown", "metadata": {"tags": [BADGES_TAG]},
                      "source": lines(badges_markdown(name, url))}),
        (INSTALL_TAG, {"cell_type": "code", "execution_count": None, "metadata": {"tags": [INSTALL_TAG]},
                       "outputs": [], "source": lines(install_cell_source(url))}),
    ]
    for position, (tag, cell) in enumerate(wanted):
        if with_ids:
            cell["id"] = tag
        found = _tagged(notebook, tag)
        if found is None:
            cells.insert(position, cell)
        else:  # en su sitio: solo el texto (y, si faltan, los campos de la celda)
            cells[found]["source"] = cell["source"]
            for key, value in cell.items():
                cells[found].setdefault(key, value)
    return notebook


def apply_badges(notebooks_folder=NOTEBOOKS, url=None):
    """Aplica `add_badges` a cada cuaderno NN_nombre.ipynb de la carpeta; devuelve los que cambian."""
    changed = []
    for path in sorted(Path(notebooks_folder).glob("[0-9][0-9]_*.ipynb")):
        text = path.read_text(encoding="utf-8")
        notebook = add_badges(json.loads(text), path.name, url)
        new = json.dumps(notebook, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


# --- La orden `python -m trazos insignias` -------------------------------------------------------

def add_arguments(parser):
    parser.add_argument("--cuadernos", type=Path, default=NOTEBOOKS, metavar="CARPETA",
                        help="carpeta con los cuadernos NN_nombre.ipynb (por defecto: notebooks/ del curso)")
    parser.add_argument("--url", default=None, metavar="DIRECCIÓN",
                        help="repositorio público del curso (por defecto: Repository de [project.urls] en "
                             "pyproject.toml)")
    return parser


def run(args):
    try:
        changed = apply_badges(args.cuadernos, args.url)
    except (LookupError, ValueError) as error:
        print(f"Error: {error}")
        return 2
    total = len(list(Path(args.cuadernos).glob("[0-9][0-9]_*.ipynb")))
    print(f"Insignias de Colab y Binder y celda de instalación: {len(changed)} de {total} cuadernos actualizados "
          f"(con {args.url or repository_url()}).")
    for path in changed:
        print(f"  {path}")
    return 0


def main(argv=None):
    from ..arguments import SpanishArgumentParser
    parser = SpanishArgumentParser(
        prog="trazos insignias",
        description="Pone en cada cuaderno las insignias de Colab y Binder y la celda que instala el curso "
                    "donde falta.")
    add_arguments(parser)  # con la ayuda y los títulos en español de SpanishArgumentParser
    return run(parser.parse_args(argv))
