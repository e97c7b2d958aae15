"""Capturar una pasada hacia delante: cada paso de la red, en orden, con su nombre y su salida.

Un «paso» es todo lo que produce un tensor dentro de `forward`: una capa (`self.conv1`), una
función (`F.relu`, `F.max_pool2d`, `torch.flatten`, `F.log_softmax`), un método de tensor
(`x.view`, `x.reshape`) y cada llamada de un módulo reutilizado por separado (`pool` y
`pool_1`). La tabla de capas (`shapes.summary`), las activaciones (`inspection.activations`)
y los exploradores salen todos de aquí.

Cómo: `torch.fx` (incluido en PyTorch) lee `forward` una vez sin datos y obtiene el grafo de
pasos con nombres únicos; luego un `Interpreter` ejecuta ese grafo paso a paso y guarda cada
salida. Se eligió fx y no los hooks de módulo porque una función como `F.relu` no tiene hook,
y un módulo reutilizado dispara su hook dos veces con el mismo nombre; y no una biblioteca
externa (torchlens) porque fx ya viene con PyTorch y basta para estas redes.

Una red con control de flujo que depende de los datos (`if x.sum() > 0:`) no se puede leer
sin datos. Entonces se usan hooks de módulo: se ven todas las capas, cada llamada por
separado, pero no las funciones; se avisa una vez, en español.
"""

import contextlib
import os
import sys
import threading
import warnings
import weakref
from dataclasses import dataclass

import torch
import torch.fx

from .errors import TrazosValueError
from .runner import device_of, dtype_of, eval_mode, inspecting, quiet, to_cpu

__all__ = ["Step", "StepError", "capture", "eval_mode", "step_names", "trace"]


@dataclass
class Step:
    """Un paso de la red: nombre único, tipo (Conv2d, relu, view...), salida y parámetros propios."""

    name: str
    kind: str
    output: torch.Tensor
    params: int = 0  # los de su módulo, contados solo en su primera llamada (la suma da el total)
    module: str = None  # nombre del módulo si el paso es una capa; None si es una función


class StepError(TrazosValueError, RuntimeError):
    """Un paso de la red no acepta lo que le llega; el mensaje dice cuál y con qué forma.

    Es un ValueError (un dato que no encaja) y también un RuntimeError, el error que PyTorch
    da en estos casos: quien ya capturaba el de PyTorch sigue capturándolo.
    """


class _TraceLock:
    """Leer una red con torch.fx (`writing`) frente a ejecutar una red en otro hilo (`reading`).

    torch.fx, mientras lee una red, cambia `nn.Module.__call__` para todo el proceso: una red que
    otro hilo ejecutara a la vez (el entrenamiento en vivo, su hilo de medir, su vista) acabaría
    dentro del grafo o rompería la lectura («module is not installed as a submodule»). Quien
    ejecuta una red en un hilo aparte lo hace con `reading()`, y varios pueden a la vez (el
    entrenamiento no espera a la vista ni al hilo de medir); leer con fx, con `writing()`, espera
    a que no haya nadie más. Un mismo hilo puede anidarlos.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = {}  # hilo -> cuántos `reading` anidados tiene
        self._writer, self._depth, self._waiting = None, 0, 0

    @contextlib.contextmanager
    def reading(self):
        me = threading.get_ident()
        with self._cond:
            # Espera si otro hilo lee con fx, o si alguno espera para hacerlo (que no espere para
            # siempre); quien ya está ejecutando, o leyendo con fx, sigue sin esperar.
            while self._writer != me and me not in self._readers and (self._writer is not None or self._waiting):
                self._cond.wait()
            self._readers[me] = self._readers.get(me, 0) + 1
        try:
            yield
        finally:
            with self._cond:
                self._readers[me] -= 1
                if not self._readers[me]:
                    del self._readers[me]
                self._cond.notify_all()

    @contextlib.contextmanager
    def writing(self):
        me = threading.get_ident()
        with self._cond:
            self._waiting += 1
            while self._writer not in (None, me) or any(t != me for t in self._readers):
                self._cond.wait()
            self._waiting -= 1
            self._writer, self._depth = me, self._depth + 1
        try:
            yield
        finally:
            with self._cond:
                self._depth -= 1
                if not self._depth:
                    self._writer = None
                self._cond.notify_all()


TRACING = _TraceLock()

# Redes ya avisadas de que fx no puede seguirlas (se olvidan solas cuando la red deja de existir).
_WARNED = weakref.WeakKeyDictionary()


def trace(model):
    """El grafo de torch.fx de `model` (trazado en modo eval), o None si no se puede.

    Se traza en cada captura (2-4 ms en estas redes) y no se guarda: el grafo fija lo que
    valía cualquier atributo de Python al trazar, y una red a la que el estudiante cambia
    una capa o un atributo debe verse como es ahora.
    """
    # `self.training` queda fijado en el grafo: se traza como se mira, en eval
    with eval_mode(model):
        return _symbolic_trace(model)


def _symbolic_trace(model):
    try:
        # fx ejecuta forward con Proxy: un print(x.shape) del estudiante escribiría «Proxy(...)»
        with TRACING.writing(), quiet():
            graph = torch.fx.symbolic_trace(model)
    except Exception as error:  # noqa: BLE001 - fx falla de muchas formas; todas significan "no trazable"
        graph = None
        if model not in _WARNED:
            _WARNED[model] = True
            warnings.warn(
                f"torch.fx no puede seguir la red {type(model).__name__} paso a paso ({type(error).__name__}: "
                f"{error}); suele pasar cuando forward decide algo según los datos, como un `if` sobre un "
                "tensor. Se mostrarán solo sus capas "
                "(los módulos creados en __init__, cada llamada por separado); no se verán las funciones que "
                "usa forward, como F.relu, F.max_pool2d, torch.flatten o x.view.",
                stacklevel=_outside_trazos())
    return graph


def _outside_trazos():
    """El `stacklevel` que señala la primera línea fuera de trazos: el aviso apunta a la celda del
    estudiante que llamó a la herramienta, no a las tripas de la biblioteca."""
    package, level, frame = os.path.dirname(os.path.abspath(__file__)), 1, sys._getframe(1)  # quien llama a warn
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package + os.sep):
        frame, level = frame.f_back, level + 1
    return level


def _kind(node, modules):
    if node.op == "call_module":
        return type(modules[node.target]).__name__
    if node.op == "call_method":
        return node.target
    return getattr(node.target, "__name__", str(node.target))


def _shape(x):
    """Forma de un tensor sin el lote (como en la tabla de `summary`): 16x8x8, 512."""
    return "x".join(map(str, x.shape[1:])) if isinstance(x, torch.Tensor) else type(x).__name__


class _Recorder(torch.fx.Interpreter):
    """Ejecuta el grafo paso a paso y guarda la salida de cada paso que produce un tensor."""

    def __init__(self, graph_module, modules):
        super().__init__(graph_module)
        self.extra_traceback = False  # fx añadiría el grafo entero al mensaje; el nuestro ya dice el paso
        self.modules, self.steps, self.calls = modules, [], {}

    def run_node(self, node):
        if _mutates(node, self.modules):
            _protect(self.steps, [self.env[n] for n in node.all_input_nodes])
        try:
            output = super().run_node(node)
        except Exception as error:  # noqa: BLE001 - se traduce a un mensaje que nombra el paso
            if node.op not in ("call_module", "call_function", "call_method"):
                raise
            inputs = ", ".join(_shape(a) for a in self.map_nodes_to_values(node.args, node))
            raise StepError(f"El paso {_name(node, self.calls)!r} ({_kind(node, self.modules)}) no acepta su "
                            f"entrada, de forma {inputs} (sin contar el lote). Revisa sus tamaños. "
                            f"Detalle de PyTorch: {error}") from None
        if node.op in ("call_module", "call_function", "call_method") and isinstance(output, torch.Tensor):
            module = node.target if node.op == "call_module" else None
            first = module is not None and module not in self.calls
            name = _name(node, self.calls)
            if module is not None:
                self.calls[module] = self.calls.get(module, 0) + 1
            params = sum(p.numel() for p in self.modules[module].parameters()) if first else 0
            self.steps.append(Step(name, _kind(node, self.modules), to_cpu(output), params, module))
        return output


def _mutates(node, modules):
    """¿Escribe el paso encima de su entrada? nn.ReLU(inplace=True), F.relu(x, inplace=True), x.relu_()."""
    if node.op == "call_module":
        return bool(getattr(modules[node.target], "inplace", False))
    if node.op in ("call_function", "call_method"):
        name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "")
        return bool(node.kwargs.get("inplace")) or (name.endswith("_") and not name.startswith("_"))
    return False


def _protect(steps, inputs):
    """Copia las salidas ya guardadas que comparten memoria con `inputs`, antes de que un paso
    escriba encima: sin esto, la salida de conv1 se vería ya pasada por su ReLU(inplace=True)."""
    storages = {x.untyped_storage().data_ptr() for x in inputs if isinstance(x, torch.Tensor)}
    for step in steps:
        if step.output.untyped_storage().data_ptr() in storages:
            step.output = step.output.clone()


def _name(node, calls):
    """Nombre de un paso: el de la capa (conv1, features.0), con _1, _2... si se repite; el de fx
    para las funciones (relu, relu_1, view, log_softmax)."""
    if node.op != "call_module":
        return node.name
    count = calls.get(node.target, 0)
    return node.target if count == 0 else f"{node.target}_{count}"


def _capture_with_hooks(model, images):
    """Plan B sin fx: un hook en cada capa hoja; cada llamada es un paso (pool, pool_1)."""
    steps, calls, handles, running = [], {}, [], []
    leaves = [(name, m) for name, m in model.named_modules() if name and not list(m.children())]

    def before(name):
        def hook(module, inputs):
            running.append(name)
            if getattr(module, "inplace", False):
                _protect(steps, inputs)
        return hook

    def after(name, module):
        def hook(_m, _inputs, output):
            running.pop()
            if isinstance(output, torch.Tensor):
                count = calls.get(name, 0)
                calls[name] = count + 1
                params = sum(p.numel() for p in module.parameters()) if count == 0 else 0
                steps.append(Step(name if count == 0 else f"{name}_{count}", type(module).__name__,
                                  to_cpu(output), params, name))
        return hook

    try:
        for name, module in leaves:
            handles.append(module.register_forward_pre_hook(before(name)))
            handles.append(module.register_forward_hook(after(name, module)))
        try:
            model(images)
        except (RuntimeError, ValueError, TypeError) as error:
            last = _shape(steps[-1].output) if steps else _shape(images)
            if running:  # falló dentro de una capa: casi siempre, una forma que no encaja
                raise StepError(f"El paso {running[-1]!r} no acepta su entrada (la salida anterior tiene forma "
                                f"{last}). Revisa sus tamaños. Detalle de PyTorch: {error}") from None
            after_step = f"después del paso {steps[-1].name!r} (forma {last})" if steps else "antes del primer paso"
            raise StepError(f"El forward de {type(model).__name__} falla {after_step}, fuera de sus capas. "
                            f"Detalle: {error}") from None
    finally:
        for h in handles:
            h.remove()
    return steps


def capture(model, images):
    """Ejecuta `model` sobre `images` y devuelve la lista de pasos (`Step`), en orden de ejecución.

    Se mira como mira todo trazos (`runner.inspecting`): en modo eval y sin gradientes (sin
    dropout, sin tocar las estadísticas de BatchNorm), y la red vuelve al modo que tenía,
    también si algo falla. Las imágenes van al dispositivo de la red y las salidas de cada paso
    vuelven a la CPU. Si un paso no acepta lo que le llega, `StepError` dice cuál y con qué forma.
    """
    graph = trace(model)
    images = images.to(device_of(model), dtype_of(model))
    with TRACING.reading(), inspecting(model):  # ejecutarla sin que otro hilo lea otra con fx a la vez
        if graph is None:
            return _capture_with_hooks(model, images)
        recorder = _Recorder(graph, dict(graph.named_modules()))
        recorder.run(images)
        return recorder.steps


def step_names(model, images):
    """Los nombres de los pasos de `model` para un lote de ejemplo `images`, en orden."""
    return [step.name for step in capture(model, images)]
