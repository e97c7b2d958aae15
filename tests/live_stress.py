"""Prueba de estrés del entrenamiento en vivo: dos hilos martillean una misma red con play, pause,
step, reset, close y «volver a crear» (el motor y el explorador), como una celda que el estudiante
ejecuta otra vez mientras la anterior entrena, o los botones pulsados deprisa.

Se ejecuta en un proceso aparte (`test_trainer.test_stress_in_a_subprocess`): si PyTorch revienta
(una violación de segmento), lo que falla es ese proceso y la prueba lo cuenta; no se lo lleva por
delante. Termina con código 0 si todo fue bien; si no, escribe lo que falló y sale con 1.

Qué se comprueba, además de que el proceso no muere:
- los únicos errores que llegan son de trazos (en español): usar un entrenamiento ya cerrado;
- nunca hay dos entrenamientos abiertos a la vez sobre la misma red;
- al final, con todo cerrado, no queda ningún hilo del entrenamiento en vivo.

    python tests/live_stress.py --operations 400 --seed 0
"""

import argparse
import random
import sys
import threading
import time

import torch
from torch import nn

import trazos
from trazos import live, widgets


def tiny_net():
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, padding=1),
                        nn.ReLU(), nn.Dropout(0.2), nn.Flatten(), nn.Linear(6 * 8 * 8, 10))
    net.input_size = 16
    return net


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--operations", type=int, default=400, help="órdenes en total (repartidas en dos hilos)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    train = trazos.load_mnist(train=True, size=16, limit=256)
    val = trazos.load_mnist(train=False, size=16, limit=40)
    model = tiny_net()
    owners = []  # todo lo creado (motores y exploradores), para contar los abiertos y cerrarlo al final
    owners_lock = threading.Lock()
    problems, counts = [], {}

    def create(kind):
        # Pocas fotos y un panel pequeño: lo que se prueba son los hilos, no los dibujos.
        if kind == "explorer":
            made = widgets.training_explorer(model, train, val, epochs=200, batch_size=16, every=3, test_size=20,
                                             panel=4, refresh=50)
        else:
            made = live.LiveTraining(model, train, val, epochs=200, batch_size=16, every=3, test_size=20)
        with owners_lock:
            owners.append(made)
        return made

    def engine_of(owner):
        return owner.engine if hasattr(owner, "engine") else owner

    def hammer(index):
        rng = random.Random(args.seed * 100 + index)
        for _ in range(args.operations // 2):
            with owners_lock:
                current = owners[-1] if owners else None
            name = rng.choice(["play", "play", "pause", "step", "reset", "close", "create", "create_explorer",
                               "lr", "batch", "wait", "click"])
            counts[name] = counts.get(name, 0) + 1
            try:
                if name == "create" or current is None:
                    create("engine")
                elif name == "create_explorer":
                    create("explorer")
                elif name == "play":
                    current.play()
                    time.sleep(rng.random() * 0.02)
                elif name == "pause":
                    current.pause()
                elif name == "step":
                    current.step(rng.randint(1, 4))
                elif name == "reset":
                    current.reset()
                elif name == "close":
                    current.close()
                elif name == "lr":
                    engine_of(current).lr = rng.choice([0.01, 0.1, 0.5])
                elif name == "batch":
                    engine_of(current).batch_size = rng.choice([1, 8, 16, 32])
                elif name == "wait":
                    current.wait(timeout=0.05)
                elif name == "click" and hasattr(current, "play_button"):
                    rng.choice([current.play_button, current.pause_button, current.step_button,
                                current.reset_button]).click()
            except trazos.TrazosError:
                pass  # en español y esperado: p. ej. dar órdenes a un entrenamiento ya cerrado
            except Exception as error:  # noqa: BLE001 - se cuenta: es lo que esta prueba busca
                problems.append(f"{name}: {type(error).__name__}: {error}")
            with owners_lock:
                open_ = [o for o in owners if not engine_of(o).closed]
            if len(open_) > 1:
                problems.append(f"{len(open_)} entrenamientos abiertos a la vez sobre la misma red (tras {name})")

    start = time.monotonic()
    threads = [threading.Thread(target=hammer, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for owner in owners:
        owner.close()
    deadline = time.monotonic() + 10
    while any(t.name.startswith("trazos-live") for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = [t.name for t in threading.enumerate() if t.name.startswith("trazos-live")]
    if left:
        problems.append(f"hilos que siguen vivos tras cerrarlo todo: {left}")
    seconds = time.monotonic() - start
    out = sys.__stdout__  # no sys.stdout: un hilo que calla los print (runner.quiet) podría tenerlo cambiado
    print(f"{args.operations} órdenes en {seconds:.1f} s, {len(owners)} entrenamientos creados: "
          + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())), file=out)
    for problem in dict.fromkeys(problems):  # sin repetidos, en orden
        print("PROBLEMA:", problem, file=out)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
