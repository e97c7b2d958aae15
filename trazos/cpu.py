"""Los hilos de PyTorch que caben en la CPU que este proceso puede usar de verdad.

PyTorch pone un hilo por núcleo de la máquina. En un servidor compartido eso es un hilo por
núcleo en cada núcleo de Python: 30 estudiantes en 16 núcleos son 480 hilos peleándose por 16
núcleos, y una celda de 2 s tarda 40. Ni la cuota de CPU de un contenedor ni la de JupyterHub
esconden los núcleos a `os.cpu_count()`, así que se mira lo que de verdad se puede usar:
- los núcleos en los que el proceso puede correr (`os.sched_getaffinity`);
- la cuota del cgroup (`cpu.max` en cgroup v2, `cpu.cfs_quota_us` en v1): 150000/100000 es 1,5 núcleos;
- la variable CPU_LIMIT, la que ponen The Littlest JupyterHub, Zero to JupyterHub y `trazos servidor`.

`fit_threads()` se llama al entrenar o ejecutar una red por primera vez en el proceso (no al
importar trazos, que no cambia nada del proceso) y baja los hilos de PyTorch si sobran, diciéndolo
en una línea. Nunca los sube: quien puso menos (OMP_NUM_THREADS, `torch.set_num_threads`) sabrá por qué.
"""

import math
import os
from pathlib import Path

import torch

__all__ = ["usable_cpus", "fit_threads"]

CGROUP = Path("/sys/fs/cgroup")
_FITTED = []  # si ya se miró en este proceso (una vez basta)


def _cgroup_quota(root=CGROUP, self_cgroup=Path("/proc/self/cgroup")):
    """Los núcleos que permite la cuota del cgroup de este proceso (y de sus padres), o None si no hay cuota."""
    quotas = []
    try:
        lines = self_cgroup.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: cpu.max en la carpeta del grupo y en cada una de sus madres
            folder = root / path.lstrip("/")
            for place in [folder, *folder.parents]:
                if place == root.parent:
                    break
                try:
                    limit, period = (place / "cpu.max").read_text().split()
                except (OSError, ValueError):
                    continue
                if limit != "max":
                    quotas.append(int(limit) / int(period))
        elif "cpu" in controllers.split(","):  # cgroup v1
            folder = root / controllers / path.lstrip("/")
            try:
                limit = int((folder / "cpu.cfs_quota_us").read_text())
                period = int((folder / "cpu.cfs_period_us").read_text())
            except (OSError, ValueError):
                continue
            if limit > 0:
                quotas.append(limit / period)
    return min(quotas) if quotas else None


def usable_cpus():
    """(núcleos que este proceso puede usar, de dónde sale el límite): nunca menos de 1."""
    limits = [(len(os.sched_getaffinity(0)), "los núcleos en los que puede correr")]
    quota = _cgroup_quota()
    if quota is not None:
        limits.append((quota, "la cuota de CPU de su cgroup"))
    try:
        limits.append((float(os.environ["CPU_LIMIT"]), "CPU_LIMIT"))
    except (KeyError, ValueError):
        pass
    cpus, source = min(limits)
    return max(1, math.floor(cpus)), source


def fit_threads():
    """Baja los hilos de PyTorch a los núcleos que el proceso puede usar (una vez por proceso); devuelve cuántos hay.

    Una parte de un núcleo (CPU_LIMIT=0,5) es un hilo: con menos no se puede.
    """
    if _FITTED:
        return torch.get_num_threads()
    _FITTED.append(True)
    threads = torch.get_num_threads()
    cpus, source = usable_cpus()
    if threads > cpus:
        torch.set_num_threads(cpus)
        print(f"trazos: PyTorch usaba {threads} hilos y este proceso puede usar {cpus} "
              f"{'núcleo' if cpus == 1 else 'núcleos'} ({source}): ahora usa {cpus}.")
        return cpus
    return threads
