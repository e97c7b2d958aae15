"""Exploradores interactivos (ipywidgets): deslizar un control y ver la red por dentro.

Un fichero por explorador, cada uno una capa fina sobre funciones normales que un cuaderno
también puede llamar (así, quien abre el cuaderno sin el JavaScript de los widgets, o nbval,
ve igualmente el resultado):

    activation_explorer -> inspection.activations, render.maps_picture, render.probability_bars
    kernel_explorer     -> inspection.kernel_history, render.kernel_picture, render.kernel_changes
    padding_explorer    -> shapes.conv_formula, render.kernel_placement, shapes.network_shapes
    softmax_explorer    -> diagrams.naive_softmax, diagrams.softmax_table
    confusion_explorer  -> inspection.pair_indices, render.gallery_html
    draw_explorer       -> canvas.DrawingCanvas (anywidget), canvas.rasterize, inspection.predict_drawing
    training_explorer   -> live.LiveTraining (entrena en un hilo), live_panels.Painter, live_panels.plot_timeline
    attribution_explorer -> attribution.saliency / occlusion / grad_cam, attribution_plots
    embedding_explorer  -> digit_map.embedding_epochs, digit_map.separation, attribution_plots

Rapidez: mover un control no crea ninguna figura de matplotlib; `render` compone la imagen en
NumPy y la codifica en PNG en pocos milisegundos. Robustez: si algo falla dentro de un
control, el error se muestra en español en la zona de mensajes del explorador y el widget
sigue vivo.
"""

from .activations import activation_explorer, stage_output
from .attribution import attribution_explorer
from .base import single_thread
from .confusion import confusion_explorer
from .draw import draw_explorer
from .embedding import embedding_explorer
from .kernels import kernel_explorer
from .padding import padding_explorer
from .softmax import softmax_explorer
from .trainer import training_explorer

__all__ = ["activation_explorer", "kernel_explorer", "padding_explorer", "softmax_explorer", "confusion_explorer",
           "draw_explorer", "training_explorer", "attribution_explorer", "embedding_explorer", "stage_output",
           "single_thread"]
