#!/usr/bin/env bash
# Comprueba de punta a punta un aula preparada: un clon limpio del curso, `trazos preparar` sin red
# y, después, el curso entero con nbval como lo ejecutaría un estudiante: sin red y con las carpetas
# compartidas de datos y de redes de solo lectura.
#
#   sudo bash scripts/comprobar_aula.sh CARPETA_CON_MNIST_RAW [PYTHON]
#
# CARPETA_CON_MNIST_RAW es la que contiene MNIST/raw (se copia, no se toca). PYTHON, el del entorno
# del curso (por defecto, .venv/bin/python). Necesita Linux y root: `unshare -n` quita la red y
# `setpriv` quita a root las capacidades que se saltan los permisos (así obedece los bits, como un
# estudiante). Trabaja en una carpeta temporal, que imprime al final.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
data="$(cd "$1" && pwd)"
python="${2:-$here/.venv/bin/python}"
python="$(cd "$(dirname "$python")" && pwd)/$(basename "$python")"  # absoluta, sin resolver el enlace del entorno
work="$(mktemp -d)"
mkdir -p "$work/compartido/datos/MNIST" "$work/estudiante"
git clone -q "$here" "$work/curso"
cp -r "$data/MNIST/raw" "$work/compartido/datos/MNIST/"
cd "$work/curso"
export PYTHONPATH="$work/curso" MPLBACKEND=Agg  # el trazos del clon, no el del repositorio
unset TRAZOS_DATA TRAZOS_CACHE

echo "== 1. preparar, sin red"
start=$(date +%s)
unshare -n sh -c "ip link set lo up && '$python' -m trazos preparar --data '$work/compartido/datos' --cache '$work/compartido/modelos'"
echo "preparar: $(( $(date +%s) - start )) s"

chmod -R a-w,a+rX "$work/compartido"
chmod 777 "$work/estudiante"

echo "== 2. el curso, como un estudiante: sin red, con datos y redes de solo lectura"
start=$(date +%s)
# --noconftest: el conftest.py de las pruebas pondría una caché temporal en lugar de la compartida.
unshare -n sh -c "ip link set lo up && setpriv --bounding-set -dac_override,-dac_read_search \
    --inh-caps -dac_override,-dac_read_search -- env HOME='$work/estudiante' \
    TRAZOS_DATA='$work/compartido/datos' TRAZOS_CACHE='$work/compartido/modelos' \
    '$python' -m pytest --nbval-lax --noconftest -p no:cacheprovider -q notebooks/"
echo "curso: $(( $(date +%s) - start )) s"

echo "== 3. la carpeta compartida sigue como estaba"
ls "$work/compartido/modelos"
if find "$work/compartido" -name "*.tmp" | grep -q .; then echo "hay ficheros a medias"; exit 1; fi
echo "Todo bien. Carpeta de trabajo: $work"
