"""El empaquetado: environment.yml y pyproject.toml piden lo mismo, y los cuadernos se guardan sin salidas."""

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent

# Nombres de conda que en PyPI se llaman distinto.
CONDA_TO_PYPI = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def _normalize(name):
    """Nombre canónico de un paquete (PEP 503): minúsculas, y '-', '_' y '.' equivalen."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _split(requirement):
    """('nombre normalizado', 'restricción de versión') de una línea como 'ipywidgets>=8.1,<9'."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(.*)", requirement)
    name, spec = match.group(1), re.sub(r"\s+", "", match.group(2))
    return _normalize(CONDA_TO_PYPI.get(name.lower(), name)), spec


def conda_requirements(path):
    environment = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    entries = [d for d in environment["dependencies"] if isinstance(d, str)]
    return dict(_split(entry) for entry in entries if _split(entry)[0] not in NOT_PACKAGES)


def pyproject_requirements(path):
    project = tomllib.loads(Path(path).read_text(encoding="utf-8"))["project"]
    lines = project["dependencies"] + project.get("optional-dependencies", {}).get("test", [])
    return dict(_split(line) for line in lines)


def test_name_normalization():
    assert _split("pytorch>=2.1") == ("torch", ">=2.1")
    assert _split("jupyterlab_widgets >= 3.0") == ("jupyterlab-widgets", ">=3.0")
    assert _split("Jupyter.Server") == ("jupyter-server", "")


def test_environment_and_pyproject_name_the_same_packages():
    conda = conda_requirements(ROOT / "environment.yml")
    pip = pyproject_requirements(ROOT / "pyproject.toml")
    assert {"torch", "torchvision", "matplotlib", "ipywidgets", "pytest"} <= set(pip)
    only_conda, only_pip = sorted(set(conda) - set(pip)), sorted(set(pip) - set(conda))
    assert not only_conda and not only_pip, f"solo en environment.yml: {only_conda}; solo en pyproject.toml: {only_pip}"
    different = {name: (conda[name], pip[name]) for name in conda if conda[name] != pip[name]}
    assert not different, f"versiones distintas (environment.yml, pyproject.toml): {different}"


def test_environment_installs_the_package_and_the_same_python():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert any("-e ." in section or "." in section for section in pip_sections), "environment.yml no instala trazos"
    python = [d for d in environment["dependencies"] if isinstance(d, str) and _split(d)[0] == "python"]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert [_split(d)[1] for d in python] == [requires.replace(" ", "")]


def test_requirement_comparison_catches_a_difference(tmp_path):
    """La comparación de arriba detecta de verdad un paquete que falta o una versión distinta."""
    (tmp_path / "environment.yml").write_text(
        "name: x\ndependencies:\n  - python>=3.10\n  - pytorch>=2.1\n  - numpy>=1.20\n  - pip\n"
        "  - pip:\n      - -e .\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["torch>=2.1", "numpy>=1.24", "tqdm"]\n', encoding="utf-8")
    conda, pip = conda_requirements(tmp_path / "environment.yml"), pyproject_requirements(tmp_path / "pyproject.toml")
    assert set(pip) - set(conda) == {"tqdm"}
    assert conda["numpy"] != pip["numpy"] and conda["torch"] == pip["torch"]


# --- Cuadernos sin salidas -----------------------------------------------------------------------

def notebook_problems(path):
    """Lo que sobra en un cuaderno guardado: salidas, contadores de ejecución o estado de widgets."""
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    problems = []
    for number, cell in enumerate(notebook.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"celda {number}: tiene salidas")
        if cell.get("execution_count") is not None:
            problems.append(f"celda {number}: execution_count={cell['execution_count']}")
    if "widgets" in notebook.get("metadata", {}):
        problems.append("metadata: guarda el estado de los widgets")
    return problems


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_notebooks_are_committed_clean():
    """Pasa si aún no hay cuadernos; falla si alguno se guardó ejecutado."""
    dirty = {path.name: notebook_problems(path) for path in NOTEBOOKS}
    dirty = {name: problems for name, problems in dirty.items() if problems}
    assert not dirty, f"cuadernos guardados con salidas (límpialos antes de subirlos): {dirty}"


def _notebook(cells, metadata=None):
    return {"cells": cells, "metadata": metadata or {}, "nbformat": 4, "nbformat_minor": 5}


def _code(source, outputs=(), execution_count=None):
    return {"cell_type": "code", "execution_count": execution_count, "id": "a1", "metadata": {},
            "outputs": list(outputs), "source": source}


@pytest.mark.parametrize("notebook, expected", [
    (_notebook([{"cell_type": "markdown", "metadata": {}, "source": "# Hola"}, _code("1 + 1")]), []),
    (_notebook([_code("1 + 1", outputs=[{"output_type": "execute_result", "data": {"text/plain": "2"},
                                           "execution_count": 1, "metadata": {}}], execution_count=1)]),
     ["celda 1: tiene salidas", "celda 1: execution_count=1"]),
    (_notebook([_code("x = 1"), _code("print(x)", outputs=[{"output_type": "stream", "name": "stdout",
                                                             "text": "1\n"}])]),
     ["celda 2: tiene salidas"]),
    (_notebook([_code("x = 1", execution_count=7)]), ["celda 1: execution_count=7"]),
    (_notebook([_code("w")], metadata={"widgets": {"application/vnd.jupyter.widget-state+json": {}}}),
     ["metadata: guarda el estado de los widgets"]),
])
def test_notebook_checker(tmp_path, notebook, expected):
    path = tmp_path / "cuaderno.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    assert notebook_problems(path) == expected
