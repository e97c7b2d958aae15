"""Los eventos de la clase en SQLite: guardar cada uno una sola vez y resumirlos para el profesorado.

Una tabla, `events`, con lo que registra `trazos.progress` y el usuario del hub que lo mandó
(lo pone el servicio, a partir del token; nunca viene en el evento). La clave es el id del
evento: un reenvío del mismo evento no añade nada (INSERT OR IGNORE).

WAL: las lecturas de la página del profesorado no bloquean las escrituras de la clase, y
`synchronous=FULL` hace que cada escritura confirmada esté en el disco antes de responder al
estudiante: lo confirmado sobrevive a que se pare el servicio o la máquina.
"""

import csv
import io
import re
import sqlite3
import statistics
import threading
from collections import Counter
from datetime import datetime, timedelta, timezone

__all__ = ["Store", "validate", "EventError", "HELP_WRONG", "HELP_MINUTES", "MAX_BODY"]

MAX_BODY = 4096  # bytes de un evento, como mucho: uno de verdad ocupa menos de 1 KB
HELP_WRONG, HELP_MINUTES = 3, 5  # «necesita ayuda»: 3 fallos en el mismo ejercicio en 5 minutos
FIELDS = {"id": str, "exercise": str, "verdict": str, "hint": str, "attempt": int, "time": str, "notebook": str}
OPTIONAL = {"answer": str}
LIMITS = {"id": 64, "exercise": 16, "verdict": 8, "hint": 600, "time": 40, "notebook": 200, "answer": 80}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, user TEXT NOT NULL, exercise TEXT NOT NULL, verdict TEXT NOT NULL,
    hint TEXT NOT NULL, attempt INTEGER NOT NULL, time TEXT NOT NULL, notebook TEXT NOT NULL,
    answer TEXT, received TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_user_exercise ON events (user, exercise);
"""


class EventError(ValueError):
    """Un evento que no vale: el mensaje, en español, dice por qué."""


def validate(event, exercises):
    """El evento, comprobado campo a campo; EventError si le falta, le sobra o no encaja algo."""
    if not isinstance(event, dict):
        raise EventError("El evento tiene que ser un objeto JSON.")
    missing = sorted(set(FIELDS) - set(event))
    extra = sorted(set(event) - set(FIELDS) - set(OPTIONAL))
    if missing or extra:
        raise EventError("El evento no tiene los campos esperados" + (f"; faltan: {', '.join(missing)}" if missing
                         else "") + (f"; sobran: {', '.join(extra)}" if extra else "") + ".")
    for name, kind in {**FIELDS, **OPTIONAL}.items():
        if name in event and (not isinstance(event[name], kind) or isinstance(event[name], bool)):
            raise EventError(f"El campo «{name}» tiene que ser {'un número entero' if kind is int else 'un texto'}.")
        if name in event and kind is str and len(event[name]) > LIMITS[name]:
            raise EventError(f"El campo «{name}» es demasiado largo (como mucho {LIMITS[name]} caracteres).")
    if not UUID.match(event["id"]):
        raise EventError("El campo «id» tiene que ser un uuid.")
    if event["verdict"] not in ("correct", "wrong", "pending"):
        raise EventError("El veredicto tiene que ser «correct», «wrong» o «pending».")
    if event["exercise"] not in exercises:
        raise EventError(f"No hay ningún ejercicio {event['exercise']!r} en el curso.")
    if not 0 <= event["attempt"] <= 100_000:
        raise EventError("El número de intento no es válido.")
    try:
        moment = datetime.fromisoformat(event["time"])
    except ValueError:
        raise EventError("El campo «time» tiene que ser una fecha y hora ISO 8601.") from None
    if moment.tzinfo is None:
        raise EventError("La hora del evento tiene que llevar zona horaria (ISO 8601, como 2026-12-06T10:00:00+00:00).")
    return event


def _order(exercise):
    return [int(part) if part.isdigit() else 0 for part in exercise.split(".")]


class Store:
    """La base de datos del servicio: una conexión, protegida por un cerrojo (tornado usa un hilo)."""

    def __init__(self, path):
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self):
        self._db.close()

    def add(self, user, event):
        """Guarda el evento de `user` (ya validado); True si es nuevo, False si ya estaba (un reenvío).

        Se confirma (COMMIT, en el disco) antes de volver: quien responde al estudiante ya lo tiene.
        Un id que ya existe no se toca, ni aunque lo mande otro usuario: no se puede pisar un evento ajeno.
        """
        row = (event["id"], user, event["exercise"], event["verdict"], event["hint"], event["attempt"],
               event["time"], event["notebook"], event.get("answer"),
               datetime.now(timezone.utc).isoformat(timespec="seconds"))
        with self._lock:
            cursor = self._db.execute("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
        return cursor.rowcount == 1

    def count(self):
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def _events(self, user=None):
        query = "SELECT user, exercise, verdict, attempt, time, notebook, answer, hint, id FROM events"
        with self._lock:
            if user is None:
                rows = self._db.execute(query + " ORDER BY time, received").fetchall()
            else:
                rows = self._db.execute(query + " WHERE user = ? ORDER BY time, received", (user,)).fetchall()
        keys = ("user", "exercise", "verdict", "attempt", "time", "notebook", "answer", "hint", "id")
        return [dict(zip(keys, row)) for row in rows]

    def progress(self, user=None):
        """Una fila por estudiante y ejercicio: {"user", "exercise", "status", "attempts", "last", ...}.

        `status` es el último veredicto, salvo que ya lo tuviera correcto (eso no se pierde);
        `attempts`, las respuestas comprobadas (los «pendiente» no cuentan); `last`, la hora del último.
        """
        rows = {}
        for event in self._events(user):
            row = rows.setdefault((event["user"], event["exercise"]), {
                "user": event["user"], "exercise": event["exercise"], "status": "pending", "attempts": 0,
                "last": event["time"], "notebook": event["notebook"], "hints": 0})
            if row["status"] != "correct":
                row["status"] = event["verdict"]
            if event["verdict"] != "pending":
                row["attempts"] += 1
            if event["hint"]:
                row["hints"] += 1
            row["last"] = max(row["last"], event["time"])
        return sorted(rows.values(), key=lambda r: (r["user"], _order(r["exercise"])))

    def exercises(self):
        """Por ejercicio: cuántos lo han intentado, cuántos lo tienen bien, la mediana de intentos y
        las respuestas incorrectas más frecuentes (hasta tres, con cuántas veces)."""
        rows, wrong = {}, {}
        for row in self.progress():
            rows.setdefault(row["exercise"], []).append(row)
        for event in self._events():
            if event["verdict"] == "wrong" and event["answer"]:
                wrong.setdefault(event["exercise"], Counter())[event["answer"]] += 1
        summary = []
        for exercise in sorted(rows, key=_order):
            tried = rows[exercise]
            attempts = [r["attempts"] for r in tried if r["attempts"]]
            summary.append({
                "exercise": exercise, "students": len(tried),
                "correct": sum(r["status"] == "correct" for r in tried),
                "median_attempts": statistics.median(attempts) if attempts else 0,
                "common_wrong": [{"answer": a, "count": n} for a, n in wrong.get(exercise, Counter()).most_common(3)],
            })
        return summary

    def needs_help(self, now=None):
        """[{"user", "exercise", "wrong"}] con HELP_WRONG fallos o más en el mismo ejercicio en los
        últimos HELP_MINUTES minutos, y que aún no lo tienen bien."""
        now = now or datetime.now(timezone.utc)
        since = now - timedelta(minutes=HELP_MINUTES)
        recent, solved = Counter(), set()
        for event in self._events():
            key = (event["user"], event["exercise"])
            if event["verdict"] == "correct":
                solved.add(key)
            elif event["verdict"] == "wrong" and datetime.fromisoformat(event["time"]) >= since:
                recent[key] += 1
        return [{"user": user, "exercise": exercise, "wrong": n}
                for (user, exercise), n in sorted(recent.items()) if n >= HELP_WRONG and (user, exercise) not in solved]

    def csv(self):
        """Una fila por estudiante, una columna por ejercicio: «correcto», «incorrecto» o «pendiente»."""
        words = {"correct": "correcto", "wrong": "incorrecto", "pending": "pendiente"}
        rows = self.progress()
        exercises = sorted({r["exercise"] for r in rows}, key=_order)
        table = {}
        for row in rows:
            table.setdefault(row["user"], {})[row["exercise"]] = words[row["status"]]
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["usuario", *exercises])
        for user in sorted(table):
            writer.writerow([user, *(table[user].get(e, "") for e in exercises)])
        return out.getvalue()

    def delete_all(self):
        with self._lock:
            self._db.execute("DELETE FROM events")
