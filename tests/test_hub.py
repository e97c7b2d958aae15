"""La clase en un JupyterHub de verdad: `python -m trazos servidor --prueba`, con configurable-http-proxy.

- Sin root: la configuración que escribe `--solo-config` (la lee una configuración de traitlets,
  como JupyterHub), y la copia de los cuadernos, que nunca sobrescribe ni sigue un enlace.
- Con root (marcadas slow): una clase de dos estudiantes y una docente, usuarios del sistema que
  crea la orden. Cada estudiante entra por el formulario del hub, tiene su servidor con el curso,
  entrena un poco y construye un explorador, con los hilos de su parte de la CPU; no llega al
  servidor del otro (403) ni a su carpeta (PermissionError), ni escribe en los datos o las redes
  compartidas. Un navegador de verdad entra por la página del hub, abre el 08 y mueve un control.
  Al final, SIGTERM a la orden: no queda ningún proceso ni ningún usuario de la prueba.

Lo que necesitan (root, useradd, configurable-http-proxy y el entorno de los estudiantes, que crea
`sudo bash scripts/entorno_aula.sh`; otro con TRAZOS_AULA_PYTHON): sin eso se saltan diciendo qué
falta, salvo en CI, donde fallan. La clase es la de tests/hub_class.py, una por sesión, que
comparte test_hub_progress.py (el progreso de los ejercicios en esa misma clase): la prueba que
la para va siempre detrás de la última que la usa (lo ordena tests/conftest.py).
"""

import json
import os
import pwd
import sys
from pathlib import Path

import pytest
from hub_class import CLASS_SIZE, PASSWORD, STUDENTS
from traitlets.config import Config

from test_browser import browser, chromium, run_all, src, wait_change, wait_text  # noqa: F401
from trazos.classroom import hub as hub_config
from trazos.classroom import server
from trazos.classroom.room import NOTEBOOKS
from trazos.classroom.visit import Student
from trazos.errors import TrazosValueError

TRAIN_CELL = """
import os, torch, trazos
from torch import nn
train = trazos.load_mnist(train=True, limit=512)
val = trazos.load_mnist(train=False, limit=256)
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 12 * 12, 10))
run = trazos.train_run(net, train, val, epochs=1, progress=False)
print("hilos", torch.get_num_threads(), os.environ["OMP_NUM_THREADS"], os.environ["MKL_NUM_THREADS"], len(run.history))
"""
EXPLORER_CELL = "from trazos import widgets\nwidgets.kernel_explorer(run)"
OTHER_HOME_CELL = """
import pwd
home = pwd.getpwnam({other!r}).pw_dir
for action in (lambda: os.listdir(home), lambda: open(os.path.join(home, "08_laboratorio.ipynb")).read()):
    try:
        action()
        print("leído")
    except PermissionError:
        print("PermissionError")
"""
SHARED_WRITE_CELL = """
for folder in (os.environ["TRAZOS_DATA"], os.environ["TRAZOS_CACHE"]):
    for name, mode in (("mio.txt", "w"), ("leeme.txt", "a")):  # uno nuevo y uno que ya está
        try:
            open(os.path.join(folder, name), mode)
            print("escrito", folder)
        except PermissionError:
            print("no")
"""


# ------------------------------------------------------------------ sin root: la configuración

def load_config(path):
    """Lee un jupyterhub_config.py como JupyterHub: con un `c` de traitlets."""
    c = Config()
    exec(compile(Path(path).read_text(encoding="utf-8"), str(path), "exec"), {"c": c})
    return c


def test_solo_config_writes_an_editable_config_that_configures_the_class(tmp_path, capsys):
    folder = tmp_path / "clase"
    code = server.run(server_args("--solo-config", str(folder), "--python", sys.executable,
                                  "--datos", str(tmp_path / "datos"), "--modelos", str(tmp_path / "modelos")))
    assert code == 0
    path = folder / "jupyterhub_config.py"
    assert "jupyterhub -f" in capsys.readouterr().out
    assert "from trazos.classroom.hub import configure" in path.read_text(encoding="utf-8")
    c = load_config(path)
    assert c.JupyterHub.spawner_class == "localprocess" and c.JupyterHub.authenticator_class == "pam"
    assert c.LocalAuthenticator.admin_groups == {"docentes"}
    assert {"name": "admin", "groups": ["docentes"]} in c.JupyterHub.load_roles
    assert c.JupyterHub.services[0]["command"][1:3] == ["-m", "jupyterhub_idle_culler"]
    environment = c.Spawner.environment
    assert environment["TRAZOS_DATA"] == str(tmp_path / "datos")
    assert environment["TRAZOS_CACHE"] == str(tmp_path / "modelos")
    assert int(environment["OMP_NUM_THREADS"]) >= 1 and environment["MKL_NUM_THREADS"] == environment["OMP_NUM_THREADS"]
    assert c.Spawner.default_url == "/lab" and "PYTHONPATH" not in c.Spawner.env_keep
    assert c.JupyterHub.db_url == f"sqlite:///{folder / 'jupyterhub.sqlite'}"  # el estado, en su carpeta
    # La segunda vez no pisa lo que el profesorado haya editado.
    assert server.run(server_args("--solo-config", str(folder), "--python", sys.executable)) == 2
    assert "no se sobrescribe" in capsys.readouterr().err


def server_args(*argv):
    from trazos.cli import parse_args
    return parse_args(["servidor", *argv])


def test_the_shared_password_only_listens_on_loopback(tmp_path):
    options = dict(python=sys.executable, notebooks=NOTEBOOKS, data=tmp_path, cache=tmp_path, password="x",
                   students={"alumno1"}, teachers={"docente"}, state=tmp_path)
    with pytest.raises(TrazosValueError, match="127.0.0.1"):
        hub_config.configure(Config(), ip="0.0.0.0", **options)
    c = hub_config.configure(Config(), ip="127.0.0.1", cpu=0.5, **options)
    assert c.Authenticator.allowed_users == {"alumno1", "docente"} and c.Authenticator.admin_users == {"docente"}
    assert c.Spawner.environment["OMP_NUM_THREADS"] == "1" and c.Spawner.cpu_limit == 0.5


def test_cpu_share_is_at_least_one_thread():
    assert hub_config.threads_for(hub_config.cpu_share(30, cores=16)) == 1
    assert hub_config.threads_for(hub_config.cpu_share(4, cores=16)) == 4
    assert hub_config.threads_for(hub_config.cpu_share(3, cores=2)) == 1


def test_copy_course_never_overwrites_nor_follows_links(tmp_path):
    home = tmp_path / "casa"
    home.mkdir()
    (home / "08_laboratorio.ipynb").write_text("mi trabajo")
    outside = tmp_path / "fuera.ipynb"
    (home / "01_padding_y_stride.ipynb").symlink_to(outside)  # un enlace a otro sitio, que aún no existe
    copied = hub_config.copy_course(NOTEBOOKS, home, os.getuid(), os.getgid())
    assert "08_laboratorio.ipynb" not in copied and "01_padding_y_stride.ipynb" not in copied
    assert (home / "08_laboratorio.ipynb").read_text() == "mi trabajo" and not outside.exists()
    assert (home / "04_entrenamiento.ipynb").read_bytes() == (NOTEBOOKS / "04_entrenamiento.ipynb").read_bytes()
    assert (home / "04_entrenamiento.ipynb").stat().st_mode & 0o777 == 0o600
    assert hub_config.copy_course(NOTEBOOKS, home, os.getuid(), os.getgid()) == []  # la segunda vez, nada


# ------------------------------------------------------------------ con root: una clase de verdad
# La clase (`classroom`, `students`) es una por sesión: la arrancan las fixtures de tests/conftest.py
# (tests/hub_class.py), y test_hub_progress.py la usa también.

@pytest.mark.slow
def test_each_student_has_the_course_in_a_private_server(classroom, students):
    course = {path.name for path in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")}
    for person in students:
        listing = person.api("GET", "api/contents")
        assert listing.status_code == 200
        assert course <= {item["name"] for item in listing.json()["content"]}
    a, b = students
    assert a.api("GET", "api/contents", server=b.name).status_code == 403
    assert b.api("GET", "api/contents", server=a.name).status_code == 403
    # El grupo docentes administra la clase; un estudiante no ve la lista.
    assert a.session.get(f"{classroom.url}hub/api/users").status_code == 403
    teacher = Student(classroom.url, "docente", PASSWORD)
    teacher.login()
    assert {user["name"] for user in teacher.session.get(f"{classroom.url}hub/api/users").json()} >= {*STUDENTS}
    with pytest.raises(Exception, match="no pudo entrar"):
        Student(classroom.url, "alumno1", "otra-clave").login()


@pytest.mark.slow
def test_students_train_and_explore_with_their_share_of_threads(students):
    threads = hub_config.threads_for(hub_config.cpu_share(CLASS_SIZE))
    for person in students:
        person.start_kernel()
        trained = person.execute(TRAIN_CELL)
        assert trained.error is None, trained.error
        assert f"hilos {threads} {threads} {threads} 1" in trained.text
        explorer = person.execute(EXPLORER_CELL)
        assert explorer.error is None, explorer.error
        assert any("application/vnd.jupyter.widget-view+json" in m["content"].get("data", {})
                   for m in explorer.outputs if m["msg_type"] in ("display_data", "execute_result"))


@pytest.mark.slow
def test_no_student_reads_another_home_or_writes_the_shared_folders(students):
    a, b = students
    if a.kernel is None:
        a.start_kernel()
    a.execute("import os")
    assert a.execute(OTHER_HOME_CELL.format(other=b.name)).text.split() == ["PermissionError", "PermissionError"]
    assert a.execute(SHARED_WRITE_CELL).text.split() == ["no"] * 4


def lab_settings_for_the_test(name):
    """Lo que la prueba necesita de JupyterLab, como lo pone test_browser.py, en la configuración del
    usuario `name` (~/.jupyter, suya): `window.jupyterapp`, para preguntar al cuaderno si terminó, y
    todas las celdas en la página. Lo escribe root, antes de que arranque su servidor."""
    user = pwd.getpwnam(name)
    jupyter = Path(user.pw_dir) / ".jupyter"
    files = {
        jupyter / "jupyter_server_config.json": {"LabApp": {"expose_app_in_browser": True, "news_url": None}},
        jupyter / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings":
            {"windowingMode": "none"},
        jupyter / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
    }
    for path, content in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))
    for folder, _, names in os.walk(jupyter):
        for entry in [folder, *(os.path.join(folder, x) for x in names)]:
            os.chown(entry, user.pw_uid, user.pw_gid)


@pytest.mark.slow
@pytest.mark.browser
def test_a_student_logs_in_through_the_hub_page_opens_08_and_moves_a_slider(classroom, browser):
    name = f"alumno{CLASS_SIZE}"
    lab_settings_for_the_test(name)
    # Un contexto del navegador: sus cookies (la sesión del hub) valen para todas sus páginas.
    context = browser.new_context(viewport={"width": 1500, "height": 1200})
    page = context.new_page()
    page.goto(f"{classroom.url}hub/login", timeout=90_000)
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**/user/{name}/lab**", timeout=180_000)  # el hub arranca su servidor y lo lleva a JupyterLab
    page.close()
    page = run_all(LoggedIn(context), f"{classroom.url}user/{name}/lab/tree/08_laboratorio.ipynb")
    explorer = page.locator(".trazos-activation-explorer").first
    explorer.wait_for(state="attached", timeout=60_000)
    explorer.scroll_into_view_if_needed()
    maps = ".trazos-activation-explorer img.trazos-maps"
    caption = ".trazos-activation-explorer .trazos-caption"
    before = src(page.locator(maps).first)
    explorer.locator(".trazos-stage .noUi-handle").focus()
    page.keyboard.press("ArrowRight")  # conv1 -> relu1 -> pool1
    page.keyboard.press("ArrowRight")
    wait_text(page, caption, "pool1: 16 mapas de 8x8")
    wait_change(page, maps, before)
    context.close()


class LoggedIn:
    """Lo que run_all (test_browser.py) pide a un navegador, con la sesión del estudiante ya abierta."""

    def __init__(self, context):
        self.context = context

    def new_page(self, **options):
        return self.context.new_page()


@pytest.mark.slow
def test_stopping_the_command_leaves_no_process_and_no_user(classroom, students):
    for person in students:
        person.close()
    assert classroom.stop() == 0, "".join(classroom.said)
    state = classroom.state
    assert "Clase parada" in "".join(classroom.said)
    assert server.processes_of(set(classroom.uids)) == []
    leftovers = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
                 if str(state).encode() in _cmdline(pid) or f"--port {classroom.port}".encode() in _cmdline(pid)]
    assert leftovers == []
    for name in classroom.names:
        with pytest.raises(KeyError):
            pwd.getpwnam(name)
    assert not state.exists()  # la carpeta temporal del estado, con las casas de la prueba


def _cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def test_tljh_plugin_sets_the_course_and_the_threads_from_limits_cpu(tmp_path, monkeypatch):
    pytest.importorskip("pluggy")
    from trazos.classroom import tljh
    monkeypatch.setattr(tljh, "ROOT", tmp_path)
    c = Config()
    c.SystemdSpawner.cpu_limit = 1.5  # tljh-config set limits.cpu 1.5
    tljh.tljh_custom_jupyterhub_config(c)
    environment = c.Spawner.environment.get_value({})
    assert environment["OMP_NUM_THREADS"] == environment["MKL_NUM_THREADS"] == "1"
    assert environment["TRAZOS_DATA"] == str(tmp_path / "datos")
    assert c.Spawner.default_url == "/lab" and c.LocalAuthenticator.admin_groups == {"docentes"}
    assert tljh.tljh_extra_user_pip_packages()[0].startswith("trazos @ git+https://github.com/")
