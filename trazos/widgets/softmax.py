"""Explorador de softmax: qué eje suma 1 (dim=0 o dim=1) y dónde se desborda la versión ingenua."""

import math

import ipywidgets as widgets
import torch

from ..diagrams import example_logits, softmax_table
from .base import explorer, guard
from ..errors import TrazosValueError

__all__ = ["softmax_explorer"]


def softmax_explorer(logits=None):
    """softmax por filas o por columnas (`.dim`) de unos logits multiplicados por `.scale`."""
    logits = example_logits() if logits is None else torch.as_tensor(logits, dtype=torch.float32).detach().cpu()
    if logits.ndim != 2:
        raise TrazosValueError(f"logits debe ser una matriz [imágenes, clases]; forma recibida {tuple(logits.shape)}.")
    dim = widgets.ToggleButtons(options=[("dim=0 (columnas)", 0), ("dim=1 (filas)", 1)], value=1,
                                description="softmax por")
    # Escala logarítmica hasta donde el mayor logit pasa con holgura de 88.7 (donde exp desborda),
    # sean los logits grandes o los de una red sin entrenar (décimas).
    reach = 200.0 / max(float(logits.abs().max()), 1e-3)
    scale = widgets.FloatLogSlider(value=1.0, base=10, min=-1, max=max(2, math.ceil(math.log10(reach))), step=0.05,
                                   description="escala ×", continuous_update=True,
                                   layout=widgets.Layout(width="460px"))
    dim.add_class("trazos-dim")
    scale.add_class("trazos-scale")
    table = widgets.HTML()
    message = widgets.HTML()
    update = guard(message, lambda: setattr(table, "value", softmax_table(logits, dim.value, scale.value)))
    dim.observe(update, names="value")
    scale.observe(update, names="value")
    update()
    return explorer([dim, scale, table, message], "trazos-softmax-explorer", dim=dim, scale=scale, table=table,
                     message=message, update=update)


# ---------------------------------------------------------------------------------------------
# 5. Matriz de confusión: cada casilla es un botón que enseña sus imágenes.
