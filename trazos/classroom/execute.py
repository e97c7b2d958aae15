"""Copias ejecutadas de los cuadernos, para proyectarlas en clase sin esperar a que se ejecuten.

`python -m trazos ejecutar --out CARPETA [cuadernos…]` ejecuta los cuadernos del curso (todos, o
los que se nombren) con un núcleo `python3` nuevo para cada uno, desde la carpeta `notebooks/`
(así encuentran las mismas rutas que en clase), y escribe en CARPETA una copia de cada uno con
sus salidas. Los originales no se tocan: siguen sin salidas, con los huecos de los ejercicios.
"""

import time
from pathlib import Path

from ..errors import TrazosValueError

__all__ = ["NOTEBOOKS", "notebook_paths", "execute_notebooks", "add_arguments", "run"]

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
TIMEOUT = 1800  # segundos por celda: el 04 o el 09 entrenan si la caché está vacía


def notebook_paths(names=None, folder=NOTEBOOKS):
    """Las rutas de los cuadernos `names` («04», «04_entrenamiento» o «04_entrenamiento.ipynb»), o todos."""
    folder = Path(folder)
    every = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not names:
        return every
    chosen = []
    for name in names:
        stem = Path(str(name)).name.removesuffix(".ipynb")
        matches = [p for p in every if p.stem == stem or p.stem.split("_")[0] == stem]
        if len(matches) != 1:
            options = ", ".join(p.stem for p in every)
            raise TrazosValueError(f"No hay un cuaderno «{name}» en {folder}; los cuadernos son: {options}.")
        chosen.append(matches[0])
    return chosen


def execute_notebooks(out, notebooks=None, progress=True, timeout=TIMEOUT, folder=NOTEBOOKS):
    """Ejecuta `notebooks` (nombres o rutas; None: todos) y escribe las copias ejecutadas en `out`.

    Cada cuaderno se ejecuta con un núcleo `python3` nuevo y la carpeta de los cuadernos como
    directorio de trabajo. Devuelve la lista de copias escritas. Si una celda falla, lanza un
    RuntimeError que dice qué cuaderno y qué celda; las copias ya escritas se quedan.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    from ..render import decimal

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = notebook_paths(notebooks, folder)
    written = []
    for number, path in enumerate(paths, 1):
        if progress:
            print(f"[{number}/{len(paths)}] ejecutando {path.name}...", flush=True)
        start = time.perf_counter()
        notebook = nbformat.read(path, as_version=4)
        client = NotebookClient(notebook, kernel_name="python3", timeout=timeout,
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()
        except CellExecutionError as error:
            raise RuntimeError(f"El cuaderno {path.name} ha fallado al ejecutarse; no se ha escrito su copia. "
                               f"Lo que dijo la celda:\n{error}") from None
        target = out / path.name
        nbformat.write(notebook, target)
        written.append(target)
        if progress:
            print(f"      listo en {decimal(time.perf_counter() - start, 1)} s: {target}", flush=True)
    if progress:
        print(f"{len(written)} cuadernos ejecutados en {out}.")
    return written


def add_arguments(parser):
    """Los argumentos de `python -m trazos ejecutar`."""
    parser.add_argument("--out", required=True, metavar="CARPETA",
                        help="carpeta donde se escriben las copias ejecutadas (se crea si no existe)")
    parser.add_argument("notebooks", nargs="*", metavar="cuaderno",
                        help="cuadernos a ejecutar, por número o nombre (por ejemplo 08 o 08_laboratorio); "
                             "sin ninguno, todos")
    parser.add_argument("--timeout", type=int, default=TIMEOUT, metavar="SEGUNDOS",
                        help=f"límite por celda (por defecto {TIMEOUT} s)")
    return parser


def run(args):
    """Ejecuta la orden `ejecutar`; devuelve el código de salida (0 si todo fue bien)."""
    try:
        execute_notebooks(args.out, args.notebooks or None, progress=True, timeout=args.timeout)
    except (RuntimeError, TrazosValueError) as error:
        print(f"Error: {error}")
        return 1
    return 0
