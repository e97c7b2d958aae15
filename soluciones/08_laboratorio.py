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
# No hay ninguno. Con stride 2 cada convolución ya divide el lado entre 2 (más o menos, según
# el padding), y los poolings lo vuelven a dividir: 16 -> 8 -> 4 -> 2 -> 1 con padding=1, así
# que a fc le llegarían 32 números, no 512. Ningún padding razonable compensa dividir entre 4
# en cada bloque. Para usar stride 2 habría que cambiar la red: quitar los poolings (el stride
# ya reduce el tamaño; es una alternativa habitual al max pooling) o cambiar la capa lineal a
# nn.Linear(lo que llegue, 10).

# %% 8.3
# exp(x) en float32 se desborda por encima de log(3.4e38) ≈ 88.72; el logit mayor, multiplicado
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
