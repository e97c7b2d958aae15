#!/usr/bin/env bash
# Lo que necesita `python -m trazos servidor` en un servidor Debian o Ubuntu (y la CI, para tests/test_hub.py):
#
#   sudo bash scripts/entorno_aula.sh [CARPETA_DEL_ENTORNO]      (por defecto /opt/trazos-aula)
#
# 1. configurable-http-proxy, el proxy de JupyterHub, que se instala con npm (y Node.js de Debian si falta);
# 2. el entorno de los estudiantes: un venv con el Python de Debian (/usr/bin/python3) y el curso
#    instalado (PyTorch, JupyterLab, los widgets y jupyterhub-singleuser). Cada estudiante es un
#    usuario del sistema y su servidor corre con su usuario: necesita un Python que pueda leer y
#    ejecutar, y el de un entorno bajo /root (modo 0700) no lo es.
#
# El hub corre con el Python de quien lo arranca, que necesita el extra aula (`pip install -e ".[aula]"`).
# Se puede repetir: solo instala lo que falta y vuelve a copiar el curso de este repositorio.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
env="${1:-/opt/trazos-aula}"

if ! command -v configurable-http-proxy >/dev/null 2>&1; then
    if ! command -v npm >/dev/null 2>&1; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q nodejs npm
    fi
    npm install -g --no-fund --no-audit configurable-http-proxy
fi

if [ ! -x "$env/bin/python" ]; then
    if ! /usr/bin/python3 -m venv --help >/dev/null 2>&1 || ! /usr/bin/python3 -c "import ensurepip" 2>/dev/null; then
        apt-get update -q
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv
    fi
    /usr/bin/python3 -m venv "$env"
fi
# Una copia del curso, no un enlace al repositorio: los estudiantes no necesitan poder leerlo.
"$env/bin/pip" install -q --disable-pip-version-check "$here[aula]"
"$env/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$here"
rm -rf "$here/build"  # lo que deja setuptools al construir la copia
chmod -R a+rX "$env"
echo "Entorno de los estudiantes: $env/bin/python ($("$env/bin/python" -c 'import torch, trazos; print("torch", torch.__version__, "y trazos", trazos.__version__)'))"
