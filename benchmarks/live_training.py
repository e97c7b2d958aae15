"""Cuánto cuesta ver entrenar: el explorador en vivo contra el mismo entrenamiento sin vista.

    python benchmarks/live_training.py [--steps 800] [--repeats 3]

Mide, con la red compacta del curso (16x16, lotes de 64, SGD):
- el tiempo de `steps` pasos con `widgets.training_explorer` (vista a su refresco por
  defecto) y con el mismo motor sin vista (`live.LiveTraining`, que graba la misma timeline),
  y su cociente; también contra el bucle desnudo de `train_step`, sin timeline ni hilo de medir:
  lo que cuesta todo lo que el explorador añade a entrenar (objetivo de los dos: <= 1,15);
- cuántas veces por segundo se redibujan los paneles mientras entrena (objetivo >= 5);
- que con la misma semilla los pesos tras `steps` pasos son idénticos con vista, sin vista y
  con el bucle desnudo.
Cada medida se repite `repeats` veces, alternando, y se da la mediana: la máquina puede
estar ocupada con otras cosas. El entrenamiento usa un hilo de cálculo en los tres casos.
"""

import argparse
import statistics
import threading
import time

import torch

import trazos
from trazos import data, live, render, runner, training, widgets


def plain_loop(train, steps, batch_size, lr, seed):
    """`train_step` sobre los lotes de `data.batches` con la misma semilla: la referencia desnuda."""
    model = trazos.CNN()
    live.fresh_weights(model, seed)
    optimizer = live.make_live_optimizer(model, "sgd", lr)
    result = {}

    def run():
        torch.set_num_threads(1)  # como el hilo del motor
        start = time.perf_counter()
        done = 0
        with runner.training_mode(model):
            for images, labels in data.batches(train, batch_size, shuffle=True,
                                               generator=torch.Generator().manual_seed(seed)):
                training.train_step(model, images, labels, optimizer)
                done += 1
                if done == steps:
                    break
        result["seconds"] = time.perf_counter() - start

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return result["seconds"], model


def engine_run(train, test, steps, batch_size, lr, seed, every, view):
    model = trazos.CNN()
    kwargs = dict(epochs=1, batch_size=batch_size, lr=lr, every=every, seed=seed)
    if view:
        trainer = widgets.training_explorer(model, train, test, **kwargs)
        frames_before = trainer._frames
    else:
        trainer = live.LiveTraining(model, train, test, **kwargs)
    start = time.perf_counter()
    trainer.play()
    trainer.wait()
    seconds = time.perf_counter() - start
    assert trainer.steps == steps, (trainer.steps, steps)
    rate = (trainer._frames - frames_before) / seconds if view else None
    trainer.close()
    return seconds, rate, model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--every", type=int, default=20)
    args = parser.parse_args()
    steps, batch_size, lr, seed = args.steps, args.batch_size, live.DEFAULT_LR["sgd"], 0
    train = trazos.load_mnist(train=True, size=16, limit=steps * batch_size)  # una época = `steps` pasos
    test = trazos.load_mnist(train=False, size=16, limit=1000)
    engine_run(train, test, steps, batch_size, lr, seed, args.every, view=True)  # calienta (imports, fx, PIL)
    times = {"vista": [], "motor": [], "bucle": []}
    rates, models = [], {}
    for _ in range(args.repeats):
        seconds, rate, models["vista"] = engine_run(train, test, steps, batch_size, lr, seed, args.every, view=True)
        times["vista"].append(seconds)
        rates.append(rate)
        seconds, _, models["motor"] = engine_run(train, test, steps, batch_size, lr, seed, args.every, view=False)
        times["motor"].append(seconds)
        seconds, models["bucle"] = plain_loop(train, steps, batch_size, lr, seed)
        times["bucle"].append(seconds)
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"{steps} pasos de la red compacta (lotes de {batch_size}, SGD, foto cada {args.every} pasos), "
          f"mediana de {args.repeats}:")
    for name, label in (("vista", "con la vista en vivo"), ("motor", "sin vista (mismo motor y timeline)"),
                        ("bucle", "bucle desnudo de train_step")):
        per_step = 1000 * median[name] / steps
        print(f"  {label:38s} {render.decimal(median[name], 2)} s ({render.decimal(per_step, 1)} ms por paso)")
    ratio = median["vista"] / median["motor"]
    print(f"  cociente vista / sin vista: {render.decimal(ratio, 3)} (objetivo <= 1,15)"
          f"{'' if ratio <= 1.15 else '  ⚠ por encima del objetivo'}")
    bare = median["vista"] / median["bucle"]
    print(f"  cociente vista / bucle desnudo: {render.decimal(bare, 3)} (objetivo <= 1,15)"
          f"{'' if bare <= 1.15 else '  ⚠ por encima del objetivo'}")
    rate = statistics.median(rates)
    print(f"  refresco de los paneles: {render.decimal(rate, 1)} por segundo (objetivo >= 5)"
          f"{'' if rate >= 5 else '  ⚠ por debajo del objetivo'}")
    same = all(torch.equal(models["vista"].state_dict()[k], models[other].state_dict()[k])
               for other in ("motor", "bucle") for k in models["vista"].state_dict())
    print(f"  misma semilla, mismos pesos tras {steps} pasos con vista, sin vista y con el bucle: "
          f"{'sí' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
