"""La línea de órdenes: `python -m trazos` (o `trazos`).

La tarea principal hace lo que hacía el `main.py` original: entrena la red, muestra el
progreso y el acierto final, y escribe todas las figuras en PNG junto con `metrics.json`.
Dos órdenes más para el profesorado: `python -m trazos preparar` (deja lista un aula sin
internet, en `classroom`) y `python -m trazos clave` (escribe la clave de respuestas).
"""

import argparse
import errno
import json
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # sin pantalla: solo ficheros PNG

import torch  # noqa: E402

from . import data, inspection, plots, render  # noqa: E402
from .models import MODELS  # noqa: E402
from .training import recipe, trained_model  # noqa: E402


# Los mensajes de error de argparse vienen en inglés; estos son los que puede ver quien se equivoca.
ERRORS_ES = [
    ("the following arguments are required", "faltan los argumentos"),
    ("unrecognized arguments", "argumentos no reconocidos"),
    ("invalid choice", "valor no válido"),
    ("choose from", "elige entre"),
    ("expected one argument", "necesita un valor"),
    ("argument ", "argumento "),
]


class SpanishArgumentParser(argparse.ArgumentParser):
    """argparse con los errores de uso en español."""

    def error(self, message):
        for english, spanish in ERRORS_ES:
            message = message.replace(english, spanish)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


class SpanishHelpFormatter(argparse.HelpFormatter):
    """El formato de ayuda de argparse, con "uso:" en lugar de "usage:"."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, "uso: " if prefix is None else prefix)


# NumPy solo acepta semillas de 0 a 2**32 - 1 (seed_everything fija la suya con la misma).
MAX_SEED = 2**32 - 1


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


def parse_args(argv=None):
    parser = SpanishArgumentParser(
        prog="trazos",
        description="Entrena una red convolucional con MNIST y guarda todas las figuras del curso en PNG.",
        epilog="Ejemplo: python -m trazos --epochs 5 --out figuras. Otras órdenes: «python -m trazos preparar» deja "
               "lista un aula sin internet (datos, redes entrenadas, cuadernos); «python -m trazos clave» escribe la "
               "clave de respuestas del profesorado. Cada una tiene su --help.",
        add_help=False,
        formatter_class=SpanishHelpFormatter,
    )
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument("--model", choices=list(MODELS), default="cnn",
                        help="red que se entrena: 'cnn' (compacta, 16x16) o 'classic' (28x28) (por defecto: cnn)")
    parser.add_argument("--epochs", type=positive, default=None, metavar="N",
                        help="número de épocas (por defecto: 5 para cnn, 2 para classic)")
    parser.add_argument("--out", type=Path, default=Path("figuras"), metavar="CARPETA",
                        help="carpeta donde se escriben las figuras y metrics.json (por defecto: figuras)")
    parser.add_argument("--data", type=Path, default=None, metavar="CARPETA",
                        help="carpeta de datos que contiene MNIST/raw (por defecto: $TRAZOS_DATA o ~/.cache/trazos/data)")
    parser.add_argument("--seed", type=seed, default=0, metavar="N",
                        help=f"semilla para que el resultado sea reproducible, de 0 a {MAX_SEED} (por defecto: 0)")
    parser.add_argument("--limit", type=positive, default=None, metavar="N",
                        help="usa solo los primeros N ejemplos de entrenamiento (para probar rápido)")
    parser._positionals.title = "argumentos"
    parser._optionals.title = "opciones"
    return parser.parse_args(argv)


def save(fig, folder, name):
    path = folder / name
    fig.savefig(path, dpi=110)
    print(f"  {path}")
    return path


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["preparar"]:
        from .classroom import main as prepare
        return prepare(argv[1:])
    if argv[:1] == ["clave"]:
        from .exercises.answer_key import main as answer_key
        return answer_key(argv[1:])
    args = parse_args(argv)
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
        run = trained_model(args.model, epochs, args.seed, root=args.data, limit=args.limit, retrain=True)
    except KeyboardInterrupt:  # Ctrl+C en clase: un aviso, no una traza de Python
        print("\nEntrenamiento interrumpido: no se ha escrito nada.", file=sys.stderr)
        return 130
    train_seconds = time.perf_counter() - start
    model, history = run.model, run.history
    accuracy = history[-1]["test_acc"]
    print(f"Acierto final en test: {render.percent(accuracy, 2)} ({render.decimal(train_seconds, 1)} s de entrenamiento)")

    before = run.model_at(0)
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
