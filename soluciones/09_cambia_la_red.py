# Soluciones de notebooks/09_cambia_la_red.ipynb, para el profesorado.
#
# Cada bloque `# %% CLAVE` rellena el hueco del ejercicio CLAVE (trazos.exercises.solutions);
# los bloques de comentarios son la respuesta modelo de una pregunta «Para pensar».
# Parámetros: Conv2d, salida · (entrada · k · k) + salida; Linear, salida · entrada + salida.
# Lado tras una convolución o un pooling: ⌊(n + 2p − k) / s⌋ + 1 (cuaderno 01).

from torch import nn

# %% 9.1
# conv1 [N, 32, 28, 28] ... pool_1 [N, 64, 7, 7] (4 dimensiones); view [N, 3136] (2 dimensiones).
paso_2d = "view"

# %% 9.2
# conv1 16 · (1 · 7 · 7) + 16 = 800; conv2 32 · (16 · 7 · 7) + 32 = 25.120; fc no cambia,
# porque padding 3 conserva el lado con k = 7: 10 · 512 + 10 = 5130. Total 31.050.
params_7x7 = 31050

# %% 9.3
# conv1 ⌊(28 − 3) / 1⌋ + 1 = 26, pool 13, conv2 11, pool ⌊(11 − 2) / 2⌋ + 1 = 5; 64 · 5 · 5 = 1600.
# fc2 sigue esperando 128 entradas, así que fc1 conserva sus 128 salidas.
aplanado = 1600
capa_fc1 = nn.Linear(1600, 128)

# %% 9.4
# fc1 tiene 401.536 de los 421.642 parámetros, y crece con lo que le llega. Sin pooling el lado se
# queda en 28: llegan 64 · 28 · 28 = 50.176 números y fc1 pasa a 128 · 50.176 + 128 = 6.422.656.
# Los demás: kernel 5x5 × 1,08; doble de filtros × 2,08; sin padding × 0,53; tercera convolución × 1,09.
cambio = "sin pooling"
factor = (320 + 18496 + (128 * 64 * 28 * 28 + 128) + 1290) / 421642  # ≈ 15,28

# %% 9.5
# 80 + 1168 + 2570 = 3818 parámetros (la compacta tiene 9930): 8 y 16 filtros en vez de 16 y 32.
mi_red = nn.Sequential(
    nn.Conv2d(1, 8, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # 8x8x8
    nn.Conv2d(8, 16, kernel_size=3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # 16x4x4
    nn.Flatten(), nn.Linear(16 * 4 * 4, 10))

# %% 9.a
# Casi todos están en fc: sin pooling le llegan 32 · 16 · 16 = 8192 números en vez de 512, y tiene
# un peso por cada número que le llega y cada dígito: 81.930 de los 86.730 parámetros de la variante.
# Cada uno de esos pesos dice cuánto cuenta, para un dígito, que un canal concreto se encienda en un
# píxel concreto. Es una tabla de posiciones exactas: un trazo desplazado un píxel cae sobre otros
# pesos, y para aprender que da igual la red necesita ver ejemplos en cada posición. El max pooling
# se queda con el máximo de cada ventana de 2x2: conserva si el rasgo está y con qué fuerza, no su
# píxel exacto, y divide el lado entre 2; a la capa lineal le llega un resumen más corto y más
# tolerante a pequeños desplazamientos. Más parámetros significa más cosas que ajustar con los
# mismos datos (aquí, 8000 imágenes y 2 épocas): la red puede tardar más en aprovecharlos, o
# aprender detalles de las imágenes de entrenamiento que no se repiten en el test (sobreajuste).
# Por eso, en la tabla, su acierto hay que compararlo con el ruido de la semilla antes de decir que
# mejora; y aunque mejore un poco, lo paga con 8,7 veces los parámetros y unas 4 veces las
# multiplicaciones de la compacta.

# %% 9.b
# Depende de lo que midas, pero con los números de la sección 7: la semilla tiene unas 42 veces los
# parámetros y unas 12,6 veces las multiplicaciones por imagen de la compacta, y tarda varias veces
# más por época; a cambio, con esta receta corta acierta alrededor de un punto más en validación (la celda
# imprime la diferencia y el ruido de semilla). Para una clase con portátiles, la compacta
# entrena la receta completa (5 épocas, 60.000 imágenes) en menos de medio minuto y deja repetir
# experimentos; la semilla tarda unos 15,7 s por época con todas las imágenes en la máquina del curso
# (README): medio minuto con sus 2 épocas y más de un minuto con 5. Antes de decidir mediría:
# (1) las dos con la receta completa, porque con 8000 imágenes y 2 épocas ninguna ha terminado de
# aprender y la diferencia puede cerrarse (en el curso, las dos llegan al 99,2 %); (2) varias
# semillas de cada una, para saber si la diferencia es mayor que el ruido; (3) el tiempo por época
# en los portátiles de la clase, no en otra máquina. Si con la receta completa aciertan casi igual,
# la compacta gana: el mismo acierto por mucho menos tiempo.
