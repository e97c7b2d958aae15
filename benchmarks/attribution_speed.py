"""¿Cuánto tarda cada explicación de «¿Qué mira la red?» para un dígito? (tiempo de Python, en ms)

Para la red del curso (de la caché), mide la mediana y el máximo de 20 repeticiones de cada
método sobre un dígito del test, y lo que tarda el explorador de atribución en enseñar un mapa
ya calculado (volver a un método o a un dígito ya vistos), y en explicar un valor nuevo en el
explorador de activaciones. Objetivos del curso, en 2 núcleos: menos de 200 ms por método y
menos de 50 ms por actualización del explorador con el mapa ya calculado.

    python benchmarks/attribution_speed.py
"""

import statistics
import time

import trazos
from trazos.widgets import activation_explorer, attribution_explorer
from trazos.widgets.base import single_thread

REPEATS = 20


def timed(action, repeats=REPEATS):
    """Mediana y máximo, en ms, de `repeats` llamadas a `action` (una más antes, para calentar)."""
    action()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times), max(times)


def report(name, times, goal):
    median, worst = times
    mark = "✓" if median < goal else "✗"
    print(f"  {name:<44} {trazos.render.decimal(median, 1):>7} ms  (máx. {trazos.render.decimal(worst, 1):>7})  "
          f"{mark} < {goal} ms")


def main():
    model = trazos.trained_model("cnn").model
    test = trazos.load_mnist(train=False)
    seven = test[trazos.examples_of(test, 7)[0]][0]
    print("Un dígito, red del curso (16x16):")
    with single_thread():  # como en los exploradores: una imagen suelta va más rápida con un hilo
        for name, action in [
            ("saliency", lambda: trazos.saliency(model, seven)),
            ("occlusion (4x4, stride 2: 49 parches)", lambda: trazos.occlusion(model, seven)),
            ("occlusion con probabilidad", lambda: trazos.occlusion(model, seven, probability=True)),
            ("grad_cam (conv2)", lambda: trazos.grad_cam(model, seven)),
            ("explain_value (conv2)", lambda: trazos.explain_value(model, seven, "conv2", 3, 4, 4)),
        ]:
            report(name, timed(action), 200)
        report("adversarial (una vez)", timed(lambda: trazos.adversarial(model, seven), 3), 200)
    print("Exploradores, con el mapa ya calculado:")
    explorer = attribution_explorer(model, test)
    methods = list(explorer.method.options)
    for method in methods:  # calcula y guarda los tres
        explorer.method.value = method
    state = {"k": 0}

    def switch():
        state["k"] += 1
        explorer.method.value = methods[state["k"] % len(methods)]

    report("atribución: cambiar de método", timed(switch), 50)
    activations = activation_explorer(model, test)
    activations.stage.value = "conv2"

    def move():
        activations.col.value = (activations.col.value + 1) % (activations.col.max + 1)

    report("activaciones: explicar otro valor (nuevo)", timed(move), 50)


if __name__ == "__main__":
    main()
