"""Explorador de la matriz de confusión: cada casilla es un botón que enseña sus imágenes."""

import math

import ipywidgets as widgets

from .. import render
from ..inspection import confusion_matrix, pair_indices, predict
from .base import default_digits, default_run, explorer, guard

__all__ = ["confusion_explorer"]


def _cell_colors(count, top):
    level = math.log1p(count) / math.log1p(top) if top else 0.0
    r, g, b = render.lut("Blues")[int(round(25 + 230 * level)) if count else 0]
    return f"#{r:02x}{g:02x}{b:02x}", "white" if level > 0.55 else "black"

def confusion_explorer(model=None, digits=None):
    """La matriz de confusión del test como botones: un clic (o `.select(verdadero, predicho)`)
    enseña las imágenes de esa casilla con la probabilidad que les dio la red."""
    model = model if model is not None else default_run().model
    digits = default_digits(model, digits)
    predictions, probs = predict(model, digits.images)
    matrix = confusion_matrix(digits.labels, predictions)
    top = int(matrix.max())
    title = widgets.HTML()
    title.add_class("trazos-title")
    gallery = widgets.HTML()
    gallery.add_class("trazos-gallery")
    message = widgets.HTML()
    state = {"selected": None}
    cells = []
    grid = [widgets.HTML("<b>real \\ pred</b>")] + [widgets.HTML(f"<b>&nbsp;{p}</b>") for p in range(10)]
    for t in range(10):
        grid.append(widgets.HTML(f"<b>{t}</b>"))
        row = []
        for p in range(10):
            count = int(matrix[t, p])
            background, text = _cell_colors(count, top)
            button = widgets.Button(description=str(count), layout=widgets.Layout(
                width="52px", height="30px", padding="0px", border="2px solid transparent"),
                                    tooltip=f"real {t}, predicho {p}: {count} ejemplos", disabled=count == 0)
            button.style.button_color, button.style.text_color = background, text
            button.add_class(f"trazos-cell-{t}-{p}")
            button.on_click(guard(message, lambda t=t, p=p: select(t, p)))
            row.append(button)
            grid.append(button)
        cells.append(row)

    def select(true, pred):
        indices = pair_indices(digits.labels, predictions, true, pred)
        if state["selected"] is not None:
            old = cells[state["selected"][0]][state["selected"][1]]
            old.layout.border = "2px solid transparent"
        cells[true][pred].layout.border = f"2px solid {render.hex_color(render.NEXT)}"
        state["selected"] = (true, pred)
        kind = "aciertos" if true == pred else "errores"
        title.value = (f"<b class='seleccion'>Real {true}, predicho {pred}: {len(indices)} ejemplos</b> "
                       f"({kind}; en verde y con ✓ si la red acierta, en rojo y con ✗ si se equivoca)")
        gallery.value = render.gallery_html(digits, indices, probs) if indices else \
            "<div>No hay ningún ejemplo en esta casilla.</div>"

    # Al empezar, la casilla con más errores (o la del 0 si la red no falla nunca).
    worst = max(((t, p) for t in range(10) for p in range(10) if t != p), key=lambda tp: int(matrix[tp]))
    select(*(worst if int(matrix[worst]) else (0, 0)))
    accuracy = float(matrix.diagonal().sum()) / float(matrix.sum())
    header = widgets.HTML(f"<b>Matriz de confusión</b> ({len(digits)} imágenes de test, acierto "
                          f"{render.percent(accuracy, 2)}). Haz clic en una casilla para ver sus imágenes.")
    board = widgets.GridBox(grid, layout=widgets.Layout(grid_template_columns="110px " + "56px " * 10,
                                                        grid_gap="2px"))
    return explorer([header, board, title, gallery, message], "trazos-confusion-explorer", cells=cells, select=select,
                     title=title, gallery=gallery, message=message, matrix=matrix)
