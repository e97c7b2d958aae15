"""El glosario tiene cada término al que los cuadernos mandan al estudiante.

Los cuadernos 10 y 11 presentan términos nuevos y dicen «los términos están en el glosario»: aquí
está la lista de lo que cada uno presenta, y la prueba mira que cada término tenga su fila (la
primera columna de la tabla de docs/glosario.md) y que el cuaderno lo use de verdad.
"""

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GLOSSARY = ROOT / "docs" / "glosario.md"

# Lo que presenta cada cuaderno (tal como lo escribe) -> la palabra con la que empieza su fila del glosario.
TERMS = {
    "10_mira_como_aprende": {"descenso por el gradiente": "descenso por el gradiente", "gradiente": "gradiente",
                             "momento": "momento", "sobreajuste": "sobreajuste", "validación": "validación",
                             "tasa": "tasa de aprendizaje"},
    "11_que_mira_la_red": {"saliencia": "saliencia", "oclusión": "oclusión", "Grad-CAM": "Grad-CAM",
                           "adversario": "ejemplo adversario", "perceptrón": "perceptrón",
                           "campo receptivo": "campo receptivo"},
    "04_entrenamiento": {"referencia": "red de referencia"},
}


def _glossary_rows():
    rows = []
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 3 and not set(cells[0]) <= {"-", " "}:
            rows.append(cells[0].lower())
    return rows


def _text(notebook):
    nb = json.loads((ROOT / "notebooks" / f"{notebook}.ipynb").read_text(encoding="utf-8"))
    return "\n".join("".join(cell["source"]) for cell in nb["cells"])


@pytest.mark.parametrize("notebook", sorted(TERMS))
def test_every_term_a_notebook_presents_is_in_the_glossary(notebook):
    rows, text = _glossary_rows(), _text(notebook)
    assert "glosario" in text, f"{notebook} no manda al glosario"
    for word, row in TERMS[notebook].items():
        assert re.search(re.escape(word), text, re.IGNORECASE), f"{notebook} ya no habla de «{word}»"
        assert any(r.startswith(row.lower()) for r in rows), f"falta «{row}» en el glosario (lo usa {notebook})"


def test_the_gradient_points_uphill_in_the_glossary():
    # El cuaderno 10 dice, con razón, que el gradiente apunta hacia donde sube la pérdida.
    row = next(line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if line.startswith("| gradiente |"))
    assert "sube" in row and "hacia dónde bajar" not in row
