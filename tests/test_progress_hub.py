"""El servicio `trazos` en un JupyterHub de verdad (con configurable-http-proxy), en 127.0.0.1.

El hub es el mínimo que necesita el servicio: DummyAuthenticator, sin servidores de estudiantes.
`progress_service.service_config` registra el servicio igual que en la clase; los tokens de los
estudiantes se piden a la API del hub con el mismo permiso que el token de su núcleo
(`access:services!service=trazos`). Cada «núcleo» es un proceso de Python que llama a `check`,
con el entorno que le daría el hub: así se prueba el envío de verdad, en su hilo.

Todo es lento (arrancar el hub, el proxy y el servicio): marcado slow. Al terminar se para el hub,
que para el proxy y el servicio.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timezone

import pytest

from trazos.classroom.progress_service import DB_NAME, services_using
from trazos.classroom.visit import progress_burst

pytestmark = pytest.mark.slow

ADMIN_TOKEN = uuid.uuid4().hex
STUDENTS = ("alumno1", "alumno2")
BURST_STUDENTS, BURST_EVENTS = 30, 50
CONFIG = """
from trazos.classroom.progress_service import service_config
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.load_groups = {{"docentes": {{"users": ["docente"]}}}}
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.ConfigurableHTTPProxy.pid_file = "{state}/proxy.pid"
c.JupyterHub.db_url = "sqlite:///{state}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{state}/cookie_secret"
c.Spawner.poll_interval = 2
c.JupyterHub.services = [{{"name": "prueba", "api_token": "{token}"}}]
c.JupyterHub.load_roles = [{{"name": "prueba", "services": ["prueba"], "scopes": ["admin:users", "tokens"]}}]
service_config(c, state="{state}", port={service_port})
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(url, token=None, data=None, method=None):
    """(código, cuerpo) de una petición; con `data`, un POST con ese JSON (o esos bytes)."""
    body = data if isinstance(data, bytes) or data is None else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, method=method or ("POST" if body is not None else "GET"))
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(predicate, seconds=90):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return True
        except OSError:
            pass
        time.sleep(0.5)
    return False


class Hub:
    """Un JupyterHub con el servicio, que se puede parar y volver a arrancar con el mismo estado."""

    def __init__(self, state):
        self.state = state
        self.port, self.service_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.service = f"{self.url}services/trazos/"
        config = CONFIG.format(port=self.port, hub_port=free_port(), proxy_port=free_port(), state=state,
                               token=ADMIN_TOKEN, service_port=self.service_port)
        (state / "jupyterhub_config.py").write_text(config)
        self.process = None

    def start(self):
        log = open(self.state / "hub.log", "ab")  # noqa: SIM115 - lo cierra stop()
        self.process = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"],
                                        cwd=self.state, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.log = log
        ready = wait_for(lambda: call(self.url + "hub/health")[0] == 200 and
                         call(self.service + "api/progress")[0] in (401, 403))
        if not ready:
            self.stop()
            pytest.fail("El hub o el servicio no arrancaron:\n" + (self.state / "hub.log").read_text()[-3000:])

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()

    def api(self, path, data=None, method=None):
        status, body = call(self.url + "hub/api/" + path, ADMIN_TOKEN, data, method)
        assert status < 300, (status, body)
        return json.loads(body) if body else None

    def token(self, user):
        """Un token de `user` con el permiso que tiene el de su núcleo en la clase."""
        self.api("users", {"usernames": [user]}) if not self.user_exists(user) else None
        return self.api(f"users/{user}/tokens", {"scopes": ["access:services!service=trazos"],
                                                 "note": "prueba de progreso"})["token"]

    def user_exists(self, user):
        return call(self.url + f"hub/api/users/{user}", ADMIN_TOKEN)[0] == 200

    def service_pid(self):
        """El pid del proceso del servicio (lo arrancó el hub de esta prueba: tiene abierta su base de datos)."""
        running = services_using(self.state / DB_NAME)
        return running[0] if running else None


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    import shutil
    from test_browser import skip_or_fail  # se salta sin el proxy, salvo en CI, donde falla
    if shutil.which("configurable-http-proxy") is None:
        skip_or_fail("Falta configurable-http-proxy (npm install -g configurable-http-proxy).")
    hub = Hub(tmp_path_factory.mktemp("hub-progreso"))
    hub.start()
    hub.tokens = {user: hub.token(user) for user in (*STUDENTS, "docente")}
    yield hub
    hub.stop()


def kernel_checks(hub, user, tmp_path, cells):
    """Un núcleo de `user` que ejecuta `check` con cada respuesta de `cells` y espera a que se envíen."""
    code = ("from trazos.exercises import check\nfrom trazos import progress_sender\n"
            + "".join(f"check({exercise!r}, {answer})\n" for exercise, answer in cells)
            + "assert progress_sender.flush()\n")
    env = {**os.environ, "JUPYTERHUB_API_TOKEN": hub.tokens[user], "TRAZOS_PROGRESO_URL": hub.service,
           "TRAZOS_PROGRESO": str(tmp_path / user), "JPY_SESSION_NAME": "01_convolucion.ipynb"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True, timeout=120)


def event(exercise="1.1", verdict="wrong", **changes):
    base = {"id": str(uuid.uuid4()), "exercise": exercise, "verdict": verdict, "hint": "", "attempt": 1,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"), "notebook": "01"}
    return {**base, **changes}


def progress(hub):
    status, body = call(hub.service + "api/progress", hub.tokens["docente"])
    assert status == 200, body
    return json.loads(body)


def test_students_checks_reach_the_teacher(hub, tmp_path):
    kernel_checks(hub, "alumno1", tmp_path, [("1.1", "7.5"), ("1.1", "24")])
    kernel_checks(hub, "alumno2", tmp_path, [("1.1", "20"), ("1.2", "...")])
    rows = {(r["user"], r["exercise"]): r for r in progress(hub) if r["user"] in STUDENTS}
    assert set(rows) == {("alumno1", "1.1"), ("alumno2", "1.1"), ("alumno2", "1.2")}
    assert all(set(r) == {"user", "exercise", "status", "attempts", "last"} for r in rows.values())
    assert (rows["alumno1", "1.1"]["status"], rows["alumno1", "1.1"]["attempts"]) == ("correct", 2)
    assert (rows["alumno2", "1.1"]["status"], rows["alumno2", "1.1"]["attempts"]) == ("wrong", 1)
    assert rows["alumno2", "1.2"]["status"] == "pending"
    datetime.fromisoformat(rows["alumno1", "1.1"]["last"])

    status, body = call(hub.service + "api/exercises", hub.tokens["docente"])
    first = next(e for e in json.loads(body) if e["exercise"] == "1.1")
    assert set(first) == {"exercise", "students", "correct", "median_attempts", "common_wrong"}
    assert (first["students"], first["correct"]) == (2, 1)
    assert {w["answer"] for w in first["common_wrong"]} == {"float: 7.5", "int: 20"}

    status, body = call(hub.service + "api/progress.csv", hub.tokens["docente"])
    assert status == 200 and "alumno1,correcto" in body.replace("\ufeff", "")

    status, body = call(hub.service + "api/mine", hub.tokens["alumno2"])
    assert status == 200 and {r["user"] for r in json.loads(body)} == {"alumno2"}


def test_students_get_403_on_the_teachers_paths(hub):
    for path in ("api/progress", "api/exercises", "api/progress.csv", "api/board", ""):
        status, body = call(hub.service + path, hub.tokens["alumno1"])
        assert status == 403, (path, body)
    assert call(hub.service + "api/progress")[0] in (401, 403)  # sin token


def test_malformed_or_forged_events_are_refused_and_change_nothing(hub):
    before = progress(hub)
    token = hub.tokens["alumno1"]
    bad = [event(exercise="99.9"), event(verdict="bien"), {**event(), "user": "alumno2"},
           {k: v for k, v in event().items() if k != "attempt"}, event(answer="x" * 500),
           event(hint="x" * 5000), b"esto no es JSON", event(time="ayer")]
    for body in bad:
        status, answer = call(hub.service + "api/events", token, body)
        assert 400 <= status < 500, (body, status)
        assert json.loads(answer)["error"]  # el motivo, en español
    assert call(hub.service + "api/events", "token-inventado", event())[0] in (401, 403)
    # El id de un evento de alumno2 no se puede pisar desde alumno1.
    theirs = event(verdict="correct")
    assert call(hub.service + "api/events", hub.tokens["alumno2"], theirs)[0] == 201
    assert call(hub.service + "api/events", token, {**theirs, "verdict": "wrong"})[0] == 200
    after = {(r["user"], r["exercise"]): r for r in progress(hub)}
    assert after["alumno2", "1.1"]["status"] == "correct"
    assert ("alumno1", "99.9") not in after and len(after) == len({(r["user"], r["exercise"]) for r in before})


def test_nothing_is_lost_when_the_service_or_the_hub_restarts(hub):
    before = progress(hub)
    os.kill(hub.service_pid(), signal.SIGKILL)  # el hub lo vuelve a arrancar solo
    assert wait_for(lambda: call(hub.service + "api/progress", hub.tokens["docente"])[0] == 200)
    assert progress(hub) == before
    hub.stop()
    hub.start()
    assert progress(hub) == before


def test_a_class_burst_is_stored_exactly_once(hub):
    tokens = [hub.token(f"burst{i:02d}") for i in range(BURST_STUDENTS)]
    latencies, failures = progress_burst(hub.service, tokens, BURST_EVENTS)  # y un reenvío de cada uno
    assert not failures and len(latencies) == BURST_STUDENTS * BURST_EVENTS
    attempts = {}
    for row in progress(hub):
        if row["user"].startswith("burst"):
            attempts[row["user"], row["exercise"]] = row["attempts"]
    assert sum(attempts.values()) == BURST_STUDENTS * BURST_EVENTS
    assert len(attempts) == BURST_STUDENTS * 3
    latencies.sort()
    print(f"\nservicio: {len(latencies)} eventos; latencia mediana {latencies[len(latencies) // 2] * 1000:.0f} ms, "
          f"p95 {latencies[int(len(latencies) * 0.95)] * 1000:.0f} ms")


@pytest.mark.browser
def test_teachers_page_shows_wrong_turning_correct(hub, tmp_path):
    from test_browser import CHROMIUM_ARGS, find_chromium, skip_or_fail
    chromium = find_chromium()
    if chromium is None:
        skip_or_fail("No se encontró Chromium.")
    from playwright.sync_api import sync_playwright

    student = "alumno2"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(hub.url + "hub/login")
            page.fill("input[name=username]", "docente")
            page.fill("input[name=password]", "x")
            page.click("input[type=submit], button[type=submit]")
            page.goto(hub.service)
            page.wait_for_selector("h1:has-text('Progreso de la clase')", timeout=30_000)
            kernel_checks(hub, student, tmp_path, [("1.3", "5")])
            cell = f"td[data-user='{student}'][data-exercise='1.3']"
            page.wait_for_selector(f"{cell}[data-status='wrong']", timeout=15_000)
            assert "✗" in page.inner_text(cell)
            kernel_checks(hub, student, tmp_path, [("1.3", "14")])
            page.wait_for_selector(f"{cell}[data-status='correct']", timeout=15_000)
            assert "✓" in page.inner_text(cell)
        finally:
            browser.close()
