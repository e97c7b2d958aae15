"""Banco de pruebas de velocidad y acierto: imprime cifras, no comprueba nada.

Entrena la misma red compacta, con la misma semilla y las mismas épocas, por dos caminos:
  (a) el que escribe un principiante: torchvision MNIST + Resize((16,16)) + ToTensor +
      DataLoader con lotes de 64 y Adam 1e-3;
  (b) el de trazos: tensores en memoria, normalizados, channels_last, lotes de 256 y OneCycle.
Luego entrena la red clásica 2 épocas con la receta de trazos y mide el tiempo de una pasada
de una sola imagen capturando todas las activaciones.

Uso:  python benchmarks/speed.py            (todo: unos 5 minutos en 2 núcleos)
      python benchmarks/speed.py --no-classic --epochs 1   (rápido)
"""

import argparse
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

import trazos
from trazos.data import data_root
from trazos.training import seed_everything


def beginner(epochs, seed):
    """El camino de un principiante: PIL -> Resize -> ToTensor en cada imagen y cada época."""
    seed_everything(seed)
    tf = transforms.Compose([transforms.Resize((16, 16)), transforms.ToTensor()])
    root = data_root()
    train_set = datasets.MNIST(root, train=True, transform=tf, download=False)
    test_set = datasets.MNIST(root, train=False, transform=tf, download=False)
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=1000)
    model = trazos.CNN()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds = []
    for epoch in range(epochs):
        start = time.perf_counter()
        model.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
        print(f"  principiante, época {epoch + 1}: {seconds[-1]:.1f} s")
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in test_loader:
            correct += (model(images).argmax(1) == labels).sum().item()
    return seconds, correct / len(test_set)


def course(name, epochs, seed):
    """El camino de trazos: datos en memoria y la receta del curso, como en los cuadernos."""
    start = time.perf_counter()
    side = trazos.build_model(name).input_size
    trazos.load_mnist(train=True, size=side)  # queda en memoria: trained_model lo reutiliza
    trazos.load_mnist(train=False, size=side)
    prep = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as cache:  # entrena de verdad, sin tocar la caché del usuario
        run = trazos.trained_model(name, epochs, seed, cache=cache, progress=False, retrain=True)
    for h in run.history:
        print(f"  trazos {name}, época {h['epoch']}: {trazos.render.decimal(h['seconds'], 1)} s, "
              f"acierto en validación {trazos.render.percent(h['val_acc'], 2)}")
    return prep, [h["seconds"] for h in run.history], run.test_accuracy, run.model


def capture_ms(model, repeats=200):
    """Mediana (ms) de una pasada de una imagen capturando las activaciones de todas las etapas."""
    image = trazos.load_mnist(train=False, size=model.input_size, limit=1).images
    model.cpu().eval()
    trazos.activations(model, image)  # calentamiento
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        trazos.activations(model, image)
        times.append(1000 * (time.perf_counter() - start))
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description="Mide velocidad y acierto de trazos frente a un principiante.")
    parser.add_argument("--epochs", type=int, default=5, help="épocas de la red compacta (por defecto: 5)")
    parser.add_argument("--seed", type=int, default=0, help="semilla (por defecto: 0)")
    parser.add_argument("--no-classic", action="store_true", help="no entrena la red clásica")
    args = parser.parse_args()
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} hilos\n")

    print(f"(a) Principiante: red compacta, {args.epochs} épocas")
    b_seconds, b_acc = beginner(args.epochs, args.seed)
    print(f"(b) trazos: red compacta, {args.epochs} épocas")
    prep, t_seconds, t_acc, cnn = course("cnn", args.epochs, args.seed)

    b_epoch, t_epoch = statistics.mean(b_seconds), statistics.mean(t_seconds)
    print("\nRed compacta (CNN, 16x16)")
    print(f"  principiante: {b_epoch:6.2f} s/época, acierto en test {b_acc:.2%}")
    print(f"  trazos:       {t_epoch:6.2f} s/época, acierto en test {t_acc:.2%} "
          f"(+{prep:.1f} s una sola vez para cargar y redimensionar)")
    print(f"  trazos es {b_epoch / t_epoch:.1f}x más rápido por época")

    if not args.no_classic:
        print("\nRed clásica (ClassicCNN, 28x28), receta de trazos")
        _, c_seconds, c_acc, _ = course("classic", None, args.seed)
        print(f"  {statistics.mean(c_seconds):.2f} s/época, acierto en test {c_acc:.2%} "
              f"en {len(c_seconds)} épocas")

    print(f"\nUna imagen con todas las activaciones capturadas (CNN): {capture_ms(cnn):.2f} ms (mediana)")


if __name__ == "__main__":
    main()
