"""La línea de órdenes: `python -m trazos` (o `trazos`).

La tarea principal, `entrenar`, hace lo que hacía el `main.py` original: entrena la red,
muestra el progreso y el acierto final, y escribe todas las figuras en PNG junto con
`metrics.json`. Es la orden por defecto: `python -m trazos --out figuras` es lo mismo que
`python -m trazos entrenar --out figuras`. Dos órdenes más para el profesorado:
`python -m trazos preparar` (deja lista un aula sin internet, en `classroom.room`) y
`python -m trazos clave` (escribe la clave de respuestas, en `exercises.answer_key`).

Cada orden es un subanalizador de argparse y vive en su propio módulo, que tiene dos funciones:
`add_arguments(parser)` declara sus opciones (y puede cambiar `parser.description` y
`parser.epilog`) y `run(args)` la ejecuta y devuelve el código de salida. Para añadir una
orden, por ejemplo `web`:

1. en `trazos/classroom/web.py`, `add_arguments(parser)` y `run(args)`;
2. una línea en `COMMANDS`: `"web": ("trazos.classroom.web", "construye el sitio web estático del curso"),`.

Su `--help` y sus errores de uso salen en español (`arguments.SpanishArgumentParser`), y la
lista de órdenes de `python -m trazos --help` la incluye sola.
"""

import errno
import importlib
import json
import sys
import tempfile
import time
from pathlib import Path

# Sin matplotlib.use(): importar cli no cambia el backend de quien lo importa (un cuaderno, una
# prueba). Tampoco hace falta para escribir PNG sin pantalla: las figuras de `plots` son
# `matplotlib.figure.Figure` creadas sin pyplot, y `Figure.savefig` las dibuja con el lienzo
# Agg de matplotlib sea cual sea el backend elegido (no abre ventanas ni necesita DISPLAY).
import torch

from . import data, inspection, plots, render
from .arguments import SpanishArgumentParser, SpanishHelpFormatter, integer
from .models import MODELS
from .training import recipe, trained_model

# SpanishArgumentParser y SpanishHelpFormatter se importaban de aquí: siguen disponibles.
__all__ = ["COMMANDS", "DEFAULT", "build_parser", "parse_args", "main", "add_arguments", "run",
           "SpanishArgumentParser", "SpanishHelpFormatter"]

# Las órdenes: nombre -> (módulo con add_arguments(parser) y run(args), qué hace, en una línea).
COMMANDS = {
    "entrenar": ("trazos.cli", "entrena una red con MNIST y guarda todas las figuras del curso en PNG "
                               "(la orden por defecto)"),
    "preparar": ("trazos.classroom.room", "deja lista un aula sin internet (datos, redes entrenadas, cuadernos)"),
    "clave": ("trazos.exercises.answer_key", "escribe la clave de respuestas del profesorado"),
    "ejecutar": ("trazos.classroom.execute", "escribe copias ejecutadas de los cuadernos, para proyectarlas en clase"),
    "web": ("trazos.classroom.web", "construye el curso como sitio web estático, sin internet"),
    "servidor": ("trazos.classroom.server", "la clase en un servidor: JupyterHub, un JupyterLab por estudiante"),
    "referencia": ("trazos.make_reference", "rehace la red de referencia del curso que trae el paquete (para quien lo "
                                       "mantiene)"),
    "progreso": ("trazos.progress", "enseña tu progreso en los ejercicios: correctos, pendientes e intentos"),
    "insignias": ("trazos.classroom.badges",
                  "pone en cada cuaderno las insignias de Colab y Binder y la celda de instalación"),
}
DEFAULT = "entrenar"  # la que se ejecuta si lo primero no es el nombre de una orden


def build_parser(command=DEFAULT):
    """El analizador de `trazos`, con un subanalizador por orden y las opciones de `command`.

    Solo se importa el módulo de la orden que se va a ejecutar: una orden no carga lo que
    necesitan las demás, y una que falte o falle al importarse no rompe las otras.
    """
    parser = SpanishArgumentParser(prog="trazos", description="Las órdenes del curso trazos.")
    commands = parser.add_subparsers(dest="command", title="órdenes", metavar="ORDEN")
    for name, (module_name, summary) in COMMANDS.items():
        # La orden por defecto se llama «trazos» en su uso y en sus errores, como antes de haber órdenes.
        sub = commands.add_parser(name, prog="trazos" if name == DEFAULT else f"trazos {name}",
                                  help=summary, description=summary[:1].upper() + summary[1:] + ".")
        if name == command:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(run=module.run, _parser=sub)
    return parser


def _command(argv):
    """La orden que pide `argv`: su primera palabra si es una orden; si no, la orden por defecto."""
    return argv[0] if argv and argv[0] in COMMANDS else DEFAULT


def parse_args(argv=None):
    """Los argumentos de `argv` (sin el nombre del programa), con `run`: la función que los ejecuta."""
    argv = sys.argv[1:] if argv is None else list(argv)
    command = _command(argv)
    if argv[:1] != [command]:
        argv = [command, *argv]
    args, unknown = build_parser(command).parse_known_args(argv)
    parser = vars(args).pop("_parser")
    if unknown:  # lo dice la orden, con su uso («uso: trazos preparar ...»), no el analizador de arriba
        parser.error(f"argumentos no reconocidos: {' '.join(unknown)}")
    return args


def main(argv=None):
    """`python -m trazos [ORDEN] ...`: ejecuta la orden y devuelve su código de salida."""
    args = parse_args(argv)
    return args.run(args)


# ------------------------------------------------------------------ la orden por defecto: entrenar

# NumPy solo acepta semillas de 0 a 2**32 - 1 (seed_everything fija la suya con la misma).
MAX_SEED = 2**32 - 1


def positive(text):
    return integer(text, 1)


def seed(text):
    return integer(text, 0, MAX_SEED)


# El sistema explica en inglés por qué no se puede escribir; los motivos habituales, en español.
OS_REASONS_ES = {
    errno.EACCES: "permiso denegado",
    errno.EPERM: "operación no permitida",
    errno.EROFS: "el disco es de solo lectura",
    errno.ENOSPC: "no queda espacio en el disco",
    errno.ENOTDIR: "una parte de la ruta es un fichero, no una carpeta",
    errno.EEXIST: "ya existe un fichero con ese nombre",
    errno.ENOENT: "la ruta no existe",
}


def writable_folder_problem(folder):
    """None si se puede crear `folder` y escribir en ella; si no, el motivo."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Crear la carpeta no basta (permisos, disco de solo lectura): se prueba a escribir un fichero.
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        return OS_REASONS_ES.get(error.errno) or error.strerror or str(error)
    return None


def add_arguments(parser):
    """Las opciones de `entrenar` (la orden por defecto)."""
    parser.description = "Entrena una red convolucional con MNIST y guarda todas las figuras del curso en PNG."
    others = "; ".join(f"«python -m trazos {name}» {summary}" for name, (_, summary) in COMMANDS.items()
                       if name != DEFAULT)
    parser.epilog = (f"Ejemplo: python -m trazos --epochs 5 --out figuras. Otras órdenes: {others}. "
                     "Cada una tiene su --help.")
    parser.add_argument("--model", choices=list(MODELS), default="cnn",
                        help="red que se entrena: 'cnn' (compacta, 16x16) o 'classic' (28x28) (por defecto: cnn)")
    parser.add_argument("--epochs", type=positive, default=None, metavar="N",
                        help="número de épocas (por defecto: 5 para cnn, 2 para classic)")
    parser.add_argument("--out", type=Path, default=Path("figuras"), metavar="CARPETA",
                        help="carpeta donde se escriben las figuras y metrics.json (por defecto: figuras)")
    parser.add_argument("--data", type=Path, default=None, metavar="CARPETA",
                        help="carpeta de datos que contiene MNIST/raw (por defecto: $TRAZOS_DATA o "
                             "~/.cache/trazos/data)")
    parser.add_argument("--seed", type=seed, default=0, metavar="N",
                        help=f"semilla para que el resultado sea reproducible, de 0 a {MAX_SEED} (por defecto: 0)")
    parser.add_argument("--limit", type=positive, default=None, metavar="N",
                        help="usa solo los primeros N ejemplos de entrenamiento (para probar rápido)")


def save(fig, folder, name):
    path = folder / name
    fig.savefig(path, dpi=110)
    print(f"  {path}")
    return path


def run(args):
    """Entrena, escribe las figuras y metrics.json; devuelve el código de salida."""
    epochs, _ = recipe(args.model, args.epochs)
    side = MODELS[args.model].input_size  # atributo de la clase: no hace falta crear la red
    try:
        train_data = data.load_mnist(train=True, size=side, root=args.data, limit=args.limit)
        test_data = data.load_mnist(train=False, size=side, root=args.data)
    except (data.MNISTDataError, ValueError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    # Antes de entrenar: descubrir al final que no se pueden guardar los resultados haría perder el entrenamiento.
    problem = writable_folder_problem(args.out)
    if problem:
        print(f"Error: no se puede escribir en la carpeta de salida {args.out}: {problem}. "
              "Elige otra con --out CARPETA.", file=sys.stderr)
        return 2
    cache = data.cache_root()
    problem = writable_folder_problem(cache)
    if problem:
        print(f"Error: no se puede escribir en la caché de modelos {cache}: {problem}. "
              "Indica otra con la variable de entorno TRAZOS_CACHE.", file=sys.stderr)
        return 2

    print(f"Entrenando '{args.model}' {epochs} épocas con {len(train_data)} imágenes de {side}x{side}...")
    start = time.perf_counter()
    try:
        # Entrena siempre (retrain) y deja el resultado en la caché: los cuadernos lo reutilizan.
        trained = trained_model(args.model, epochs, args.seed, root=args.data, limit=args.limit, retrain=True)
    except KeyboardInterrupt:  # Ctrl+C en clase: un aviso, no una traza de Python
        print("\nEntrenamiento interrumpido: no se ha escrito nada.", file=sys.stderr)
        return 130
    train_seconds = time.perf_counter() - start
    model, history = trained.model, trained.history
    accuracy = trained.test_accuracy  # medido una vez, al final (el historial trae la validación)
    print(f"Acierto final en test: {render.percent(accuracy, 2)} "
          f"({render.decimal(train_seconds, 1)} s de entrenamiento)")

    before = trained.model_at(0)
    images = test_data.images  # las 10.000 normalizadas, una sola vez
    predictions, probs = inspection.predict(model, images)
    matrix = inspection.confusion_matrix(test_data.labels, predictions)
    right = torch.nonzero(predictions == test_data.labels).flatten()[:16]
    wrong = torch.nonzero(predictions != test_data.labels).flatten()[:16]
    example = images[:1]
    maps = inspection.activations(model, example)

    print(f"Escribiendo figuras en {args.out}:")
    save(plots.plot_history(history), args.out, "curvas.png")
    for layer in ("conv1", "conv2"):
        save(plots.plot_kernels_before_after(getattr(before, layer).weight, getattr(model, layer).weight, layer),
             args.out, f"kernels_{layer}.png")
    for stage in ("relu1", "relu2"):
        save(plots.plot_activations(maps[stage], stage, example[0]), args.out, f"activaciones_{stage}.png")
    save(plots.plot_confusion(matrix), args.out, "confusion.png")
    save(plots.plot_predictions(images[right], test_data.labels[right], predictions[right], probs[right],
                                "Aciertos"), args.out, "aciertos.png")
    if len(wrong):
        save(plots.plot_predictions(images[wrong], test_data.labels[wrong], predictions[wrong], probs[wrong],
                                    "Errores"), args.out, "errores.png")

    metrics = {
        "model": args.model,
        "epochs": epochs,
        "seed": args.seed,
        "train_examples": len(train_data),
        "test_accuracy": accuracy,
        "train_seconds": round(train_seconds, 2),
        "history": history,
        "most_confused": [{"real": t, "predicho": p, "veces": c} for t, p, c in inspection.most_confused(matrix)],
    }
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"  {args.out / 'metrics.json'}")
    return 0



if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
