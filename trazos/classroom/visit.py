"""Un estudiante simulado: lo que hace una persona en la clase, por HTTP y por el websocket del kernel.

Entra por el formulario del hub, arranca su servidor, abre un kernel y ejecuta código en él como
lo haría JupyterLab (mensajes `execute_request` por el canal del kernel). Lo usan las pruebas del
hub (tests/test_hub.py) y el simulador de una clase (benchmarks/aula.py); sirve también para
comprobar a mano que una clase responde:

    from trazos.classroom.visit import Student
    ana = Student("http://127.0.0.1:8765/", "alumno1", "x")
    ana.login(); ana.spawn(); ana.start_kernel()
    print(ana.execute("import torch; print(torch.get_num_threads())").text)

Cada paso devuelve lo que tardó, en segundos. Solo usa requests y websocket-client, que vienen con
Jupyter Server.
"""

import json
import re
import struct
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin, urlparse

import requests
import websocket

__all__ = ["Student", "Result", "HubError", "progress_burst"]


class HubError(RuntimeError):
    """Algo que un estudiante vería como un fallo: no puede entrar, su servidor no arranca, un 403..."""


@dataclass
class Result:
    """Lo que devolvió una celda: su texto (stdout y resultados), si falló, y cuánto tardó."""
    seconds: float
    text: str = ""
    error: str | None = None
    outputs: list = field(default_factory=list)


def _xsrf_in(html):
    found = re.search(r'name="_xsrf"\s+value="([^"]+)"', html)
    return found.group(1) if found else None


def _decode(frame):
    """Un mensaje del websocket del kernel. Los que llevan datos binarios (las imágenes de un widget)
    llegan en un marco binario: n, n desplazamientos (enteros de 4 bytes) y, en el primer trozo, el JSON."""
    if isinstance(frame, str):
        return json.loads(frame)
    count = struct.unpack("!I", frame[:4])[0]
    offsets = struct.unpack(f"!{count}I", frame[4:4 * (count + 1)])
    end = offsets[1] if count > 1 else len(frame)
    return json.loads(frame[offsets[0]:end].decode("utf-8"))


class Student:
    def __init__(self, url, name, password, timeout=300):
        self.url, self.name, self.password, self.timeout = url.rstrip("/") + "/", name, password, timeout
        self.session = requests.Session()
        self.kernel = self.ws = None
        self.server = urljoin(self.url, f"user/{name}/")

    # -------------------------------------------------------------- la web
    def _cookie(self, name, path_start=""):
        for cookie in self.session.cookies:
            if cookie.name == name and cookie.path.startswith(path_start):
                return cookie.value
        return None

    def login(self):
        """Entra por el formulario de /hub/login; devuelve los segundos."""
        start = time.perf_counter()
        page = self.session.get(urljoin(self.url, "hub/login"), timeout=60)
        form = {"username": self.name, "password": self.password}
        if xsrf := _xsrf_in(page.text):
            form["_xsrf"] = xsrf
        answer = self.session.post(urljoin(self.url, "hub/login"), data=form, allow_redirects=False, timeout=60)
        if answer.status_code != 302 or self._cookie("jupyterhub-hub-login") is None:
            raise HubError(f"{self.name} no pudo entrar (HTTP {answer.status_code})")
        return time.perf_counter() - start

    def spawn(self):
        """Arranca su servidor como el botón del hub y espera a que JupyterLab responda; devuelve los segundos."""
        start = time.perf_counter()
        self.session.get(urljoin(self.url, "hub/spawn"), timeout=self.timeout)
        api = urljoin(self.url, f"hub/api/users/{self.name}")
        while True:
            user = self.session.get(api, timeout=60).json()
            server = user.get("servers", {}).get("", {})
            if server.get("ready"):
                break
            if not user.get("pending") and not server:
                raise HubError(f"El servidor de {self.name} no arrancó (mira el registro del hub)")
            if time.perf_counter() - start > self.timeout:
                raise HubError(f"El servidor de {self.name} no arrancó en {self.timeout} s")
            time.sleep(0.5)
        lab = self.session.get(urljoin(self.server, "lab"), timeout=60)  # el baile de OAuth deja su cookie
        if lab.status_code != 200:
            raise HubError(f"JupyterLab de {self.name} respondió {lab.status_code}")
        return time.perf_counter() - start

    def _headers(self):
        return {"X-XSRFToken": self._cookie("_xsrf", f"/user/{self.name}") or ""}

    def api(self, method, path, server=None, **kwargs):
        """Una petición a la API de Jupyter Server de `server` (por defecto, el suyo); la respuesta."""
        base = urljoin(self.url, f"user/{server}/") if server else self.server
        return self.session.request(method, urljoin(base, path.lstrip("/")), headers=self._headers(), timeout=60,
                                    allow_redirects=False, **kwargs)

    def request_token(self, note, scopes=None, expires_in=None):
        """Un token de la API del hub a su nombre, como el botón «Request new API token» de /hub/token:
        la misma petición de esa página, con su sesión y la protección XSRF del hub. Sin `scopes`,
        el token puede lo mismo que él; `expires_in`, en segundos (sin él, no caduca)."""
        body = {"note": note, "expires_in": expires_in, **({"scopes": list(scopes)} if scopes else {})}
        answer = self.session.post(urljoin(self.url, f"hub/api/users/{self.name}/tokens"), json=body, timeout=60,
                                   headers={"X-XSRFToken": self._cookie("_xsrf", "/hub") or ""})
        if answer.status_code != 201:
            raise HubError(f"{self.name} no pudo pedir un token (HTTP {answer.status_code})")
        return answer.json()["token"]

    def stop(self):
        """Para su servidor (como «Stop My Server»)."""
        xsrf = self._cookie("_xsrf", "/hub") or ""
        self.session.delete(urljoin(self.url, f"hub/api/users/{self.name}/server"), headers={"X-XSRFToken": xsrf},
                            timeout=60)

    # -------------------------------------------------------------- el kernel
    def start_kernel(self, name="python3", path=None):
        """Abre un kernel (si `path`, una sesión de ese cuaderno) y espera a que responda; devuelve los segundos."""
        start = time.perf_counter()
        if path:
            # Como JupyterLab: el nombre del cuaderno también (Jupyter Server lo pone en JPY_SESSION_NAME).
            answer = self.api("POST", "api/sessions", json={"path": path, "type": "notebook",
                                                            "name": path.rsplit("/", 1)[-1], "kernel": {"name": name}})
            kernel = answer.json().get("kernel") if answer.ok else None
        else:
            answer = self.api("POST", "api/kernels", json={"name": name})
            kernel = answer.json() if answer.ok else None
        if not kernel:
            raise HubError(f"{self.name} no pudo abrir un kernel (HTTP {answer.status_code})")
        self.kernel = kernel["id"]
        ws_url = urljoin(self.server, f"api/kernels/{self.kernel}/channels").replace("http", "ws", 1)
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        host = urlparse(self.url)
        self.session_id = uuid.uuid4().hex
        self.ws = websocket.create_connection(f"{ws_url}?session_id={self.session_id}", timeout=self.timeout,
                                              header=[f"Cookie: {cookies}"] + [f"{k}: {v}" for k, v in
                                                                               self._headers().items()],
                                              origin=f"{host.scheme}://{host.netloc}")
        self._request("kernel_info_request", {})
        return time.perf_counter() - start

    def _send(self, msg_type, content):
        msg_id = uuid.uuid4().hex
        self.ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": self.name, "session": self.session_id, "msg_type": msg_type,
                       "version": "5.3", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
            "parent_header": {}, "metadata": {}, "content": content, "channel": "shell", "buffers": []}))
        return msg_id

    def _request(self, msg_type, content):
        """Envía un mensaje y lee hasta que el kernel vuelve a estar libre; (respuesta, mensajes de iopub)."""
        msg_id = self._send(msg_type, content)
        reply, iopub, idle = None, [], False
        deadline = time.monotonic() + self.timeout
        while reply is None or not idle:
            if time.monotonic() > deadline:
                raise HubError(f"El kernel de {self.name} no respondió en {self.timeout} s")
            message = _decode(self.ws.recv())
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if message["channel"] == "shell":
                reply = message
            elif message["channel"] == "iopub":
                if message["msg_type"] == "status":
                    idle = message["content"]["execution_state"] == "idle"
                else:
                    iopub.append(message)
        return reply, iopub

    def execute(self, code):
        """Ejecuta `code` en su kernel como una celda; un `Result` (los errores de la celda, en `error`)."""
        start = time.perf_counter()
        reply, iopub = self._request("execute_request", {"code": code, "silent": False, "store_history": True,
                                                         "user_expressions": {}, "allow_stdin": False,
                                                         "stop_on_error": True})
        seconds = time.perf_counter() - start
        text, error = [], None
        for message in iopub:
            content = message["content"]
            if message["msg_type"] == "stream":
                text.append(content["text"])
            elif message["msg_type"] in ("execute_result", "display_data"):
                text.append(content["data"].get("text/plain", ""))
            elif message["msg_type"] == "error":
                error = f"{content['ename']}: {content['evalue']}"
        if reply["content"]["status"] != "ok" and error is None:
            error = reply["content"].get("ename", "error")
        return Result(seconds, "".join(text), error, iopub)

    def close(self):
        """Cierra el websocket y apaga su kernel."""
        if self.ws is not None:
            self.ws.close()
            self.ws = None
        if self.kernel:
            self.api("DELETE", f"api/kernels/{self.kernel}")
            self.kernel = None


def progress_burst(service, tokens, events=50, exercises=("1.1", "1.2", "1.3")):
    """Una clase que comprueba a la vez: cada token (un estudiante) manda `events` eventos seguidos al
    servicio de progreso (`service`, la dirección que acaba en /services/trazos/), todos a la vez, con
    un POST y una conexión nueva por evento, como el hilo de `check` de cada núcleo. Al final, cada
    uno reenvía su primer evento (lo que hace un núcleo que no recibió la confirmación).

    Devuelve (latencias en s de cada envío nuevo, fallos): un fallo es un envío nuevo que no recibió
    201 o un reenvío que no recibió 200, con su código y su respuesta. Lo usan la prueba de la ráfaga
    (tests/test_progress_hub.py) y benchmarks/aula.py.
    """
    latencies, failures = [], []

    def student(token):
        sent = []
        for j in range(events):
            event = {"id": str(uuid.uuid4()), "exercise": exercises[j % len(exercises)], "verdict": "wrong",
                     "hint": "", "attempt": j + 1, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                     "notebook": "01_padding_y_stride.ipynb", "answer": f"int: {j}"}
            start = time.perf_counter()
            answer = requests.post(urljoin(service, "api/events"), json=event, timeout=60,
                                   headers={"Authorization": f"token {token}"})
            latencies.append(time.perf_counter() - start)
            if answer.status_code != 201:
                failures.append((answer.status_code, answer.text))
            sent.append(event)
        again = requests.post(urljoin(service, "api/events"), json=sent[0], timeout=60,
                              headers={"Authorization": f"token {token}"})
        if again.status_code != 200:
            failures.append((again.status_code, again.text))

    threads = [threading.Thread(target=student, args=(token,)) for token in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures
