"""El texto alternativo de cada figura: lo que lee un lector de pantalla en lugar de la imagen.

Quien dibuja una figura sabe qué dibuja («Kernels de conv1 antes y después de entrenar, 16
filtros de 3x3»): cada función de `plots`, `diagrams` y `architecture` lo dice con `described`.
A una figura sin texto propio (una hecha a mano en un cuaderno) se le compone uno con su título,
los títulos de sus paneles y los nombres de sus ejes. Una imagen de PIL lleva el suyo en
`imagen.info["alt"]`.

En un cuaderno, `register` hace que IPython guarde ese texto junto al PNG de cada figura, en
los metadatos de la salida (`{"image/png": {"alt": ...}}`, el mismo campo que usa el HTML). Así
lo encuentra el sitio web del curso (`trazos.classroom.web`) y cualquier otra herramienta que lea el
cuaderno ejecutado. Se registra solo al importar `trazos.plots` dentro de IPython: el PNG no
cambia, y funciona igual con `%matplotlib inline` que sin él.
"""

import matplotlib.figure

__all__ = ["described", "describe", "register"]

ATTRIBUTE = "trazos_alt"  # dónde guarda cada figura su texto


def described(figure, text):
    """Guarda `text` como texto alternativo de `figure` (sin saltos de línea) y devuelve la figura."""
    setattr(figure, ATTRIBUTE, " ".join(str(text).split()))
    return figure


def _texts(items):
    seen = []
    for text in items:
        text = " ".join(str(text or "").split())
        if text and text not in seen:
            seen.append(text)
    return seen


def describe(figure):
    """El texto alternativo de una figura de matplotlib: el que le dio quien la dibujó o, si no, uno
    compuesto con su título, los títulos de sus paneles y los nombres de sus ejes."""
    own = getattr(figure, ATTRIBUTE, None)
    if own:
        return own
    title = figure._suptitle.get_text() if getattr(figure, "_suptitle", None) else ""
    panels = [ax for ax in figure.axes if getattr(ax, "_colorbar", None) is None and ax.get_visible()]
    titles = _texts(ax.get_title() for ax in panels)
    axes = _texts(f"{ax.get_xlabel()} frente a {ax.get_ylabel()}" if ax.get_xlabel() and ax.get_ylabel()
                  else ax.get_xlabel() or ax.get_ylabel() for ax in panels)
    text = f"Figura de {len(panels)} {'panel' if len(panels) == 1 else 'paneles'}" + (f", «{title}»" if title else "")
    parts = [text + (": " + "; ".join(f"«{t}»" for t in titles) if titles else "")]
    if axes:
        parts.append("Ejes: " + "; ".join(axes))
    return ". ".join(parts) + "."


def _figure_metadata(figure):
    # Solo los metadatos: el PNG lo sigue haciendo quien lo hacía (el backend inline o `_repr_png_`).
    return {}, {"image/png": {"alt": describe(figure)}}


def _image_metadata(image):
    alt = image.info.get("alt") if isinstance(getattr(image, "info", None), dict) else None
    return ({}, {"image/png": {"alt": " ".join(str(alt).split())}}) if alt else None


def register(ipython=None):
    """Que IPython guarde el texto alternativo con cada figura y cada imagen de PIL que muestra.

    Devuelve False fuera de IPython (en un script no hay nada que registrar).
    """
    if ipython is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        ipython = get_ipython()
    if ipython is None or not hasattr(ipython, "display_formatter"):
        return False
    bundles = ipython.display_formatter.mimebundle_formatter
    bundles.for_type(matplotlib.figure.Figure, _figure_metadata)
    try:
        from PIL import Image
        bundles.for_type(Image.Image, _image_metadata)
    except ImportError:
        pass
    return True
