# Soluciones del cuaderno 08_laboratorio: un bloque por ejercicio («# %% 8.1») y una respuesta
# modelo por pregunta abierta («# %% 8.a»). Cada bloque de código sustituye los huecos de su celda.

# %% 8.a
# Respuesta modelo (los números de canal dependen del entrenamiento): los mapas de algunos
# canales se encienden a lo largo de la barra horizontal de un 7 o de un 4 y apenas en los
# palos verticales; otros, al revés. Sus kernels lo muestran: uno que responde a bordes
# horizontales tiene una fila positiva (roja) y otra negativa (azul), una encima de otra;
# uno de bordes verticales, dos columnas de signo opuesto. Un kernel así calcula la
# diferencia entre los dos lados del borde.

# %% 8.1
# Distancia de cada época a los pesos finales, comparada con el 20 % del camino total.
total = np.linalg.norm(history[-1] - history[0])
epoca = next(e for e in range(len(history)) if np.linalg.norm(history[e] - history[-1]) < 0.2 * total)

# %% 8.2
# Con stride 1, salida = n + 2p - k + 1: el lado se conserva si 2p = k - 1, es decir p = 2 con k = 5.
padding = 2

# %% 8.b
# Sí, uno: padding 6. Con kernel 3, stride 2 y padding p, cada convolución da
# ⌊(n + 2p - 3)/2⌋ + 1. Con p = 1 el lado va 16 -> 8 -> 4 (pool) -> 2 -> 1 (pool), y a fc le
# llegarían 32 números. Con p = 6: conv1 da ⌊(16 + 12 - 3)/2⌋ + 1 = 13, pool1 6, conv2
# ⌊(6 + 12 - 3)/2⌋ + 1 = 8 y pool2 4: 32 · 4 · 4 = 512 (con p = 5 llegan 3x3 y con p = 7, 5x5).
# Pero no sería una buena red: con 6 píxeles de ceros por cada lado, la mayoría de las posiciones
# del kernel caen sobre el relleno, y el stride se salta la mitad de las posiciones que quedan.
# Para usar stride 2 de verdad hay que cambiar la red: quitar los poolings (el stride ya reduce
# el tamaño; es una alternativa habitual al max pooling, y con padding 1 deja 16 -> 8 -> 4) o
# cambiar la capa lineal a nn.Linear(lo que llegue, 10).

# %% 8.3
# exp(x) en float32 se desborda por encima de log(3,4e38) ≈ 88,72; el logit mayor, multiplicado
# por la escala, tiene que llegar ahí.
escala = float(np.log(np.finfo(np.float32).max) / logits.max())

# %% 8.4
# Una barra arriba y un trazo en diagonal desde su extremo derecho hasta abajo, en un solo trazo.
trazos_siete = [[(70, 60), (210, 60), (120, 240)]]

# %% 8.c
# Respuesta modelo: las confusiones que salen al dibujar suelen ser las mismas que en la
# matriz (un 7 con gancho en la base leído como 2, un 9 de cabeza abierta leído como 4, un
# 5 leído como 3), porque vienen de la forma de los dígitos. Cuando no aparecen en la matriz,
# el dibujo suele tener algo que MNIST no tiene: trazos muy gruesos o muy finos, un estilo de
# escritura poco frecuente en los datos (MNIST son dígitos de estudiantes y empleados de
# EE. UU.), o un dibujo hecho con el ratón, más anguloso que uno a lápiz.

# %% 8.d
# No cambia (o casi nada): antes de llegar a la red, el dibujo se recorta al trazo, se escala
# para que quepa en una caja de 20x20 y se centra por su centro de masas, como se preparó
# MNIST. Lo grande y centrado y lo pequeño en una esquina acaban siendo la misma imagen de
# 16x16 (salvo el grosor relativo del trazo, que cambia al escalar). Sin esa preparación, un
# dígito pequeño en una esquina llegaría a la red como casi nada en un borde: la red nunca
# vio dígitos así al entrenar y lo leería mal; la tolerancia a mover un dígito un píxel
# (cuaderno 06) no llega a tanto.
