"""Los dibujos del entrenamiento en vivo, iguales en el explorador y en la figura estática.

Un momento del entrenamiento (una foto de la `timeline` o los pesos vivos) se convierte en
ocho dibujos (`Painter.pictures`): curvas de pérdida y acierto, kernels de la primera
convolución y de la capa elegida, sus gradientes, las activaciones de un dígito en un paso,
un panel de dígitos fijos con sus 3 predicciones más probables (verde si acierta, rojo si se
equivoca) y la matriz de confusión. Los kernels y los mapas salen de `render` (las mismas
reglas de color que el resto del curso); las curvas, el panel y la matriz se dibujan aquí con
PIL, en pocos milisegundos: una figura de matplotlib tardaría 50-100 ms en cada refresco.
`plot_timeline` pone esos mismos dibujos en una figura para unos pasos elegidos (nbval, GitHub).
"""

import copy
import math
import os
import threading

import matplotlib
import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

from . import render
from .capture import TRACING, _capture_with_hooks, _Recorder, trace
from .errors import TrazosValueError
from .runner import device_of, dtype_of, inspecting, outputs, probabilities
from .values import positive_int

__all__ = ["Cancelled", "RIGHT", "WRONG", "TRAIN", "VAL", "font", "curves_picture", "digits_panel",
           "confusion_picture",
           "Painter", "plot_timeline"]

RIGHT, WRONG = (42, 125, 42), (176, 0, 32)  # acierta / se equivoca: los de `render.gallery_html`
TRAIN, VAL = (31, 119, 180), (255, 127, 14)  # entrenamiento (media reciente) y validación (imágenes fijas)
INK, GRID, NOW = (40, 40, 40), (225, 225, 225), (150, 150, 150)
_FONTS = {}


def font(size=12):
    """DejaVu Sans (viene con matplotlib): la fuente por defecto de PIL no tiene tildes."""
    if size not in _FONTS:
        _FONTS[size] = ImageFont.truetype(os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf"),
                                          size)
    return _FONTS[size]


def _plot(draw, box, series, top, title, now, last, percent=False):
    """Un gráfico de líneas en `box` (izq., arriba, der., abajo): cada serie, [(paso, valor)], con su color."""
    left, up, right, down = box
    draw.text((left, up - 16), title, fill=INK, font=font(12))
    draw.rectangle(box, outline=GRID)
    for frac in (0.25, 0.5, 0.75):
        y = down - frac * (down - up)
        draw.line([(left, y), (right, y)], fill=GRID)
    label = render.percent(top, 0) if percent else render.decimal(top, 1)
    draw.text((left - 4, up), label, fill=INK, font=font(10), anchor="ra")
    draw.text((left - 4, down), "0", fill=INK, font=font(10), anchor="rd")
    draw.text((right, down + 3), f"paso {last}", fill=INK, font=font(10), anchor="ra")

    def point(step, value):
        return left + (right - left) * step / max(last, 1), down - (down - up) * min(max(value / top, 0), 1)

    if now is not None:
        x = point(now, 0)[0]
        draw.line([(x, up), (x, down)], fill=NOW, width=1)
    for values, color in series:
        points = [point(s, v) for s, v in values if v is not None and math.isfinite(v)]
        if len(points) > 1:
            draw.line(points, fill=color, width=2)
        for x, y in points[-1:]:
            draw.ellipse([x - 3, y - 3, x + 3, y + 3], fill=color)


def curves_picture(timeline, now=None, width=520, height=190):
    """Pérdida y acierto, de entrenamiento (media de los últimos pasos) y de validación (las imágenes
    fijas), a lo largo de `timeline`.

    Una línea gris vertical marca el paso `now` (el que se está viendo). Una pérdida que se
    desborda (inf o nan) no se dibuja y el título lo dice.
    """
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    last = max([s["step"] for s in timeline] + [now or 0, 1])
    losses = [(s["step"], s["loss"]) for s in timeline]
    val_losses = [(s["step"], s.get("val_loss")) for s in timeline]
    finite = [v for _, v in losses + val_losses if v is not None and math.isfinite(v)]
    top = max(finite + [0.5]) * 1.05
    diverged = any(v is not None and not math.isfinite(v) for _, v in losses + val_losses)
    half = width // 2
    down = height - 34  # debajo: el «paso N» del eje y, más abajo, la leyenda, sin pisarse
    title = "pérdida (¡se desborda!)" if diverged else "pérdida"
    _plot(draw, (34, 22, half - 10, down), [(losses, TRAIN), (val_losses, VAL)], top, title, now, last)
    accuracy = [([(s["step"], s["train_acc"]) for s in timeline], TRAIN),
                ([(s["step"], s.get("val_acc")) for s in timeline], VAL)]
    _plot(draw, (half + 40, 22, width - 8, down), accuracy, 1.0, "acierto", now, last, percent=True)
    x = 34  # bajo los dos gráficos (los dos tienen las dos líneas); bajo el de la derecha, no cabía entera
    for text, color in (("— entrenamiento", TRAIN), ("— validación (imágenes fijas)", VAL)):
        draw.text((x, height - 13), text, fill=color, font=font(10))
        x += draw.textlength(text, font=font(10)) + 12  # cada una donde acaba la anterior
    tested = [a for _, a in accuracy[1][0] if a is not None]
    ends = f"de {render.decimal(finite[0])} a {render.decimal(finite[-1])}" if finite else "sin valores finitos"
    image.info["alt"] = (f"Curvas de pérdida y de acierto hasta el paso {last}: la pérdida va {ends}"  # trazos.alt_text
                         + (f" y el acierto en validación llega a {render.percent(tested[-1])}." if tested else "."))
    return image


def _digit_tile(image, label, probs, scale):
    """Un dígito del panel: la imagen con marco verde (acierta) o rojo, la predicción y sus 3 más probables."""
    side = image.shape[-1]
    size = side * scale
    tile = Image.new("RGB", (max(size + 34, 92), size + 52), "white")
    draw = ImageDraw.Draw(tile)
    top3 = [c for c, _ in probs]
    color = RIGHT if top3[0] == label else WRONG
    draw.rectangle([4, 4, size + 7, size + 7], fill=color)
    tile.paste(render.digit_picture(image, scale=scale).convert("RGB"), (6, 6))
    draw.text((size + 12, 4 + size // 2), str(top3[0]), fill=color, font=font(20), anchor="lm")
    for line, (c, p) in enumerate(probs):
        draw.text((4, size + 10 + 14 * line), f"{c}: {p} %", fill=color if line == 0 else INK, font=font(11))
    return tile


_TILES = {}  # (id de la imagen, etiqueta, top-3 redondeado) -> tile: solo se redibuja lo que cambia


def digits_panel(images, labels, probs, cols=6):
    """Cada dígito con su predicción y sus 3 clases más probables; marco verde si acierta, rojo si no."""
    probs = torch.as_tensor(probs).float()
    scale = max(1, 56 // images.shape[-1])
    tiles = []
    for k in range(len(images)):
        top3 = probs[k].argsort(descending=True)[:3].tolist()
        shown = tuple((c, render.decimal(100 * float(probs[k, c]), 0)) for c in top3)
        key = (images.data_ptr(), k, int(labels[k]), shown, scale)
        if key not in _TILES:
            if len(_TILES) > 2000:
                _TILES.clear()
            _TILES[key] = _digit_tile(images[k], int(labels[k]), shown, scale)
        tiles.append(_TILES[key])
    width, height = tiles[0].size
    panel = Image.new("RGB", (cols * width, math.ceil(len(tiles) / cols) * height), "white")
    for k, tile in enumerate(tiles):
        panel.paste(tile, ((k % cols) * width, (k // cols) * height))
    return panel


def confusion_picture(labels, predictions, cell=24):
    """La matriz de confusión (fila: dígito real, columna: predicho), azul más oscuro = más ejemplos."""
    matrix = torch.bincount(torch.as_tensor(labels) * 10 + torch.as_tensor(predictions), minlength=100).reshape(10, 10)
    margin = 30
    image = Image.new("RGB", (margin + 10 * cell + 4, margin + 10 * cell + 4), "white")
    draw = ImageDraw.Draw(image)
    top = int(matrix.max()) or 1
    blues = render.lut("Blues")
    draw.text((2, 2), "real ↓ pred →", fill=INK, font=font(9))
    for k in range(10):
        draw.text((margin + k * cell + cell // 2, margin - 4), str(k), fill=INK, font=font(11), anchor="md")
        draw.text((margin - 6, margin + k * cell + cell // 2), str(k), fill=INK, font=font(11), anchor="rm")
    for t in range(10):
        for p in range(10):
            count = int(matrix[t, p])
            level = math.log1p(count) / math.log1p(top)
            color = tuple(int(c) for c in blues[int(round(25 + 230 * level))]) if count else (250, 250, 250)
            x, y = margin + p * cell, margin + t * cell
            draw.rectangle([x, y, x + cell - 2, y + cell - 2], fill=color,
                           outline=RIGHT if t == p and count else None)
            if count:
                draw.text((x + cell // 2 - 1, y + cell // 2 - 1), str(count), font=font(9), anchor="mm",
                          fill="white" if level > 0.55 else "black")
    return image


class Cancelled(Exception):
    """Un dibujo abandonado a medias porque ya se pidió otro más nuevo."""


class Painter:
    """Los dibujos de un entrenamiento en vivo (`live.LiveTraining`), de una foto o de los pesos vivos.

    Tiene su propia copia de la red (`viewer`): la vista calcula activaciones y predicciones con
    ella, en otro hilo, sin tocar nunca los modos ni los pesos de la red que se entrena.
    """

    def __init__(self, engine, panel=12):
        self.engine = engine
        self.viewer = copy.deepcopy(engine.model)
        self.panel = min(positive_int(panel, "panel", what=" (cuántos dígitos enseñar)"), len(engine.val_labels))
        self.images, self.labels = engine.val_images[:self.panel], engine.val_labels[:self.panel]
        self.layers = engine.layers
        with engine.control.lock:  # ver `_activations`: se lee aquí, en el hilo que crea el explorador
            self._graph = trace(self.viewer) or False
        self._stages = None
        self.stages()
        self.lock = threading.Lock()  # la copia de la red es una: un dibujo cada vez
        self._cache = {}  # {nombre: (clave, (título, imagen))}: lo que no cambió no se vuelve a dibujar

    def _cached(self, name, key, make):
        if name not in self._cache or self._cache[name][0] != key:
            self._cache[name] = (key, make())
        return self._cache[name][1]

    def frame(self, index=None):
        """Un momento: la foto `index` de la timeline, o (None) los pesos vivos ahora mismo."""
        timeline = self.engine.timeline
        if index is not None:
            index = min(index, len(timeline) - 1)  # la timeline pudo volver a empezar (reset) desde otro sitio
            shot = dict(timeline[index])
            # Aún sin medir (el hilo de medir va unos milisegundos detrás): se calcula con sus pesos.
            shot["panel_probs"] = self._panel_probs(shot["state"]) if shot["probs"] is None \
                else shot["probs"][:self.panel]
            shot["timeline"] = timeline[:index + 1]
            shot["recorded"] = _measured(timeline[:index + 1])
            shot["scrubbed"] = index < len(timeline) - 1  # una foto del pasado: la línea gris marca cuál
            return shot
        shot = self.engine.live_state()
        shot["live"] = self.engine.running
        shot["panel_probs"] = self._panel_probs(shot["state"])
        recorded = [s for s in timeline if s["step"] <= shot["step"]] or timeline[:1]
        shot["timeline"], shot["recorded"] = recorded, _measured(recorded)
        return shot

    def _panel_probs(self, state):
        """Las probabilidades de los dígitos del panel con los pesos `state`, en la copia `viewer`.

        Con un solo hilo: para 12 imágenes, repartir la cuenta entre los hilos de OpenMP cuesta más que
        hacerla (con la CPU ocupada por el entrenamiento, el navegador y Jupyter, decenas de ms en cada ⏸).
        """
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            with TRACING.reading():
                self.viewer.load_state_dict(state)
                return probabilities(outputs(self.viewer, self.images).float())
        finally:
            torch.set_num_threads(threads)

    def stages(self):
        """Los pasos de la red (leídos una vez, en el hilo que crea el pintor: ver `_activations`)."""
        if self._stages is None:
            from .inspection import stage_names
            with self.engine.control.lock:
                self._stages = stage_names(self.viewer, self.images[:1])
        return self._stages

    def _activations(self, digit, stage):
        """La salida del paso `stage` para el dígito `digit` del panel, con la copia de la red.

        torch.fx, al leer una red, cambia `nn.Module.__call__` para todo el proceso: si el hilo
        de entrenamiento diera un paso a la vez, fx lo tomaría por parte de la copia. Por eso se
        lee una sola vez, con el cerrojo del motor (la red no cambia de forma al entrenar), y en
        cada refresco solo se ejecuta el grafo ya leído, paso a paso, como hace `capture`, con
        `capture.TRACING` (que nadie lea otra red con fx mientras tanto).
        """
        image = self.images[digit:digit + 1].to(device_of(self.viewer), dtype_of(self.viewer))
        with TRACING.reading(), inspecting(self.viewer):
            if self._graph is False:  # una red que fx no puede leer: sus capas, con hooks (sin cambiar nada global)
                steps = _capture_with_hooks(self.viewer, image)
            else:
                recorder = _Recorder(self._graph, dict(self._graph.named_modules()))
                recorder.run(image)
                steps = recorder.steps
        outputs_ = {step.name: step.output for step in steps}
        if stage not in outputs_:
            raise TrazosValueError(f"Paso desconocido: {stage!r}. Pasos válidos: {', '.join(outputs_)}.")
        return outputs_[stage][0]

    def pictures(self, frame, layer=None, digit=0, stage=None, cancelled=None):
        """{nombre: (título, imagen PIL)} de un momento `frame`, en el orden del explorador.

        `cancelled()`, si se da, se consulta entre panel y panel: si da True, se deja a medias
        (`Cancelled`), porque ya se ha pedido otro dibujo más nuevo (al pulsar ⏸).
        """
        def check():
            if cancelled is not None and cancelled():
                raise Cancelled()
        first = self.engine.timeline[0]
        # Las curvas solo cambian con cada foto nueva: se redibujan entonces y no en cada refresco. La
        # línea gris del paso que se ve, solo al recorrer fotos pasadas (si no, iría siempre al final).
        now = frame["step"] if frame.get("scrubbed") else None
        timeline = frame["timeline"]
        pictures = {"curvas": self._cached("curvas", (len(timeline), id(timeline[-1]), now), lambda: (
            f"Pérdida y acierto hasta el paso {timeline[-1]['step'] if now is None else now}",
            curves_picture(timeline, now)))}
        conv_layers = [name for name in (self.layers[:1] + [layer]) if name] if self.layers else []
        for key, name in zip(("kernels", "capa"), conv_layers):
            check()
            start, now = first["weights"][name].numpy(), frame["state"][f"{name}.weight"].numpy()
            weights = np.stack([start, now])
            limits = render.kernel_limits(weights)
            picture = render.kernel_picture(weights, "después", 1, limits=limits, width=240, height=240)
            pictures[key] = (f"{name}: kernels en el paso {frame['step']} (±{render.decimal(limits['después'])})",
                             picture)
            grad = frame["grads"][name].numpy()
            grads = np.stack([np.zeros_like(grad), grad])
            limit = render.kernel_limits(grads)["después"]
            pictures[f"gradientes_{key}"] = (
                f"{name}: gradiente (±{render.decimal(limit, 4)}); el paso resta lr × gradiente",
                render.kernel_picture(grads, "después", 1, highlight=0, limits={"después": limit},
                                      width=240, height=240))
        check()
        self.viewer.load_state_dict(frame["state"])
        stage = stage or self.stages()[0]
        output = self._activations(digit, stage)
        pictures["activaciones"] = (f"Dígito {digit} del panel (es un {int(self.labels[digit])}): "
                                    f"{render.describe_stage(stage, output)}", render.maps_picture(output, cell=40))
        check()
        probs = frame["panel_probs"]
        right = int((probs.argmax(dim=1) == self.labels).sum())
        pictures["digitos"] = (f"{right} de {self.panel} dígitos bien leídos (verde) en el paso {frame['step']}",
                               digits_panel(self.images, self.labels, probs))
        recorded = frame["recorded"]
        pictures["confusion"] = self._cached("confusion", id(recorded["probs"]), lambda: (
            f"Matriz de confusión: {len(self.engine.val_labels)} imágenes de validación, paso {recorded['step']}, "
            f"acierto {render.percent(recorded['val_acc'])}",
            confusion_picture(self.engine.val_labels, recorded["probs"].argmax(dim=1))))
        return pictures


def _measured(timeline):
    """La última foto de `timeline` con su acierto en validación ya medido (la del paso 0 siempre lo está)."""
    return next((s for s in reversed(timeline) if s["probs"] is not None), timeline[0])


def _painter(source):
    if isinstance(source, Painter):
        return source
    if hasattr(source, "painter"):  # el explorador
        return source.painter
    from .live import LiveTraining
    if isinstance(source, LiveTraining):
        return Painter(source)
    raise TypeError(f"plot_timeline necesita un training_explorer (o su motor); se recibió {type(source).__name__}.")


def plot_timeline(source, steps=None, layer=None, digit=0, stage=None):
    """Figura de matplotlib con los dibujos del explorador en unos pasos ya grabados.

    `source` es un `widgets.training_explorer` (o su `LiveTraining`); `steps`, los pasos
    (los de la timeline más cercanos; por defecto el primero, uno intermedio y el último).
    Una fila de dibujos por paso, los mismos que enseña el explorador: así el cuaderno se ve
    igual sin widgets (nbval, GitHub).
    """
    import matplotlib.pyplot as plt

    painter = _painter(source)
    timeline = painter.engine.timeline
    recorded = [s["step"] for s in timeline]
    if steps is None:
        steps = sorted({recorded[0], recorded[len(recorded) // 2], recorded[-1]})
    indices = [min(range(len(recorded)), key=lambda i: abs(recorded[i] - s)) for s in steps]
    layer = layer or (painter.layers[1] if len(painter.layers) > 1 else None)
    with painter.lock:
        rows = [painter.pictures(painter.frame(i), layer, digit, stage) for i in indices]
    names = list(rows[0])
    figure, axes = plt.subplots(len(rows), len(names), figsize=(3.1 * len(names), 3.1 * len(rows)),
                                squeeze=False, gridspec_kw={"width_ratios": [1.6 if n in ("curvas", "digitos")
                                                                             else 1 for n in names]})
    for row, pictures in zip(axes, rows):
        for ax, name in zip(row, names):
            title, picture = pictures[name]
            ax.imshow(np.asarray(picture), interpolation="nearest")
            ax.set_title(title, fontsize=7, wrap=True)
            ax.axis("off")
    figure.tight_layout()
    return figure
