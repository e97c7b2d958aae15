"""Memoria de un kernel de estudiante en cada cuaderno: la base y el pico, en MB.

Ejecuta cada cuaderno en un kernel nuevo (como «Restart Kernel and Run All») y, al final,
lee el pico de memoria residente del propio kernel (`ru_maxrss`, lo que el sistema llegó a
reservarle). La base es un kernel que solo importa torch, matplotlib e ipywidgets: eso lo
paga cualquier cuaderno. Lo que el curso añade es pico - base.

El pico cuenta dos clases de memoria, y para dimensionar un servidor no valen lo mismo:

- la **privada** de cada kernel (tensores, objetos de Python): se paga una vez por estudiante;
- las **bibliotecas** (ficheros .so cargados en memoria): si todos usan el mismo entorno, el
  sistema las tiene una sola vez, por muchos kernels que las usen.

En Linux el script mide también las dos por separado: un hilo lee la memoria privada del
kernel (`RssAnon` en /proc/self/status) cada milisegundo y se queda con el máximo, y al final
lee cuánto ocupan las bibliotecas (`RssFile`). Así calcula el total de una clase contando las
bibliotecas una vez.

    python benchmarks/memory.py                 # todos los cuadernos
    python benchmarks/memory.py 04 08           # solo esos
    python benchmarks/memory.py --alumnos 30    # y el total para una clase de 30

La caché de redes cambia lo que se mide, y el script dice al empezar cuál usa: en un aula,
`python -m trazos preparar` la deja lista (y `servidor` avisa si no) y ningún cuaderno entrena;
con la caché vacía, como en un portátil recién instalado, el 04 y el 09 entrenan sus redes y su
pico lo incluye (`HOME=$(mktemp -d) TRAZOS_CACHE=$(mktemp -d) python benchmarks/memory.py`).
El pico funciona en Linux y macOS (`resource`); la separación, solo en Linux.
Los MB son MiB (1024 x 1024 bytes).
"""

import argparse
import resource  # noqa: F401 - solo para fallar pronto en Windows, donde no existe
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

# La primera celda que se añade a cada cuaderno: un hilo que apunta el máximo de memoria privada.
WATCH = '''\
import os as _os, threading as _threading, time as _time

def _status_mb(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith(field + ":"))

_private = {"max": _status_mb("RssAnon")} if _os.path.exists("/proc/self/status") else None

def _watch():
    while True:
        _private["max"] = max(_private["max"], _status_mb("RssAnon"))
        _time.sleep(0.001)

if _private is not None:
    _threading.Thread(target=_watch, daemon=True).start()
'''

# La última: el pico del proceso del kernel, en MiB (ru_maxrss viene en KiB en Linux y en bytes
# en macOS), y, en Linux, el máximo de memoria privada y lo que ocupan las bibliotecas.
PEAK = '''\
import resource as _resource, sys as _sys
_peak = _resource.getrusage(_resource.RUSAGE_SELF).ru_maxrss / (1024 * 1024 if _sys.platform == "darwin" else 1024)
if _private is not None:
    _private["max"] = max(_private["max"], _status_mb("RssAnon"))
    print("MEMORIA", _peak, _private["max"], _status_mb("RssFile"))
else:
    print("MEMORIA", _peak, "nan", "nan")
'''
BASELINE = "import torch, matplotlib, matplotlib.pyplot, ipywidgets, trazos"
# Lo que un cuaderno puede añadir a la base, como mucho (el presupuesto de memoria del curso: con él, un
# servidor de 30 estudiantes se dimensiona con la base más esto, cada uno).
BUDGET_MB = 250


def measure(cells, cwd):
    """Ejecuta `cells` (textos de código) en un kernel nuevo.

    Devuelve (pico, máximo de memoria privada, bibliotecas al final), en MiB, y los segundos.
    """
    code = [WATCH] + list(cells) + [PEAK]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in code])
    start = time.perf_counter()
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}).execute()
    seconds = time.perf_counter() - start
    text = "".join(out.get("text", "") for out in nb.cells[-1].outputs)
    peak, private, shared = (float(v) for v in text.split("MEMORIA")[1].split()[:3])
    return peak, private, shared, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description="Pico de memoria de un kernel en cada cuaderno del curso.")
    parser.add_argument("which", nargs="*", help="números de cuaderno (por defecto, todos)")
    parser.add_argument("--alumnos", type=int, default=30, help="tamaño de la clase para el total (por defecto: 30)")
    parser.add_argument("--carpeta", type=Path, default=NOTEBOOKS,
                        help="carpeta de los cuadernos (por defecto: notebooks/)")
    args = parser.parse_args(argv)
    paths = sorted(args.carpeta.glob("[0-9][0-9]_*.ipynb"))
    if args.which:
        paths = [p for p in paths if p.name[:2] in {w.zfill(2) for w in args.which}]
    from trazos import data
    from trazos.classroom import prepared
    cache = data.cache_root()
    print(f"Caché de redes: {cache}, " + ("preparada con «python -m trazos preparar», como en un aula: ningún cuaderno "
                                          "entrena" if prepared(cache) else
                                          "sin la marca de «preparar»: el 04 y el 09 entrenan las redes que no "
                                          "encuentren en ella, y su pico lo incluye"))
    base, base_private, base_shared, _ = measure([BASELINE], NOTEBOOKS)
    print(f"Base (kernel con torch, matplotlib, ipywidgets y trazos importados): {base:.0f} MB, "
          f"{base_private:.0f} MB privados y {base_shared:.0f} MB de bibliotecas")
    print(f"{'':<30} {'pico':>7} {'sobre la base':>14} {'privada':>10} {'bibliotecas':>12} {'segundos':>9}  "
          f"objetivo")
    print(f"{'cuaderno':<30} {'':>7} {'':>14} {'sobre base':>10} {'nuevas':>12} {'':>9}  <= {BUDGET_MB} MB")
    worst_peak = worst_private = worst_shared = 0.0
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        peak, private, shared, seconds = measure([c.source for c in nb.cells if c.cell_type == "code"], path.parent)
        worst_peak, worst_private, worst_shared = (max(worst_peak, peak), max(worst_private, private),
                                                   max(worst_shared, shared))
        verdict = "✓ sí" if peak - base <= BUDGET_MB else "✗ NO"
        print(f"{path.name[:-6]:<30} {peak:>4.0f} MB {peak - base:>11.0f} MB {private - base_private:>7.0f} MB "
              f"{shared - base_shared:>9.0f} MB {seconds:>9.1f}  {verdict}")
        sys.stdout.flush()
    n = args.alumnos
    print(f"\nClase de {n}, cada uno en su cuaderno más pesado a la vez:")
    print(f"  contando cada kernel entero:        {n} x {worst_peak:.0f} MB = {n * worst_peak / 1024:.1f} GB")
    if worst_private == worst_private:  # no es nan: hay /proc (Linux)
        total = n * worst_private + worst_shared
        print(f"  con las bibliotecas una sola vez:   {n} x {worst_private:.0f} MB privados + {worst_shared:.0f} MB "
              f"de bibliotecas = {total / 1024:.1f} GB")


if __name__ == "__main__":
    main()
