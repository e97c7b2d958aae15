"""El empaquetado: environment.yml, pyproject.toml y el README dicen lo mismo, la rueda lleva todo el
paquete, y los cuadernos se guardan sin salidas."""

import ast
import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
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


def imported_modules(path):
    """Los módulos de primer nivel que importa un fichero de Python (`import a.b` y `from a import b` dan 'a')."""
    modules = set()
    for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            modules.add(node.module.split(".")[0])
    return modules


def test_every_package_the_tests_import_is_declared():
    """Lo que importan las pruebas está en pyproject.toml (dependencias o extra test): nada llega de rebote
    por ser dependencia de otro paquete, como llegaba PyYAML a través de Jupyter."""
    declared = set(pyproject_requirements(ROOT / "pyproject.toml"))
    distributions = importlib.metadata.packages_distributions()
    files = [ROOT / "conftest.py", *sorted((ROOT / "tests").glob("*.py"))]
    ours = {"trazos"} | {path.stem for path in files}
    undeclared = {}
    for path in files:
        for module in sorted(imported_modules(path) - set(sys.stdlib_module_names) - ours):
            names = {_normalize(name) for name in distributions.get(module, [module])}
            if not names & declared:
                undeclared.setdefault(module, []).append(path.name)
    assert "yaml" in imported_modules(ROOT / "tests" / "test_packaging.py")  # la comprobación mira de verdad
    assert not undeclared, f"módulos que importan las pruebas sin declararlos en pyproject.toml: {undeclared}"


def test_environment_installs_the_package_and_the_same_python():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    pip_sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert any("-e ." in section or "." in section for section in pip_sections), "environment.yml no instala trazos"
    python = [d for d in environment["dependencies"] if isinstance(d, str) and _split(d)[0] == "python"]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    assert [_split(d)[1] for d in python] == [requires.replace(" ", "")]


def test_readme_names_the_python_that_pyproject_requires():
    """El README dice «Python 3.X o posterior» con la misma versión mínima que requires-python."""
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"Python (3\.\d+) o posterior", readme))
    assert named == {requires.replace(" ", "").removeprefix(">=")}, (named, requires)


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


def readme_notebooks():
    """Los cuadernos de la tabla del README (las filas que empiezan por `NN_nombre.ipynb`)."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^\| `(\d\d_\w+\.ipynb)` \|", readme, flags=re.MULTILINE)


def test_notebooks_folder_matches_the_readme_table():
    """Los cuadernos de notebooks/ son los que presenta el README, ni uno más ni uno menos."""
    listed = readme_notebooks()
    assert listed, "el README no tiene la tabla de cuadernos"
    assert [path.name for path in NOTEBOOKS] == sorted(listed)


def test_notebooks_are_committed_clean():
    """Falla si alguno se guardó ejecutado, y también si no hay cuadernos que comprobar."""
    assert len(NOTEBOOKS) >= len(readme_notebooks()) > 0, "no se encontró ningún cuaderno en notebooks/"
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


# --- La rueda ---------------------------------------------------------------------------------------

@pytest.mark.slow  # construye la rueda con pip: unos 2 s
def test_the_wheel_contains_every_file_of_the_package(tmp_path):
    """Una instalación normal (no editable) lleva todos los módulos, los subpaquetes y el .js de los widgets."""
    pytest.importorskip("setuptools", minversion="68", reason="hace falta setuptools>=68 para construir la rueda")
    source = tmp_path / "src"
    # Una copia: construir escribe build/ y *.egg-info, y el repositorio no se toca.
    shutil.copytree(ROOT / "trazos", source / "trazos", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path / "dist"), str(source)], check=True)
    wheel, = (tmp_path / "dist").glob("trazos-*.whl")
    in_wheel = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("trazos/")}
    on_disk = {path.relative_to(source).as_posix() for path in (source / "trazos").rglob("*") if path.is_file()}
    assert "trazos/cli.py" in on_disk and any(name.endswith(".js") for name in on_disk)
    assert sorted(on_disk - in_wheel) == [], "ficheros del paquete que no entran en la rueda"


def test_the_version_is_defined_once():
    """La versión vive en trazos.__version__; pyproject la lee de ahí y no repite el número."""
    import importlib.metadata

    import trazos
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "trazos.__version__"}
    assert importlib.metadata.version("trazos") == trazos.__version__

