"""La vista fija de un explorador, para el sitio web (`trazos.classroom.web`): HTML sin JavaScript.

Un cuaderno ejecutado con `store_widget_state=True` guarda el estado de cada widget (imágenes
PNG, textos, el valor de cada control). De ese estado sale aquí el HTML de cada explorador tal
como quedó al terminar el cuaderno, con sus cajas, sus imágenes y sus controles quietos; y
`prepare_notebook` cambia cada salida de widget por esa vista y quita lo que el sitio no usa.
"""

import html
import json
import re

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


# --- La vista fija de un explorador ---------------------------------------------------------------

STATIC_NOTE = ("Vista fija del explorador, tal como quedó al ejecutar el cuaderno. Para mover los controles, "
               "abre el cuaderno en Jupyter, Colab o Binder (los botones del principio de la página).")
# Las propiedades de Layout de ipywidgets que se traducen tal cual a CSS.
LAYOUT_CSS = ("width", "height", "min_width", "max_width", "margin", "padding", "border", "grid_template_columns",
              "grid_template_rows", "grid_gap", "justify_content", "align_items", "align_self", "flex_flow", "flex")
BOXES = {"VBoxModel": "column", "HBoxModel": "row", "BoxModel": "row", "GridBoxModel": "grid"}
SLIDERS = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel", "IntRangeSliderModel",
           "FloatRangeSliderModel", "SelectionSliderModel", "SelectionRangeSliderModel"}
CHOICES = {"DropdownModel", "SelectModel", "RadioButtonsModel", "ToggleButtonsModel"}
# El nombre de cada explorador (su clase `trazos-<nombre>-explorer`), para decir qué enseña cada imagen.
EXPLORERS = {"kernel": "de kernels", "activation": "de activaciones", "padding": "de padding y stride",
             "softmax": "de softmax", "confusion": "de la matriz de confusión", "draw": "de «dibuja tu dígito»",
             "training": "del entrenamiento en vivo", "trainer": "del entrenamiento en vivo",
             "attribution": "de qué mira la red", "embedding": "del mapa de los dígitos"}
# Lo que enseñan las imágenes que no llevan un pie delante en su caja (su clase CSS).
PICTURES = {"trazos-scatter": "los dígitos del test como puntos del plano, de un color por dígito",
            "trazos-nearest": "el dígito más cercano al punto (x, y)"}


def _model_id(reference):
    return reference[len("IPY_MODEL_"):] if isinstance(reference, str) and reference.startswith("IPY_MODEL_") \
        else reference


def _style(parts):
    text = "; ".join(f"{name}: {value}" for name, value in parts.items() if value not in (None, ""))
    return f' style="{html.escape(text)}"' if text else ""


def _layout_css(models, state):
    layout = models.get(_model_id(state.get("layout")), {}).get("state", {})
    css = {name.replace("_", "-"): layout.get(name) for name in LAYOUT_CSS if layout.get(name)}
    if layout.get("display") == "none" or layout.get("visibility") == "hidden":
        css["display"] = "none"
    columns = re.fullmatch(r"\s*((?:\d+px\s*)+)", css.get("grid-template-columns") or "")
    if columns:  # columnas fijas («110px 56px …»): proporcionales, para que la rejilla quepa en un móvil
        widths = [int(w) for w in re.findall(r"\d+", columns[1])]
        css["grid-template-columns"] = " ".join(f"minmax(0, {w}fr)" for w in widths)
        css["max-width"] = f"{sum(widths)}px"
    return css


def _buffers(model):
    return {tuple(b["path"]): b["data"] for b in model.get("buffers", []) if b.get("encoding", "base64") == "base64"}


def _description(state):
    text = state.get("description") or ""
    return f"<span class='trazos-fijo-etiqueta'>{html.escape(text)}</span>" if text else ""


def _number(value):
    # Con las cifras que hacen falta: una tasa de 0,002 no es «0,00».
    return f"{value:.4g}".replace(".", ",") if isinstance(value, float) else html.escape(str(value))


def _output_html(outputs, alt):
    """Las salidas de un widget Output (texto, HTML o imágenes); `alt`, el texto de las imágenes sin uno propio."""
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(f"<pre>{html.escape(''.join(out.get('text', '')))}</pre>")
            continue
        data = out.get("data", {})
        if "image/png" in data:
            own = out.get("metadata", {}).get("image/png", {}).get("alt")  # el de la figura (trazos.alt_text)
            parts.append(f"<img alt='{html.escape(own or alt)}' "
                         f"src='data:image/png;base64,{''.join(data['image/png']).strip()}'>")
        elif "text/html" in data:
            parts.append("".join(data["text/html"]))
        elif "text/plain" in data:
            parts.append(f"<pre>{html.escape(''.join(data['text/plain']))}</pre>")
    return "".join(parts)


def _canvas_svg(state, classes):
    """El lienzo (DrawingCanvas) como SVG: fondo negro y cada trazo en blanco, con su grosor de lápiz."""
    size, pen = int(state.get("size") or 280), float(state.get("pen") or 18)
    lines = []
    for stroke in state.get("strokes") or []:
        points = [(float(x), float(y)) for x, y in stroke]
        if len(points) == 1:
            points = points * 2  # un punto suelto: un segmento de largo 0, que se ve como un círculo
        coordinates = " ".join(f"{x:g},{y:g}" for x, y in points)
        lines.append(f"<polyline points='{coordinates}' fill='none' stroke='#fff' stroke-width='{pen:g}' "
                     f"stroke-linecap='round' stroke-linejoin='round'/>")
    return (f"<svg class='{html.escape(classes)} trazos-fijo-lienzo' role='img' aria-label='el lienzo con lo dibujado' "
            f"viewBox='0 0 {size} {size}' width='{size}' height='{size}' style='max-width:100%;height:auto;"
            f"background:#000'>{''.join(lines)}</svg>")


def _text(value):
    """El texto de un trozo de HTML: sin etiquetas, con un espacio donde acaba un bloque o una línea."""
    text = re.sub(r"<(br|/p|/div|/td|/th|/li|/tr)\b[^>]*>", " ", str(value or ""))
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def _control_value(model):
    """(nombre, valor que enseña) de un control, o None si el modelo no es un control."""
    name, state = model.get("model_name", ""), model.get("state", {})
    labels, index, value = state.get("_options_labels", []), state.get("index"), state.get("value")
    if name in CHOICES or (name in SLIDERS and name.startswith("Selection")):
        indices = index if isinstance(index, list) else [index]
        shown = " – ".join(labels[i] for i in indices if isinstance(i, int) and i < len(labels))
    elif name in SLIDERS:
        shown = " – ".join(_number(v) for v in value) if isinstance(value, list) else _number(value)
    elif name in ("CheckboxModel", "ToggleButtonModel"):
        shown = "sí" if value else "no"
    else:
        return None
    return (state.get("description") or "control").rstrip(": "), shown


def _walk(models, model_id, previous=None, depth=0):
    """(id, modelo, el widget anterior en su caja) del widget y de sus hijos, en el orden en que se dibujan."""
    key = _model_id(model_id)
    model = models.get(key)
    if model is None or depth > 50:
        return
    yield key, model, previous
    if model.get("model_name") in BOXES:
        before = None
        for child in model.get("state", {}).get("children", []):
            yield from _walk(models, child, before, depth + 1)
            before = models.get(_model_id(child))


def explorer_summary(models, model_id):
    """(nombre del explorador, «control = valor; …») de un explorador, para su nota y sus imágenes."""
    root = models.get(_model_id(model_id), {}).get("state", {})
    kind = next((css[len("trazos-"):-len("-explorer")] for css in root.get("_dom_classes", [])
                 if css.startswith("trazos-") and css.endswith("-explorer")), "")
    values = [found for _, model, _ in _walk(models, model_id) if (found := _control_value(model))]
    return EXPLORERS.get(kind, f"«{kind}»" if kind else ""), "; ".join(f"{name} = {shown}" for name, shown in values)


def image_alts(models, model_id):
    """{modelo de imagen: texto alternativo} de las imágenes de un explorador.

    Cada texto dice de qué explorador es, con qué valores de sus controles, y qué enseña: el texto
    que la precede en su caja (el pie que la explica) o, si no hay, su número entre las imágenes.
    """
    name, values = explorer_summary(models, model_id)
    images = [(key, before or {}) for key, model, before in _walk(models, model_id)
              if model.get("model_name") == "ImageModel"]
    alts = {}
    for number, (key, before) in enumerate(images, 1):
        caption = _text(before.get("state", {}).get("value")) if before.get("model_name") in (
            "HTMLModel", "HTMLMathModel", "LabelModel") else ""
        classes = models[key].get("state", {}).get("_dom_classes", [])
        what = caption[:300] or next((PICTURES[c] for c in classes if c in PICTURES), "") or \
            (f"imagen {number} de {len(images)}" if len(images) > 1 else "imagen")
        what = what.rstrip(". ")
        if not re.match(r"\w*\d", what):  # «conv1: …» se queda como se escribe en PyTorch
            what = what[:1].upper() + what[1:]
        alts[key] = (f"{what}. Explorador {name}".strip()
                     + (f", con {values}" if values else "") + ".")
    return alts


def _widget_html(models, model_id, depth=0, alts=None):
    """El HTML fijo de un widget y de sus hijos, a partir del estado guardado en el cuaderno."""
    alts = {} if alts is None else alts
    model = models.get(_model_id(model_id))
    if model is None or depth > 50:
        return ""
    name, state = model.get("model_name", ""), model.get("state", {})
    css = _layout_css(models, state)
    classes = " ".join(["trazos-fijo", *state.get("_dom_classes", [])])
    if name in BOXES:
        children = "".join(_widget_html(models, child, depth + 1, alts) for child in state.get("children", []))
        direction = BOXES[name]
        css = ({"display": "grid"} if direction == "grid" else
               {"display": "flex", "flex-direction": direction, "flex-wrap": "wrap" if direction == "row" else None,
                "gap": "0.5em"}) | css
        return f"<div class='{html.escape(classes)}'{_style(css)}>{children}</div>"
    if name in ("HTMLModel", "HTMLMathModel"):
        # Una tabla ancha se desliza en su caja (se llega con el teclado), sin cortar el resto de la vista.
        value = re.sub(r"(<table\b.*?</table>)", r"<div class='trazos-tabla' role='region' tabindex='0' "
                       r"aria-label='Tabla: desliza para ver todas sus columnas'>\1</div>", str(state.get("value", "")),
                       flags=re.DOTALL)
        return f"<div class='{html.escape(classes)}'{_style(css)}>{_description(state)}{value}</div>"
    if name == "LabelModel":
        return f"<div class='{html.escape(classes)}'{_style(css)}>{html.escape(str(state.get('value', '')))}</div>"
    if name == "ImageModel":
        data = _buffers(model).get(("value",))
        if not data:
            return ""
        kind = state.get("format", "png")
        size = {"width": f"{state['width']}px" if str(state.get("width", "")).isdigit() else None}
        alt = alts.get(_model_id(model_id)) or "Imagen de un explorador del curso."
        return (f"<img class='{html.escape(classes)}' alt='{html.escape(alt)}' "
                f"src='data:image/{html.escape(kind)};base64,{data}'{_style(size | css | {'max-width': '100%'})}>")
    if name in SLIDERS:
        value = state.get("value")
        if name.startswith("Selection"):
            labels = state.get("_options_labels", [])
            index = state.get("index")
            shown = " – ".join(labels[i] for i in index) if isinstance(index, list) else \
                (labels[index] if isinstance(index, int) and index < len(labels) else "")
            low, high, position = 0, max(len(labels) - 1, 1), index if isinstance(index, int) else 0
        else:
            shown = " – ".join(_number(v) for v in value) if isinstance(value, list) else _number(value)
            low, high = state.get("min", 0), state.get("max", 100)
            position = value[0] if isinstance(value, list) else value
        return (f"<div class='{html.escape(classes)} trazos-fijo-control'{_style(css)}>{_description(state)}"
                f"<input type='range' disabled aria-label='{html.escape(state.get('description') or 'control')}' "
                f"min='{low}' max='{high}' value='{position}'> <b>{shown}</b></div>")
    if name in CHOICES:
        labels, index = state.get("_options_labels", []), state.get("index")
        if name == "ToggleButtonsModel":
            buttons = "".join(f"<span class='trazos-fijo-boton{' elegido' if i == index else ''}'>{html.escape(label)}"
                              f"</span>" for i, label in enumerate(labels))
            return (f"<div class='{html.escape(classes)} trazos-fijo-control'{_style(css)}>{_description(state)}"
                    f"{buttons}</div>")
        chosen = labels[index] if isinstance(index, int) and index < len(labels) else ""
        return (f"<div class='{html.escape(classes)} trazos-fijo-control'{_style(css)}>{_description(state)}"
                f"<span class='trazos-fijo-boton elegido'>{html.escape(chosen)} ▾</span></div>")
    if name in ("ButtonModel", "ToggleButtonModel", "CheckboxModel"):
        style = models.get(_model_id(state.get("style")), {}).get("state", {})
        colour = {"background": style.get("button_color"), "color": style.get("text_color"),
                  "font-weight": style.get("font_weight")}
        mark = ("☑ " if state.get("value") else "☐ ") if name == "CheckboxModel" else ""
        return (f"<span class='{html.escape(classes)} trazos-fijo-boton'{_style(css | colour)}>"
                f"{mark}{html.escape(state.get('description', ''))}</span>")
    if name in ("FloatProgressModel", "IntProgressModel"):  # la barra de tqdm al entrenar
        return (f"<progress class='{html.escape(classes)}' max='{state.get('max', 100)}' "
                f"value='{state.get('value', 0)}'{_style(css)}></progress>")
    if name == "OutputModel":
        alt = next(iter(alts.values()), "Figura de un explorador del curso.")
        return f"<div class='{html.escape(classes)}'{_style(css)}>{_output_html(state.get('outputs', []), alt)}</div>"
    if name == "AnyModel" and "strokes" in state:  # el lienzo de «dibuja tu dígito», con lo que se dibujó
        return _canvas_svg(state, classes)
    if name == "AnyModel":
        return (f"<div class='{html.escape(classes)} trazos-fijo-lienzo'{_style(css)}>Este control solo funciona "
                f"con el cuaderno abierto y en marcha.</div>")
    return ""  # modelos sin vista propia (estilos, Layout) o desconocidos


def static_widget_html(state, model_id):
    """La vista fija (HTML autónomo, sin JavaScript) del widget `model_id` según el estado `state`.

    `state` es el diccionario `metadata.widgets["application/vnd.jupyter.widget-state+json"]`
    que guarda nbclient al ejecutar un cuaderno; las imágenes van dentro, en base64.
    """
    models = state.get("state", {})
    root = models.get(_model_id(model_id), {}).get("state", {})
    if not any(css.endswith("-explorer") for css in root.get("_dom_classes", [])):  # p. ej. la barra de tqdm
        return f"<div class='trazos-widget-fijo'>{_widget_html(models, model_id)}</div>"
    body = _widget_html(models, model_id, alts=image_alts(models, model_id))
    _, values = explorer_summary(models, model_id)
    shown = f" Valores de los controles en esta vista: {values}." if values else ""
    return (f"<div class='trazos-vista-fija'><p class='trazos-vista-fija-nota'>{html.escape(STATIC_NOTE + shown)}</p>"
            f"{body}</div>")


# --- Los cuadernos, listos para el sitio ------------------------------------------------------

def prepare_notebook(notebook):
    """El cuaderno ejecutado (diccionario de nbformat), listo para publicar.

    Cada salida de widget pasa a ser su vista fija en HTML; sin estado guardado, una nota en su
    lugar. Se quita el estado de los widgets (así myst-nb no carga su JavaScript de internet) y la
    celda que instala el curso en Colab, que en el sitio no dice nada.
    """
    from .badges import INSTALL_TAG

    notebook = json.loads(json.dumps(notebook))  # copia profunda
    metadata = notebook.get("metadata", {})
    state = metadata.pop("widgets", {}).get(WIDGET_STATE, {})
    cells = []
    for cell in notebook["cells"]:
        if INSTALL_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            view = data.pop(WIDGET_VIEW, None)
            if view is None:
                continue
            if state and view.get("model_id") in state.get("state", {}):
                data.clear()
                data["text/html"] = static_widget_html(state, view["model_id"])
            else:
                data.clear()
                data["text/html"] = (f"<div class='trazos-vista-fija'><p class='trazos-vista-fija-nota'>"
                                     f"Aquí va un explorador interactivo: {html.escape(STATIC_NOTE.split('. ', 1)[1])}"
                                     f"</p></div>")
        cells.append(cell)
    notebook["cells"] = cells
    return notebook
