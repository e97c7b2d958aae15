"""Memoria de un kernel de estudiante en cada cuaderno: la base y el pico, en MB.

Ejecuta cada cuaderno en un kernel nuevo (como «Restart Kernel and Run All») y, al final,
lee el pico de memoria residente del propio kernel (`ru_maxrss`, lo que el sistema llegó a
reservarle). La base es un kernel que solo importa torch, matplotlib e ipywidgets: eso lo
paga cualquier cuaderno. Lo que el curso añade es pico - base.

    python benchmarks/memory.py                 # todos los cuadernos
    python benchmarks/memory.py 04 08           # solo esos
    python benchmarks/memory.py --alumnos 30    # y el total para una clase de 30

Necesita los modelos entrenados en la caché (si no, el primer cuaderno los entrena y su
pico incluye el entrenamiento): antes, `python -m trazos preparar` o una pasada de los
cuadernos. Funciona en Linux y macOS (`resource`); los MB son MiB (1024 x 1024 bytes).
"""

import argparse
import resource  # noqa: F401 - solo para fallar pronto en Windows, donde no existe
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# La última celda que se añade a cada cuaderno: el pico del proceso del kernel, en MiB.
# ru_maxrss viene en KiB en Linux y en bytes en macOS.
PEAK = ("import resource, sys\n"
        "_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print('PICO_MB', _peak / (1024 * 1024 if sys.platform == 'darwin' else 1024))")
BASELINE = "import torch, matplotlib, matplotlib.pyplot, ipywidgets"


def peak_of(cells, cwd):
    """Ejecuta `cells` (textos de código) en un kernel nuevo y devuelve (pico en MiB, segundos)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells] + [nbformat.v4.new_code_cell(PEAK)])
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    seconds = time.perf_counter() - start
    text = "".join(out.get("text", "") for out in nb.cells[-1].outputs)
    return float(text.split("PICO_MB")[1].split()[0]), seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description="Pico de memoria de un kernel en cada cuaderno del curso.")
    parser.add_argument("which", nargs="*", help="números de cuaderno (por defecto, todos)")
    parser.add_argument("--alumnos", type=int, default=30, help="tamaño de la clase para el total (por defecto: 30)")
    parser.add_argument("--carpeta", type=Path, default=NOTEBOOKS, help="carpeta de los cuadernos (por defecto: notebooks/)")
    args = parser.parse_args(argv)
    paths = sorted(args.carpeta.glob("[0-9][0-9]_*.ipynb"))
    if args.which:
        paths = [p for p in paths if p.name[:2] in {w.zfill(2) for w in args.which}]
    base, _ = peak_of([BASELINE], NOTEBOOKS)
    print(f"Base (kernel con torch, matplotlib e ipywidgets importados): {base:.0f} MB")
    print(f"{'cuaderno':<34} {'pico':>7} {'sobre la base':>14} {'segundos':>9}")
    worst = 0.0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        peak, seconds = peak_of([c.source for c in nb.cells if c.cell_type == "code"], path.parent)
        worst = max(worst, peak)
        print(f"{path.name:<34} {peak:>5.0f} MB {peak - base:>11.0f} MB {seconds:>9.1f}")
        sys.stdout.flush()
    print(f"Clase de {args.alumnos}, cada uno en su peor cuaderno a la vez: {args.alumnos * worst / 1024:.1f} GB "
          f"({args.alumnos} x {worst:.0f} MB)")


if __name__ == "__main__":
    main()
