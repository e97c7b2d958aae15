# Soluciones de notebooks/01_padding_y_stride.ipynb, para el profesorado.
#
# Cada bloque `# %% CLAVE` rellena el hueco del ejercicio CLAVE (trazos.exercises.solutions);
# los bloques de comentarios son la respuesta modelo de una pregunta «Para pensar».
# Fórmula: salida = ⌊(n + 2p − k) / s⌋ + 1.

# %% 1.1
my_side = 24  # ⌊(28 + 2·0 − 5) / 1⌋ + 1 = 23 + 1

# %% 1.2
my_padding = 2  # p = (k − 1) / 2 = (5 − 1) / 2: ⌊(28 + 4 − 5) / 1⌋ + 1 = 28

# %% 1.3
my_side = 14  # ⌊(28 + 2 − 3) / 2⌋ + 1 = ⌊13.5⌋ + 1 = 13 + 1

# %% 1.4
my_side = 3  # 28 → 14 → 7 → ⌊(7 − 2) / 2⌋ + 1 = 2 + 1; la última fila y columna se pierden

# %% 1.5
my_side = 2  # ⌊(7 − 3) / 3⌋ + 1 = 1 + 1: el kernel empieza en las columnas 0 y 3
my_lost = 1  # ocupa las columnas 0-2 y 3-5; la columna 6 no la toca ninguno

# %% 1.a
# El max pooling no tiene parámetros: de cada ventana de 2x2 se queda con el
# máximo, siempre igual, y cada canal se reduce por separado. La convolución con stride 2 tiene
# pesos que se aprenden (salida · entrada · 3 · 3 + salida; por ejemplo, 9248 con 32 canales de
# entrada y de salida): decide con el entrenamiento cómo resumir cada ventana, mezcla los
# canales y puede aprender a detectar algo a la vez que reduce. El pooling es más barato y
# tolera que el trazo se mueva un píxel dentro de la ventana; la convolución es más flexible,
# pero añade parámetros y cálculo. Las dos dejan el lado a la mitad.

# %% 1.b
# Los dígitos de MNIST están centrados: ocupan un cuadro de unos 20x20 en el
# centro de la imagen de 28x28, y los bordes son casi siempre fondo (ceros). Que el kernel pase
# pocas veces por las esquinas apenas quita información del dígito. Lo que sigue pasando sin
# padding es que la imagen encoge en cada capa (k − 1 píxeles de lado por convolución de k x k):
# con varias capas se queda pequeña enseguida, y los tamaños dejan de ser tan redondos para
# los poolings (28 → 26 → 13 → 11 → 5, en vez de 28 → 14 → 7).
