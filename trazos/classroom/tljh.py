"""El curso en The Littlest JupyterHub (TLJH): un plugin con sus tres ganchos de pluggy.

TLJH busca los plugins por el punto de entrada `tljh` (pyproject.toml) en el entorno del hub, y
los instala al arrancar con `--plugin`:

    curl -L https://tljh.jupyter.org/bootstrap.py | sudo python3 - --admin docente \\
        --plugin "trazos[aula] @ git+https://github.com/trazos-curso/trazos"

Lo que hace cada gancho:
- `tljh_extra_user_pip_packages`: el curso (y con él PyTorch) en el entorno de los estudiantes;
- `tljh_custom_jupyterhub_config`: JupyterLab abierto en el curso, TRAZOS_DATA y TRAZOS_CACHE en
  las carpetas de solo lectura de `trazos preparar`, los hilos de la parte de CPU de cada uno
  (`tljh-config set limits.cpu`, que TLJH impone con systemd y anuncia como CPU_LIMIT), el grupo
  `docentes` con derechos de administración, y los cuadernos copiados al arrancar (los que falten);
- `tljh_new_user_create`: la carpeta personal de cada estudiante nuevo, en modo 0700.

Las carpetas salen de TRAZOS_AULA (por defecto /srv/trazos): `cuadernos/` (un clon del curso, o
su carpeta notebooks/), `datos/` y `modelos/` (`sudo python -m trazos preparar --data /srv/trazos/datos
--cache /srv/trazos/modelos`). Sin probar desde la máquina de este repositorio: ver la guía.
"""

import os
from pathlib import Path

from pluggy import HookimplMarker

from .hub import TEACHERS, _private_home, copy_course, cpu_share, threads_for

hookimpl = HookimplMarker("tljh")  # el mismo marcador que tljh.hooks.hookimpl, sin importar tljh
ROOT = Path(os.environ.get("TRAZOS_AULA", "/srv/trazos"))


def _folders():
    notebooks = ROOT / "cuadernos"
    if (notebooks / "notebooks").is_dir():  # un clon del repositorio entero
        notebooks = notebooks / "notebooks"
    return notebooks, ROOT / "datos", ROOT / "modelos"


def system_user(name):
    """El usuario del sistema de un usuario del hub: TLJH los llama jupyter-NOMBRE."""
    import pwd
    try:
        return pwd.getpwnam(f"jupyter-{name}").pw_name
    except KeyError:
        return name


@hookimpl
def tljh_extra_user_pip_packages():
    from .badges import repository_url
    return [f"trazos @ git+{repository_url()}"]


@hookimpl
def tljh_custom_jupyterhub_config(c):
    notebooks, data, cache = _folders()
    # limits.cpu de tljh-config llega aquí ya puesto en el spawner de TLJH (SystemdSpawner).
    share = c.SystemdSpawner.get("cpu_limit") or cpu_share(int(os.environ.get("TRAZOS_ALUMNOS", "1")))
    threads = str(threads_for(share))
    c.Spawner.default_url = "/lab"
    c.Spawner.environment.update({"TRAZOS_DATA": str(data), "TRAZOS_CACHE": str(cache),
                                  "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})
    c.LocalAuthenticator.admin_groups = {TEACHERS}
    c.JupyterHub.load_roles = [*c.JupyterHub.get("load_roles", []), {"name": "admin", "groups": [TEACHERS]}]

    def copy_notebooks(spawner):
        home, uid, gid = _private_home(system_user(spawner.user.name))
        copy_course(notebooks, home, uid, gid)

    c.Spawner.pre_spawn_hook = copy_notebooks


@hookimpl
def tljh_new_user_create(username):
    _private_home(username)  # TLJH crea la cuenta (jupyter-NOMBRE) con useradd: aquí se hace privada
