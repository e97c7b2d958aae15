"""La `Figure` de trazos: una figura de matplotlib que Jupyter muestra sola, sin pyplot.

Cada función de dibujo del curso (`plots`, `layer_plots`, `diagrams`, `architecture`,
`attribution_plots`) devuelve una de estas. Se crean con `matplotlib.figure.Figure` y no con
`pyplot`: no quedan figuras abiertas en memoria, funcionan sin pantalla (línea de órdenes) y en un
cuaderno se muestran al devolverlas en la última línea de la celda. Al importar este módulo,
IPython (si lo hay) aprende a guardar el texto alternativo de cada figura junto a su PNG.
"""

import io

import matplotlib.figure
import numpy as np
import torch

from . import alt_text

__all__ = ["Figure", "to_numpy"]


class Figure(matplotlib.figure.Figure):
    """Una `Figure` de matplotlib que Jupyter sabe mostrar por sí sola.

    Sin `pyplot` nadie registra cómo dibujar una figura en el cuaderno; `_repr_png_` lo
    resuelve: basta con que la figura sea la última expresión de la celda.
    """

    def _repr_png_(self):
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def to_numpy(x):
    """Tensor (o lo que sea) -> array de NumPy: matplotlib dibuja arrays, no tensores."""
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


alt_text.register()  # en un cuaderno: IPython guarda este texto junto al PNG de cada figura
