"""El aula y la publicación: lo que usa el profesorado, no los cuadernos.

El nivel de arriba del paquete es la biblioteca del curso (redes, datos, entrenar, mirar,
dibujar, exploradores, ejercicios); aquí vive lo que rodea al curso, un módulo por idea:
- `room`: preparar un aula sin internet (`python -m trazos preparar`);
- `execute`: copias ejecutadas de los cuadernos, para proyectarlas (`python -m trazos ejecutar`);
- `web`: el curso como sitio web estático (`python -m trazos web`), con `static_view`, la vista
  fija de cada explorador;
- `badges`: las insignias de Colab y Binder y la celda de instalación (`python -m trazos insignias`).

`import trazos` no importa este subpaquete: ni Sphinx ni nbclient entran en un cuaderno.
"""

# Lo que se importaba de `trazos.classroom` cuando era un módulo sigue disponible aquí.
from .room import kernel_problem, notebook_imports, prepare, prepared, run_notebook, training_notebooks  # noqa: F401
