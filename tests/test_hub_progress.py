"""El progreso de los ejercicios en la clase de verdad: `python -m trazos servidor --prueba`.

La misma clase que tests/test_hub.py (una por sesión, tests/hub_class.py). alumno1 y alumno2 abren
el cuaderno 01 en su JupyterLab (una sesión de Jupyter Server, como al abrirlo) y ejecutan `check`
en su núcleo de verdad, por el websocket, con respuestas correctas, incorrectas y un hueco sin
rellenar; en el mismo núcleo, `progress_sender.flush()` espera a que el hilo que envía termine.
Todo lo que se pide al servicio va por la dirección pública de la clase (el proxy, /services/trazos/).

- La docente lee el JSON como lo haría una herramienta suya (curl, una hoja de cálculo): entra en
  el hub, pide un token en /hub/token con el permiso del servicio (`access:services!service=trazos`;
  `Student.request_token` hace la misma petición que esa página) y lo manda en la cabecera
  Authorization. Con su sesión del navegador también llega: tras el inicio de sesión OAuth del
  servicio, un GET con su cookie no necesita el token XSRF si el cliente no manda Sec-Fetch-Mode,
  como curl o requests (`_needs_check_xsrf` de JupyterHub); el fetch de la página sí lo manda, y
  por eso la página lleva su X-XSRFToken.
- Cada estudiante, con el token de su núcleo (JUPYTERHUB_API_TOKEN, desde una celda) y con su
  sesión del navegador, recibe 403 en lo del profesorado, y en api/mine solo lo suyo.
- Un evento falsificado (con un «user», o con el id de un evento de otro) no cambia nada.
- El servicio muere (SIGKILL) y el hub lo vuelve a arrancar: no se pierde nada, y lo que un núcleo
  mandó mientras el servicio no respondía llega con la siguiente comprobación.
- En Chromium, la docente abre /services/trazos/, entra por la página de inicio de sesión del hub
  y ve cómo la casilla de un estudiante pasa de incorrecta a correcta tras su `check`.
"""

import csv
import io
import json
import os
import signal
import time
import uuid
from datetime import datetime, timezone

import pytest
from hub_class import PASSWORD, STUDENTS, TEACHER

from test_browser import browser, chromium  # noqa: F401
from test_progress_hub import call
from trazos.classroom.progress_service import DB_NAME, services_using
from trazos.classroom.visit import Student

pytestmark = pytest.mark.slow

NOTEBOOK = "01_padding_y_stride.ipynb"
SCOPE = "access:services!service=trazos"
RESTART_TIMEOUT = 180  # s: el hub mira cada 30 s si sus servicios siguen vivos
SETUP_CELL = """
import json, os, urllib.error, urllib.request
from trazos import progress, progress_sender
from trazos.exercises import check

def _service(path, body=None):
    request = urllib.request.Request(_SERVICE + path, data=None if body is None else body.encode(), headers={
        "Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"], "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
"""


def run(person, code):
    """El texto de una celda ejecutada en el núcleo de `person` (que no puede fallar)."""
    result = person.execute(code)
    assert result.error is None, result.error
    return result.text


def checks(person, *cells):
    """`check(ejercicio, respuesta)` en el núcleo de `person`, una tras otra, hasta que el hilo las envía."""
    code = "".join(f"check({exercise!r}, {answer})\n" for exercise, answer in cells)
    text = run(person, code + "print('enviado', progress_sender.flush(60))")
    assert text.splitlines()[-1] == "enviado True", text


def from_kernel(person, path, body=None):
    """(código, cuerpo) de una petición al servicio desde el núcleo de `person`, con el token del núcleo."""
    text = run(person, f"print(json.dumps(_service({path!r}, {body!r})))")
    return tuple(json.loads(text.splitlines()[-1]))


def service(classroom):
    return f"{classroom.url}services/trazos/"


def as_teacher(classroom, teacher, path):
    """Lo que recibe la herramienta de la docente (un GET con su token, como curl): el cuerpo, JSON o no."""
    status, body = call(service(classroom) + path, teacher.token)
    assert status == 200, (path, status, body)
    return body if path.endswith(".csv") else json.loads(body)


def rows(classroom, teacher):
    """{(estudiante, ejercicio): (estado, intentos)} de alumno1 y alumno2, según api/progress."""
    found = as_teacher(classroom, teacher, "api/progress")
    for row in found:
        assert set(row) == {"user", "exercise", "status", "attempts", "last"}
        datetime.fromisoformat(row["last"])
    return {(r["user"], r["exercise"]): (r["status"], r["attempts"]) for r in found if r["user"] in STUDENTS}


def event(**changes):
    return {"id": str(uuid.uuid4()), "exercise": "1.3", "verdict": "correct", "hint": "", "attempt": 1,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "notebook": NOTEBOOK, **changes}


def service_pid(state):
    """El pid del servicio de progreso de esta clase (el que tiene abierta su base de datos), o None."""
    running = services_using(state / DB_NAME)
    return running[0] if running else None


@pytest.fixture(scope="module")
def teacher(classroom):
    """La docente, dentro del hub, con un token para el servicio como el que pediría en /hub/token."""
    person = Student(classroom.url, TEACHER, PASSWORD)
    person.login()
    person.token = person.request_token("progreso de la clase (prueba)", scopes=[SCOPE], expires_in=3600)
    return person


@pytest.fixture(scope="module")
def kernels(classroom, students):
    """alumno1 y alumno2 con el cuaderno 01 abierto: un núcleo nuevo cada uno, en una sesión de ese cuaderno."""
    for person in students:
        person.close()  # el núcleo de test_hub.py, si lo hay: uno por estudiante basta
        person.start_kernel(path=NOTEBOOK)
        run(person, f"_SERVICE = {service(classroom)!r}\n{SETUP_CELL}")
    return dict(zip(STUDENTS, students))


def test_students_checks_in_their_kernels_reach_the_teachers_json(classroom, kernels, teacher):
    checks(kernels["alumno1"], ("1.1", "23"), ("1.1", "24"), ("1.2", "..."))  # mal, bien; un hueco
    checks(kernels["alumno2"], ("1.1", "28"), ("1.4", "3"))
    assert rows(classroom, teacher) == {("alumno1", "1.1"): ("correct", 2), ("alumno1", "1.2"): ("pending", 0),
                                        ("alumno2", "1.1"): ("wrong", 1), ("alumno2", "1.4"): ("correct", 1)}
    # Lo que pinta la página lleva además el cuaderno: el de la sesión de Jupyter (JPY_SESSION_NAME).
    board = as_teacher(classroom, teacher, "api/board")
    assert {r["notebook"] for r in board["progress"] if r["user"] in STUDENTS} == {NOTEBOOK}

    summary = {e["exercise"]: e for e in as_teacher(classroom, teacher, "api/exercises")}
    first = summary["1.1"]
    assert set(first) == {"exercise", "students", "correct", "median_attempts", "common_wrong"}
    assert (first["students"], first["correct"], first["median_attempts"]) == (2, 1, 1.5)
    assert sorted((w["answer"], w["count"]) for w in first["common_wrong"]) == [("int: 23", 1), ("int: 28", 1)]
    assert (summary["1.2"]["students"], summary["1.2"]["correct"], summary["1.2"]["median_attempts"]) == (1, 0, 0)
    assert (summary["1.4"]["students"], summary["1.4"]["correct"], summary["1.4"]["common_wrong"]) == (1, 1, [])

    sheet = as_teacher(classroom, teacher, "api/progress.csv").removeprefix("\ufeff")  # con BOM, para las hojas
    table = {row["usuario"]: row for row in csv.DictReader(io.StringIO(sheet))}
    assert {e: table["alumno1"][e] for e in ("1.1", "1.2", "1.4")} == {"1.1": "correcto", "1.2": "pendiente",
                                                                       "1.4": ""}
    assert {e: table["alumno2"][e] for e in ("1.1", "1.2", "1.4")} == {"1.1": "incorrecto", "1.2": "",
                                                                       "1.4": "correcto"}

    # Con la sesión del navegador de la docente (tras el inicio de sesión OAuth del servicio), lo mismo.
    assert teacher.session.get(service(classroom), timeout=60).status_code == 200
    with_cookie = teacher.session.get(service(classroom) + "api/progress", timeout=60)
    assert with_cookie.status_code == 200
    assert with_cookie.json() == as_teacher(classroom, teacher, "api/progress")


def test_a_student_gets_403_on_the_teachers_paths_and_only_their_rows_in_mine(classroom, kernels, teacher):
    teachers_paths = ("api/progress", "api/exercises", "api/progress.csv", "api/board", "")
    everyone = as_teacher(classroom, teacher, "api/progress")
    for name, person in kernels.items():
        theirs = [r for r in everyone if r["user"] == name]
        for path in teachers_paths:
            status, body = from_kernel(person, path)
            assert status == 403, (name, path, body)
        status, body = from_kernel(person, "api/mine")
        assert status == 200 and json.loads(body) == theirs
        # Y con su sesión del navegador: el servicio le identifica por OAuth y tampoco le enseña nada más.
        assert person.session.get(service(classroom), timeout=60).status_code == 403
        for path in teachers_paths[:-1]:
            assert person.session.get(service(classroom) + path, timeout=60).status_code == 403, (name, path)
        assert person.session.get(service(classroom) + "api/mine", timeout=60).json() == theirs


def test_a_forged_event_is_refused_and_changes_nothing(classroom, kernels, teacher):
    before = as_teacher(classroom, teacher, "api/progress")
    one, two = kernels["alumno1"], kernels["alumno2"]
    status, body = from_kernel(one, "api/events", json.dumps(event(user="alumno2")))
    assert status == 400 and "user" in json.loads(body)["error"]
    # El id del intento incorrecto de alumno2 en el 1.1 (el núcleo de alumno2 lo tiene en su registro),
    # mandado por alumno1 como correcto: el servicio ya lo tiene, y el que vale es el de alumno2.
    text = run(two, "print(json.dumps([e for e in progress.events() if e['exercise'] == '1.1']))")
    [theirs] = json.loads(text.splitlines()[-1])
    forged = {key: value for key, value in theirs.items() if key != "answer"} | {"verdict": "correct"}
    status, body = from_kernel(one, "api/events", json.dumps(forged))
    assert status == 200 and json.loads(body)["nuevo"] is False
    assert as_teacher(classroom, teacher, "api/progress") == before


def test_the_hub_restarts_the_killed_service_and_nothing_is_lost(classroom, kernels, teacher):
    before = rows(classroom, teacher)
    old = service_pid(classroom.state)
    assert old is not None
    os.kill(old, signal.SIGSTOP)  # ya no responde: el envío de esta comprobación no llega
    try:
        checks(kernels["alumno1"], ("1.4", "4"))
    finally:
        os.kill(old, signal.SIGKILL)  # y muere; el hub lo vuelve a arrancar solo

    def back():
        try:
            answer = call(service(classroom) + "api/progress", teacher.token)[0]
        except OSError:  # el proxy no llega al servicio (502, 503) o no responde
            return False
        return answer == 200 and service_pid(classroom.state) not in (None, old)

    deadline = time.monotonic() + RESTART_TIMEOUT
    while not back():
        assert time.monotonic() < deadline, "El hub no volvió a arrancar el servicio de progreso"
        time.sleep(1)
    assert rows(classroom, teacher) == before
    checks(kernels["alumno1"], ("1.4", "3"))  # con esta, llega también la que no llegó
    assert rows(classroom, teacher) == {**before, ("alumno1", "1.4"): ("correct", 2)}


@pytest.mark.browser
def test_the_teachers_page_in_chromium_shows_wrong_turning_correct(classroom, kernels, browser):
    context = browser.new_context(viewport={"width": 1500, "height": 1000})
    try:
        page = context.new_page()
        # Sin sesión, el servicio la manda al inicio de sesión del hub, y de ahí vuelve a la página (OAuth).
        page.goto(service(classroom), timeout=90_000)
        page.fill("input[name=username]", TEACHER)
        page.fill("input[name=password]", PASSWORD)
        page.click("input[type=submit], button[type=submit]")
        page.wait_for_selector("h1:has-text('Progreso de la clase')", timeout=60_000)
        assert page.url.startswith(service(classroom))
        cell = "td[data-user='alumno2'][data-exercise='1.3']"
        checks(kernels["alumno2"], ("1.3", "28"))
        page.wait_for_selector(f"{cell}[data-status='wrong']", timeout=15_000)  # la página pide cada 3 s
        assert "✗" in page.inner_text(cell)
        checks(kernels["alumno2"], ("1.3", "14"))
        page.wait_for_selector(f"{cell}[data-status='correct']", timeout=15_000)
        assert "✓" in page.inner_text(cell)
    finally:
        context.close()
