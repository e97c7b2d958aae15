"""El último paso del sitio web (`trazos.web`): las páginas que escribe Sphinx, retocadas.

Sphinx, myst-nb y el tema escriben un HTML que casi sirve; aquí se arregla lo que falta para
que se lea con un lector de pantalla, en un móvil y con una red lenta (WCAG 2.1 AA):

- cada figura lleva su texto alternativo (el que guardó `trazos.alt_text` en el cuaderno, en
  vez del nombre del fichero), su tamaño, carga diferida y un enlace para verla a tamaño
  completo (en un móvil su letra sería diminuta);
- las imágenes de las vistas fijas de los exploradores pasan a ser ficheros de `_images/`,
  como las demás figuras: la página pesa menos, y también se pueden abrir a tamaño completo;
- los nombres accesibles que el tema deja en inglés («Search...», «Main») pasan al español;
- los iconos salen de unos caracteres y dos dibujos SVG en el CSS, sin el JavaScript de Font
  Awesome (1,5 MB para los diez iconos que usa el tema);
- la búsqueda toma el extracto de cada resultado del texto del artículo, no de los botones de
  la cabecera («Sistema Claro Oscuro»).
"""

import base64
import hashlib
import html
import re
import shutil
import struct
from pathlib import Path
from urllib.parse import quote

__all__ = ["figure_alts", "finish_site", "ICONS_CSS"]

# Los nombres accesibles del tema y de Sphinx que no traduce su catálogo, en español.
SPANISH = {
    'aria-label="Search..."': 'aria-label="Búsqueda"',
    'placeholder="Search..."': 'placeholder="Búsqueda"',
    'title="Toggle primary sidebar"': 'title="Abrir o cerrar el índice" aria-label="Abrir o cerrar el índice"',
    'title="Toggle secondary sidebar"': 'title="Abrir o cerrar el contenido de la página" '
                                        'aria-label="Abrir o cerrar el contenido de la página"',
    'title="Link to this heading"': 'title="Enlace a esta sección" aria-label="Enlace a esta sección"',
    'aria-label="Main"': 'aria-label="Índice del curso"',
    'aria-label="Section Navigation"': 'aria-label="Navegación de la sección"',
    'aria-label="Site navigation"': 'aria-label="Navegación del sitio"',
    'aria-label="Breadcrumb"': 'aria-label="Ruta"',
    'aria-label="Page"': 'aria-label="Contenido de la página"',
    'aria-label="Search"': 'aria-label="Búsqueda"',
    'title="Source repository"': 'title="Repositorio del curso"',
    'aria-label="Source repository"': 'aria-label="Repositorio del curso"',
    'title="light/dark"': 'title="Claro u oscuro"',
    'aria-label="light/dark"': 'aria-label="Claro u oscuro"',
    'title="Back to top"': 'title="Volver arriba"',
    ">Back to top<": ">Volver arriba<",
}

# Los iconos de Font Awesome que usa el tema, como caracteres: sin descargar 1,5 MB de JavaScript.
ICONS = {"fa-bars": "☰", "fa-list": "≡", "fa-arrow-up": "↑", "fa-angle-left": "‹", "fa-angle-right": "›",
         "fa-chevron-left": "‹", "fa-chevron-right": "›", "fa-sun": "☀", "fa-moon": "☾", "fa-circle-half-stroke": "◐"}
# La lupa y el repositorio no tienen un carácter que traigan todas las letras: un dibujo SVG de una
# línea, pintado con el color del texto (mask), como los demás.
SVG_ICONS = {
    "fa-magnifying-glass": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="6.5" cy="6.5" '
                           'r="4.5" fill="none" stroke="black" stroke-width="2"/><path d="M10 10l4.5 4.5" '
                           'stroke="black" stroke-width="2.2" stroke-linecap="round"/></svg>',
    "fa-github": '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><path d="M5 4L1 8l4 4M11 4l4 4-4 4" '
                 'fill="none" stroke="black" stroke-width="2" stroke-linecap="round"/></svg>',
}
ICONS_CSS = "".join(f".{name}::before {{ content: \"{char}\"; }}\n" for name, char in ICONS.items()) + "".join(
    f".{name}::before {{ content: \"\"; display: inline-block; width: 1em; height: 1em; vertical-align: -0.125em; "
    f"background-color: currentColor; mask: url(\"data:image/svg+xml,{quote(svg)}\") no-repeat center / contain; }}\n"
    for name, svg in SVG_ICONS.items()) + (
    ".fa, .fa-solid, .fa-brands, .fa-regular, .fas, .fab { font-style: normal; font-weight: normal; "
    "display: inline-block; line-height: 1; font-family: system-ui, sans-serif; }\n")

BIG_DATA_IMAGE = 2000  # bytes: las imágenes en base64 más grandes pasan a ser ficheros de _images/


def figure_alts(notebook):
    """{sha256 del PNG: texto alternativo} de las figuras del cuaderno ejecutado que traen uno.

    myst-nb escribe cada PNG en `_images/<sha256>.png` y le pone como `alt` su propia ruta: con
    esta tabla se le pone el texto que guardó la función que la dibujó (`trazos.alt_text`).
    """
    alts = {}
    for cell in notebook.get("cells", []):
        for out in cell.get("outputs", []):
            png, alt = out.get("data", {}).get("image/png"), out.get("metadata", {}).get("image/png", {}).get("alt")
            if png and alt:
                data = base64.b64decode("".join(png) if isinstance(png, list) else png)
                alts[hashlib.sha256(data).hexdigest()] = alt
    return alts


def _png_size(data):
    """(ancho, alto) de un PNG leyendo su cabecera, o None."""
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        return None
    return struct.unpack(">II", data[16:24])


def _figure(src, alt, size, link=True):
    """Una figura: <img> con su texto, su tamaño y carga diferida, dentro de un enlace a tamaño completo."""
    dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
    img = f'<img src="{src}" alt="{html.escape(alt)}"{dims} loading="lazy" decoding="async">'
    if not link:
        return img
    return f'<a class="trazos-figura" href="{src}" title="Ver la figura a tamaño completo">{img}</a>'


def _images_folder(page, site):
    """La ruta relativa de la página a _images/ («../_images» desde notebooks/)."""
    depth = len(page.relative_to(site).parts) - 1
    return "../" * depth + "_images"


def _finish_page(page, site, alts, problems):
    text = page.read_text(encoding="utf-8")
    images = site / "_images"
    prefix = _images_folder(page, site)

    # 1. Las figuras de los cuadernos: myst-nb pone de alt la ruta del fichero.
    def figure(match):
        src = match["src"]
        name = Path(src).name
        alt = alts.get(Path(name).stem)
        if alt is None:
            problems.append(f"{page.relative_to(site)}: la figura {name} no trae texto alternativo")
            alt = "Figura sin descripción."
        size = _png_size((images / name).read_bytes()) if (images / name).is_file() else None
        return _figure(src, alt, size)

    text = re.sub(r'<img alt="(?P<alt>[^"]*)" src="(?P<src>[^"]*_images/[0-9a-f]{64}\.png)"\s*/?>', figure, text)

    # 2. Las imágenes en base64 de las vistas fijas: a ficheros, con el mismo enlace.
    def data_image(match):
        encoded = match["data"]
        if len(encoded) < BIG_DATA_IMAGE:
            return match[0]
        data = base64.b64decode(encoded)
        name = f"{hashlib.sha256(data).hexdigest()}.{match['kind']}"
        images.mkdir(exist_ok=True)
        if not (images / name).exists():
            (images / name).write_bytes(data)
        src = f"{prefix}/{name}"
        tag = match[0].replace(f"data:image/{match['kind']};base64,{encoded}", src)
        size = _png_size(data)
        if size and " width=" not in tag:
            tag = tag.replace("<img ", f"<img width='{size[0]}' height='{size[1]}' ", 1)
        tag = tag.replace("<img ", "<img loading='lazy' decoding='async' ", 1)
        return f'<a class="trazos-figura" href="{src}" title="Ver la imagen a tamaño completo">{tag}</a>'

    text = re.sub(r"<img [^>]*?src=['\"]data:image/(?P<kind>png|jpeg);base64,(?P<data>[A-Za-z0-9+/=\s]+)['\"][^>]*>",
                  data_image, text)

    # 3. Un solo h1: el título que el tema repite para imprimir pasa a ser un párrafo.
    text = re.sub(r'(<div id="jb-print-docs-body" class="onlyprint">\s*)<h1>(.*?)</h1>', r'\1<p class="h1">\2</p>',
                  text, flags=re.DOTALL)

    # 4. Los nombres accesibles en español y los iconos sin Font Awesome.
    for english, spanish in SPANISH.items():
        text = text.replace(english, spanish)
    # El botón «Búsqueda Ctrl+K»: su nombre, el texto que se ve (con aria-label no decía el atajo).
    text = re.sub(r'(<button class="[^"]*search-button-field[^"]*"[^>]*?) aria-label="[^"]*"', r"\1", text)
    text = re.sub(r'\s*<script defer src="[^"]*_static/scripts/fontawesome\.js[^"]*"></script>', "", text)
    # 5. La búsqueda (su código y su índice) solo en la página de búsqueda: las demás envían ahí su formulario.
    if page.name != "search.html":
        text = re.sub(r'\s*<script src="[^"]*(searchtools|language_data|searchindex)\.js"></script>', "", text)
    page.write_text(text, encoding="utf-8")


def finish_site(site, alts):
    """Retoca todas las páginas HTML de `site` (ver el docstring del módulo).

    `alts` es {sha256: texto} de `figure_alts`. Devuelve la lista de problemas (figuras sin texto).
    """
    site = Path(site)
    problems = []
    for page in sorted(site.rglob("*.html")):
        if "_static" in page.relative_to(site).parts:
            continue
        _finish_page(page, site, alts, problems)
    for path in (site / "_static" / "scripts").glob("fontawesome.js*"):
        path.unlink()
    shutil.rmtree(site / "_static" / "vendor" / "fontawesome", ignore_errors=True)  # sus letras, sin uso
    # El extracto de un resultado de búsqueda: del artículo, no de la cabecera con los botones.
    search = site / "_static" / "searchtools.js"
    if search.exists():
        code = search.read_text(encoding="utf-8")
        code = code.replace("htmlElement.querySelector('[role=\"main\"]')",
                            "(htmlElement.querySelector('[role=\"main\"] article') || "
                            "htmlElement.querySelector('[role=\"main\"]'))")
        # Si la palabra no está tal cual (la búsqueda compara raíces), el extracto empieza por el principio.
        code = re.sub(r"(\.filter\(\(i\) => i > -1\)\s*\.slice\(-1\)\[0\]);", r"\1 || 0;", code)
        search.write_text(code, encoding="utf-8")
    return problems
