"""Una época de la red clásica con y sin los umbrales de malloc que fija `trazos.malloc` (Linux).

`trazos.malloc.kept_while_training` pide a glibc, mientras se entrena, que no devuelva al sistema la
memoria de las activaciones. Este script entrena una época de la red clásica (28x28, la
receta del curso) en tres procesos nuevos: uno como lo deja trazos, otro con glibc por
defecto (se le pasa GLIBC_TUNABLES con un valor neutro, y trazos respeta lo que fija el
sistema) y otro que devuelve la memoria en cada paso (umbrales fijos de 128 KiB, con
MALLOC_TRIM_THRESHOLD_ y MALLOC_MMAP_THRESHOLD_). Imprime, para cada uno, los segundos, el
tiempo de sistema, los fallos de página y cuánto subió la memoria privada durante la época
(el precio en memoria de ir deprisa).

    python benchmarks/malloc.py

Solo tiene sentido en Linux con glibc; un par de minutos en 2 núcleos.
"""

import os
import subprocess
import sys

CHILD = '''
import resource, threading, time
import trazos


def private_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) / 1024 for line in f if line.startswith("RssAnon:"))


peak = {"mb": 0.0}


def watch():
    while True:
        peak["mb"] = max(peak["mb"], private_mb())
        time.sleep(0.001)


from trazos import training
model = trazos.ClassicCNN()
train = trazos.load_mnist(train=True, size=28)
test = trazos.load_mnist(train=False, size=28, limit=1000)
trazos.seed_everything(0)
import torch._dynamo  # lo importa el primer paso del optimizador: fuera de la cuenta
start_mb = peak["mb"] = private_mb()
threading.Thread(target=watch, daemon=True).start()
before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
training.train(model, train, test, epochs=1, batch_size=64, max_lr=0.003, weight_decay=0.05, progress=False)
after = resource.getrusage(resource.RUSAGE_SELF)
print(f"{time.perf_counter() - start:.1f} s, {after.ru_stime - before.ru_stime:.1f} s de sistema, "
      f"{(after.ru_minflt - before.ru_minflt) / 1e6:.2f} millones de fallos de página, "
      f"{peak['mb'] - start_mb:.0f} MB más de memoria privada en el pico")
'''


def main():
    for name, extra in [("con los umbrales de trazos", {}),
                        ("con glibc por defecto", {"GLIBC_TUNABLES": "glibc.malloc.perturb=0"}),
                        ("devolviendo la memoria en cada paso", {"MALLOC_TRIM_THRESHOLD_": "131072",
                                                                 "MALLOC_MMAP_THRESHOLD_": "131072"})]:
        env = {**os.environ, **extra}
        done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
        print(f"Una época de la red clásica {name}: {done.stdout.strip()}")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
