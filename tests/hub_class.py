"""La clase de prueba de las pruebas del hub: `python -m trazos servidor --prueba` en marcha.

Una sola clase por sesión de pruebas (arrancarla, con sus usuarios del sistema y sus servidores,
cuesta casi un minuto): las fixtures `shared`, `classroom` y `students` de tests/conftest.py la
piden aquí y la comparten tests/test_hub.py y tests/test_hub_progress.py. La para, al final,
test_hub.py::test_stopping_the_command_leaves_no_process_and_no_user, que conftest.py pone detrás
de la última prueba que usa la clase.

Lo que necesita (root, useradd, configurable-http-proxy y el entorno de los estudiantes, que crea
`sudo bash scripts/entorno_aula.sh`; otro con TRAZOS_AULA_PYTHON): sin eso se salta diciendo qué
falta, salvo en CI, donde falla.
"""

import os
import pwd
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from trazos import data
from trazos.classroom import server
from trazos.training import trained_model

STUDENT_PYTHON = Path(os.environ.get("TRAZOS_AULA_PYTHON", "/opt/trazos-aula/bin/python"))
PASSWORD = "clave-de-prueba"
STUDENTS = ("alumno1", "alumno2")  # los dos que se comparan; alumno3 es el del navegador
TEACHER = "docente"
CLASS_SIZE = 3
READY_TIMEOUT = 180  # s hasta que la orden dice que la clase está lista
STOP_TEST = "test_stopping_the_command_leaves_no_process_and_no_user"


def missing():
    """Qué falta en esta máquina para levantar una clase de prueba, o None."""
    if os.geteuid() != 0:
        return "La clase de prueba crea usuarios del sistema: hace falta ser root."
    for tool in ("useradd", "userdel", "configurable-http-proxy"):
        if shutil.which(tool) is None:
            return f"Falta {tool} (sudo bash scripts/entorno_aula.sh lo instala)."
    if not STUDENT_PYTHON.is_file():
        return (f"Falta el entorno de los estudiantes, {STUDENT_PYTHON}: créalo con "
                "«sudo bash scripts/entorno_aula.sh» (u otro, con TRAZOS_AULA_PYTHON).")
    return None


def shared_folders(mnist_root):
    """Datos y redes compartidos, como los deja `trazos preparar`: de root y de solo lectura para los demás."""
    folder = Path(tempfile.mkdtemp(prefix="trazos-compartido-"))
    (folder / "datos" / "MNIST").mkdir(parents=True)
    shutil.copytree(Path(mnist_root) / "MNIST" / "raw", folder / "datos" / "MNIST" / "raw")
    models = folder / "modelos"
    # La red del curso, la que carga el 08: entrenada una vez por sesión (si test_browser.py ya la
    # pidió, está en la caché) y copiada, con lo demás de la caché de la sesión, a la carpeta compartida.
    # TRAZOS_AULA_MODELOS: una carpeta de redes ya preparada (`trazos preparar`), para no entrenar.
    prepared = os.environ.get("TRAZOS_AULA_MODELOS")
    if not prepared:
        trained_model("cnn", root=mnist_root, progress=False)
    shutil.copytree(prepared or data.cache_root(), models, ignore=shutil.ignore_patterns("*.tmp"))
    for place in (folder / "datos", models):
        (place / "leeme.txt").write_text("compartido\n")
    subprocess.run(["chmod", "-R", "u+rwX,go=rX", str(folder)], check=True)
    return folder


class Class:
    """La orden `trazos servidor --prueba` en marcha: su proceso, su dirección y lo que va diciendo."""

    def __init__(self, shared, students):
        self.port = server.free_port()
        env = {**os.environ, "TRAZOS_DATA": str(shared / "datos"), "TRAZOS_CACHE": str(shared / "modelos")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "trazos", "servidor", "--prueba", "--alumnos", str(students), "--clave", PASSWORD,
             "--puerto", str(self.port), "--python", str(STUDENT_PYTHON)],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=shared)
        self.lines, self.said = queue.Queue(), []
        threading.Thread(target=self._read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}/"
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.stop()
                pytest.fail(f"La clase no estuvo lista en {READY_TIMEOUT} s:\n{''.join(self.said)}")
            if line is None:  # terminó antes de estar lista: se dice enseguida, con lo que dijo
                pytest.fail(f"La orden terminó (código {self.process.wait()}) antes de estar lista:\n"
                            f"{''.join(self.said)}")
            self.said.append(line)
            if line.startswith("La clase está lista en"):
                assert self.url in line
                break
        self.names = [f"alumno{i}" for i in range(1, students + 1)] + [TEACHER]
        self.uids = [pwd.getpwnam(name).pw_uid for name in self.names]

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)  # la orden cerró su salida

    def _more(self, timeout):
        line = self.lines.get(timeout=timeout)
        if line is not None:
            self.said.append(line)
        return line

    @property
    def state(self):
        """La carpeta del estado de la clase: la del registro, que la orden anuncia justo después de estar lista."""
        while not any("registro: " in line for line in self.said):
            if self._more(timeout=60) is None:
                raise RuntimeError("La orden terminó sin decir dónde está su registro:\n" + "".join(self.said))
        line = next(line for line in self.said if "registro: " in line)
        return Path(line.split("registro: ")[1].split(";")[0]).parent

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=180)
        while not self.lines.empty():
            self._more(timeout=1)
        return self.process.returncode


def stop_test_last(items):
    """Pone la prueba que para la clase detrás de la última que la usa, sea del módulo que sea."""
    stop = [item for item in items if item.name == STOP_TEST]
    rest = [item for item in items if item.name != STOP_TEST]
    users = [i for i, item in enumerate(rest) if "classroom" in getattr(item, "fixturenames", ())]
    if stop and users:
        items[:] = rest[:users[-1] + 1] + stop + rest[users[-1] + 1:]
