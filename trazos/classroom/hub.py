"""La clase en un servidor: la configuración de JupyterHub para el curso, en una sola función.

`configure(c, ...)` deja listo el objeto de configuración `c` de un `jupyterhub_config.py`:
- cada estudiante es un usuario del sistema y su servidor corre con ese usuario
  (`LocalProcessSpawner`), en su carpeta personal, que se deja en modo 0700: nadie más la lee;
- entran solo los de la lista (o los de los grupos del sistema `alumnos` y `docentes`), y el
  grupo `docentes` tiene derechos de administración (ver y parar los servidores de la clase);
- cada servidor es un JupyterLab que se abre en el curso: los cuadernos se copian a la carpeta
  personal al arrancar, solo los que faltan (nunca se sobrescribe el trabajo de nadie);
- TRAZOS_DATA y TRAZOS_CACHE apuntan a las carpetas de solo lectura que hizo `python -m trazos
  preparar`, y OMP_NUM_THREADS y MKL_NUM_THREADS a la parte de la CPU de cada estudiante: con
  un hilo por núcleo en cada núcleo (lo que hace PyTorch si nadie le dice nada), 30 núcleos de
  Python se pelearían por los mismos núcleos;
- jupyterhub-idle-culler para los servidores que llevan un rato sin usarse.

Lo usan el `jupyterhub_config.py` que escribe `python -m trazos servidor --solo-config CARPETA`
(para que el profesorado lo edite) y `python -m trazos servidor` (en `server`). Este módulo no
importa JupyterHub hasta que se llama a `configure`: lo carga el propio hub al leer su configuración.
"""

import grp
import hmac
import ipaddress
import os
import pwd
import stat
import sys
from pathlib import Path

from ..errors import TrazosValueError

__all__ = ["configure", "cpu_share", "threads_for", "copy_course", "TEACHERS", "STUDENTS"]

TEACHERS = "docentes"  # el grupo con derechos de administración, en el sistema y en JupyterHub
STUDENTS = "alumnos"  # el grupo del sistema cuyos miembros pueden entrar (además de la lista)
NOTEBOOK_MODE = 0o600  # los cuadernos copiados: solo su dueño los lee y escribe


def cpu_share(students, cores=None):
    """Los núcleos que tocan a cada estudiante: los que el proceso puede usar, repartidos."""
    cores = cores or len(os.sched_getaffinity(0))
    return cores / max(1, students)


def threads_for(share):
    """Hilos de cálculo para una parte de la CPU: su parte entera, al menos uno."""
    return max(1, int(share))


def copy_course(notebooks, home, uid, gid):
    """Copia a `home` los cuadernos de `notebooks` que aún no están allí; devuelve sus nombres.

    Lo hace el hub, que es root, en la carpeta de otro usuario: por eso cada fichero se crea con
    O_EXCL y O_NOFOLLOW, que fallan si ya existe algo con ese nombre (un cuaderno con trabajo del
    estudiante o un enlace que apunte a otro sitio): nunca se sobrescribe ni se sigue un enlace.
    """
    copied = []
    for source in sorted(Path(notebooks).glob("[0-9][0-9]_*.ipynb")):
        try:
            fd = os.open(Path(home) / source.name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW,
                         NOTEBOOK_MODE)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(source.read_bytes())
            os.fchown(out.fileno(), uid, gid)
        copied.append(source.name)
    return copied


def _private_home(name):
    """La carpeta personal del usuario `name`, creada si falta y en modo 0700; (ruta, uid, gid)."""
    user = pwd.getpwnam(name)
    home = Path(user.pw_dir)
    if not home.exists():
        home.mkdir(mode=0o700, parents=True)
        os.chown(home, user.pw_uid, user.pw_gid)
    info = home.lstat()
    # Solo si es suya: una carpeta personal compartida o de root («/», «/nonexistent») no se toca.
    if stat.S_ISDIR(info.st_mode) and info.st_uid == user.pw_uid and stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(home, 0o700)
    return home, user.pw_uid, user.pw_gid


def _members(group):
    """Los usuarios del grupo del sistema `group` (los que lo tienen como grupo principal, también)."""
    try:
        entry = grp.getgrnam(group)
    except KeyError:
        return set()
    return set(entry.gr_mem) | {user.pw_name for user in pwd.getpwall() if user.pw_gid == entry.gr_gid}


def _loopback(ip):
    try:
        return ipaddress.ip_address(ip).is_loopback
    except ValueError:
        return ip == "localhost"


def _shared_password_authenticator(password):
    """El DummyAuthenticator de JupyterHub con una clave común (solo para el modo de prueba).

    JupyterHub 5.3 dejó obsoleta la clave de DummyAuthenticator, y su SharedPasswordAuthenticator
    pide al menos 8 caracteres: la prueba (`--clave x`) necesita una clave cualquiera.
    """
    from jupyterhub.auth import DummyAuthenticator

    class ClassPassword(DummyAuthenticator):
        async def authenticate(self, handler, data):
            if hmac.compare_digest(data.get("password", "").encode(), password.encode()):
                return data["username"]
            return None

    return ClassPassword


def configure(c, *, python, notebooks, data, cache, students=None, teachers=None, cpu=None, memory=None,
              ip="0.0.0.0", port=8000, state=".", idle_minutes=60, password=None, hub_port=None, proxy_port=None,
              progress_port=8091):
    """Configura `c` (el de un jupyterhub_config.py) para dar el curso a una clase.

    - `python`: el Python del entorno de los estudiantes (con trazos, PyTorch y JupyterLab). Cada
      estudiante lo ejecuta con su usuario: no puede estar bajo una carpeta que no lea (como /root).
    - `notebooks`: la carpeta de los cuadernos que se copian a cada estudiante.
    - `data`, `cache`: los datos (la que contiene MNIST/raw) y las redes entrenadas, de solo lectura.
    - `students`, `teachers`: quién entra. Sin lista, los de los grupos del sistema `alumnos` y `docentes`.
    - `cpu`: núcleos para cada estudiante (por defecto, los de la máquina entre los estudiantes);
      `memory`: memoria para cada uno («2G»), que se anuncia al servidor (MEM_LIMIT) pero no se impone.
    - `ip`, `port`: dónde escucha la clase; `state`: la carpeta de la base de datos, la clave de
      las cookies y el pid del proxy; `idle_minutes`: cuándo se para un servidor sin uso.
    - `progress_port`: el puerto local (127.0.0.1) del servicio `trazos`, el progreso de la clase.
    - `password`: solo para probar: todos entran con esa clave (DummyAuthenticator), y entonces la
      clase tiene que escuchar en una dirección local (127.0.0.1), nunca en la red.
    """
    python, notebooks, state = Path(python), Path(notebooks), Path(state).resolve()
    if not python.is_file():
        raise TrazosValueError(f"No existe el Python de los estudiantes, {python}. Crea su entorno con "
                               "«sudo bash scripts/entorno_aula.sh» o indica otro.")
    if not any(notebooks.glob("[0-9][0-9]_*.ipynb")):
        raise TrazosValueError(f"No hay cuadernos del curso en {notebooks}: indica la carpeta notebooks/ del curso.")
    if password is not None and not _loopback(ip):
        raise TrazosValueError(f"La clave común es solo para probar en esta máquina: la clase escucharía en {ip}. "
                               "Usa 127.0.0.1, o usuarios del sistema (sin clave común) para una clase de verdad.")

    students = set(students or ())
    teachers = set(teachers or ()) or _members(TEACHERS)
    everyone = students | teachers | (set() if students else _members(STUDENTS))
    share = cpu or cpu_share(len(everyone - teachers) or 1)
    threads = threads_for(share)

    # Quién entra y quién administra.
    if password is not None:
        c.JupyterHub.authenticator_class = _shared_password_authenticator(password)
    else:
        c.JupyterHub.authenticator_class = "pam"
        c.LocalAuthenticator.allowed_groups = {STUDENTS, TEACHERS}
        c.LocalAuthenticator.admin_groups = {TEACHERS}
    c.Authenticator.allowed_users = everyone
    c.Authenticator.admin_users = teachers
    c.JupyterHub.load_groups = {TEACHERS: {"users": sorted(teachers)}}
    c.JupyterHub.load_roles = [
        {"name": "admin", "groups": [TEACHERS]},
        {"name": "jupyterhub-idle-culler", "description": "Para los servidores que no se usan",
         "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
         "services": ["jupyterhub-idle-culler"]},
    ]
    c.JupyterHub.services = [{
        "name": "jupyterhub-idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={int(idle_minutes * 60)}",
                    f"--cull-every={max(60, int(idle_minutes * 60) // 4)}"],
    }]

    # Dónde escucha y dónde guarda su estado (nunca en la carpeta desde la que se arranca).
    c.JupyterHub.bind_url = f"http://{ip}:{port}"
    c.JupyterHub.hub_ip = "127.0.0.1"
    if hub_port:
        c.JupyterHub.hub_port = hub_port
    if proxy_port:
        c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{proxy_port}"
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
    c.JupyterHub.cleanup_servers = True  # al parar el hub se paran también los servidores de la clase

    # El servidor de cada estudiante: su usuario, su carpeta, el curso y su parte de la CPU.
    c.JupyterHub.spawner_class = "localprocess"
    c.Spawner.cmd = [str(python.parent / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.notebook_dir = "~"
    c.Spawner.env_keep = ["LANG", "LC_ALL", "JUPYTERHUB_SINGLEUSER_APP"]  # ni PYTHONPATH ni VIRTUAL_ENV del hub
    c.Spawner.cpu_limit = float(share)  # llega al servidor como CPU_LIMIT (trazos lo lee al entrenar)
    if memory:
        c.Spawner.mem_limit = memory
    c.Spawner.environment = {
        "PATH": f"{python.parent}:/usr/local/bin:/usr/bin:/bin",
        "TRAZOS_DATA": str(Path(data).resolve()),
        "TRAZOS_CACHE": str(Path(cache).resolve()),
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
    }
    c.Spawner.http_timeout = 120  # el primer arranque de un entorno con PyTorch lee mucho del disco
    c.Spawner.start_timeout = 180

    def prepare_home(spawner):
        home, uid, gid = _private_home(spawner.user.name)
        copied = copy_course(notebooks, home, uid, gid)
        if copied:
            spawner.log.info("trazos: %d cuadernos copiados a %s", len(copied), home)

    c.Spawner.pre_spawn_hook = prepare_home

    # El progreso de la clase (el servicio `trazos`, /services/trazos/): después de lo anterior, porque
    # añade su servicio, su rol y su variable a los que ya hay.
    from .progress_service import service_config
    service_config(c, state=state, port=progress_port, python=sys.executable, admins=teachers)
    return c
