"""Lo que registra cada `check` (trazos.progress), `python -m trazos progreso` y el envío en segundo plano.

Sin hub: el registro local y la orden; el envío, contra un servidor HTTP de esta misma prueba en
127.0.0.1 (o ninguno, para ver que la celda no espera y que lo no confirmado se reenvía).
"""

import http.server
import json
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from trazos import progress, progress_sender
from trazos.exercises import check


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """Un registro vacío para cada prueba, sin hub (ni token ni servicio en el entorno)."""
    monkeypatch.setenv("TRAZOS_PROGRESO", str(tmp_path / "progreso"))
    for name in ("TRAZOS_PROGRESO_URL", "JUPYTERHUB_API_TOKEN", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(progress, "_attempts", None)
    monkeypatch.setattr(progress, "_memory", [])
    monkeypatch.setattr(progress_sender, "_sent", None)
    return tmp_path / "progreso"


def test_each_check_records_one_event(folder, capsys):
    check("1.1", ...)
    check("1.1", "siete")
    check("1.1", 7.5)
    found = progress.events()
    assert [e["verdict"] for e in found] == ["pending", "wrong", "wrong"]
    assert [e["attempt"] for e in found] == [0, 1, 2]
    assert len({e["id"] for e in found}) == 3
    wrong = found[1]
    assert set(wrong) == {"id", "exercise", "verdict", "hint", "attempt", "time", "notebook", "answer"}
    assert wrong["exercise"] == "1.1" and wrong["notebook"] == "01"
    assert wrong["answer"] == "str: 'siete'" and wrong["hint"]
    assert "answer" not in found[0]
    assert (folder / "progreso.jsonl").read_text(encoding="utf-8").count("\n") == 3
    assert "Pista" in capsys.readouterr().out  # lo que ve el estudiante no cambia


def test_long_answers_are_cut_and_tensors_keep_only_their_shape(folder):
    import torch
    assert progress.describe_answer([torch.zeros(30, 40)]) == "Tensor: forma (30, 40)"
    text = progress.describe_answer(["x" * 500])
    assert len(text) <= progress.ANSWER_CHARS
    assert progress.describe_answer([3, 4]) == "tuple: (3, 4)"


def test_notebook_comes_from_the_jupyter_session(folder, monkeypatch):
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/ana/04_convolucion.ipynb")
    assert progress.record("4.1", "correct")["notebook"] == "04_convolucion.ipynb"
    monkeypatch.setenv("JPY_SESSION_NAME", "/home/ana/")  # una sesión abierta sin nombre: solo la carpeta
    assert progress.record("4.1", "correct")["notebook"] == "04"


def test_attempts_continue_in_a_new_kernel(folder):
    progress.record("1.1", "wrong", answers=(3,))
    progress._attempts = None  # un núcleo nuevo lee las cuentas del registro
    assert progress.record("1.1", "correct")["attempt"] == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root escribe aunque la carpeta sea de solo lectura")
def test_read_only_home_never_breaks_check(folder, capsys):
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        check("1.1", 7.5)
    finally:
        folder.chmod(0o700)
    assert "todavía no" in capsys.readouterr().out
    assert [e["verdict"] for e in progress.events()] == ["wrong"]  # en memoria


def test_unwritable_folder_keeps_events_in_memory(folder, monkeypatch, capsys):
    blocker = folder.parent / "un_fichero"
    blocker.write_text("no soy una carpeta")
    monkeypatch.setenv("TRAZOS_PROGRESO", str(blocker / "progreso"))
    check("1.1", 7.5)
    assert "todavía no" in capsys.readouterr().out
    assert [e["verdict"] for e in progress.events()] == ["wrong"]


def test_progreso_command_in_spanish(folder):
    progress.record("1.1", "wrong", answers=(3,))
    progress.record("1.1", "correct")
    progress.record("1.2", "pending")
    env = {**os.environ, "TRAZOS_PROGRESO": str(folder)}
    out = subprocess.run([sys.executable, "-m", "trazos", "progreso"], capture_output=True, text=True, env=env,
                         check=True).stdout
    assert "Tu progreso: 1 de 2 ejercicios correctos." in out
    assert "correcto" in out and "2 intentos" in out and "pendiente" in out


def test_progreso_with_nothing_yet(folder, capsys):
    assert progress.run(None) == 0
    assert "Aún no hay ningún ejercicio" in capsys.readouterr().out


# ------------------------------------------------------------------ el envío, en segundo plano

class _Service(http.server.BaseHTTPRequestHandler):
    """Un servicio de mentira: guarda lo que le llega, con el hilo que lo mandó."""

    received = []

    def do_POST(self):  # noqa: N802 - el nombre lo pone http.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received.append((self.headers["Authorization"], body))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def service(folder, monkeypatch):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    _Service.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "token-de-ana")
    monkeypatch.setenv("TRAZOS_PROGRESO_URL", f"http://127.0.0.1:{server.server_address[1]}/services/trazos")
    yield server
    server.shutdown()
    server.server_close()


def test_events_are_sent_off_the_calling_thread(service, monkeypatch):
    threads = []
    original = progress_sender._post
    monkeypatch.setattr(progress_sender, "_post",
                        lambda *args: threads.append(threading.current_thread()) or original(*args))
    check("1.1", 7.5)
    check("1.1", ...)
    assert progress_sender.flush()
    assert threads and all(t is not threading.current_thread() for t in threads)
    tokens, bodies = zip(*_Service.received)
    assert set(tokens) == {"token token-de-ana"}
    assert [b["verdict"] for b in bodies] == ["wrong", "pending"]
    assert all("user" not in b and "name" not in b for b in bodies)  # nunca un nombre


def test_unacknowledged_events_are_resent_once(folder, monkeypatch):
    # Sin servicio (un puerto en el que no escucha nadie): check no falla y nada se confirma.
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "t")
    monkeypatch.setenv("TRAZOS_PROGRESO_URL", f"http://127.0.0.1:{port}/services/trazos/")
    check("1.1", 7.5)
    check("1.1", 8.5)
    assert progress_sender.flush()
    assert not (folder / progress_sender.SENT_NAME).exists()
    # Vuelve el servicio: la siguiente comprobación manda las tres, una vez cada una.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    _Service.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("TRAZOS_PROGRESO_URL", f"http://127.0.0.1:{server.server_address[1]}/services/trazos/")
        check("1.1", ...)
        assert progress_sender.flush()
        check("1.2", ...)
        assert progress_sender.flush()
    finally:
        server.shutdown()
        server.server_close()
    ids = [body["id"] for _, body in _Service.received]
    assert len(ids) == 4 and len(set(ids)) == 4
    assert sorted(ids) == sorted(e["id"] for e in progress.events())


# ------------------------------------------------------------------ el servicio en la configuración del hub

def test_service_config_registers_the_service_roles_and_the_kernels_url(tmp_path):
    from traitlets.config import Config

    from trazos.classroom import progress_service

    c = Config()
    c.JupyterHub.services = [{"name": "jupyterhub-idle-culler", "command": ["x"]}]
    c.JupyterHub.load_roles = [{"name": "admin", "groups": ["docentes"]}]
    c.Spawner.environment = {"TRAZOS_DATA": "/datos"}
    progress_service.service_config(c, state=tmp_path, port=8123, admins={"jefa"})
    service = c.JupyterHub.services[-1]
    assert [s["name"] for s in c.JupyterHub.services] == ["jupyterhub-idle-culler", "trazos"]
    assert service["url"] == "http://127.0.0.1:8123" and service["oauth_no_confirm"]
    assert service["command"][-2:] == ["--base", str(tmp_path.resolve() / "progreso.sqlite")]
    assert service["environment"] == {"TRAZOS_DOCENTES_ADMIN": "jefa"}
    user_role = next(r for r in c.JupyterHub.load_roles if r["name"] == "user")
    assert "access:services!service=trazos" in user_role["scopes"] and "self" in user_role["scopes"]
    assert "access:services!service=trazos" in c.Spawner.server_token_scopes
    assert c.Spawner.environment == {"TRAZOS_DATA": "/datos",
                                     "TRAZOS_PROGRESO_URL": "http://127.0.0.1:8123/services/trazos/"}


def test_delete_progress_removes_the_database(tmp_path):
    from trazos.classroom import progress_service
    from trazos.classroom.progress_store import Store

    store = Store(str(tmp_path / progress_service.DB_NAME))
    store.add("ana", {"id": "0" * 8 + "-0000-0000-0000-" + "0" * 12, "exercise": "1.1", "verdict": "wrong",
                      "hint": "", "attempt": 1, "time": "2026-12-06T10:00:00+00:00", "notebook": "01"})
    store.close()
    assert progress_service.delete_progress(tmp_path)
    assert not list(tmp_path.glob("progreso.sqlite*"))
    assert progress_service.delete_progress(tmp_path) == []
    assert progress_service.delete_command(tmp_path) == 0


@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="lee /proc (Linux)")
def test_delete_refuses_while_the_service_has_the_database_open(tmp_path, capsys):
    """Un proceso con la línea de órdenes del servicio y esta base: con la clase en marcha no se borra nada."""
    from trazos.classroom import progress_service
    db = tmp_path / progress_service.DB_NAME
    db.write_bytes(b"")
    # Un proceso que se llama como el servicio (sys.argv de un -c) y espera: el servicio de verdad lo arranca el hub.
    fake = subprocess.Popen([sys.executable, "-c", "import time; print('listo', flush=True); time.sleep(60)",
                             "trazos.classroom.progress_service", "--base", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert fake.stdout.readline().strip() == "listo"  # ya es ese proceso (antes, /proc aún enseña el padre)
        assert progress_service.services_using(db) == [fake.pid]
        assert progress_service.delete_command(tmp_path) == 2
        assert "la clase está en marcha" in capsys.readouterr().err and db.exists()
    finally:
        fake.kill()
        fake.wait()
    assert progress_service.delete_command(tmp_path) == 0 and not db.exists()


def test_store_summaries_help_list_and_csv(tmp_path):
    import uuid
    from datetime import datetime, timedelta, timezone

    from trazos.classroom.progress_store import EventError, Store, validate

    now = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)
    store = Store(str(tmp_path / "p.sqlite"))

    def add(user, exercise, verdict, minutes_ago, answer=None):
        event = {"id": str(uuid.uuid4()), "exercise": exercise, "verdict": verdict, "hint": "", "attempt": 1,
                 "time": (now - timedelta(minutes=minutes_ago)).isoformat(), "notebook": "01"}
        if answer:
            event["answer"] = answer
        assert store.add(user, validate(event, {"1.1", "1.2"}))
        return event

    for minutes in (4, 3, 2):
        add("ana", "1.1", "wrong", minutes, "int: 20")
    add("luis", "1.1", "wrong", 30, "int: 20")
    add("luis", "1.1", "wrong", 30, "int: 7")
    repeated = add("luis", "1.1", "correct", 29)
    assert not store.add("luis", repeated)  # el mismo id otra vez: nada nuevo
    add("luis", "1.2", "pending", 1)
    assert store.needs_help(now) == [{"user": "ana", "exercise": "1.1", "wrong": 3}]
    first = store.exercises()[0]
    assert first == {"exercise": "1.1", "students": 2, "correct": 1, "median_attempts": 3,
                     "common_wrong": [{"answer": "int: 20", "count": 4}, {"answer": "int: 7", "count": 1}]}
    assert store.csv().splitlines() == ["usuario,1.1,1.2", "ana,incorrecto,", "luis,correcto,pendiente"]
    with pytest.raises(EventError, match="No hay ningún ejercicio"):
        validate({**repeated, "exercise": "9.9"}, {"1.1"})
