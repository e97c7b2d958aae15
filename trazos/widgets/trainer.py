"""Explorador del entrenamiento en vivo: pulsa play y mira cómo aprende la red, paso a paso.

Una capa fina sobre `live.LiveTraining` (el motor, que entrena en un hilo) y
`live_panels.Painter` (los dibujos, los mismos que `live_panels.plot_timeline`). Un segundo
hilo, el de la vista, redibuja los paneles unas `refresh` veces por segundo, solo si algo
cambió (un paso más, otra foto del deslizador, otro control): en pausa no gasta nada. Lee los
pesos con el cerrojo del motor (una copia entera, nunca a medio paso) o de una foto grabada.
"""

import html
import os
import sys
import threading
import time
import weakref

import ipywidgets as widgets

from .. import render
from ..errors import TrazosValueError
from ..live import DEFAULT_LR, LiveTraining
from ..live_panels import Cancelled, Painter
from .base import error_html, image

__all__ = ["TrainingExplorer", "training_explorer"]

# Redibujos por segundo: >= 5 se ve fluido y cuesta < 15 % del entrenamiento (benchmarks/live_training.py).
REFRESH = 5.5
BATCH_SIZES = (16, 32, 64, 128, 256)
SWITCH_INTERVAL = 0.0005  # s: ver `_view_loop`
VIEW_NICENESS = 5  # ver `_lower_priority`
PANELS = ("curvas", "confusion", "kernels", "gradientes_kernels", "capa", "gradientes_capa", "activaciones", "digitos")


def _view_loop(ref, stop):
    """El hilo de la vista: redibuja cuando cambia la versión; solo guarda el explorador mientras dibuja.

    Mientras vive, Python cambia de hilo cada 0,5 ms en vez de cada 5: el hilo de entrenamiento
    suelta el GIL en cada operación de PyTorch y, al volver, esperaría hasta 5 ms a que la
    vista (PIL, NumPy) se lo devuelva, decenas de veces por paso. Medido: sin esto la vista
    casi duplica el tiempo de entrenamiento (benchmarks/live_training.py).
    """
    import torch
    torch.set_num_threads(1)  # solo este hilo: una imagen suelta no gana nada repartida
    _lower_priority()
    _fast_switching(+1)
    try:
        _loop(ref, stop)
    finally:
        _fast_switching(-1)


_SWITCH = {"views": 0, "before": None}
_SWITCH_LOCK = threading.Lock()


def _fast_switching(delta):
    """Un intervalo de cambio de hilo corto mientras haya alguna vista viva; al cerrar la última, el de antes."""
    with _SWITCH_LOCK:
        if delta > 0 and _SWITCH["views"] == 0:
            _SWITCH["before"] = sys.getswitchinterval()
            sys.setswitchinterval(SWITCH_INTERVAL)
        _SWITCH["views"] += delta
        if _SWITCH["views"] == 0 and _SWITCH["before"] is not None:
            sys.setswitchinterval(_SWITCH["before"])


def _lower_priority():
    """Este hilo, con menos prioridad que el de entrenamiento (nice +5, en Linux): si la CPU está
    libre la vista va igual de rápido; si está ocupada, cede ella y no el entrenamiento."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), VIEW_NICENESS)
    except (AttributeError, OSError):  # macOS y Windows: sin prioridad por hilo; se queda como está
        pass


def _loop(ref, stop):
    while not stop.is_set():
        start = time.monotonic()
        explorer = ref()
        if explorer is None:
            return
        try:
            interval = explorer._refresh_if_changed()
        finally:
            del explorer
        stop.wait(max(0.0, interval - (time.monotonic() - start)))  # el periodo cuenta desde el inicio del dibujo


def _checked_choices(engine, painter, layer, digit, stage):
    """`layer`, `digit` y `stage` del explorador, comprobados antes de crear los widgets (si no,
    ipywidgets diría «TraitError» en inglés)."""
    layers = engine.layers
    if layer is not None and layer not in layers:
        raise TrazosValueError(f"Capa desconocida: {layer!r}. Convoluciones de esta red: "
                               f"{', '.join(layers) or 'ninguna'}.")
    if isinstance(digit, bool) or not isinstance(digit, int) or not 0 <= digit < painter.panel:
        raise TrazosValueError(f"digit es el número de un dígito del panel: un entero de 0 a {painter.panel - 1}; "
                               f"se recibió {digit!r}.")
    stages = painter.stages()
    if stage is not None and stage not in stages:
        raise TrazosValueError(f"Paso desconocido: {stage!r}. Pasos de esta red: {', '.join(stages)}.")
    return layer, digit, stage


def _warning_html(text):
    return f"<div style='color:#b00020;white-space:pre-wrap'>⚠ {html.escape(str(text), quote=False)}</div>"


class TrainingExplorer(widgets.VBox):
    """El explorador: un VBox con los controles, los paneles y el contrato del motor
    (`play`, `pause`, `step`, `reset`, `wait`, `timeline`, `model`)."""

    def __init__(self, engine, layer=None, digit=0, stage=None, refresh=REFRESH, panel=12):
        self._stop, self._view = threading.Event(), None  # lo primero: close() los usa, aunque __init__ falle
        self.engine, self.painter, self.refresh = engine, Painter(engine, panel), float(refresh)
        layer, digit, stage = _checked_choices(engine, self.painter, layer, digit, stage)
        self._drawn, self._frames, self._lock, self._shown = None, 0, threading.Lock(), {}
        self._generation, self._published = 0, 0  # ver `redraw`
        self.play_button = widgets.Button(description="▶ Entrenar", button_style="success")
        self.pause_button = widgets.Button(description="⏸ Pausa")
        self.step_button = widgets.Button(description="Un paso")
        self.reset_button = widgets.Button(description="⟲ Reiniciar", button_style="warning")
        self.lr = widgets.FloatLogSlider(value=engine.lr, base=10, min=-5, max=1, step=0.1, readout_format=".1e",
                                         description="tasa (lr)")
        sizes = sorted(set(BATCH_SIZES) | {engine.batch_size})
        self.batch_size = widgets.Dropdown(options=sizes, value=engine.batch_size, description="lote",
                                           layout=widgets.Layout(width="160px"))
        self.optimizer = widgets.ToggleButtons(options=[("SGD", "sgd"), ("Adam", "adam")],
                                               value=engine.optimizer_name, description="optimizador")
        layers = engine.layers
        self.layer = widgets.Dropdown(options=layers or ["(sin convoluciones)"], description="capa",
                                      value=layer or (layers[1] if len(layers) > 1
                                                      else (layers or ["(sin convoluciones)"])[0]),
                                      disabled=not layers, layout=widgets.Layout(width="220px"))
        stages = self.painter.stages()
        self.stage = widgets.Dropdown(options=stages, value=stage or stages[0], description="paso de la red",
                                      layout=widgets.Layout(width="260px"))
        self.digit = widgets.IntSlider(value=digit, min=0, max=self.painter.panel - 1, description="dígito nº")
        self.scrubber = widgets.IntSlider(value=0, min=0, max=0, description="foto", disabled=True,
                                          continuous_update=True, layout=widgets.Layout(width="520px"))
        self.status = widgets.HTML()
        self.message = widgets.HTML()
        self.pictures = {name: image() for name in PANELS}
        self.titles = {name: widgets.HTML() for name in PANELS}
        for part, css in [(self.play_button, "trazos-play"), (self.pause_button, "trazos-pause"),
                          (self.step_button, "trazos-step"), (self.reset_button, "trazos-reset"),
                          (self.lr, "trazos-lr"), (self.batch_size, "trazos-batch"),
                          (self.optimizer, "trazos-optimizer"),
                          (self.layer, "trazos-layer"), (self.stage, "trazos-stage"), (self.digit, "trazos-digit"),
                          (self.scrubber, "trazos-scrubber"), (self.status, "trazos-status")]:
            part.add_class(css)
        for name in PANELS:
            self.pictures[name].add_class(f"trazos-live-{name.replace('_', '-')}")

        def box(*names):
            return widgets.VBox([widgets.VBox([self.titles[n], self.pictures[n]]) for n in names])

        self.play_button.on_click(lambda _: self._safely(self.play))
        self.pause_button.on_click(lambda _: self._safely(self.pause))
        self.step_button.on_click(lambda _: self._safely(lambda: self.step(1)))
        self.reset_button.on_click(lambda _: self._safely(self.reset))
        self.lr.observe(lambda change: self._safely(lambda: setattr(engine, "lr", change["new"])), names="value")
        self.batch_size.observe(lambda change: self._safely(lambda: setattr(engine, "batch_size", change["new"])),
                                names="value")
        self.optimizer.observe(lambda change: self._safely(lambda: self._switch(change["new"])), names="value")
        super().__init__([
            widgets.HBox([self.play_button, self.pause_button, self.step_button, self.reset_button]),
            widgets.HBox([self.lr, self.batch_size, self.optimizer]),
            widgets.HBox([self.scrubber, self.status]), self.message,
            widgets.HBox([box("curvas"), box("confusion")]),
            widgets.HBox([box("kernels", "gradientes_kernels"),
                          widgets.VBox([self.layer, box("capa", "gradientes_capa")])]),
            widgets.HBox([widgets.VBox([widgets.HBox([self.digit, self.stage]), box("activaciones")]), box("digitos")]),
        ])
        self.add_class("trazos-training-explorer")
        self.redraw()
        engine.superseded = weakref.WeakMethod(self._superseded)
        if engine.closed:  # otra celda empezó a entrenar esta red mientras se creaba este explorador
            self._superseded()
            return
        self._view = threading.Thread(target=_view_loop, args=(weakref.ref(self), self._stop), daemon=True,
                                      name="trazos-live-view")
        self._view.start()

    # --- El contrato: el del motor, y la vista al día ----------------------------------------

    @property
    def model(self):
        return self.engine.model

    @property
    def timeline(self):
        return self.engine.timeline

    @property
    def steps(self):
        return self.engine.steps

    def play(self):
        """Entrena en segundo plano hasta el final o hasta `pause()`; el deslizador de fotos se bloquea."""
        self.scrubber.disabled = True
        self.engine.play()

    def pause(self):
        """Para tras el paso en curso; la vista enseña el momento exacto en que se paró."""
        self.engine.pause()
        self._after_run()

    def step(self, n=1):
        """Exactamente `n` pasos y en pausa (espera a que terminen)."""
        self.engine.step(n)
        self._after_run()
        return self.timeline

    def reset(self):
        """Vuelve al paso 0 con pesos nuevos de la misma semilla (ver `LiveTraining.reset`)."""
        self.engine.reset()
        self._after_run()

    def wait(self, timeout=None):
        """Espera a que el entrenamiento termine o quede en pausa; devuelve la `timeline`."""
        timeline = self.engine.wait(timeout)
        if not self.engine.running:
            self._after_run()
        return timeline

    def close(self):
        """Para el entrenamiento y la vista (los dos hilos terminan) y cierra los widgets."""
        self._stop_view()
        engine = getattr(self, "engine", None)
        if engine is not None:
            engine.close()
        for child in [*getattr(self, "pictures", {}).values(), *getattr(self, "titles", {}).values()]:
            child.close()
        super().close()

    def _stop_view(self):
        stop, view = getattr(self, "_stop", None), getattr(self, "_view", None)
        if stop is not None:
            stop.set()
        if view is not None and view.is_alive() and view is not threading.current_thread():
            view.join(timeout=5)

    def _superseded(self):
        """Otro entrenamiento de la misma red empezó (la celda, ejecutada otra vez): este se queda
        quieto, con lo último que enseñaba, y los botones apagados."""
        self._stop_view()
        for control in (self.play_button, self.pause_button, self.step_button, self.reset_button, self.lr,
                        self.batch_size, self.optimizer):
            control.disabled = True
        self.message.value = _warning_html("Este entrenamiento se ha parado: otra celda empezó a entrenar en vivo "
                                           "la misma red. Sigue en el explorador nuevo.")

    # --- La vista --------------------------------------------------------------------------

    def show(self, index):
        """Enseña la foto `index` de la timeline (lo mismo que mover el deslizador «foto»)."""
        self.scrubber.value = index
        self.redraw()  # sin cancelar: al volver, se ve la foto `index` (o algo pedido después)

    def _switch(self, name):
        self.engine.optimizer_name = name
        self.lr.value = DEFAULT_LR[name] if self.engine.steps == 0 else self.lr.value

    def _after_run(self):
        """En pausa o al terminar: el deslizador recorre la timeline, y se ve el último momento."""
        count = max(len(self.engine.timeline), 1)
        self.scrubber.max = count - 1
        self.scrubber.value = count - 1
        self.scrubber.disabled = self.engine.running
        self.redraw()

    def _version(self):
        scrubbing = not self.scrubber.disabled and self.scrubber.value < len(self.engine.timeline) - 1
        # («foto», índice) y no `scrubbing and valor`: la foto 0 valdría False y no se distinguiría de «en vivo»
        return (self.engine.steps, len(self.engine.timeline), self.engine.control.measured,
                ("foto", self.scrubber.value) if scrubbing else None,
                self.layer.value,
                self.digit.value, self.stage.value, self.engine.failure)

    def _refresh_if_changed(self):
        if self.engine.closed:
            return 1.0
        if self._version() != self._drawn:
            self.redraw(cancellable=True)
        return 1.0 / self.refresh

    def redraw(self, cancellable=False):
        """Dibuja los paneles del momento que toca: la foto del deslizador o, si no, los pesos vivos.

        Se calcula sin cerrojo y se publica con él, y solo si no se publicó ya algo pedido después:
        al pulsar ⏸, el dibujo que la vista tenía a medias (de antes de la pausa) se descarta y el
        último que se ve es el del momento exacto de la pausa. Solo se abandonan a medias los
        dibujos del hilo de la vista (`cancellable`): uno pedido desde el cuaderno o un botón
        (`show`, ⏸) se termina siempre, así que al volver ya se ve.
        """
        with self._lock:
            self._generation += 1
            generation = self._generation
        version = self._version()
        stale = lambda: cancellable and generation < self._generation  # noqa: E731 - ya se pidió otro dibujo
        try:
            with self.painter.lock:
                index = version[3][1] if version[3] is not None else None
                frame = self.painter.frame(index)
                layer = self.layer.value if self.engine.layers else None
                pictures = self.painter.pictures(frame, layer, self.digit.value, self.stage.value, cancelled=stale)
            pngs = {}
            for name, (title, picture) in pictures.items():
                if stale():
                    return
                pngs[name] = (title, picture, None if self._shown.get(name) is picture else render.to_png(picture))
        except Cancelled:
            return
        except Exception as error:  # noqa: BLE001 - un panel que falla no mata el explorador
            self.message.value = error_html(error)
            return
        with self._lock:
            if generation < self._published:
                return
            self._published = generation
            for name, (title, picture, png) in pngs.items():
                if png is None:  # el mismo dibujo (de la caché del pintor): ni PNG ni mensaje
                    continue
                self._shown[name] = picture
                self.titles[name].value = f"<b>{title}</b>"
                self.pictures[name].value = png
            shot = frame["recorded"]
            loss = frame.get("loss")
            failure = self.engine.failure
            state = "parado por un error" if failure is not None else "entrenando" if self.engine.running \
                else ("terminado" if self.engine.finished else "en pausa")
            self.status.value = (
                f"<span class='trazos-step-count'>paso {frame['step']}</span> · época "
                f"{render.decimal(frame['epoch'], 2)} de {self.engine.epochs} · {state} · pérdida "
                f"{'—' if loss is None else render.decimal(loss, 3)} · acierto en validación "
                f"{render.percent(shot['val_acc'])} (paso {shot['step']})"
                + (f"<br><span class='trazos-failure'>⚠ {html.escape(str(failure))}</span>" if failure else ""))
            self._drawn, self._frames = version, self._frames + 1
            if failure is not None:
                self.message.value = _warning_html(failure)
            elif self.message.value and "⚠" in self.message.value and not self.engine.closed:
                self.message.value = ""

    def _safely(self, action):
        try:
            action()
        except Exception as error:  # noqa: BLE001 - el error, en la zona de mensajes; el widget sigue vivo
            self.message.value = error_html(error)


def training_explorer(model, train, val, *, epochs=1, batch_size=64, lr=None, every=20, optimizer="sgd", seed=0,
                      val_size=200, panel=12, layer=None, digit=0, stage=None, refresh=REFRESH, test_size=None):
    """Entrena `model` en vivo sobre `train` y enseña cómo aprende: ▶, ⏸, un paso, reiniciar.

    - `model`: cualquier red (la del curso o la tuya), entrenada en su sitio; con `seed` (0 por
      defecto) empieza con pesos nuevos de esa semilla (los parámetros congelados, con
      requires_grad=False, se quedan como están), y `seed=None` la entrena desde los suyos.
    - `train`, `val`: unos Digits; de la validación se usan `val_size` imágenes fijas para el
      acierto y la matriz de confusión, y las `panel` primeras para el panel de dígitos.
    - `lr`, `batch_size` y `optimizer` ("sgd" o "adam") se pueden cambiar sin parar, desde los
      controles o desde Python (`explorer.engine.lr = 0.01`).
    - `every`: cada cuántos pasos se graba una foto en `timeline` (y una en el paso 0); el
      deslizador «foto» las recorre en pausa y al terminar.
    - Una red, un entrenamiento: si esta red ya se entrenaba en otro explorador (la misma celda,
      ejecutada otra vez), ese se para y se dice en una línea.
    - Con dropout, el entrenamiento sortea con su propia secuencia, que sale de `seed` (ver
      `trazos.live`): la misma semilla da el mismo entrenamiento.
    Sin widgets (nbval, GitHub), `trazos.live_panels.plot_timeline(explorer, steps=[...])`
    dibuja los mismos paneles en una figura. `close()` para los hilos.
    """
    engine = LiveTraining(model, train, val, epochs=epochs, batch_size=batch_size, lr=lr, every=every,
                          optimizer=optimizer, seed=seed, val_size=val_size, test_size=test_size)
    try:
        return TrainingExplorer(engine, layer=layer, digit=digit, stage=stage, refresh=refresh, panel=panel)
    except Exception:
        engine.close()
        raise
