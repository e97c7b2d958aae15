"""Los errores que trazos lanza a propósito: un mensaje en español que dice qué pasa y qué hacer.

Todos heredan de `TrazosError`. Siguen siendo también un `ValueError` o un `TypeError` (o el
`RuntimeError` de PyTorch, en `capture.StepError`), así que quien ya capturaba esos errores
los sigue capturando.

En Jupyter, un error nuestro se ve como su mensaje y nada más: IPython pregunta a cada
excepción por `_render_traceback_` antes de dibujar la traza, y aquí la traza no ayuda a un
estudiante (serían decenas de líneas de trazos y de torch.fx antes de la frase que importa).
Fuera de Jupyter (un script, pytest) la traza completa sigue ahí para quien programa.
"""

__all__ = ["TrazosError", "TrazosValueError", "TrazosTypeError", "TrazosRuntimeError"]


class TrazosError(Exception):
    """Un error de trazos, con un mensaje en español pensado para quien está aprendiendo."""

    def _render_traceback_(self):
        # IPython muestra estas líneas en lugar de la traza (ipykernel las manda como `traceback`).
        # Rojo, como un error normal, para que se vea que la celda ha fallado.
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class TrazosValueError(TrazosError, ValueError):
    """Un valor que no encaja (una forma, un tamaño, un nombre), con lo que se esperaba."""


class TrazosTypeError(TrazosError, TypeError):
    """Un objeto de otro tipo del que se esperaba (una lista donde va un tensor, una red que no lo es)."""


class TrazosRuntimeError(TrazosError, RuntimeError):
    """Algo que falló al ejecutarse (en el hilo del entrenamiento en vivo), contado en español."""
