"""¿Cuánto le cuesta a una celda que `check` registre y mande el progreso? (ms, tiempo de Python)

Mide `check` entero (comprobar, imprimir, escribir el evento en el registro y ponerlo en la cola
del hilo que lo manda) en tres situaciones:
- fuera de un hub (solo el registro local);
- en un hub con el servicio parado (una dirección en la que no escucha nadie);
- en un hub con el servicio colgado (acepta la conexión y nunca responde).
El objetivo del curso: menos de 50 ms por comprobación en todas, porque el envío va en otro hilo.
Todo en carpetas temporales; nada sale de 127.0.0.1.

    python benchmarks/progreso.py
"""

import contextlib
import io
import os
import socket
import statistics
import tempfile
import time

from trazos.exercises import check

CHECKS = 40


def measure():
    times = []
    for k in range(CHECKS + 1):
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            check("1.1", 20 + k % 3)
        times.append(1000 * (time.perf_counter() - start))
    return times[1:]  # la primera carga los ejercicios del curso


def report(name, times):
    p95 = sorted(times)[int(0.95 * len(times))]
    print(f"{name:<34} mediana {statistics.median(times):6.2f} ms · p95 {p95:6.2f} ms · máximo {max(times):6.2f} ms")


def main():
    with tempfile.TemporaryDirectory() as folder:
        os.environ["TRAZOS_PROGRESO"] = folder
        os.environ.pop("TRAZOS_PROGRESO_URL", None)
        report("sin hub (solo el registro)", measure())

        os.environ["JUPYTERHUB_API_TOKEN"] = "token-de-prueba"
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        os.environ["TRAZOS_PROGRESO_URL"] = f"http://127.0.0.1:{port}/services/trazos/"
        report("hub con el servicio parado", measure())

        with socket.socket() as hung:  # escucha, pero nadie contesta: cada envío espera su TIMEOUT
            hung.bind(("127.0.0.1", 0))
            hung.listen(100)
            os.environ["TRAZOS_PROGRESO_URL"] = f"http://127.0.0.1:{hung.getsockname()[1]}/services/trazos/"
            report("hub con el servicio colgado", measure())
        print("(el envío va en el hilo trazos-progreso: lo no confirmado se reenvía en la siguiente comprobación)")


if __name__ == "__main__":
    main()
