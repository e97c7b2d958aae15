"""El servicio `trazos` del hub de la clase: recibe el progreso de cada `check` y se lo enseña al profesorado.

Lo arranca y lo para JupyterHub (un servicio gestionado: `service_config` lo registra), con
`python -m trazos.classroom.progress_service --base progreso.sqlite`. Escucha en 127.0.0.1, en la
dirección que le da el hub (JUPYTERHUB_SERVICE_URL), y el proxy le pasa todo lo que llega a
/services/trazos/. Quién es quién lo dice siempre el hub (`HubOAuthenticated`, de JupyterHub): con
el token de la petición (el del núcleo del estudiante) o con la cookie que deja el inicio de sesión
OAuth del navegador. Nadie dice su nombre: el servicio se lo pregunta al hub.

- POST api/events: un evento de `trazos.progress`, de quien lo manda. 201 si es nuevo, 200 si ya
  estaba (un reenvío); 4xx con el motivo en español si no vale, y entonces no se guarda nada.
- GET api/mine: las filas del progreso de quien pregunta, de nadie más.
- Solo profesorado (grupo `docentes` o administradores del hub; cualquier otro recibe 403):
  GET api/progress, api/exercises, api/progress.csv y la página (la raíz, en progress_page).
"""

import argparse
import json
import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from ..errors import TrazosValueError
from .progress_page import page_html
from .progress_store import MAX_BODY, EventError, Store, validate

__all__ = ["SERVICE", "TEACHERS", "DB_NAME", "service_config", "delete_progress", "delete_command", "services_using",
           "make_app", "main"]

SERVICE = "trazos"
TEACHERS = "docentes"
DB_NAME = "progreso.sqlite"
PUBLIC_FIELDS = ("user", "exercise", "status", "attempts", "last")


def service_config(c, *, state, port, python=None, admins=()):
    """Registra el servicio en el `c` de un jupyterhub_config.py (después de `hub.configure`).

    - el servicio `trazos`, gestionado por el hub, en 127.0.0.1:`port`, con su base de datos en
      `state`/progreso.sqlite; sin página de confirmación de OAuth (es el servicio de la clase);
    - cada usuario puede llegar a él (`access:services!service=trazos`, en el rol `user`), y el
      token del servidor de cada estudiante, que hereda su núcleo, lleva también ese permiso;
    - cada servidor recibe TRAZOS_PROGRESO_URL, la dirección a la que `check` manda los eventos.
    `admins`: los administradores del hub que no están en el grupo `docentes` y ven la página.
    """
    url = f"http://127.0.0.1:{int(port)}"
    db = Path(state).resolve() / DB_NAME
    services = list(c.JupyterHub.services) if "services" in c.JupyterHub else []
    services.append({
        "name": SERVICE, "url": url, "oauth_no_confirm": True, "display": True,
        "command": [str(python or sys.executable), "-m", "trazos.classroom.progress_service", "--base", str(db)],
        "environment": {"TRAZOS_DOCENTES_ADMIN": ",".join(sorted(admins))},
    })
    c.JupyterHub.services = services
    roles = list(c.JupyterHub.load_roles) if "load_roles" in c.JupyterHub else []
    roles.append({"name": "user", "description": "Cada estudiante: lo suyo y el servicio de progreso",
                  "scopes": ["self", f"access:services!service={SERVICE}"]})
    c.JupyterHub.load_roles = roles
    c.Spawner.server_token_scopes = ["users:activity!user", "access:servers!server",
                                     f"access:services!service={SERVICE}"]
    environment = dict(c.Spawner.environment) if "environment" in c.Spawner else {}
    environment["TRAZOS_PROGRESO_URL"] = f"{url}/services/{SERVICE}/"
    c.Spawner.environment = environment
    return c


def delete_progress(state):
    """Borra el progreso de la clase guardado en `state` (la base de datos y sus ficheros WAL); lo borrado."""
    gone = []
    for suffix in ("", "-wal", "-shm"):
        path = Path(state) / (DB_NAME + suffix)
        if path.exists():
            path.unlink()
            gone.append(path)
    return gone


def services_using(db):
    """Los pid de los servicios de progreso en marcha con la base de datos `db` (leídos de /proc, en Linux)."""
    found, wanted = [], str(Path(db).resolve()).encode()
    proc = Path("/proc")
    for entry in (proc.iterdir() if proc.is_dir() else ()):
        try:
            parts = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"trazos.classroom.progress_service" in parts and wanted in parts:
            found.append(int(entry.name))
    return found


def delete_command(state):
    """`python -m trazos servidor --borrar-progreso`: borra el progreso de la clase y lo dice; código de salida.

    Con la clase en marcha no borra nada: el servicio tiene la base abierta y seguiría escribiendo en la
    borrada (y enseñándola), así que el progreso parecería borrado sin estarlo."""
    running = services_using(Path(state) / DB_NAME)
    if running:
        print(f"Error: la clase está en marcha (el servicio de progreso, pid {', '.join(map(str, running))}, "
              "tiene abierta la base de datos). Para la clase y vuelve a borrar el progreso.", file=sys.stderr)
        return 2
    try:
        gone = delete_progress(state)
    except OSError as error:
        print(f"Error: no se pudo borrar el progreso de {state}: {error.strerror}. ¿Has usado sudo?", file=sys.stderr)
        return 2
    if gone:
        print(f"Progreso de la clase borrado ({', '.join(str(path) for path in gone)}).")
    else:
        print(f"No había progreso guardado en {Path(state) / DB_NAME}.")
    return 0


def _course_exercises():
    from ..exercises import registered
    return set(registered())


def make_app(store, prefix="/services/trazos/", exercises=None, admins=()):
    """La aplicación de tornado del servicio (la importa tarde: trazos no necesita tornado ni JupyterHub)."""
    from jupyterhub.services.auth import HubOAuthCallbackHandler, HubOAuthenticated
    from tornado import web

    exercises = _course_exercises() if exercises is None else set(exercises)
    admins = set(admins)

    class Base(HubOAuthenticated, web.RequestHandler):
        teachers_only = True

        def is_teacher(self, user):
            return TEACHERS in (user.get("groups") or ()) or user.get("admin") or user["name"] in admins

        def write_error(self, status_code, **kwargs):
            reason = kwargs.get("exc_info", (None, None))[1]
            message = getattr(reason, "log_message", None) or {
                401: "Hace falta iniciar sesión en el hub.", 403: "No tienes permiso para ver esto.",
                404: "Aquí no hay nada.", 405: "Método no permitido."}.get(status_code, "Error del servicio.")
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.finish(json.dumps({"error": message}, ensure_ascii=False))

        def user(self):
            """El usuario del hub que pregunta; 401 sin sesión, 403 si no es profesorado (donde hace falta)."""
            user = self.current_user
            if not user:
                raise web.HTTPError(401, "Hace falta el token del hub o iniciar sesión.")
            if user.get("kind", "user") != "user":
                raise web.HTTPError(403, "Solo los usuarios del hub mandan o leen progreso.")
            if self.teachers_only and not self.is_teacher(user):
                raise web.HTTPError(403, "Solo el profesorado (grupo docentes) puede ver el progreso de la clase.")
            return user

        def send_json(self, value, status=200):
            self.set_status(status)
            self.set_header("Content-Type", "application/json; charset=UTF-8")
            self.set_header("Cache-Control", "no-store")
            self.finish(json.dumps(value, ensure_ascii=False))

    class Events(Base):
        teachers_only = False

        def post(self):
            user = self.user()
            if len(self.request.body) > MAX_BODY:
                raise web.HTTPError(413, f"El evento ocupa demasiado (más de {MAX_BODY} bytes).")
            try:
                event = json.loads(self.request.body)
            except ValueError:
                raise web.HTTPError(400, "El cuerpo no es JSON.") from None
            try:
                validate(event, exercises)
            except EventError as error:
                raise web.HTTPError(400, str(error)) from None
            new = store.add(user["name"], event)  # confirmado en el disco antes de responder
            self.send_json({"id": event["id"], "nuevo": new}, 201 if new else 200)

    class Mine(Base):
        teachers_only = False

        def get(self):
            rows = store.progress(self.user()["name"])
            self.send_json([{k: r[k] for k in PUBLIC_FIELDS} for r in rows])

    class Progress(Base):
        def get(self):
            self.user()
            self.send_json([{k: r[k] for k in PUBLIC_FIELDS} for r in store.progress()])

    class Exercises(Base):
        def get(self):
            self.user()
            self.send_json(store.exercises())

    class ProgressCsv(Base):
        def get(self):
            self.user()
            self.set_header("Content-Type", "text/csv; charset=UTF-8")
            self.set_header("Content-Disposition", 'attachment; filename="progreso.csv"')
            self.finish("\ufeff" + store.csv())  # con BOM: así la hoja de cálculo lee bien las tildes

    class Board(Base):
        """Todo lo que pinta la página del profesorado, en una sola petición."""

        def get(self):
            self.user()
            self.send_json({"progress": store.progress(), "exercises": store.exercises(),
                            "help": store.needs_help()})

    class Page(Base):
        @web.authenticated  # sin sesión, al inicio de sesión del hub (OAuth) y de vuelta aquí
        def get(self):
            user = self.user()
            self.set_header("Cache-Control", "no-store")
            self.finish(page_html(user["name"], self.xsrf_token.decode()))

    routes = [("", Page), ("api/events", Events), ("api/mine", Mine), ("api/progress", Progress),
              ("api/exercises", Exercises), ("api/progress.csv", ProgressCsv), ("api/board", Board),
              ("oauth_callback", HubOAuthCallbackHandler)]
    return web.Application([(prefix + path, handler) for path, handler in routes],
                           cookie_secret=os.urandom(32), max_body_size=64 * 1024)


def main(argv=None):
    from tornado import ioloop

    parser = argparse.ArgumentParser(prog="python -m trazos.classroom.progress_service",
                                     description="El servicio de progreso de la clase (lo arranca JupyterHub).")
    parser.add_argument("--base", type=Path, required=True, help="la base de datos SQLite del progreso")
    args = parser.parse_args(argv)
    url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    if not url:
        raise TrazosValueError("Este servicio lo arranca JupyterHub (falta JUPYTERHUB_SERVICE_URL): regístralo con "
                               "progress_service.service_config en jupyterhub_config.py.")
    where = urlparse(url)
    args.base.parent.mkdir(parents=True, exist_ok=True)
    store = Store(str(args.base))
    admins = [name for name in os.environ.get("TRAZOS_DOCENTES_ADMIN", "").split(",") if name]
    app = make_app(store, os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/services/trazos/"), admins=admins)
    app.listen(where.port, where.hostname or "127.0.0.1", xheaders=True)
    print(f"trazos: servicio de progreso en {url} ({store.count()} eventos guardados)", flush=True)
    ioloop.IOLoop.current().start()


if __name__ == "__main__":  # pragma: no cover
    main()
