"""argparse en español, para todas las órdenes de `python -m trazos`.

Vive aparte de `cli` para que cada orden (`classroom`, `exercises.answer_key`, ...) pueda
usarlo sin importar la línea de órdenes entera: así no hay importaciones en círculo.
"""

import argparse
import sys

__all__ = ["SpanishArgumentParser", "SpanishHelpFormatter", "integer"]

# Los mensajes de error de argparse vienen en inglés; estos son los que puede ver quien se equivoca.
# Van de los más largos a los más cortos: "argument " es parte de otros y se cambia al final.
ERRORS_ES = [
    ("the following arguments are required", "faltan los argumentos"),
    ("unrecognized arguments", "argumentos no reconocidos"),
    ("invalid choice", "valor no válido"),
    ("choose from", "elige entre"),
    ("expected one argument", "necesita un valor"),
    ("ambiguous option", "opción ambigua"),
    ("could match", "puede ser"),
    ("not allowed with argument", "no se puede usar con el argumento"),
    ("ignored explicit argument", "no admite valor, se recibió"),
    ("argument ", "argumento "),
]


class SpanishHelpFormatter(argparse.HelpFormatter):
    """El formato de ayuda de argparse, con "uso:" en lugar de "usage:"."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


class SpanishArgumentParser(argparse.ArgumentParser):
    """argparse con la ayuda y los errores de uso en español.

    Pone por defecto el formato de `SpanishHelpFormatter`, los títulos «argumentos» y
    «opciones» y un `-h, --help` en español. Con `add_help=False` no añade ese `-h` (para
    quien ya lo añade a mano). Los subanalizadores de `add_subparsers` son de esta misma
    clase, así que cada orden sale en español sin hacer nada más.
    """

    def __init__(self, *args, add_help=True, **kwargs):
        kwargs.setdefault("formatter_class", SpanishHelpFormatter)
        # El -h de argparse dice "show this help message and exit": se pone el nuestro.
        super().__init__(*args, add_help=False, **kwargs)
        self._positionals.title = "argumentos"
        self._optionals.title = "opciones"
        if add_help:
            self.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")

    def error(self, message):
        for english, spanish in ERRORS_ES:
            message = message.replace(english, spanish)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def integer(text, low, high=None):
    """Convierte `text` a entero entre `low` y `high`; si no puede, un error de uso en español."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"no es un número entero: {text!r}") from None
    if value < low or (high is not None and value > high):
        rule = f"un entero entre {low} y {high}" if high is not None else f"un entero mayor o igual que {low}"
        raise argparse.ArgumentTypeError(f"debe ser {rule}; se recibió {value}")
    return value
