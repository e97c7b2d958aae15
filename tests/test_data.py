"""Datos: dónde se buscan, cómo se cargan y normalizan, y qué pasa si faltan o están dañados."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from trazos import data
from trazos.data import MEAN, MNIST_FILES, STD, MNISTDataError, batches, examples_of, load_mnist, prepare_image
from trazos.inspection import predict


# --- Dónde están los datos -------------------------------------------------------------------------

def test_data_root_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TRAZOS_DATA", str(tmp_path / "env"))
    # 1) el argumento gana a todo
    assert data.data_root(tmp_path / "arg") == (tmp_path / "arg").resolve()
    assert data.data_root(str(tmp_path / "arg")) == (tmp_path / "arg").resolve()
    # 2) si no, TRAZOS_DATA
    assert data.data_root() == (tmp_path / "env").resolve()
    # 3) si no (o vacía), la caché del usuario
    monkeypatch.setenv("TRAZOS_DATA", "")
    assert data.data_root() == (tmp_path / "xdg" / "trazos" / "data").resolve()
    monkeypatch.delenv("TRAZOS_DATA")
    assert data.data_root() == (tmp_path / "xdg" / "trazos" / "data").resolve()
    # sin XDG_CACHE_HOME: ~/.cache/trazos/data
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data.data_root() == (tmp_path / "home" / ".cache" / "trazos" / "data").resolve()
    assert data.data_root("~/mnist") == (tmp_path / "home" / "mnist").resolve()


def test_cache_root_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("TRAZOS_CACHE", str(tmp_path / "env"))
    assert data.cache_root(tmp_path / "arg") == (tmp_path / "arg").resolve()
    assert data.cache_root() == (tmp_path / "env").resolve()
    monkeypatch.delenv("TRAZOS_CACHE")
    assert data.cache_root() == (tmp_path / "xdg" / "trazos" / "models").resolve()


def test_session_cache_is_isolated_and_inherited(isolated_cache):
    """TRAZOS_CACHE es una carpeta temporal para toda la sesión, y los procesos hijos la heredan.

    Los núcleos de nbval y el servidor de Jupyter de la prueba del navegador son procesos hijos:
    si no la heredaran, entrenarían la red del curso otra vez, y en la caché del usuario.
    """
    assert os.environ["TRAZOS_CACHE"] == str(isolated_cache)
    assert isolated_cache.is_dir()
    assert Path(tempfile.gettempdir()).resolve() in isolated_cache.resolve().parents
    user_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "trazos"
    assert user_cache.resolve() not in isolated_cache.resolve().parents
    assert data.cache_root() == isolated_cache.resolve()
    child = subprocess.run([sys.executable, "-c", "import os; print(os.environ.get('TRAZOS_CACHE'))"],
                           capture_output=True, text=True, check=True)
    assert child.stdout.strip() == str(isolated_cache)


# --- find_mnist: la misma búsqueda que usan la biblioteca y las pruebas ---------------------------------

def _linked_mnist(folder, mnist_root):
    """Una carpeta de datos con MNIST/raw hecho de enlaces a los ficheros de `mnist_root` (no se copia nada)."""
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        (raw / name).symlink_to(mnist_root / "MNIST" / "raw" / name)
    return folder


def test_find_mnist_in_the_user_cache_without_trazos_data(tmp_path, mnist_root, monkeypatch, no_network):
    monkeypatch.delenv("TRAZOS_DATA", raising=False)
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    _linked_mnist(tmp_path / "xdg" / "trazos" / "data", mnist_root)
    assert data.find_mnist() == (tmp_path / "xdg" / "trazos" / "data").resolve()
    # TRAZOS_DATA gana a la caché, y el argumento a los dos.
    monkeypatch.setenv("TRAZOS_DATA", str(_linked_mnist(tmp_path / "env", mnist_root)))
    assert data.find_mnist() == (tmp_path / "env").resolve()
    assert data.find_mnist(_linked_mnist(tmp_path / "arg", mnist_root)) == (tmp_path / "arg").resolve()
    assert no_network == []  # estaban ahí: no intentó descargar


def test_find_mnist_with_no_data_anywhere_and_no_internet(tmp_path, monkeypatch, no_network):
    monkeypatch.delenv("TRAZOS_DATA", raising=False)
    monkeypatch.delenv("LOCALAPPDATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    with pytest.raises(MNISTDataError) as info:
        data.find_mnist()
    assert no_network, "debería haber intentado descargar"
    assert "No se pudo descargar MNIST" in str(info.value)
    _assert_clear_help(str(info.value), (tmp_path / "xdg" / "trazos" / "data").resolve())


# --- Carga y normalización -------------------------------------------------------------------------

def test_load_mnist_16(test16, train16):
    assert test16.pixels.shape == (10_000, 1, 16, 16) and test16.pixels.dtype == torch.uint8
    assert test16.images.shape == (10_000, 1, 16, 16)
    assert test16.images.dtype == torch.float32
    assert test16.labels.shape == (10_000,) and test16.labels.dtype == torch.int64
    assert sorted(test16.labels.unique().tolist()) == list(range(10))
    raw = test16.raw(slice(None))
    assert raw.min() >= -1e-5 and raw.max() <= 1 + 1e-5
    # El fondo de MNIST es 0: normalizado es exactamente -MEAN/STD.
    assert test16.images.min().item() == pytest.approx(-MEAN / STD, abs=1e-5)
    assert len(train16) == 3000 and train16.images.shape[1:] == (1, 16, 16)
    full_train = load_mnist(train=True, size=16)
    assert len(full_train) == 60_000
    assert torch.equal(full_train.pixels[:3000], train16.pixels)
    assert full_train.pixels.nbytes == 60_000 * 16 * 16  # un byte por píxel: 15 MB, no 61 en float


def test_resized_pixels_are_the_rounded_interpolation(test16):
    """16x16 es la interpolación bilineal con antialias de los bytes de 28x28 (la de PyTorch y PIL), redondeada
    a niveles enteros; con aritmética exacta, así que solo un píxel que cae justo entre dos niveles puede
    redondearse hacia el otro lado que F.interpolate en float32."""
    test28 = load_mnist(train=False, size=28, limit=300)
    interpolated = F.interpolate(test28.pixels.double(), size=(16, 16), mode="bilinear", antialias=True,
                                 align_corners=False)
    gap = (interpolated - test16.pixels[:300].double()).abs()
    assert gap.max() <= 0.5 + 1e-3  # medio nivel de gris (más lo que redondean los pesos, 2**-20)
    differ = (interpolated.round() != test16.pixels[:300].double()).float().mean()
    assert differ < 1e-3, f"{differ:.2%} de los píxeles redondeados a otro nivel"


def test_resize_weights_are_the_antialias_filter():
    """`resize_weights` es la matriz de F.interpolate(antialias=True): aplicada a la identidad, la misma."""
    for size_in, size_out in [(28, 16), (28, 14), (16, 8), (28, 28)]:
        weights = data.resize_weights(size_in, size_out)
        identity = torch.eye(size_in, dtype=torch.float64)[:, None, None, :]  # cada fila, una imagen de 1 x L
        torch_weights = F.interpolate(identity, size=(1, size_out), mode="bilinear", antialias=True,
                                      align_corners=False)[:, 0, 0, :].T
        assert torch.allclose(weights, torch_weights, atol=1e-6), (size_in, size_out)
        assert torch.allclose(weights.sum(1), torch.ones(size_out, dtype=torch.float64))


def test_images_are_the_normalized_pixels(test16):
    """images, digits[i] y batches dan la misma normalización (x / 255 - MEAN) / STD, sin tocar pixels."""
    pixels = test16.pixels.clone()
    expected = (test16.pixels.double() / 255 - MEAN) / STD
    torch.testing.assert_close(test16.images.double(), expected, atol=1e-6, rtol=0)
    image, label = test16[[5, 9]]
    assert torch.equal(image, test16.images[[5, 9]]) and torch.equal(label, test16.labels[[5, 9]])
    first, _ = next(batches(test16, 64))
    assert torch.equal(first, test16.images[:64])
    assert torch.equal(test16.pixels, pixels)
    # Un tensor nuevo cada vez: cambiarlo no cambia los datos.
    assert test16.images.data_ptr() != test16.images.data_ptr()
    assert torch.equal(data.normalize(pixels), test16.images)


def test_digits_wants_bytes(test16):
    with pytest.raises(TypeError, match="uint8"):
        data.Digits(test16.images[:5], test16.labels[:5])


def test_load_mnist_28_is_normalized(mnist_root):
    test28 = load_mnist(train=False, size=28)
    assert test28.images.shape == (10_000, 1, 28, 28) and test28.images.dtype == torch.float32
    assert test28.pixels.dtype == torch.uint8
    assert abs(test28.images.mean().item()) < 0.05
    assert abs(test28.images.std().item() - 1) < 0.05
    # Sin redimensionar, pixels son los bytes del fichero, tal cual (torchvision lee los mismos).
    from torchvision.datasets import MNIST
    original = MNIST(mnist_root, train=False).data[:100]
    assert torch.equal(test28.pixels[:100, 0], original)
    # Y to_pixels deshace la normalización: vuelven los píxeles en [0, 1].
    torch.testing.assert_close(data.to_pixels(test28.images[:100])[:, 0], original.float() / 255, atol=1e-5, rtol=0)


def test_resizing_keeps_each_digit_brightness(test16):
    """Reducir a 16x16 promedia píxeles: la intensidad media de cada dígito se conserva."""
    test28 = load_mnist(train=False, size=28, limit=500)
    mean28 = test28.raw(slice(None)).mean(dim=(1, 2, 3))
    mean16 = test16.raw(slice(0, 500)).mean(dim=(1, 2, 3))
    torch.testing.assert_close(mean16, mean28, atol=0.01, rtol=0)
    assert torch.equal(test28.labels, test16.labels[:500])


def test_load_mnist_limit_and_memory_cache(test16):
    small = load_mnist(train=False, size=16, limit=123)
    assert len(small) == 123
    assert torch.equal(small.pixels, test16.pixels[:123])
    assert torch.equal(small.labels, test16.labels[:123])
    # La segunda lectura sale de memoria: los mismos datos, sin volver a leer los ficheros.
    assert load_mnist(train=False, size=16).pixels.data_ptr() == test16.pixels.data_ptr()


@pytest.mark.parametrize("kwargs, word", [
    (dict(size=3), "size"), (dict(size=29), "size"), (dict(size=16.0), "size"),
    (dict(limit=0), "limit"), (dict(limit=-5), "limit"), (dict(limit=2.5), "limit"),
])
def test_load_mnist_bad_arguments(kwargs, word):
    with pytest.raises(ValueError, match=word) as info:
        load_mnist(train=False, **kwargs)
    assert "entero" in str(info.value)


def test_digits_indexing(test16):
    image, label = test16[7]
    assert image.shape == (1, 16, 16) and label == test16.labels[7]
    torch.testing.assert_close(test16.raw(7), image * STD + MEAN)


# --- Lotes y ejemplos ----------------------------------------------------------------------------

def test_batches_cover_every_example_once(test16):
    digits = data.Digits(test16.pixels[:250], test16.labels[:250])
    sizes = [len(labels) for _, labels in batches(digits, 64)]
    assert sizes == [64, 64, 64, 58]
    ordered = torch.cat([labels for _, labels in batches(digits, 64)])
    assert torch.equal(ordered, digits.labels)
    shuffled = [torch.cat([y for _, y in batches(digits, 64, shuffle=True, generator=torch.Generator().manual_seed(s))])
                for s in (1, 1, 2)]
    assert torch.equal(shuffled[0], shuffled[1])  # misma semilla, mismo orden
    assert not torch.equal(shuffled[0], shuffled[2])
    assert not torch.equal(shuffled[0], digits.labels)
    assert torch.equal(shuffled[0].sort().values, digits.labels.sort().values)  # los mismos ejemplos


def test_examples_of(test16):
    for digit in range(10):
        index = examples_of(test16, digit, count=5)
        assert len(index) == 5 and index == sorted(index)
        assert all(test16.labels[i] == digit for i in index)
        expected = [i for i, label in enumerate(test16.labels.tolist()) if label == digit][:5]
        assert index == expected
    first_ten = examples_of(test16, 3, count=10)
    assert examples_of(test16, 3, count=4, start=6) == first_ten[6:]


@pytest.mark.parametrize("digit", [10, -1, "3", None])
def test_examples_of_bad_digit(test16, digit):
    with pytest.raises(ValueError, match="dígito del 0 al 9"):
        examples_of(test16, digit)


def test_examples_of_asking_for_too_many(test16):
    few = data.Digits(test16.pixels[:20], test16.labels[:20])
    with pytest.raises(ValueError, match="Solo hay"):
        examples_of(few, 1, count=50)


# --- Una imagen dibujada a mano --------------------------------------------------------------------

def _stroke(top=20, left=30, height=24, width=4, side=64):
    """Un trazo vertical claro sobre fondo negro, como un «1» dibujado en el lienzo."""
    image = np.zeros((side, side), dtype=np.float32)
    image[top:top + height, left:left + width] = 1.0
    return image


def _centre_of_mass(image):
    grid = torch.arange(image.shape[-1], dtype=torch.float32)
    total = image.sum()
    return ((image.sum(dim=1) @ grid) / total).item(), ((image.sum(dim=0) @ grid) / total).item()


def test_prepare_image_centres_the_stroke():
    out = prepare_image(_stroke(top=3, left=5))  # trazo pegado a una esquina
    assert out.shape == (1, 1, 16, 16) and out.dtype == torch.float32
    raw = out[0, 0] * STD + MEAN
    cy, cx = _centre_of_mass(raw)
    assert abs(cy - 7.5) < 1 and abs(cx - 7.5) < 1
    assert raw.min().item() == pytest.approx(0, abs=1e-5) and raw.max() > 0.5
    # La caja del trazo ocupa el alto de la de MNIST (20 de 28 -> unos 11 de 16).
    rows = torch.nonzero(raw.amax(dim=1) > 0.05).flatten()
    assert 10 <= len(rows) <= 13


def test_prepare_image_does_not_depend_on_where_you_draw():
    torch.testing.assert_close(prepare_image(_stroke(top=3, left=5)), prepare_image(_stroke(top=35, left=50)))


def test_prepare_image_accepts_0_255_and_size_28():
    stroke = _stroke()
    torch.testing.assert_close(prepare_image((stroke * 255).astype(np.uint8)), prepare_image(stroke))
    out28 = prepare_image(torch.as_tensor(stroke), size=28)
    assert out28.shape == (1, 1, 28, 28)
    cy, cx = _centre_of_mass(out28[0, 0] * STD + MEAN)
    assert abs(cy - 13.5) < 1 and abs(cx - 13.5) < 1


def test_prepare_image_does_not_wrap_around():
    """Una T con la barra muy gruesa: al centrarla, el palo no debe asomar por arriba."""
    image = np.zeros((120, 120), dtype=np.float32)
    image[10:20, 10:110] = 1.0  # barra gruesa
    image[10:110, 58:60] = 1.0  # palo fino
    raw = prepare_image(image, size=28)[0, 0] * STD + MEAN
    rows = torch.nonzero(raw.amax(dim=1) > 0.05).flatten().tolist()
    assert rows == list(range(rows[0], rows[-1] + 1)), f"filas con trazo no contiguas: {rows}"
    bar = int(raw.sum(dim=1).argmax())
    assert bar - rows[0] <= 2  # la barra sigue arriba del todo del trazo


def test_prepare_image_empty_or_wrong_shape():
    with pytest.raises(ValueError, match="vacía"):
        prepare_image(np.zeros((64, 64)))
    with pytest.raises(ValueError, match="2D"):
        prepare_image(np.ones((2, 64, 64)))


def test_prepared_mnist_digits_are_still_recognised(tiny_run):
    """Pasar dígitos de MNIST por prepare_image los deja como los que vio la red al entrenar."""
    test28 = load_mnist(train=False, size=28, limit=200)
    raw = test28.raw(slice(None))[:, 0]
    images = torch.cat([prepare_image(raw[i]) for i in range(len(raw))])
    predictions, _ = predict(tiny_run.model, images)
    assert (predictions == test28.labels).float().mean() > 0.7


# --- Sin datos, sin red, datos dañados -------------------------------------------------------------

def _assert_clear_help(message, root):
    assert str(root / "MNIST" / "raw") in message
    for name in MNIST_FILES:
        assert name in message
    assert "TRAZOS_DATA" in message


@pytest.fixture
def no_network(monkeypatch):
    """Simula estar sin conexión: cualquier urlopen falla al instante (nunca se toca la red)."""
    calls = []

    def offline(request, *args, **kwargs):
        calls.append(getattr(request, "full_url", request))
        raise urllib.error.URLError("sin conexión (simulado en las pruebas)")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    return calls


def test_missing_data_without_download(tmp_path, no_network):
    with pytest.raises(MNISTDataError) as info:
        load_mnist(train=False, root=tmp_path, download=False)
    _assert_clear_help(str(info.value), tmp_path.resolve())
    assert "Faltan" in str(info.value)
    assert no_network == []


def test_missing_data_and_no_internet(tmp_path, no_network, capsys):
    with pytest.raises(MNISTDataError) as info:
        load_mnist(train=False, root=tmp_path, download=True)
    assert no_network, "debería haber intentado descargar"
    message = str(info.value)
    assert "No se pudo descargar" in message
    _assert_clear_help(message, tmp_path.resolve())
    # Un error limpio: sin la cadena de excepciones de torchvision detrás.
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert "Traceback" not in capsys.readouterr().err


def _copy_raw(tmp_path, mnist_root, copied):
    """MNIST/raw en tmp_path: enlaces a los originales y una copia propia de `copied` (para dañarla)."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in MNIST_FILES:
        source = mnist_root / "MNIST" / "raw" / name
        if name == copied:
            shutil.copyfile(source, raw / name)
        else:
            (raw / name).symlink_to(source)
    target = raw / copied
    assert not target.is_symlink() and target.resolve().parent == raw.resolve()  # nunca se toca /work/shared
    target.chmod(0o644)
    return target


def test_truncated_file(tmp_path, mnist_root, no_network):
    target = _copy_raw(tmp_path, mnist_root, "train-labels-idx1-ubyte")
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(MNISTDataError) as info:
        load_mnist(train=False, root=tmp_path)  # download=True: aun así no intenta descargar
    message = str(info.value)
    assert "train-labels-idx1-ubyte" in message and "1000 bytes" in message
    for name in set(MNIST_FILES) - {"train-labels-idx1-ubyte"}:
        assert name not in message  # solo nombra el fichero dañado
    assert no_network == []


def test_flipped_bytes(tmp_path, mnist_root, no_network):
    target = _copy_raw(tmp_path, mnist_root, "t10k-labels-idx1-ubyte")
    content = bytearray(target.read_bytes())
    content[5000] ^= 0xFF
    target.write_bytes(bytes(content))
    with pytest.raises(MNISTDataError, match="dañad") as info:
        load_mnist(train=True, root=tmp_path, download=False)
    assert "t10k-labels-idx1-ubyte" in str(info.value)
    assert "el contenido está dañado" in str(info.value)
    assert no_network == []


def test_unreadable_file(tmp_path, mnist_root, no_network, monkeypatch):
    """Un fichero que no se puede leer (permisos) da el error claro, no un PermissionError suelto."""
    target = _copy_raw(tmp_path, mnist_root, "t10k-images-idx3-ubyte")
    real_open = Path.open

    def open_(self, *args, **kwargs):
        if self == target:
            raise PermissionError(13, "Permiso denegado")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", open_)
    with pytest.raises(MNISTDataError, match="no se pueden leer") as info:
        load_mnist(train=False, root=tmp_path, download=False)
    assert "t10k-images-idx3-ubyte: no se puede leer (Permiso denegado)" in str(info.value)
    monkeypatch.setattr(Path, "open", real_open)  # arreglado el permiso, se vuelve a comprobar y carga
    assert len(load_mnist(train=False, root=tmp_path, download=False, limit=5)) == 5


@pytest.mark.slow  # lanza pytest en otro proceso
def test_the_tests_without_any_data(tmp_path):
    """Sin TRAZOS_DATA, sin nada en la caché del usuario y sin conexión, como un alumno recién instalado.

    Las pruebas que no leen MNIST pasan; las que lo leen fallan con el mensaje de la biblioteca
    (qué carpeta, qué ficheros, cómo arreglarlo), no con un requisito propio de las pruebas.
    """
    home = tmp_path / "home"
    home.mkdir()
    proxy = "http://127.0.0.1:9"  # conexión rechazada al instante: nunca se toca la red
    env = {k: v for k, v in os.environ.items() if k not in {"TRAZOS_DATA", "XDG_CACHE_HOME", "LOCALAPPDATA"}}
    env.update(HOME=str(home), MPLBACKEND="Agg", http_proxy=proxy, https_proxy=proxy, HTTP_PROXY=proxy,
               HTTPS_PROXY=proxy, no_proxy="", NO_PROXY="")
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_models.py",
                          "tests/test_data.py::test_load_mnist_16"],
                         cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False)
    summary = run.stdout.strip().splitlines()[-1]
    assert run.returncode == 1, run.stdout[-3000:]
    assert re.fullmatch(r"=* ?\d+ passed, 1 error in .*", summary), summary
    assert "ERROR tests/test_data.py::test_load_mnist_16" in run.stdout
    assert "No se pudo descargar MNIST" in run.stdout
    _assert_clear_help(run.stdout, (home / ".cache" / "trazos" / "data").resolve())
    assert "TRAZOS_DATA no está definida" not in run.stdout
