"""La guía docente: lo que se puede comprobar de su plan de clase.

- El momento para proyectar del 01 enseña columnas rayadas con un padding y no con otro
  (`render.conv_layout`, la geometría que dibuja el explorador).
- Los tiempos «a solas» de la guía son los que dice cada cuaderno al empezar.
- Cada sesión de los recorridos suma sus 90 minutos sin huecos; cada fila «NN (en clase)» dura lo que
  la guía da a ese cuaderno en clase, y lo que va para casa completa su tiempo a solas.
- La sesión de 90 minutos pasa por el 05 y no promete dibujar en el 06.
- La sección del progreso de la clase nombra las direcciones del servicio, sus claves y los números
  de la página (cada cuántos segundos, cuándo alguien necesita ayuda) que usa el código.
"""

import json
import re
from pathlib import Path

from trazos import render

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "docs" / "guia_docente.md").read_text(encoding="utf-8")
ENTRY = re.compile(r"\*\*(\d\d) · [^*]+\*\* \(unos (\d+) min a solas; en clase, (\d+) min")


def minutes():
    """{cuaderno: (a solas, en clase)} según la guía."""
    found = {nb: (int(alone), int(in_class)) for nb, alone, in_class in ENTRY.findall(GUIDE)}
    every = sorted(path.name[:2] for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(found) == every, "falta el tiempo de algún cuaderno"
    return found


def section(title, text=GUIDE):
    start = text.index(title)
    following = re.search(r"\n#{2,4} ", text[start + len(title):])
    return text[start:start + len(title) + (following.start() if following else len(text))]


def rows(table_text):
    """[(desde, hasta, qué)] de una tabla «| minutos | qué | cómo |»."""
    return [(int(a), int(b), what.strip())
            for a, b, what in re.findall(r"^\| (\d+)-(\d+) \| ([^|]+) \|", table_text, re.M)]


def assert_contiguous(table, length=90):
    assert table and table[0][0] == 0 and table[-1][1] == length, table
    assert all(a[1] == b[0] for a, b in zip(table, table[1:])), f"huecos o solapes: {table}"


def test_projection_moment_of_01_shows_hatched_columns():
    entry = re.search(r"\*\*01 · .*?(?=\n\n\*\*02)", GUIDE, re.S).group(0)
    moment = re.search(r"n = (\d+), k = (\d+),\s+s = (\d+) y p = (\d+).*?p = (\d+)", entry, re.S)
    assert moment, "el momento del 01 da n, k, s y dos paddings"
    n, k, s, first, second = map(int, moment.groups())
    assert render.conv_layout(n, k, first, s)["unseen"].any(), "con el primer padding debe haber rayado"
    assert not render.conv_layout(n, k, second, s)["unseen"].any(), "con el segundo, ninguno"


def test_guide_minutes_match_the_notebooks():
    for nb, (alone, _) in minutes().items():
        path = next((ROOT / "notebooks").glob(f"{nb}_*.ipynb"))
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        # la primera de Markdown que no es la de las insignias de Colab y Binder (badges.py)
        first = "".join(next(c for c in cells if c["cell_type"] == "markdown"
                             and "trazos-insignias" not in c.get("metadata", {}).get("tags", []))["source"])
        said = re.search(r"unos (\d+) minutos|alrededor de una hora", first)
        assert said, f"{path.name} no dice cuánto tarda"
        assert alone == (int(said.group(1)) if said.group(1) else 60), f"{nb}: la guía dice {alone} min"


def test_one_session_route_adds_up_and_includes_05():
    table = rows(section("### Una sesión de 90 minutos"))
    assert_contiguous(table)
    assert any(what.startswith("05") for _, _, what in table), "el recorrido corto pasa por el 05"
    row_06 = section("### Una sesión de 90 minutos").split("\n| ")
    line_06 = next(line for line in row_06 if re.match(r"\d+-\d+ \| 06", line))
    assert "propio dígito" not in line_06 and "su dígito" not in line_06


def test_three_sessions_add_up():
    times = minutes()
    three = section("### Tres sesiones de 90 minutos", GUIDE[GUIDE.index("### Tres sesiones"):GUIDE.index("## Copias")])
    three = GUIDE[GUIDE.index("### Tres sesiones"):GUIDE.index("## Copias")]
    sessions = re.split(r"\n#### ", three)[1:]
    assert len(sessions) == 3
    in_class, at_home = {}, {}
    for text in sessions:
        table = rows(text)
        assert_contiguous(table)
        for a, b, what in table:
            m = re.match(r"(\d\d) \(en clase\)", what)
            if m:
                in_class[m.group(1)] = b - a
        home = re.search(r"Para casa: (.*)", text).group(1)
        for nb, mins in re.findall(r"(?:del|el) (\d\d)[^(]*\((\d+) min\)", home):
            at_home[nb] = int(mins)
    for nb, (alone, guided) in times.items():
        assert in_class.get(nb, 0) == guided, (f"{nb}: la tabla le da {in_class.get(nb, 0)} min en clase, "
                                               f"la guía {guided}")
        assert in_class.get(nb, 0) + at_home.get(nb, 0) == alone, f"{nb}: clase + casa no suman sus {alone} min"


def test_guide_documents_the_execute_command():
    assert "python -m trazos ejecutar --out" in GUIDE


def test_teaching_plan_comes_before_the_setup():
    assert GUIDE.index("## Los cuadernos, uno a uno") < GUIDE.index("## Recorridos") < GUIDE.index("## Apéndice A")


def test_guide_tells_the_teacher_how_to_read_the_class_progress():
    """La sección del progreso nombra lo que sirve el servicio y los números de la página, los del código."""
    from trazos.classroom import progress_page, progress_service, progress_store

    text = section("#### El progreso de la clase, en directo")
    for path in ("/services/trazos/", "api/progress", "api/exercises", "api/progress.csv", "api/mine", "/hub/token",
                 "access:services!service=trazos", "--borrar-progreso", progress_service.DB_NAME):
        assert path in text, path
    for key in (*progress_service.PUBLIC_FIELDS, "students", "correct", "median_attempts", "common_wrong"):
        assert f"`{key}`" in text, key
    assert f"cada {progress_page.POLL_SECONDS} segundos" in text
    assert f"{progress_store.HELP_WRONG} respuestas incorrectas o más" in text
    assert f"últimos {progress_store.HELP_MINUTES} minutos" in text
