"""La tarea principal en la línea de órdenes: `python -m trazos` (o `trazos`).

Hace lo que hacía el `main.py` original: entrena la red, muestra el progreso y el
acierto final, y escribe todas las figuras en PNG junto con `metrics.json`.
"""

import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # sin pantalla: solo ficheros PNG

import torch  # noqa: E402

from . import data, inspection, plots  # noqa: E402
from .models import MODELS  # noqa: E402
from .training import recipe, trained_model  # noqa: E402


# Los mensajes de error de argparse vienen en inglés; estos son los que puede ver quien se equivoca.
ERRORS_ES = [
    ("the following arguments are required", "faltan los argumentos"),
    ("unrecognized arguments", "argumentos no reconocidos"),
    ("invalid choice", "valor no válido"),
    ("choose from", "elige entre"),
    ("invalid int value", "no es un número entero"),
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


def parse_args(argv=None):
    parser = SpanishArgumentParser(
        prog="trazos",
        description="Entrena una red convolucional con MNIST y guarda todas las figuras del curso en PNG.",
        epilog="Ejemplo: python -m trazos --epochs 5 --out figuras",
        add_help=False,
        formatter_class=SpanishHelpFormatter,
    )
    parser.add_argument("-h", "--help", action="help", help="muestra esta ayuda y termina")
    parser.add_argument("--model", choices=list(MODELS), default="cnn",
                        help="red que se entrena: 'cnn' (compacta, 16x16) o 'classic' (28x28) (por defecto: cnn)")
    parser.add_argument("--epochs", type=int, default=None, metavar="N",
                        help="número de épocas (por defecto: 5 para cnn, 2 para classic)")
    parser.add_argument("--out", type=Path, default=Path("figuras"), metavar="CARPETA",
                        help="carpeta donde se escriben las figuras y metrics.json (por defecto: figuras)")
    parser.add_argument("--data", type=Path, default=None, metavar="CARPETA",
                        help="carpeta de datos que contiene MNIST/raw (por defecto: $TRAZOS_DATA o ~/.cache/trazos/data)")
    parser.add_argument("--seed", type=int, default=0, metavar="N",
                        help="semilla para que el resultado sea reproducible (por defecto: 0)")
    parser.add_argument("--limit", type=int, default=None, metavar="N",
                        help="usa solo los primeros N ejemplos de entrenamiento (para probar rápido)")
    parser._positionals.title = "argumentos"
    parser._optionals.title = "opciones"
    args = parser.parse_args(argv)
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs debe ser un entero positivo")
    return args


def save(fig, folder, name):
    path = folder / name
    fig.savefig(path, dpi=110)
    print(f"  {path}")
    return path


def main(argv=None):
    args = parse_args(argv)
    epochs, _ = recipe(args.model, args.epochs)
    side = MODELS[args.model].input_size  # atributo de la clase: no hace falta crear la red
    try:
        train_data = data.load_mnist(train=True, size=side, root=args.data, limit=args.limit)
        test_data = data.load_mnist(train=False, size=side, root=args.data)
    except (data.MNISTDataError, ValueError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 2
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"Error: no se puede crear la carpeta de salida {args.out}: {error}", file=sys.stderr)
        return 2

    print(f"Entrenando '{args.model}' {epochs} épocas con {len(train_data)} imágenes de {side}x{side}...")
    start = time.perf_counter()
    # Entrena siempre (retrain) y deja el resultado en la caché: los cuadernos lo reutilizan.
    run = trained_model(args.model, epochs, args.seed, root=args.data, limit=args.limit, retrain=True)
    train_seconds = time.perf_counter() - start
    model, history = run.model, run.history
    accuracy = history[-1]["test_acc"]
    print(f"Acierto final en test: {accuracy:.2%} ({train_seconds:.1f} s de entrenamiento)")

    before = run.model_at(0)
    predictions, probs = inspection.predict(model, test_data.images)
    matrix = inspection.confusion_matrix(test_data.labels, predictions)
    right = torch.nonzero(predictions == test_data.labels).flatten()[:16]
    wrong = torch.nonzero(predictions != test_data.labels).flatten()[:16]
    example = test_data.images[:1]
    maps = inspection.activations(model, example)

    print(f"Escribiendo figuras en {args.out}:")
    save(plots.plot_history(history), args.out, "curvas.png")
    for layer in ("conv1", "conv2"):
        save(plots.plot_kernels_before_after(getattr(before, layer).weight, getattr(model, layer).weight, layer),
             args.out, f"kernels_{layer}.png")
    for stage in ("relu1", "relu2"):
        save(plots.plot_activations(maps[stage], stage, example[0]), args.out, f"activaciones_{stage}.png")
    save(plots.plot_confusion(matrix), args.out, "confusion.png")
    save(plots.plot_predictions(test_data.images[right], test_data.labels[right], predictions[right], probs[right],
                                "Aciertos"), args.out, "aciertos.png")
    if len(wrong):
        save(plots.plot_predictions(test_data.images[wrong], test_data.labels[wrong], predictions[wrong], probs[wrong],
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
