# Soluciones de notebooks/02_log_softmax.ipynb, para el profesorado.
#
# Cada bloque `# %% CLAVE` rellena el hueco del ejercicio CLAVE (trazos.exercises.solutions);
# los bloques de comentarios son la respuesta modelo de una pregunta «Para pensar».

# %% 2.1
my_axis = "filas"  # dim=1 recorre las 10 clases de una imagen: cada fila suma 1
my_count = 6  # una suma por imagen: los logits son [6, 10]

# %% 2.2
my_probs = [0.2, 0.2, 0.6]  # e^0 = 1, e^0 = 1, e^(log 3) = 3; suman 5: 1/5, 1/5, 3/5

# %% 2.3
my_changes = False  # e^(z + 5) = e^5 · e^z: el factor e^5 está arriba y abajo y se cancela

# %% 2.4
my_dim = 0  # en [10, lote] las clases de una misma imagen recorren la dimensión 0 (una columna)

# %% 2.5
my_loss = 1.61  # −log 0.2 = 1.609
my_batch_loss = 1.50  # (−log 0.5 − log 0.1) / 2 = (0.693 + 2.303) / 2 = 1.498

# %% 2.6
my_scale = 45  # el mayor logit de c·z es 2c; e^x desborda float32 si x > 88.7: 2c > 88.7 (con 44, e^88 cabe)

# %% 2.a
# Con dim=0, log_softmax normaliza cada columna: cada clase se reparte entre
# las imágenes del lote. Con una sola imagen, cada columna tiene un único número y su
# log-probabilidad es log 1 = 0: la salida son diez ceros, y argmax, ante un empate, devuelve
# el primer índice, el 0. Durante el entrenamiento la red aprendió otra pregunta: «de las 64
# imágenes de este lote, ¿cuál es más probable que sea un 7?». Por eso la pérdida bajaba; pero
# la respuesta sobre una imagen dependía de las otras imágenes del lote, y sin compañía no hay
# respuesta. El arreglo es dim=1: cada imagen reparte su probabilidad entre sus 10 clases.
