"""Los hilos de PyTorch se ajustan a la CPU que el proceso puede usar: al entrenar o mirar una red por
primera vez, no al importar. Las fuentes (afinidad, cgroup, CPU_LIMIT) se simulan: nada depende de esta máquina."""

import subprocess
import sys

import pytest
import torch

from trazos import cpu, runner
from trazos.models import CNN


@pytest.fixture
def fresh(monkeypatch):
    """Un proceso en el que aún no se han mirado los hilos, con 8 hilos de PyTorch y 8 núcleos simulados."""
    monkeypatch.setattr(cpu, "_FITTED", [])
    monkeypatch.setattr(cpu.os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(cpu, "_cgroup_quota", lambda: None)
    monkeypatch.delenv("CPU_LIMIT", raising=False)
    threads = []
    monkeypatch.setattr(cpu.torch, "get_num_threads", lambda: threads[-1] if threads else 8)
    monkeypatch.setattr(cpu.torch, "set_num_threads", threads.append)
    return threads  # los valores que se pasan a torch.set_num_threads (el de verdad no se toca)


def test_cpu_limit_lowers_the_threads_once_and_says_so(fresh, monkeypatch, capsys):
    monkeypatch.setenv("CPU_LIMIT", "2.5")
    assert cpu.fit_threads() == 2
    assert fresh == [2]
    line = capsys.readouterr().out
    assert line.count("\n") == 1 and "8 hilos" in line and "2 núcleos" in line and "CPU_LIMIT" in line
    assert cpu.fit_threads() == 2 and fresh == [2]  # la segunda vez no mira ni dice nada
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("limit, expected", [("0.5", 1), ("1", 1), ("16", 8), ("no-es-un-número", 8)])
def test_a_fraction_of_a_core_is_one_thread_and_more_never_raises(fresh, monkeypatch, limit, expected):
    monkeypatch.setenv("CPU_LIMIT", limit)
    assert cpu.fit_threads() == expected
    assert fresh == ([] if expected == 8 else [expected])


def test_affinity_limits(fresh, monkeypatch, capsys):
    monkeypatch.setattr(cpu.os, "sched_getaffinity", lambda pid: {0, 3, 5})
    assert cpu.fit_threads() == 3
    assert "los núcleos en los que puede correr" in capsys.readouterr().out


def test_cgroup_v2_quota(tmp_path, monkeypatch):
    (tmp_path / "proc").write_text("0::/user.slice/jupyter-ana\n")
    group = tmp_path / "cg" / "user.slice" / "jupyter-ana"
    group.mkdir(parents=True)
    (group / "cpu.max").write_text("150000 100000\n")
    (tmp_path / "cg" / "user.slice" / "cpu.max").write_text("max 100000\n")
    assert cpu._cgroup_quota(tmp_path / "cg", tmp_path / "proc") == 1.5
    (group / "cpu.max").write_text("max 100000\n")
    assert cpu._cgroup_quota(tmp_path / "cg", tmp_path / "proc") is None


def test_cgroup_v1_quota(tmp_path):
    (tmp_path / "proc").write_text("4:memory:/x\n3:cpu,cpuacct:/docker/abc\n")
    group = tmp_path / "cg" / "cpu,cpuacct" / "docker" / "abc"
    group.mkdir(parents=True)
    (group / "cpu.cfs_quota_us").write_text("300000\n")
    (group / "cpu.cfs_period_us").write_text("100000\n")
    assert cpu._cgroup_quota(tmp_path / "cg", tmp_path / "proc") == 3.0
    (group / "cpu.cfs_quota_us").write_text("-1\n")
    assert cpu._cgroup_quota(tmp_path / "cg", tmp_path / "proc") is None


def test_the_quota_counts_when_it_is_the_smallest(fresh, monkeypatch, capsys):
    monkeypatch.setattr(cpu, "_cgroup_quota", lambda: 2.0)
    monkeypatch.setenv("CPU_LIMIT", "4")
    assert cpu.fit_threads() == 2
    assert "cuota de CPU" in capsys.readouterr().out


def test_inference_fits_the_threads(fresh, monkeypatch):
    monkeypatch.setenv("CPU_LIMIT", "1")
    runner.outputs(CNN(), torch.zeros(2, 1, 16, 16))
    assert fresh == [1]


def test_importing_trazos_does_not_touch_the_threads():
    code = ("import os, torch\nos.environ['CPU_LIMIT'] = '1'\nbefore = torch.get_num_threads()\n"
            "import trazos, trazos.widgets\nassert torch.get_num_threads() == before\n"
            "from trazos import loop\nloop._before_training()\nprint(torch.get_num_threads())\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "OMP_NUM_THREADS": "2"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "1"
