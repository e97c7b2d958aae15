#!/usr/bin/env bash
# Instalar trazos en máquinas sin internet: una carpeta de ruedas (wheels) que se lleva en un USB.
#
#   bash scripts/sin_conexion.sh preparar [CARPETA] [--cpu]   # con internet, una vez
#   bash scripts/sin_conexion.sh instalar [CARPETA]           # en cada máquina, sin internet
#   bash scripts/sin_conexion.sh probar   [CARPETA] [--cpu]   # las dos cosas, y comprueba el resultado
#
# preparar: descarga trazos y todas sus dependencias (también las de las pruebas) como ruedas
#   en CARPETA (por defecto: ruedas/). Con --cpu (Linux), PyTorch sale de su índice para CPU:
#   sin los varios GB de bibliotecas CUDA que un aula sin GPU no usa.
# instalar: crea el entorno .venv e instala desde CARPETA con el índice apagado (--no-index):
#   si falta algo, pip lo dice en vez de intentar descargarlo.
# probar: preparar + instalar en un entorno temporal + importar trazos; imprime tamaño y tiempos.
#
# Las ruedas son de la plataforma y la versión de Python de la máquina que prepara: prepara en
# el mismo sistema (Linux, Windows o macOS) y con la misma versión de Python que el aula.
set -euo pipefail
cd "$(dirname "$0")/.."

action=${1:-}
folder=${2:-ruedas}
cpu=""
for arg in "$@"; do [ "$arg" = "--cpu" ] && cpu=1; done
[ "$folder" = "--cpu" ] && folder=ruedas

prepare() {
    mkdir -p "$folder"
    if [ -n "$cpu" ]; then
        # El índice de PyTorch solo para CPU; lo demás, del índice normal.
        pip download -d "$folder" torch torchvision --index-url https://download.pytorch.org/whl/cpu
    fi
    # pip wheel construye la rueda de trazos y descarga (o construye) la de cada dependencia.
    pip wheel -w "$folder" --find-links "$folder" ".[test]"
}

install() {
    # PIP_CONFIG_FILE=/dev/null: que ninguna configuración de la máquina añada otros índices.
    python3 -m venv "$1"
    PIP_CONFIG_FILE=/dev/null "$1/bin/pip" install -q --no-index --find-links "$folder" "trazos[test]"
}

case "$action" in
    preparar)
        prepare
        echo "Listo: $(du -sh "$folder" | cut -f1) en $folder. Cópialo al USB junto con el repositorio."
        ;;
    instalar)
        install .venv
        echo "Instalado en .venv sin conexión. Actívalo con: . .venv/bin/activate"
        ;;
    probar)
        start=$(date +%s)
        prepare
        middle=$(date +%s)
        target=$(mktemp -d)/venv
        install "$target"
        end=$(date +%s)
        "$target/bin/python" -c "import torch, trazos, trazos.widgets; print('trazos', trazos.__version__, '· torch', torch.__version__)"
        echo "Carpeta de ruedas: $(du -sh "$folder" | cut -f1) ($(ls "$folder" | wc -l) ficheros), preparada en $((middle - start)) s"
        echo "Instalación sin índice: $((end - middle)) s; entorno instalado: $(du -sh "$target" | cut -f1)"
        ;;
    *)
        sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
        exit 2
        ;;
esac
