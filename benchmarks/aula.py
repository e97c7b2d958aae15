"""Una clase simulada contra un JupyterHub de verdad (`python -m trazos servidor --prueba`).

Cada estudiante simulado hace lo que hace hubtraf y algo más (`trazos.classroom.visit.Student`):
entra por el formulario del hub, arranca su servidor, abre un kernel y ejecuta en orden las celdas
de código de un cuaderno por el websocket del kernel, con una pausa de lectura entre celda y celda.
En el 08, además, mueve los controles del explorador de activaciones desde código, como lo haría
el deslizador (`explorer.digit.value = ...`): lo que espera es lo que tarda en volver la celda.

Para cada tamaño de clase (--alumnos 1 2 4 8) arranca una clase nueva, con y sin el límite de hilos
(con límite: OMP_NUM_THREADS y CPU_LIMIT de la parte de cada uno, lo que hace `trazos servidor`; sin
límite: cada kernel con un hilo por núcleo de la máquina, lo que hace PyTorch si nadie le dice nada).
Imprime, por fase (entrar, arrancar el servidor, abrir el kernel) y por celda, la mediana, el p95
y el máximo en segundos; el pico de memoria de cada kernel (privada y bibliotecas, como
benchmarks/memory.py); los errores; y la eficiencia de la clase: lo que tardarían esos estudiantes
uno detrás de otro, cada uno solo en la máquina con todos sus núcleos (N x lo que tardó uno solo,
sin límite), dividido entre lo que tardaron juntos. Los tiempos no cuentan las pausas de lectura:
1 es «juntos van tan bien como por turnos», menos de 1 es tiempo perdido en pelearse por la CPU.

    sudo python benchmarks/aula.py --cuadernos 08 04 --alumnos 1 2 4 8
    sudo python benchmarks/aula.py --cuadernos 08 --alumnos 8 --limites con   # solo con el límite
    sudo python benchmarks/aula.py --cuadernos --rafaga 30 50                 # solo la ráfaga

Al final, la ráfaga de una clase contra el servicio de progreso del hub (`trazos`, el que recibe
lo que registra cada `check`): --rafaga N E (por defecto 30 estudiantes x 50 eventos; 0 0 la
omite). En una clase nueva, la docente pide un token como en /hub/token; con él crea N usuarios
del hub (sin servidor: solo mandan eventos) y un token de cada uno con el permiso del servicio,
como el del núcleo de un estudiante; todos mandan sus E eventos a la vez, con un POST por evento
a la dirección a la que los manda el núcleo (`progress_burst`, la misma ráfaga que la prueba de
tests/test_progress_hub.py). Imprime la latencia de cada envío (mediana, p95, máximo), lo que
tardó la ráfaga entera y cuántos eventos guardó el servicio (tienen que ser N x E, una vez cada uno).

Necesita lo mismo que `trazos servidor --prueba` (root, configurable-http-proxy y el entorno de los
estudiantes de scripts/entorno_aula.sh) y las redes del curso ya entrenadas en una carpeta que los
estudiantes puedan leer (--modelos, por defecto $TRAZOS_CACHE): si no, cada kernel la entrenaría.
"""

import argparse
import json
import os
import queue
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from memory import PEAK, WATCH  # el mismo reloj de memoria que benchmarks/memory.py

from trazos.classroom.hub import cpu_share, threads_for
from trazos.classroom.server import free_port
from trazos.classroom.visit import Student, progress_burst
from trazos.render import decimal

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
PASSWORD = "aula-simulada"
# Lo que hace quien mueve los controles del explorador de activaciones del 08 (dígito, ejemplo, etapa).
EXPLORER = "_explorer = widgets.activation_explorer(model, test)\n_explorer"
MOVES = [f"_explorer.digit.value = {d}" for d in (3, 8, 1, 5, 0)] + \
        [f"_explorer.index.value = {i}" for i in (4, 9)] + \
        ["_explorer.stage.value = _explorer.stage.options[{}]".format(k) for k in (2, 4, 1)]


def code_cells(number):
    path = next(NOTEBOOKS.glob(f"{number:0>2}_*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return path.name, ["".join(cell["source"]) for cell in cells if cell["cell_type"] == "code"]


def quantiles(values):
    """(mediana, p95, máximo) de `values`."""
    values = sorted(values)
    p95 = values[min(len(values) - 1, max(0, round(0.95 * len(values)) - 1))]
    return statistics.median(values), p95, values[-1]


def fmt(values):
    return "/".join(decimal(v, 2) for v in quantiles(values)) if values else "-"


class Hub:
    """`python -m trazos servidor --prueba` en marcha, para una clase de `n` estudiantes."""

    def __init__(self, n, cpu, python, data, models):
        self.port = free_port()
        command = [sys.executable, "-m", "trazos", "servidor", "--prueba", "--alumnos", str(n), "--clave", PASSWORD,
                   "--puerto", str(self.port)]
        if python:
            command += ["--python", str(python)]
        if cpu:
            command += ["--cpu", str(cpu)]
        env = {**os.environ, "TRAZOS_DATA": str(data), "TRAZOS_CACHE": str(models)}
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        lines = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        said = []
        while not said or not said[-1].startswith("La clase está lista"):
            try:
                said.append(lines.get(timeout=180))
            except queue.Empty:
                self.stop()
                raise RuntimeError("La clase no arrancó:\n" + "".join(said)) from None
        self.url = f"http://127.0.0.1:{self.port}/"

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=180)


def simulate(name, url, cells, pause, moves, start_together, out):
    """Un estudiante: fases, celdas, movimientos de control, memoria y errores, en `out`."""
    student = Student(url, name, PASSWORD, timeout=900)
    record = {"phases": {}, "cells": [], "moves": [], "errors": [], "pause": 0.0}
    out.append(record)
    start_together.wait()
    begin = time.perf_counter()
    try:
        record["phases"]["entrar"] = student.login()
        record["phases"]["servidor"] = student.spawn()
        record["phases"]["kernel"] = student.start_kernel()
        student.execute(WATCH)
        for index, code in enumerate(cells + ([EXPLORER] if moves else [])):
            result = student.execute(code)
            record["cells"].append(result.seconds)
            if result.error:
                record["errors"].append(f"celda {index}: {result.error}")
            time.sleep(pause)
            record["pause"] += pause
        for code in moves:
            result = student.execute(code)
            record["moves"].append(result.seconds)
            if result.error:
                record["errors"].append(f"control: {result.error}")
        peak = student.execute(PEAK).text.split("MEMORIA")[1].split()
        record["memory"] = [float(x) for x in peak[:3]]  # pico total, privada máxima, bibliotecas (MiB)
    except Exception as error:  # lo que vería el estudiante: cuenta como error de la clase
        record["errors"].append(f"{type(error).__name__}: {error}")
    finally:
        record["work"] = time.perf_counter() - begin - record["pause"]
        try:
            student.close()
        except Exception:
            pass


def run_class(n, limit, notebook, args):
    cores = len(os.sched_getaffinity(0))
    hub = Hub(n, None if limit else cores, args.python, args.datos, args.modelos)
    try:
        _, cells = code_cells(notebook)
        records, together = [], threading.Barrier(n)
        start = time.perf_counter()
        threads = [threading.Thread(target=simulate, args=(f"alumno{i + 1}", hub.url, cells, args.pausa,
                                                           MOVES if notebook == "08" else [], together, records))
                   for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - start - max(r["pause"] for r in records)
    finally:
        hub.stop()
    return {"n": n, "limit": limit, "notebook": notebook, "wall": wall, "records": records,
            "threads": threads_for(cpu_share(n)) if limit else cores}


def report(result, alone):
    records = result["records"]
    phases = {phase: [r["phases"][phase] for r in records if phase in r["phases"]]
              for phase in ("entrar", "servidor", "kernel")}
    cells = [s for r in records for s in r["cells"]]
    moves = [s for r in records for s in r["moves"]]
    memory = [r["memory"] for r in records if "memory" in r]
    errors = [e for r in records for e in r["errors"]]
    finished = sum(1 for r in records if not r["errors"])
    efficiency = result["n"] * alone / result["wall"] if alone else float("nan")
    per_minute = 60 * finished / result["wall"]
    print(f"| {result['notebook']} | {result['n']} | {'sí' if result['limit'] else 'no'} ({result['threads']}) | "
          f"{fmt(phases['entrar'])} | {fmt(phases['servidor'])} | {fmt(phases['kernel'])} | {fmt(cells)} | "
          f"{fmt(moves)} | {max((m[0] for m in memory), default=0):.0f} / {max((m[1] for m in memory), default=0):.0f}"
          f" / {max((m[2] for m in memory), default=0):.0f} | {finished}/{result['n']} | "
          f"{decimal(result['wall'], 1)} | {decimal(per_minute, 2)} | {decimal(efficiency, 2)} |", flush=True)
    for error in errors[:5]:
        print(f"    error: {error}", flush=True)


def run_burst(students, events, args):
    """La ráfaga de `students` x `events` contra el servicio de progreso de una clase nueva; la imprime."""
    hub = Hub(1, None, args.python, args.datos, args.modelos)
    try:
        teacher = Student(hub.url, "docente", PASSWORD)
        teacher.login()
        auth = {"Authorization": f"token {teacher.request_token('banco de medidas: la ráfaga', expires_in=3600)}"}

        def api(method, path, **options):
            answer = requests.request(method, f"{hub.url}hub/api/{path}", headers=auth, timeout=60, **options)
            answer.raise_for_status()
            return answer.json()

        names = [f"rafaga{i:02d}" for i in range(students)]
        api("POST", "users", json={"usernames": names})
        tokens = [api("POST", f"users/{name}/tokens", json={"scopes": ["access:services!service=trazos"],
                                                             "note": "banco de medidas"})["token"] for name in names]
        model = api("GET", "services/trazos")
        service = model["url"].rstrip("/") + model["prefix"]  # la dirección de TRAZOS_PROGRESO_URL del núcleo
        start = time.perf_counter()
        latencies, failures = progress_burst(service, tokens, events)
        wall = time.perf_counter() - start
        rows = requests.get(f"{hub.url}services/trazos/api/progress", headers=auth, timeout=60).json()
        stored = sum(row["attempts"] for row in rows if row["user"] in names)
    finally:
        hub.stop()
    median, p95, worst = (1000 * v for v in quantiles(latencies))
    print(f"\nServicio de progreso: {students} estudiantes x {events} eventos a la vez, en {decimal(wall, 1)} s "
          f"({decimal(len(latencies) / wall, 0)} eventos/s); latencia de cada envío: mediana {decimal(median, 0)} ms, "
          f"p95 {decimal(p95, 0)} ms, máximo {decimal(worst, 0)} ms; guardados {stored} de {students * events}; "
          f"fallos: {len(failures)}", flush=True)
    for status, body in failures[:5]:
        print(f"    fallo: HTTP {status} {body[:200]}", flush=True)
    return {"students": students, "events": events, "wall": wall, "latencies": latencies, "stored": stored,
            "failures": failures}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Una clase simulada contra un JupyterHub de verdad.")
    parser.add_argument("--alumnos", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--cuadernos", nargs="*", default=["08", "04"], help="sin ninguno, solo la ráfaga")
    parser.add_argument("--limites", nargs="+", choices=["con", "sin"], default=["con", "sin"])
    parser.add_argument("--pausa", type=float, default=1.0, help="segundos de lectura entre celdas (por defecto 1)")
    parser.add_argument("--python", type=Path, default=None, help="el Python de los estudiantes")
    parser.add_argument("--datos", type=Path, default=os.environ.get("TRAZOS_DATA"))
    parser.add_argument("--modelos", type=Path, default=os.environ.get("TRAZOS_CACHE"))
    parser.add_argument("--rafaga", type=int, nargs=2, default=[30, 50], metavar=("ALUMNOS", "EVENTOS"),
                        help="la ráfaga contra el servicio de progreso (por defecto 30 x 50; 0 0, ninguna)")
    parser.add_argument("--json", type=Path, default=None, help="guarda aquí todos los tiempos")
    args = parser.parse_args(argv)
    print(f"{len(os.sched_getaffinity(0))} núcleos", flush=True)
    if args.cuadernos:
        print(f"Pausa de lectura {decimal(args.pausa, 1)} s; tiempos en s (mediana/p95/máx), memoria en MiB "
              "(pico / privada / bibliotecas, el peor kernel)")
        print("| cuaderno | alumnos | límite (hilos) | entrar | servidor | kernel | celdas | control | memoria | "
              "terminan | s juntos | alumnos/min | eficiencia |")
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    results = []
    for notebook in args.cuadernos:
        notebook = notebook.zfill(2)
        alone = None
        for limit in sorted(args.limites, key=lambda x: x != "sin"):  # primero sin límite: da la referencia
            for n in args.alumnos:
                result = run_class(n, limit == "con", notebook, args)
                if n == 1 and limit == "sin":
                    alone = result["wall"]
                results.append(result)
                report(result, alone)
    if all(args.rafaga):
        results.append(run_burst(*args.rafaga, args))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
