"""Preparar un aula: `python -m trazos preparar` deja una máquina lista para dar el curso sin internet.

Hace, en orden y midiendo cada paso:
1. los datos: encuentra MNIST (`--data`, `TRAZOS_DATA` o la caché del usuario) y comprueba
   tamaño y md5 de los cuatro ficheros; si faltan, los descarga (la única vez que hace falta red);
2. las redes: entrena y guarda en la caché (`--cache` o `TRAZOS_CACHE`) las dos redes del
   curso, las que cargan los cuadernos; las que ya están en la caché solo se comprueban;
3. los cuadernos: que cada biblioteca que importan esté instalada, y las extensiones de
   JupyterLab que dibujan los exploradores;
4. las redes de los propios cuadernos: los que entrenan redes suyas con caché (el 09 compara
   variantes escritas en el cuaderno) se ejecutan enteros una vez, como lo haría un estudiante,
   y sus redes quedan en la misma caché. Así ningún estudiante las entrena en clase.

Termina con una lista en español de lo que está listo, dónde y cuánto tardó cada paso. La
segunda vez no entrena nada: solo vuelve a ejecutar esos cuadernos, que cargan sus redes de
la caché, en unos segundos. Sin datos y sin red, el error de los datos
y el código de salida 2.
"""

import ast
import contextlib
import importlib.util
import json
import os
import time
from pathlib import Path

from . import data, render
from .models import MODELS
from .training import trained_model

__all__ = ["notebook_imports", "training_notebooks", "run_notebook", "prepare", "main"]

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
NAMES = {"cnn": "red compacta (16x16)", "classic": "red clásica (28x28)"}
# Lo que dibuja los widgets en el navegador: sin estas extensiones, los exploradores salen como texto.
FRONTENDS = {"jupyterlab_widgets": "ipywidgets en JupyterLab", "anywidget": "el lienzo de «dibuja tu dígito»"}


def _notebooks(folder):
    """Los cuadernos del curso que hay en `folder` (NN_nombre.ipynb), en orden."""
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def _code_cells(path):
    """El texto de cada celda de código del cuaderno `path`."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def notebook_imports(folder=NOTEBOOKS):
    """{módulo de primer nivel: [cuadernos que lo importan]} de los cuadernos de `folder`."""
    found = {}
    for path in _notebooks(folder):
        for code in _code_cells(path):
            source = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
            try:
                tree = ast.parse(source)
            except SyntaxError:  # una celda con un hueco a medio escribir no impide mirar las demás
                continue
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module] if isinstance(node, ast.ImportFrom) and node.module and not node.level else []
                for name in names:
                    found.setdefault(name.split(".")[0], set()).add(path.name)
    return {name: sorted(where) for name, where in sorted(found.items())}


def training_notebooks(folder=NOTEBOOKS):
    """Los cuadernos de `folder` que entrenan redes suyas y las guardan en la caché (`train_run`)."""
    return [path for path in _notebooks(folder) if any("train_run(" in code for code in _code_cells(path))]


@contextlib.contextmanager
def _environment(**values):
    """Cambia variables de entorno mientras dura el bloque (el kernel que se lanza dentro las hereda)."""
    old = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in old.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def run_notebook(path, root=None, cache=None, timeout=1800):
    """Ejecuta el cuaderno `path` de principio a fin en un kernel nuevo, con esos datos y esa caché.

    Lo mismo que «Restart Kernel and Run All», sin navegador. Lanza el error de nbclient si
    una celda falla.
    """
    import nbformat  # aquí y no arriba: solo `preparar` los necesita
    from nbclient import NotebookClient
    notebook = nbformat.read(path, as_version=4)
    with _environment(TRAZOS_DATA=str(data.data_root(root)), TRAZOS_CACHE=str(data.cache_root(cache))):
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()


def _run_training_notebook(path, root, cache, progress):
    """Una línea de la lista: ejecuta `path` y cuenta las redes nuevas que deja en la caché."""
    folder = data.cache_root(cache)
    before = set(folder.glob("*.pt"))
    start = time.perf_counter()
    if progress:
        print(f"Ejecutando {path.name} entero, que entrena sus propias redes (la primera vez, cerca de un minuto)...",
              flush=True)
    try:
        run_notebook(path, root, cache)
    except Exception as error:  # una celda que falla: la lista lo dice y preparar acaba con código 1
        reason = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        return f"✗ {path.name}: falló al ejecutarlo ({reason[:200]}). Ábrelo y ejecútalo para ver dónde.", False
    new = len(set(folder.glob("*.pt")) - before)
    what = (f"{new} {'red entrenada' if new == 1 else 'redes entrenadas'} ahora y en la caché" if new
            else "sus redes ya estaban en la caché")
    return f"✓ {path.name}: ejecutado entero, {what} · {_seconds(start)}", True


def _seconds(start):
    return f"{render.decimal(time.perf_counter() - start, 1)} s"


def prepare(root=None, cache=None, folder=NOTEBOOKS, progress=True):
    """Prepara datos, redes y cuadernos; devuelve las líneas de la lista final (y lanza
    `data.MNISTDataError` si no hay datos ni forma de descargarlos)."""
    report = []
    start = time.perf_counter()
    found = data.find_mnist(root)  # descarga si hace falta; si no puede, MNISTDataError en español
    report.append(f"✓ Datos: MNIST en {found / 'MNIST' / 'raw'} (4 ficheros, tamaño y md5 correctos) · {_seconds(start)}")

    for name in MODELS:
        start = time.perf_counter()
        run = trained_model(name, cache=cache, root=root, progress=progress)
        epochs = len(run.history)
        how = "entrenada ahora" if run.trained_now else "ya estaba en la caché"
        accuracy = render.percent(run.test_accuracy, 2)
        report.append(f"✓ {NAMES[name].capitalize()}: {epochs} {'época' if epochs == 1 else 'épocas'}, {accuracy} de acierto en test, {how}, "
                      f"en {run.path} · {_seconds(start)}")

    start = time.perf_counter()
    imports = notebook_imports(folder)
    missing = {name: where for name, where in imports.items() if importlib.util.find_spec(name) is None}
    missing.update({name: [what] for name, what in FRONTENDS.items() if importlib.util.find_spec(name) is None})
    notebooks = len(_notebooks(folder))
    ready = not missing
    for name, where in missing.items():
        report.append(f"✗ Falta la biblioteca {name} (la usa {', '.join(where)}): instálala con "
                      f"pip install -e \".[test]\" desde la carpeta del curso.")
    if ready:
        report.append(f"✓ Cuadernos: {notebooks} en {folder}, sus {len(imports)} bibliotecas instaladas y los "
                      f"widgets listos para el navegador · {_seconds(start)}")
        for path in training_notebooks(folder):  # solo con todo instalado: si no, fallarían igual
            line, ok = _run_training_notebook(path, root, cache, progress)
            report.append(line)
            ready = ready and ok
    return report, ready


def _parse(argv):
    from .cli import SpanishArgumentParser, SpanishHelpFormatter
    parser = SpanishArgumentParser(
        prog="trazos preparar", formatter_class=SpanishHelpFormatter, add_help=False,
        description="Deja esta máquina lista para dar el curso sin internet: datos, redes entrenadas y cuadernos.",
        epilog="Ejemplo, para una carpeta compartida en un servidor: python -m trazos preparar --cache /srv/trazos/modelos "
               "--data /srv/trazos/datos")
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument("--data", type=Path, default=None, metavar="CARPETA",
                        help="carpeta de datos que contiene (o contendrá) MNIST/raw (por defecto: $TRAZOS_DATA o "
                             "~/.cache/trazos/data)")
    parser.add_argument("--cache", type=Path, default=None, metavar="CARPETA",
                        help="carpeta donde se guardan las redes entrenadas (por defecto: $TRAZOS_CACHE o "
                             "~/.cache/trazos/models)")
    parser._optionals.title = "opciones"
    return parser.parse_args(argv)


def main(argv=None):
    args = _parse(argv)
    print("Preparando el aula: datos, redes y cuadernos.")
    start = time.perf_counter()
    try:
        report, ready = prepare(args.data, args.cache)
    except data.MNISTDataError as error:
        print(f"Error: {error}", flush=True)
        return 2
    except KeyboardInterrupt:
        print("\nPreparación interrumpida. Lo que ya estaba guardado sigue valiendo; vuelve a ejecutar la orden.")
        return 130
    print("\nLista del aula:")
    for line in report:
        print(f"  {line}")
    cache = data.cache_root(args.cache)
    where = f"TRAZOS_DATA={data.data_root(args.data)} TRAZOS_CACHE={cache}"
    print(f"\nTotal: {_seconds(start)}.", end=" ")
    if not ready:
        print("Falta algo (✗ arriba): arréglalo y vuelve a ejecutar la orden.")
        return 1
    print("Listo: desde ahora el curso funciona sin conexión.")
    print(f"Para compartirlas (p. ej. en un servidor, de solo lectura para los estudiantes): {where}. "
          "Lo que entrene cada estudiante se guarda en su propia caché.")
    return 0
