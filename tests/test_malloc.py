"""El umbral de malloc alto solo mientras se entrena (trazos.malloc), contado en un proceso nuevo."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="solo Linux con glibc")

# Se cuenta cada llamada a mallopt: qué umbral se pone y cuándo.
CODE = """
import ctypes, json
calls = []
real = ctypes.CDLL
class Libc:
    def __init__(self, lib):
        self.lib = lib
    def mallopt(self, option, value):
        calls.append([option, value])
        return self.lib.mallopt(option, value)
    def __getattr__(self, name):
        return getattr(self.lib, name)
ctypes.CDLL = lambda name, *a, **k: Libc(real(name, *a, **k))
import torch, trazos
from trazos import malloc
digits = trazos.load_mnist(limit=64)
trazos.train(trazos.CNN(), digits, digits, epochs=1, batch_size=32, progress=False)
after_train = list(calls)
with malloc.kept_while_training():
    with malloc.kept_while_training():  # anidados: el de dentro no devuelve nada
        inside = list(calls)
    still = list(calls)
print(json.dumps([after_train, inside, still, calls]))
"""


def test_the_high_threshold_lasts_only_while_training(mnist_root):
    env = {k: v for k, v in os.environ.items() if k not in ("MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_",
                                                          "GLIBC_TUNABLES")}
    env["TRAZOS_DATA"] = str(mnist_root)
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    import json
    after_train, inside, still, final = json.loads(done.stdout.strip().splitlines()[-1])
    trim, mmap = -1, -3
    # Al entrenar: 32 MB y bloques de 8 MB en el montón; al terminar, 128 KiB (fijo: glibc no lo sube solo).
    assert after_train == [[trim, 32 * 2**20], [mmap, 8 * 2**20], [trim, 128 * 2**10], [mmap, 8 * 2**20]]
    assert inside == still == after_train + [[trim, 32 * 2**20], [mmap, 8 * 2**20]]
    assert final == still + [[trim, 128 * 2**10], [mmap, 8 * 2**20]]
