# Soluciones de notebooks/03_construir_el_modelo.ipynb, para el profesorado.
#
# Cada bloque `# %% CLAVE` rellena el hueco del ejercicio CLAVE (trazos.exercises.solutions);
# los bloques de comentarios son la respuesta modelo de una pregunta «Para pensar».
# Parámetros: Conv2d, salida · (entrada · k · k) + salida; Linear, salida · entrada + salida.

from torch import nn

# %% 3.1
my_shape = (4, 8, 8, 8)  # el lote no cambia; 8 filtros; ⌊(12 + 0 − 5) / 1⌋ + 1 = 8

# %% 3.2
my_params = 4824  # 24 · (8 · 5 · 5) + 24 = 4800 + 24

# %% 3.3
my_inputs = 1568  # 28 → 28 → 14 → 14 → 7; 32 · 7 · 7

# %% 3.4
my_total = 220234  # convoluciones 320 + 18.496; fc1 64 · 3136 + 64 = 200.768; fc2 10 · 64 + 10 = 650

# %% 3.5
fc = nn.Linear(800, 10)  # conv1 ⌊(16 + 4 − 3) / 1⌋ + 1 = 18, pool1 9, conv2 11, pool2 5; 32 · 5 · 5 = 800

# %% 3.a
# Los parámetros de fc1 son 128 · entradas + 128, y las entradas son todo lo
# que sale de flatten: 64 · 7 · 7 = 3136. Lo que más reduce es llegar a fc1 con mapas más
# pequeños: otro max pooling tras pool2 deja 64 · 3 · 3 = 576 entradas y fc1 pasa de 401.536 a
# 73.856 parámetros; una media global de cada canal (nn.AdaptiveAvgPool2d(1)) deja 64 entradas
# y 8320 parámetros. Bajar las neuronas de fc1 (ejercicio 3.4) también ayuda, pero solo divide
# entre 2 al pasar de 128 a 64; reducir el lado de los mapas divide por su área (49 → 9 → 1).
# Las convoluciones son baratas porque comparten el kernel en todas las posiciones; la capa
# lineal tiene un peso por cada número que le llega.
