"""`python -m trazos servidor`: la clase en un servidor, con JupyterHub configurado por `hub.configure`.

Tres formas de usarlo:
- `python -m trazos servidor --solo-config CARPETA` escribe CARPETA/jupyterhub_config.py, para
  editarlo (quién entra, cuánta CPU, dónde están los datos) y arrancarlo con `jupyterhub -f`;
- `python -m trazos servidor [--carpeta CARPETA]` arranca JupyterHub con esa configuración (la
  escribe si aún no existe; si existe, usa la que haya, con los cambios del profesorado);
- `python -m trazos servidor --prueba --alumnos N --clave CLAVE --puerto P`: una clase de prueba en
  127.0.0.1:P, con los estudiantes alumno1 … alumnoN y la docente `docente` (grupo `docentes`),
  usuarios del sistema que se crean para la ocasión y se borran al terminar, todos con la clave
  CLAVE. Su estado va a `--carpeta` o a una carpeta temporal, nunca a la carpeta actual.

En los dos últimos casos JupyterHub corre en primer plano: imprime la dirección cuando la clase
está lista, y con SIGTERM o Ctrl+C se para el hub y, con él, el servidor de cada estudiante; lo que
quedara de los usuarios de la prueba se termina también: no queda ningún proceso.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from .. import data
from ..arguments import integer
from .hub import TEACHERS, cpu_share
from .room import NOTEBOOKS, prepared

__all__ = ["add_arguments", "run", "write_config", "TEST_USER_MARK"]

DEFAULT_PYTHON = Path("/opt/trazos-aula/bin/python")  # el entorno que crea scripts/entorno_aula.sh
DEFAULT_STATE = Path("/srv/trazos-clase")
CONFIG = "jupyterhub_config.py"
TEST_USER_MARK = "trazos - clase de prueba"  # en el campo GECOS: solo estos se borran
READY_SECONDS = 120

TEMPLATE = '''\
# La clase de trazos en JupyterHub. Escrito por `python -m trazos servidor`; edítalo a tu gusto
# y arráncalo con `jupyterhub -f {config}` (o `python -m trazos servidor --carpeta {folder}`).
#
# Cada opción de configure() está explicada en trazos/classroom/hub.py. Por ejemplo:
# - students={{"ana", "luis"}}: solo esos usuarios (por defecto, los del grupo del sistema «alumnos»);
# - cpu=1.5, memory="3G": núcleos y memoria de cada estudiante;
# - idle_minutes=30: se para el servidor de quien lleva media hora sin usarlo.
# Debajo de configure() puedes cambiar cualquier otra opción de JupyterHub (c.Spawner..., c.JupyterHub...).
from trazos.classroom.hub import configure

configure(
    c,  # noqa: F821 (lo pone JupyterHub al leer este fichero)
{arguments}
)
'''


def write_config(folder, **options):
    """Escribe folder/jupyterhub_config.py con esas opciones de `hub.configure`; devuelve su ruta."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CONFIG
    arguments = "\n".join(f"    {name}={value!r}," for name, value in options.items())
    # 0600: puede llevar la clave común de una clase de prueba.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(TEMPLATE.format(config=path, folder=folder, arguments=arguments))
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _readable_by_all(path):
    """¿Pueden los estudiantes llegar a `path` y leerlo? (cada carpeta de la ruta, con permiso para otros)."""
    path = Path(path).resolve()
    return all(os.stat(p).st_mode & 0o005 == 0o005 for p in [path, *path.parents]) if path.exists() else False


# ------------------------------------------------------------------ los usuarios de la clase de prueba

def _user(name):
    import pwd
    try:
        return pwd.getpwnam(name)
    except KeyError:
        return None


def create_test_users(names, teacher, homes):
    """Crea los usuarios del sistema de la prueba, con su carpeta en `homes` (0700); devuelve sus uid.

    Un usuario que ya existe solo se reutiliza si lo creó una prueba anterior (lo dice su campo
    GECOS): una cuenta de verdad que se llame alumno1 nunca entra con la clave común.
    """
    if subprocess.run(["getent", "group", TEACHERS], capture_output=True).returncode != 0:
        subprocess.run(["groupadd", TEACHERS], check=True)
    uids = {}
    for name in [*names, teacher]:
        home = homes / name
        user = _user(name)
        if user is not None and user.pw_gecos != TEST_USER_MARK:
            raise RuntimeError(f"ya existe un usuario {name} que no es de una clase de prueba: la prueba no lo usa. "
                               "Prueba en otra máquina o borra ese usuario.")
        if user is None:
            extra = ["-G", TEACHERS] if name == teacher else []
            subprocess.run(["useradd", "--comment", TEST_USER_MARK, "--home-dir", str(home), "--no-create-home",
                            "--shell", "/bin/bash", *extra, name], check=True)
            user = _user(name)
        elif str(home) != user.pw_dir:
            subprocess.run(["usermod", "--home", str(home), name], check=True)
        home.mkdir(mode=0o700, exist_ok=True)
        # Una carpeta de una prueba anterior (--carpeta) puede ser de otro uid: vuelve a ser de su usuario.
        for root, dirs, files in os.walk(home):
            for entry in [root, *(os.path.join(root, x) for x in dirs + files)]:
                os.chown(entry, user.pw_uid, user.pw_gid, follow_symlinks=False)
        os.chmod(home, 0o700)
        uids[name] = user.pw_uid
    return uids


def delete_test_users(names):
    for name in names:
        user = _user(name)
        if user is not None and user.pw_gecos == TEST_USER_MARK:
            subprocess.run(["userdel", name], capture_output=True)


# ------------------------------------------------------------------ arrancar y parar el hub

def processes_of(uids):
    """Los pid de los procesos de esos usuarios (leídos de /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        real_uid = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("Uid:"))
        if real_uid in uids:
            found.append(int(entry.name))
    return found


def _terminate(pids, seconds=10):
    """SIGTERM a esos procesos y, a los que sigan vivos pasados `seconds`, SIGKILL."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with _quiet():
                os.kill(pid, sig)
        deadline = time.monotonic() + seconds
        while pids and time.monotonic() < deadline:
            pids = [pid for pid in pids if _alive(pid)]
            time.sleep(0.2)
        if not pids:
            return


def _alive(pid):
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class _quiet:
    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        return kind is not None and issubclass(kind, ProcessLookupError)


def _ready(url, hub, stopping):
    """Espera a que la clase responda en `url` (True), o a que el hub termine o llegue una señal (False)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline and hub.poll() is None and not stopping:
        try:
            with urllib.request.urlopen(url + "hub/health", timeout=2) as answer:
                if answer.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def run_hub(config, state, url, users_uids=(), announce=""):
    """Corre JupyterHub con `config` hasta que termine, o hasta SIGTERM o Ctrl+C; para todo lo que arrancó.

    Devuelve 0 si la clase llegó a estar lista y se paró con una señal; 1 si no arrancó o si
    JupyterHub terminó por su cuenta (el motivo está en el registro, en la carpeta del estado).
    """
    log_path = state / "jupyterhub.log"
    stopping = []
    previous = {sig: signal.signal(sig, lambda signum, frame: stopping.append(signum))
                for sig in (signal.SIGTERM, signal.SIGINT)}
    with open(log_path, "ab") as log:
        # En su propia sesión: Ctrl+C en el terminal llega solo aquí, y aquí se decide cómo parar.
        hub = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(config)], cwd=state,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        ready = _ready(url, hub, stopping)
        if ready:
            print(f"La clase está lista en {url}{announce}", flush=True)
            print(f"(registro: {log_path}; para pararla, Ctrl+C)", flush=True)
        elif not stopping:
            print(f"Error: la clase no llegó a responder en {url}. Mira el registro, {log_path}.", file=sys.stderr)
        while ready and not stopping and hub.poll() is None:
            time.sleep(0.2)
    finally:
        if hub.poll() is None:
            # Al recibir SIGTERM, el hub para los servidores de la clase, el limpiador y el proxy.
            hub.send_signal(signal.SIGTERM)
            try:
                hub.wait(60)
            except subprocess.TimeoutExpired:
                pass
        with _quiet():
            os.killpg(hub.pid, signal.SIGKILL)  # lo que quedara en la sesión del hub
        hub.wait()
        _stop_proxy(state)
        if users_uids:
            _terminate(processes_of(set(users_uids)))
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if ready and stopping:
        print("Clase parada: ni el hub ni los servidores de los estudiantes siguen en marcha.", flush=True)
        return 0
    if ready:
        print(f"Error: JupyterHub terminó solo (código {hub.returncode}). Mira {log_path}.", file=sys.stderr)
    return 1


def _stop_proxy(state):
    """El proxy va en su propia sesión: si el hub no llegó a pararlo, se para por su pid."""
    pid_file = state / "jupyterhub-proxy.pid"
    try:
        pid = int(pid_file.read_text())
    except (OSError, ValueError):
        return
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return
    if b"configurable-http-proxy" in command:
        _terminate([pid])


# ------------------------------------------------------------------ la orden

def add_arguments(parser):
    parser.description = ("La clase en un servidor: JupyterHub con un JupyterLab para cada estudiante, que se abre "
                          "en el curso, con sus hilos de CPU y los datos y redes de `trazos preparar`.")
    parser.epilog = ("Ejemplos: «python -m trazos servidor --solo-config /srv/trazos-clase» (escribe la configuración "
                     "para editarla); «python -m trazos servidor --prueba --alumnos 3 --clave x --puerto 8765» "
                     "(una clase de prueba en esta máquina).")
    parser.add_argument("--solo-config", type=Path, metavar="CARPETA", default=None,
                        help="solo escribe CARPETA/jupyterhub_config.py, para editarlo, y termina")
    parser.add_argument("--carpeta", type=Path, metavar="DIR", default=None,
                        help=f"carpeta del estado del hub (base de datos, clave de las cookies, registro); por "
                             f"defecto {DEFAULT_STATE}, y con --prueba una carpeta temporal")
    parser.add_argument("--prueba", action="store_true",
                        help="clase de prueba en 127.0.0.1, con usuarios alumno1 … alumnoN y docente creados "
                             "para la ocasión y una clave común")
    parser.add_argument("--alumnos", type=lambda text: integer(text, 1, 200), default=3, metavar="N",
                        help="con --prueba, cuántos estudiantes (por defecto: 3)")
    parser.add_argument("--clave", default=None, metavar="CLAVE", help="con --prueba, la clave común de todos")
    parser.add_argument("--puerto", type=lambda text: integer(text, 1, 65535), default=8000, metavar="P",
                        help="puerto de la clase (por defecto: 8000)")
    parser.add_argument("--ip", default=None,
                        help="dirección en la que escucha (por defecto 0.0.0.0; con --prueba siempre 127.0.0.1)")
    parser.add_argument("--python", type=Path, default=None, metavar="PYTHON",
                        help=f"el Python del entorno de los estudiantes (por defecto {DEFAULT_PYTHON}, el que crea "
                             "scripts/entorno_aula.sh)")
    parser.add_argument("--cuadernos", type=Path, default=NOTEBOOKS, metavar="CARPETA",
                        help="los cuadernos que se copian a cada estudiante (por defecto, los del curso)")
    parser.add_argument("--datos", type=Path, default=None, metavar="CARPETA",
                        help="los datos de solo lectura, la carpeta con MNIST/raw (por defecto: $TRAZOS_DATA)")
    parser.add_argument("--modelos", type=Path, default=None, metavar="CARPETA",
                        help="las redes entrenadas de solo lectura (por defecto: $TRAZOS_CACHE)")
    parser.add_argument("--cpu", type=float, default=None, metavar="NÚCLEOS",
                        help="núcleos para cada estudiante (por defecto, los de la máquina entre los estudiantes)")
    parser.add_argument("--borrar-progreso", action="store_true",
                        help="borra el progreso de los ejercicios guardado por la clase (en --carpeta) y termina")


def _python(args):
    python = args.python or (DEFAULT_PYTHON if DEFAULT_PYTHON.exists() else Path(sys.executable))
    return Path(os.path.abspath(python))  # sin resolver el enlace: el del venv es el que sabe de su entorno


def _options(args, state, ip):
    options = {"python": str(_python(args)), "notebooks": str(args.cuadernos.resolve()),
               "data": str(data.data_root(args.datos)), "cache": str(data.cache_root(args.modelos)),
               "ip": ip, "port": args.puerto, "state": str(state)}
    if args.cpu:
        options["cpu"] = args.cpu
    return options


def _warnings(options):
    for what, key in (("el Python de los estudiantes", "python"), ("los datos", "data"), ("las redes", "cache"),
                      ("los cuadernos", "notebooks")):
        if not _readable_by_all(options[key]):
            print(f"Aviso: los estudiantes no pueden leer {what}, {options[key]} (cada carpeta de la ruta necesita "
                  "permiso de lectura y paso para todos: chmod a+rX).", file=sys.stderr)
    if not prepared(options["cache"]):
        print(f"Aviso: las redes de {options['cache']} no las ha dejado listas «python -m trazos preparar»: los "
              "cuadernos que entrenan sus redes (el 04 y el 09) las entrenarán en el núcleo de cada estudiante, con "
              "más memoria y la CPU ocupada en clase. Antes de la clase: python -m trazos preparar --cache "
              f"{options['cache']} --data {options['data']}", file=sys.stderr)


def run(args):
    if args.borrar_progreso:
        from .progress_service import delete_command
        return delete_command((args.carpeta or DEFAULT_STATE).resolve())
    if args.solo_config:
        path = args.solo_config.resolve() / CONFIG
        if path.exists():
            print(f"Error: ya existe {path}; no se sobrescribe. Bórralo o elige otra carpeta.", file=sys.stderr)
            return 2
        options = _options(args, args.solo_config.resolve(), args.ip or "0.0.0.0")
        print(f"Configuración escrita en {write_config(args.solo_config, **options)}. Edítala y arráncala con "
              f"«jupyterhub -f {path}» (como root) o «python -m trazos servidor --carpeta {path.parent}».")
        _warnings(options)
        return 0
    if os.geteuid() != 0:
        print("Error: JupyterHub con usuarios del sistema tiene que arrancarse como root (cada servidor corre "
              "con el usuario de su estudiante). Usa sudo.", file=sys.stderr)
        return 2
    if shutil.which("configurable-http-proxy") is None:
        print("Error: falta configurable-http-proxy, el proxy de JupyterHub. Instálalo con "
              "«npm install -g configurable-http-proxy» (o «sudo bash scripts/entorno_aula.sh»).", file=sys.stderr)
        return 2
    if args.prueba:
        return _run_test_class(args)
    state = (args.carpeta or DEFAULT_STATE).resolve()
    state.mkdir(parents=True, exist_ok=True)
    config = state / CONFIG
    if config.exists():
        print(f"Uso la configuración que ya hay en {config}.")
    else:
        options = _options(args, state, args.ip or "0.0.0.0")
        _warnings(options)
        write_config(state, **options)
    host = args.ip if args.ip and args.ip != "0.0.0.0" else "127.0.0.1"
    return run_hub(config, state, f"http://{host}:{args.puerto}/")


def _run_test_class(args):
    if args.clave is None:
        print("Error: la clase de prueba necesita --clave CLAVE (la de todos sus usuarios).", file=sys.stderr)
        return 2
    if args.ip and args.ip not in ("127.0.0.1", "localhost"):
        print("Error: la clase de prueba, con su clave común, solo escucha en 127.0.0.1.", file=sys.stderr)
        return 2
    if shutil.which("useradd") is None:
        print("Error: la clase de prueba crea usuarios del sistema y aquí no está useradd.", file=sys.stderr)
        return 2
    temporary = args.carpeta is None
    state = Path(tempfile.mkdtemp(prefix="trazos-clase-")) if temporary else args.carpeta.resolve()
    state.mkdir(parents=True, exist_ok=True)
    os.chmod(state, 0o711)  # los estudiantes pasan hacia su carpeta, pero no ven qué hay
    homes = state / "casas"
    homes.mkdir(exist_ok=True)
    os.chmod(homes, 0o711)
    students = [f"alumno{i}" for i in range(1, args.alumnos + 1)]
    teacher = "docente"
    try:
        try:
            uids = create_test_users(students, teacher, homes)
        except (RuntimeError, subprocess.CalledProcessError) as error:
            print(f"Error: {error}", file=sys.stderr)
            return 2
        options = _options(args, state, "127.0.0.1")
        options.update(students=set(students), teachers={teacher}, password=args.clave,
                       hub_port=free_port(), proxy_port=free_port(), progress_port=free_port())
        options.setdefault("cpu", cpu_share(len(students)))
        _warnings(options)
        config = write_config(state, **options)
        names = f"alumno1 … alumno{args.alumnos}" if args.alumnos > 1 else "alumno1"
        return run_hub(config, state, f"http://127.0.0.1:{args.puerto}/",
                       users_uids=uids.values(), announce=f" ({names} y {teacher}, con la clave de --clave)")
    finally:
        delete_test_users([*students, teacher])
        if temporary:
            shutil.rmtree(state, ignore_errors=True)
