"""Mandar el progreso al servicio `trazos` del hub de la clase, sin hacer esperar a la celda.

Dentro de un JupyterHub, el núcleo de cada estudiante hereda de su servidor JUPYTERHUB_API_TOKEN
(el token con el que el hub le identifica) y JUPYTERHUB_API_URL. `check` solo guarda el evento en
el registro local y lo pone en una cola; un hilo aparte lo manda con un POST a
`…/services/trazos/api/events`, identificado con ese token (el servicio pregunta al hub de quién
es: en el evento no va ningún nombre). Así la celda no espera a la red, ni aunque el servicio
esté parado.

La dirección del servicio: TRAZOS_PROGRESO_URL, que pone la configuración del hub
(`progress_service.service_config`) en el entorno de cada servidor (el hub no da a los servidores
su dirección pública, y la de JUPYTERHUB_API_URL es la del hub, que no lleva a los servicios).
Sin TRAZOS_PROGRESO_URL o sin token (un portátil, Colab) no se manda nada: solo queda el registro.

Lo que el servicio no confirma (parado, sin red) se reintenta en la siguiente comprobación, con el
mismo id: el servicio guarda cada id una sola vez, así que reenviar nunca duplica. Los ids
confirmados se anotan en `enviados.txt`, junto al registro, para que un núcleo nuevo no los repita.
"""

import json
import os
import queue
import threading
import urllib.error
import urllib.request

from . import progress

__all__ = ["service_url", "enabled", "submit", "flush", "SENT_NAME"]

SENT_NAME = "enviados.txt"
TIMEOUT = 5  # s por envío: un servicio colgado no deja el hilo esperando para siempre

_queue = queue.Queue()
_thread = None
_start_lock = threading.Lock()
_sent = None  # ids confirmados por el servicio
_idle = threading.Event()
_idle.set()


def service_url():
    """La dirección del servicio (acaba en «/»), o None fuera de un hub."""
    url = os.environ.get("TRAZOS_PROGRESO_URL", "").strip()
    if not url:
        return None
    return url if url.endswith("/") else url + "/"


def enabled():
    return bool(service_url() and os.environ.get("JUPYTERHUB_API_TOKEN"))


def _sent_path():
    return progress.progress_folder() / SENT_NAME


def _load_sent():
    global _sent
    if _sent is None:
        try:
            _sent = set(_sent_path().read_text(encoding="utf-8").split())
        except OSError:
            _sent = set()
    return _sent


def _mark_sent(event_id):
    _load_sent().add(event_id)
    try:
        with open(_sent_path(), "a", encoding="utf-8") as out:
            out.write(event_id + "\n")
    except OSError:
        pass  # queda en memoria: en este núcleo no se reenvía


def _post(url, token, event):
    """Manda un evento; True si el servicio lo confirma (lo tiene guardado) o lo rechaza para siempre."""
    body = json.dumps(event, ensure_ascii=False).encode()
    request = urllib.request.Request(url + "api/events", data=body, method="POST", headers={
        "Authorization": f"token {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
            return 200 <= answer.status < 300
    except urllib.error.HTTPError as error:
        # 400 o 413: el evento no vale y reenviarlo no lo arreglará; 401, 403, 5xx: se reintenta.
        return error.code in (400, 413, 422)
    except (OSError, ValueError):
        return False


def _unsent(current):
    """Los eventos del estudiante que el servicio aún no ha confirmado, del más antiguo al más nuevo."""
    sent = _load_sent()
    pending = [e for e in progress.events() if e.get("id") not in sent]
    if current is not None and current.get("id") not in sent and all(e.get("id") != current["id"] for e in pending):
        pending.append(current)
    return pending


def _work():
    while True:
        current = _queue.get()
        _idle.clear()
        try:
            url, token = service_url(), os.environ.get("JUPYTERHUB_API_TOKEN")
            if url and token:
                for event in _unsent(current):
                    if not _post(url, token, event):
                        break  # el servicio no responde: el resto, en la próxima comprobación
                    _mark_sent(event["id"])
        except Exception:  # noqa: BLE001 - el hilo sigue vivo para la próxima comprobación
            pass
        finally:
            if _queue.empty():
                _idle.set()


def submit(event):
    """Pone el evento en la cola del hilo que envía (lo arranca la primera vez). No espera a nada."""
    global _thread
    if event is None or not enabled():
        return False
    with _start_lock:
        if _thread is None or not _thread.is_alive():
            _thread = threading.Thread(target=_work, name="trazos-progreso", daemon=True)
            _thread.start()
    _idle.clear()
    _queue.put(event)
    return True


def flush(timeout=30):
    """Espera a que el hilo termine lo que tiene en cola (para las pruebas y el banco de medidas)."""
    return _idle.wait(timeout)
