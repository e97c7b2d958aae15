"""Lo que un núcleo del curso no carga: Triton, el compilador de PyTorch para GPU, en una máquina sin GPU.

El primer `optimizer.step()` de un proceso importa `torch._dynamo` (lo pide el decorador de
`torch.optim`, aunque nadie compile nada), y este importa `triton` si está instalado. El PyTorch
de PyPI para Linux trae Triton (va con CUDA), y cargarlo cuesta unos 75 MB de bibliotecas por
núcleo, para nada: Triton solo genera código para GPU (NVIDIA, AMD, Intel), y `torch.compile`
en CPU usa C++, no Triton. En una clase de 30 son más de 2 GB.

`skip_triton()` lo evita como dice Python que se evita una importación: `sys.modules["triton"] = None`
hace que `import triton` falle, y PyTorch lo trata como «Triton no está instalado». Solo cuando no
hay GPU que Triton pueda usar, y solo si nadie lo ha importado ya: con una GPU (Colab, un
servidor con CUDA) no cambia nada. `TRAZOS_TRITON=1` lo deja cargar siempre.
"""

import os
import sys

import torch

__all__ = ["skip_triton"]


def _gpu_available():
    # Las dos preguntas son baratas y no inicializan nada sin GPU (ni crean un contexto de CUDA).
    xpu = getattr(torch, "xpu", None)
    return torch.cuda.is_available() or bool(xpu is not None and xpu.is_available())


def skip_triton():
    """Impide importar Triton en este proceso si no hay GPU; devuelve True si lo ha impedido."""
    if "triton" in sys.modules or os.environ.get("TRAZOS_TRITON") == "1" or _gpu_available():
        return False
    sys.modules["triton"] = None
    return True
