"""Sin GPU, un núcleo del curso no carga Triton (75 MB por estudiante), y entrenar sigue igual.

Cada caso en un proceso nuevo: lo que se prueba es qué se importa la primera vez.
"""

import subprocess
import sys

import pytest

STEP = ("import sys, torch, trazos\n"
        "from torch.utils._triton import has_triton\n"
        "net = torch.nn.Linear(3, 2)\n"
        "opt = torch.optim.SGD(net.parameters(), lr=0.1)\n"
        "net(torch.ones(4, 3)).sum().backward()\n"
        "opt.step()\n"
        "print('dynamo' if 'torch._dynamo' in sys.modules else '-', sys.modules.get('triton') is not None,"
        " has_triton())\n")


def run(code, **env):
    import os
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **env})
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


def triton_installed():
    # Por su paquete, no con find_spec: en este proceso, trazos ya lo ha bloqueado.
    from importlib import metadata
    try:
        metadata.version("triton")
    except metadata.PackageNotFoundError:
        return False
    return True


def test_an_optimizer_step_without_gpu_does_not_load_triton():
    import torch
    if torch.cuda.is_available():
        pytest.skip("Hay GPU: Triton se carga, como debe.")
    # torch._dynamo se importa igual (lo pide torch.optim); Triton no, y PyTorch lo da por ausente.
    assert run(STEP) == ["dynamo", "False", "False"]


def test_trazos_triton_1_leaves_triton_alone():
    if not triton_installed():
        pytest.skip("Este PyTorch no trae Triton.")
    assert run(STEP, TRAZOS_TRITON="1")[:2] == ["dynamo", "True"]


def test_with_a_gpu_or_triton_already_loaded_nothing_changes(monkeypatch):
    from trazos import lean
    monkeypatch.delitem(sys.modules, "triton", raising=False)
    monkeypatch.setattr(lean, "_gpu_available", lambda: True)
    assert lean.skip_triton() is False and "triton" not in sys.modules
    monkeypatch.setattr(lean, "_gpu_available", lambda: False)
    monkeypatch.setitem(sys.modules, "triton", object())  # alguien lo importó antes que trazos
    assert lean.skip_triton() is False


def test_training_still_works_and_gives_the_same_numbers_with_or_without_triton():
    code = ("import torch, trazos\n"
            "torch.manual_seed(0)\n"
            "nn = torch.nn\n"
            "net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 14 * 14, 10))\n"
            "opt = torch.optim.Adam(net.parameters(), lr=0.01)\n"
            "x, y = torch.rand(8, 1, 16, 16), torch.arange(8)\n"
            "for _ in range(3):\n"
            "    opt.zero_grad(); torch.nn.functional.cross_entropy(net(x), y).backward(); opt.step()\n"
            "print(repr(float(net[0].weight.sum())))\n")
    without = run(code, OMP_NUM_THREADS="1")
    if triton_installed():
        assert run(code, OMP_NUM_THREADS="1", TRAZOS_TRITON="1") == without
