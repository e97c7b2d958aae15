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
y el código de salida 2; sin cuadernos, o si el kernel de Jupyter no es este mismo Python,
una línea ✗ que dice qué hacer y el código de salida 1.
"""

import ast
import contextlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .. import __version__, data, render
from ..models import MODELS
from ..cache import own_cache
from ..training import trained_model

__all__ = ["notebook_imports", "training_notebooks", "kernel_problem", "run_notebook", "prepare", "prepared",
           "add_arguments", "run"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
NAMES = {"cnn": "red compacta (16x16)", "classic": "red clásica (28x28)"}
# Lo que deja `preparar` en la caché cuando todo está listo: `servidor` lo busca para avisar si falta.
MARKER = "preparado.json"
# Lo que dibuja los widgets en el navegador: sin estas extensiones, los exploradores salen como texto.
FRONTENDS = {"jupyterlab_widgets": "ipywidgets en JupyterLab", "anywidget": "el lienzo de «dibuja tu dígito»"}
KERNEL = "python3"  # el kernel de los cuadernos del curso: el que abre JupyterLab y el que usa run_notebook


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


def _same_python(python):
    """Si el ejecutable `python` es este mismo Python, con sus bibliotecas (el mismo entorno)."""
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        return True
    # Otra ruta puede ser el mismo entorno (python y python3 de un venv) o no serlo aunque sea un
    # enlace al mismo fichero (el python de un venv enlaza al del sistema): decide su sys.prefix.
    try:
        done = subprocess.run([python, "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True,
                              timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0 and os.path.realpath(done.stdout.strip()) == os.path.realpath(sys.prefix)


def kernel_problem(name=KERNEL):
    """None si el kernel `name` de Jupyter ejecuta este mismo Python; si no, qué pasa y qué hacer.

    El kernel «python3» es el que aparezca antes en las carpetas de Jupyter (JUPYTER_PATH, la
    del usuario y la del entorno): uno viejo en ~/.local/share/jupyter puede lanzar otro
    Python, sin trazos, y los cuadernos fallarían al importarlo (también en JupyterLab).
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel  # solo `preparar` lo necesita
    fix = f"{sys.executable} -m ipykernel install --user"
    try:
        spec = KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        return (f"Jupyter no tiene el kernel «{name}» que usan los cuadernos: instálalo para este Python con "
                f"{sys.executable} -m pip install ipykernel y después {fix}")
    python = spec.argv[0] if spec.argv else ""
    # Al lanzarlo, jupyter_client cambia «python», «python3» y «python3.X» por este mismo Python.
    if python in {"python", f"python{sys.version_info[0]}", "python{}.{}".format(*sys.version_info[:2])}:
        return None
    if python and _same_python(python):
        return None
    return (f"El kernel «{name}» de Jupyter (en {spec.resource_dir}) ejecuta {python or 'nada'}, no este Python "
            f"({sys.executable}): los cuadernos no encontrarían trazos ni sus bibliotecas. Para que use este, "
            f"ejecuta: {fix}")


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

    Lo mismo que «Restart Kernel and Run All», sin navegador. Lanza RuntimeError si el kernel
    no es este mismo Python (`kernel_problem`) y el error de nbclient si una celda falla.
    Devuelve el cuaderno ejecutado, con sus salidas.
    """
    import nbformat  # aquí y no arriba: solo `preparar` los necesita
    from nbclient import NotebookClient
    problem = kernel_problem()
    if problem:
        raise RuntimeError(problem)
    notebook = nbformat.read(path, as_version=4)
    with _environment(TRAZOS_DATA=str(data.data_root(root)), TRAZOS_CACHE=str(data.cache_root(cache))):
        NotebookClient(notebook, timeout=timeout, kernel_name=KERNEL,
                       resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    return notebook


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
    new = set(folder.glob("*.pt")) - before
    # Las que quien prepara ya tenía en su caché propia se copian a esta (`cache.load_run`), sin entrenar.
    copied = sum((own_cache() / saved.name).is_file() for saved in new) if own_cache() != folder else 0
    trained = len(new) - copied
    parts = ([f"{trained} {'red entrenada' if trained == 1 else 'redes entrenadas'} ahora"] if trained else []) + \
            ([f"{copied} {'red copiada' if copied == 1 else 'redes copiadas'} de tu caché propia"] if copied else [])
    what = " y ".join(parts) + (", ahora en esta caché" if copied else " y en la caché") if new \
        else "sus redes ya estaban en la caché"
    return f"✓ {path.name}: ejecutado entero, {what} · {_seconds(start)}", True


def _seconds(start):
    return f"{render.decimal(time.perf_counter() - start, 1)} s"


def prepare(root=None, cache=None, folder=NOTEBOOKS, progress=True):
    """Prepara datos, redes y cuadernos; devuelve las líneas de la lista final (y lanza
    `data.MNISTDataError` si no hay datos ni forma de descargarlos)."""
    if not _notebooks(folder):  # antes que nada: sin cuadernos no hay aula, y entrenar tarda minutos
        return [f"✗ No hay cuadernos del curso (NN_nombre.ipynb) en {folder}. preparar los comprueba y ejecuta: "
                "lánzalo desde la carpeta del curso (git clone y pip install -e .), no desde una instalación "
                "normal con pip."], False
    report = []
    start = time.perf_counter()
    found = data.find_mnist(root)  # descarga si hace falta; si no puede, MNISTDataError en español
    report.append(f"✓ Datos: MNIST en {found / 'MNIST' / 'raw'} (4 ficheros, tamaño y md5 correctos) · "
                  f"{_seconds(start)}")

    # Las dos redes del curso (la de referencia, que trae el paquete) y la compacta entrenada en esta máquina,
    # la que el cuaderno 04 entrena y compara con la referencia: así tampoco el 04 entrena en clase.
    for name, own in [(name, False) for name in MODELS] + [("cnn", True)]:
        start = time.perf_counter()
        run = trained_model(name, cache=cache, root=root, progress=progress, reference=not own)
        epochs = len(run.history)
        how = ("la de referencia del curso, que trae el paquete" if run.reference
               else "entrenada ahora" if run.trained_now else "ya estaba en la caché")
        where, here = run.path, data.cache_root(cache) / run.path.name
        if not run.reference and run.path != here:  # estaba en la caché propia: `cache.load_run` la copia aquí
            how = f"ya estaba en tu caché ({run.path.parent})" + (" y se ha copiado" if here.is_file() else
                                                                  ", pero no se ha podido copiar")
            where = here if here.is_file() else run.path
        accuracy = render.percent(run.test_accuracy, 2)
        what = f"{NAMES[name]} entrenada en esta máquina (cuaderno 04)" if own else NAMES[name]
        report.append(f"✓ {what[:1].upper() + what[1:]}: {epochs} {'época' if epochs == 1 else 'épocas'}, "
                      f"{accuracy} de acierto en test, {how}, en {where} · {_seconds(start)}")

    start = time.perf_counter()
    imports = notebook_imports(folder)
    missing = {name: where for name, where in imports.items() if importlib.util.find_spec(name) is None}
    missing.update({name: [what] for name, what in FRONTENDS.items() if importlib.util.find_spec(name) is None})
    notebooks = len(_notebooks(folder))
    ready = not missing
    for name, where in missing.items():
        report.append(f"✗ Falta la biblioteca {name} (la usa {', '.join(where)}): instálala con "
                      f"pip install -e \".[test]\" desde la carpeta del curso.")
    problem = kernel_problem()
    if problem:
        report.append(f"✗ {problem}")
        ready = False
    if ready:
        report.append(f"✓ Cuadernos: {notebooks} en {folder}, sus {len(imports)} bibliotecas instaladas y los "
                      f"widgets listos para el navegador · {_seconds(start)}")
        for path in training_notebooks(folder):  # solo con todo instalado: si no, fallarían igual
            line, ok = _run_training_notebook(path, root, cache, progress)
            report.append(line)
            ready = ready and ok
    if ready:
        _mark_prepared(cache, folder)
    return report, ready


def _mark_prepared(cache, notebooks):
    note = {"trazos": __version__, "fecha": time.strftime("%Y-%m-%d %H:%M"),
            "cuadernos que entrenan": [path.name for path in training_notebooks(notebooks)]}
    folder = data.cache_root(cache)
    folder.mkdir(parents=True, exist_ok=True)  # sin nada que guardar (todo venía ya en el paquete), también
    (folder / MARKER).write_text(json.dumps(note, ensure_ascii=False, indent=1) + "\n")


def prepared(cache):
    """¿Dejó `preparar` esta caché lista? Sin eso, los cuadernos que entrenan (el 04 y el 09) lo harían en el
    núcleo de cada estudiante: en un servidor, unos 100 MB más por núcleo en el 09 (253 frente a 150 MB sobre la
    base, `benchmarks/memory.py`) y la CPU ocupada en clase."""
    return (Path(cache) / MARKER).is_file()


def add_arguments(parser):
    """Las opciones de `python -m trazos preparar`."""
    parser.description = "Deja esta máquina lista para dar el curso sin internet: datos, redes entrenadas y cuadernos."
    parser.epilog = ("Ejemplo, para una carpeta compartida en un servidor: python -m trazos preparar "
                     "--cache /srv/trazos/modelos --data /srv/trazos/datos")
    parser.add_argument("--data", type=Path, default=None, metavar="CARPETA",
                        help="carpeta de datos que contiene (o contendrá) MNIST/raw (por defecto: $TRAZOS_DATA o "
                             "~/.cache/trazos/data)")
    parser.add_argument("--cache", type=Path, default=None, metavar="CARPETA",
                        help="carpeta donde se guardan las redes entrenadas (por defecto: $TRAZOS_CACHE o "
                             "~/.cache/trazos/models)")


def run(args):
    """Prepara el aula y escribe la lista; devuelve el código de salida (0 listo, 1 falta algo, 2 sin datos)."""
    print("Preparando el aula: datos, redes y cuadernos.")
    start = time.perf_counter()
    try:
        report, ready = prepare(args.data, args.cache, NOTEBOOKS)  # NOTEBOOKS al llamar: las pruebas la cambian
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
