"""¿Cuánto tarda cada explorador en reaccionar a un control? (tiempo de Python, en ms)

Para cada control mueve su valor ~20 veces y mide lo que tarda la actualización completa
(calcular, colorear, codificar el PNG o el HTML). Imprime la mediana y el máximo. El
objetivo del curso: menos de 50 ms por movimiento en un portátil modesto de 2 núcleos.

    python benchmarks/widgets_speed.py            # con la CNN del curso (de la caché)
    python benchmarks/widgets_speed.py --rapido   # con una red de 1 época (sin caché previa)
"""

import argparse
import math
import statistics
import tempfile
import time

import torch

import trazos
from trazos import widgets

MOVES = 20


def timed(action, values):
    """Aplica `action` a cada valor y devuelve los tiempos en ms (el primero se descarta: calienta)."""
    times = []
    for value in values:
        start = time.perf_counter()
        action(value)
        times.append(1000 * (time.perf_counter() - start))
    return times[1:]


def cycle(options, n=MOVES + 1):
    """n valores que recorren `options` sin repetir dos seguidos (cada uno es un cambio real)."""
    options = list(options)
    return [options[k % len(options)] for k in range(n)]


def setter(control):
    return lambda value: setattr(control, "value", value)


def report(rows):
    print(f"{'explorador':<22}{'control':<16}{'mediana (ms)':>14}{'máximo (ms)':>13}")
    for explorer, control, times in rows:
        print(f"{explorer:<22}{control:<16}{statistics.median(times):>14.1f}{max(times):>13.1f}")
    worst = max(statistics.median(t) for _, _, t in rows)
    print(f"\nPeor mediana: {worst:.1f} ms ({'dentro' if worst < 50 else 'FUERA'} del objetivo de 50 ms).")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rapido", action="store_true", help="usa una red de 1 época con 2000 ejemplos")
    args = parser.parse_args()
    torch.set_num_threads(2)  # como un portátil modesto
    if args.rapido:
        run = trazos.trained_model("cnn", epochs=1, limit=2000, cache=tempfile.mkdtemp(), progress=False)
    else:
        run = trazos.trained_model("cnn", progress=False)
    model = run.model
    rows = []

    a = widgets.activation_explorer(model)
    rows.append(("activation_explorer", "stage", timed(setter(a.stage), cycle(a.stage.options))))
    rows.append(("", "digit", timed(setter(a.digit), cycle(range(10)))))
    rows.append(("", "index", timed(setter(a.index), cycle(range(1, 40)))))

    k = widgets.kernel_explorer(run)
    rows.append(("kernel_explorer", "layer", timed(setter(k.layer), cycle(k.layer.options))))
    rows.append(("", "epoch", timed(setter(k.epoch), cycle(range(k.epoch.max + 1)))))
    rows.append(("", "view", timed(setter(k.view), cycle(["diferencia", "después"]))))

    p = widgets.padding_explorer()
    rows.append(("padding_explorer", "size", timed(setter(p.size), cycle(range(10, 29)))))
    rows.append(("", "kernel_size", timed(setter(p.kernel_size), cycle([1, 3, 5, 7]))))
    rows.append(("", "padding", timed(setter(p.padding), cycle([0, 1, 2, 3]))))
    rows.append(("", "stride", timed(setter(p.stride), cycle([1, 2, 3]))))

    s = widgets.softmax_explorer()
    rows.append(("softmax_explorer", "dim", timed(setter(s.dim), cycle([0, 1]))))
    rows.append(("", "scale", timed(setter(s.scale), cycle([x / 2 for x in range(1, 101, 5)]))))

    c = widgets.confusion_explorer(model)
    pairs = [(t, q) for t in range(10) for q in range(10) if int(c.matrix[t, q])]
    rows.append(("confusion_explorer", "select", timed(lambda tp: c.select(*tp), cycle(pairs[::3]))))

    d = widgets.draw_explorer(model)
    circle = [(140 + 60 * math.sin(2 * math.pi * a / 24), 140 - 80 * math.cos(2 * math.pi * a / 24))
              for a in range(25)]

    def stroke(shift):  # un trazo terminado, como lo manda el navegador al soltar el ratón
        d.clear()
        d.canvas.set_state({"strokes": [[[x + shift, y] for x, y in circle]]})

    # Mover el ratón no llega a Python (el trazo se pinta en el navegador): solo cuenta el trazo entero.
    rows.append(("draw_explorer", "trazo entero", timed(stroke, cycle(range(-20, 21, 2)))))
    report(rows)


if __name__ == "__main__":
    main()
