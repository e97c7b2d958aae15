"""La disposición del paquete: arriba la biblioteca del curso, en `trazos.classroom` el aula y la publicación.

- ningún círculo de importaciones entre los módulos de trazos (contando también las que se hacen
  dentro de una función: `data` → `render` → `shapes` → `render` → `data` era uno);
- `import trazos` no carga el aula, ni Sphinx, ni JupyterHub, ni playwright, ni nbclient: un
  cuaderno paga solo lo que usa.
"""

import ast
import subprocess
import sys
from pathlib import Path

import trazos

PACKAGE = Path(trazos.__file__).parent


def module_name(path):
    parts = list(path.with_suffix("").relative_to(PACKAGE.parent).parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph():
    """{módulo: módulos de trazos que importa}, arriba o dentro de una función."""
    modules = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = package.split(".")[:len(package.split(".")) - node.level + 1] if node.level else []
                target = ".".join(base + ([node.module] if node.module else []))
                # `from . import render` importa el módulo render; `from .data import x`, el módulo data.
                targets |= {f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
                            for alias in node.names}
            elif isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
        # Un módulo importa siempre los paquetes que lo contienen: esas aristas no son círculos.
        graph[name] = {t for t in targets if t in modules and t != name and not name.startswith(t + ".")
                       and t != "trazos"}
    return graph


def find_cycle(graph):
    """Un círculo de importaciones como lista de módulos, o None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state and (cycle := visit(target, path + [target])):
                return cycle
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node, [node])):
            return cycle
    return None


def test_no_import_cycles():
    graph = import_graph()
    assert {"trazos.data", "trazos.shapes", "trazos.numbers"} <= graph["trazos.render"]  # el grafo se lee bien
    cycle = find_cycle(graph)
    assert cycle is None, "círculo de importaciones: " + " → ".join(cycle)


def test_find_cycle_sees_the_old_circle():
    old = {"trazos.data": {"trazos.render"}, "trazos.render": {"trazos.data", "trazos.shapes"},
           "trazos.shapes": {"trazos.render"}}
    assert find_cycle(old) in (["trazos.data", "trazos.render", "trazos.data"],
                               ["trazos.render", "trazos.data", "trazos.render"])


def test_classroom_code_lives_in_the_subpackage():
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert not top & {"classroom", "web", "web_pages", "static_view", "badges", "execute", "hub"}
    inside = {path.stem for path in (PACKAGE / "classroom").glob("*.py")}
    assert {"room", "web", "web_pages", "static_view", "badges", "execute"} <= inside


def test_import_trazos_loads_only_the_course_library():
    code = ("import sys, trazos\n"
            "heavy = ('sphinx', 'myst_nb', 'jupyterhub', 'playwright', 'nbclient', 'nbformat', 'jupyter_server',\n"
            "         'trazos.classroom', 'trazos.cli')\n"
            "print(' '.join(sorted(m for m in sys.modules if m.startswith(heavy))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "", f"import trazos carga: {done.stdout.strip()}"
