"""El progreso de cada estudiante: lo que registra cada `check`, guardado en su propia carpeta.

Cada llamada a `check("4.2", respuesta)` deja un *evento* y nada más que esto:

    {"id": "…uuid…", "exercise": "4.2", "verdict": "wrong", "hint": "…la pista que vio…",
     "attempt": 3, "time": "2026-12-06T23:10:00+00:00", "notebook": "04_convolucion.ipynb",
     "answer": "int: 7"}

- `verdict`: "correct", "wrong" o "pending" (el hueco sigue con `...`);
- `attempt`: cuántas respuestas (correctas o no) lleva en ese ejercicio, contando esta; un
  «pendiente» no es un intento y lleva las que hubiera;
- `answer`, solo si es incorrecta: su tipo y su valor, en 80 caracteres como mucho, para que el
  profesorado vea los errores frecuentes. Nunca el código del estudiante ni nada más de su núcleo;
- `notebook`: el cuaderno en el que se ejecutó. Jupyter pone en el entorno del núcleo su ruta
  (JPY_SESSION_NAME, y en el espacio de nombres `__session__`); fuera de Jupyter (un script,
  Colab) se usa el número del ejercicio: «04» para el 4.2.

Los eventos se añaden, uno por línea (JSON lines), a `progreso.jsonl` en la carpeta de datos del
estudiante: $TRAZOS_PROGRESO si está definida; si no, $XDG_DATA_HOME/trazos, o
~/.local/share/trazos (la carpeta de datos de usuario de XDG). Si no se puede escribir allí (una
carpeta personal de solo lectura o que no existe), el evento se queda en memoria mientras dure el
núcleo: registrar el progreso nunca rompe `check`.

`python -m trazos progreso` enseña al estudiante su progreso, cuaderno a cuaderno. En la clase
con JupyterHub, `progress_sender` manda además cada evento al servicio `trazos` del hub.
"""

import json
import os
import reprlib
import sys
import threading
import uuid
from datetime import datetime, timezone
from pathlib import Path

__all__ = ["VERDICTS", "progress_folder", "log_path", "new_event", "record", "events", "summary",
           "describe_answer", "notebook_name", "add_arguments", "run"]

VERDICTS = ("correct", "wrong", "pending")
LOG_NAME = "progreso.jsonl"
ANSWER_CHARS = 80  # lo que se guarda de una respuesta incorrecta, como mucho

_lock = threading.Lock()
_attempts = None  # ejercicio -> intentos, leídos del registro la primera vez
_memory = []  # los eventos que no se pudieron escribir en disco


def progress_folder():
    """La carpeta de datos del estudiante donde se guarda su progreso (no se crea aquí)."""
    if os.environ.get("TRAZOS_PROGRESO"):
        return Path(os.environ["TRAZOS_PROGRESO"])
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "trazos"


def log_path():
    return progress_folder() / LOG_NAME


def _read_log(path):
    """Los eventos de `path`; una línea a medias (un núcleo que se cortó al escribir) se ignora."""
    found = []
    try:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue
                if isinstance(event, dict) and "exercise" in event:
                    found.append(event)
    except OSError:
        pass
    return found


def events():
    """Todos los eventos del estudiante: los del registro y los que solo están en memoria."""
    found = _read_log(log_path())  # sin el cerrojo: una comprobación no espera a que otro hilo lea el registro
    with _lock:
        return found + list(_memory)


def describe_answer(answers):
    """El tipo y el valor de una respuesta, en ANSWER_CHARS caracteres como mucho («int: 7»).

    De un tensor o un array grande solo se guarda la forma: su valor no cabe y no ayuda a ver
    el error frecuente. reprlib acorta listas y textos largos sin construir su repr entero.
    """
    answer = answers[0] if len(answers) == 1 else tuple(answers)
    shape = getattr(answer, "shape", None)
    size = getattr(answer, "numel", None) or getattr(answer, "size", None)
    size = size() if callable(size) else size
    if shape is not None and isinstance(size, int) and size > 8:
        text = f"{type(answer).__name__}: forma {tuple(shape)}"
    else:
        short = reprlib.Repr()
        short.maxstring, short.maxother, short.maxlist, short.maxtuple = 60, 60, 8, 8
        try:
            text = f"{type(answer).__name__}: {short.repr(answer)}"
        except Exception:  # noqa: BLE001 - un objeto con un repr roto no rompe la comprobación
            text = type(answer).__name__
    return text if len(text) <= ANSWER_CHARS else text[:ANSWER_CHARS - 1] + "…"


def notebook_name(exercise):
    """El cuaderno donde se ejecuta `check`: el que dice Jupyter o, si no, el número del ejercicio.

    Jupyter Server forma JPY_SESSION_NAME con la carpeta del núcleo y el nombre que manda el
    cliente al abrir la sesión: un cliente que no manda nombre deja solo la carpeta («…/ana/»),
    que no dice qué cuaderno es.
    """
    session = os.environ.get("JPY_SESSION_NAME")
    if not session:
        main = sys.modules.get("__main__")
        session = getattr(main, "__session__", None)
    name = os.path.basename(session.strip()) if isinstance(session, str) else ""
    if name:
        return name
    prefix = exercise.split(".")[0]
    return f"{int(prefix):02d}" if prefix.isdigit() else prefix


def _count_attempts():
    counts = {}
    for event in _read_log(log_path()):
        if event.get("verdict") in ("correct", "wrong"):
            counts[event["exercise"]] = counts.get(event["exercise"], 0) + 1
    return counts


def new_event(exercise, verdict, hint="", answers=()):
    """El evento de una comprobación (con su número de intento), aún sin guardar."""
    global _attempts
    if verdict not in VERDICTS:
        raise ValueError(f"veredicto desconocido: {verdict!r}")
    with _lock:
        if _attempts is None:
            _attempts = _count_attempts()
        if verdict != "pending":
            _attempts[exercise] = _attempts.get(exercise, 0) + 1
        attempt = _attempts.get(exercise, 0)
    event = {"id": str(uuid.uuid4()), "exercise": exercise, "verdict": verdict, "hint": hint or "",
             "attempt": attempt, "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "notebook": notebook_name(exercise)}
    if verdict == "wrong":
        event["answer"] = describe_answer(answers)
    return event


def _append(event):
    """Añade el evento al registro; False si no se pudo (entonces se queda en memoria)."""
    line = json.dumps(event, ensure_ascii=False) + "\n"
    try:
        folder = progress_folder()
        folder.mkdir(parents=True, exist_ok=True)
        # Una sola escritura en modo «a»: dos núcleos a la vez no mezclan sus líneas.
        with open(folder / LOG_NAME, "a", encoding="utf-8") as log:
            log.write(line)
        return True
    except OSError:
        return False


def record(exercise, verdict, hint="", answers=()):
    """Crea el evento de una comprobación, lo guarda y lo devuelve. Nunca lanza un error."""
    try:
        event = new_event(exercise, verdict, hint, answers)
    except Exception:  # noqa: BLE001 - el progreso es un extra: la comprobación sigue sin él
        return None
    if not _append(event):
        with _lock:
            _memory.append(event)
    return event


# ------------------------------------------------------------------ lo que ve el estudiante

STATUS_ES = {"correct": "✅ correcto", "wrong": "❌ todavía no", "pending": "⏳ pendiente"}


def summary(found):
    """{cuaderno: {ejercicio: (estado, intentos)}}: el último veredicto y los intentos de cada ejercicio.

    Un ejercicio correcto sigue correcto aunque después se compruebe otra respuesta: ya lo consiguió.
    """
    table = {}
    for event in sorted(found, key=lambda e: e.get("time", "")):
        notebook = table.setdefault(event.get("notebook", "?"), {})
        status, attempts = notebook.get(event["exercise"], ("pending", 0))
        if status != "correct":
            status = event.get("verdict", "pending")
        notebook[event["exercise"]] = (status, max(attempts, int(event.get("attempt", 0) or 0)))
    return table


def _exercise_order(key):
    return [int(part) if part.isdigit() else 0 for part in key.split(".")]


def add_arguments(parser):
    parser.description = ("Tu progreso en los ejercicios del curso: en cada cuaderno, qué ejercicios están "
                          "correctos, cuáles todavía no y cuántos intentos llevas.")
    parser.epilog = f"Se guarda en {log_path()} (otra carpeta con la variable de entorno TRAZOS_PROGRESO)."


def run(args):
    found = events()
    if not found:
        print(f"Aún no hay ningún ejercicio comprobado (se guardan en {log_path()}).")
        return 0
    table = summary(found)
    right = sum(status == "correct" for exercises in table.values() for status, _ in exercises.values())
    total = sum(len(exercises) for exercises in table.values())
    print(f"Tu progreso: {right} de {total} ejercicios correctos.")
    for notebook in sorted(table):
        print(f"\n{notebook}")
        for exercise in sorted(table[notebook], key=_exercise_order):
            status, attempts = table[notebook][exercise]
            tries = "intento" if attempts == 1 else "intentos"
            print(f"  {exercise:>6}  {STATUS_ES.get(status, status):<15} {attempts} {tries}")
    return 0
