# Soluciones del cuaderno 04_entrenamiento.ipynb (para el profesorado).
# Cada bloque «# %% CLAVE» sustituye los huecos de la celda que comprueba ese ejercicio; los bloques de
# solo comentarios son las respuestas modelo de las preguntas «Para pensar».

# %% 4.a
# Respuesta modelo: en una posición, el gradiente de cada uno de los nueve pesos es el mismo número (lo que
# llega de la capa siguiente) multiplicado por un píxel. Si todos los píxeles son positivos, los nueve
# gradientes tienen el mismo signo: en ese paso, los nueve pesos solo pueden subir todos a la vez o bajar
# todos a la vez. Para llegar a un kernel con pesos positivos y negativos (un borde, una línea) el descenso
# tiene que avanzar en zigzag, con muchos pasos que se corrigen unos a otros. Con las entradas centradas en 0
# hay píxeles positivos y negativos, cada peso recibe gradientes de los dos signos y se mueve por su cuenta:
# el problema está mejor condicionado y el entrenamiento avanza más recto. (Sumando sobre todas las posiciones
# el efecto se suaviza, pero la tendencia es esa.)

# %% 4.1
fondo = (0 - 0.1309) / 0.2630  # la fila «entrenamiento, 16x16» de la tabla: unos -0.498

# %% 4.2
lotes = math.ceil(60000 / 128)  # 468 lotes completos de 128 y uno más con lo que sobra: 469
ultimo = 60000 - 468 * 128      # las que sobran tras los 468 lotes completos: 96

# %% 4.3
perdida = math.log(10)  # diez logits casi iguales: softmax da 1/10 a cada dígito, y -ln(1/10) = ln 10 = 2.30

# %% 4.4
linea = "loss.backward()"  # sin backward no hay gradientes (grad es None) y optimizer.step() no mueve nada

# %% 4.b
# Respuesta modelo: PyTorch suma cada gradiente nuevo al que ya había en p.grad. Sin zero_grad, en el segundo
# lote optimizer.step() usa el gradiente del lote 1 más el del lote 2, y en el décimo la suma de los diez
# primeros. La dirección de cada paso ya no es la del lote actual, sino una mezcla que arrastra todo el
# pasado (pesa cada vez más lo antiguo), así que los pesos siguen otro camino y acaban distintos. No salta
# ningún error porque el código es válido: solo hace otra cuenta. Por eso conviene una comprobación como la
# de la sección 5.

# %% 4.c
# Respuesta modelo: con el DataLoader, cada imagen se convierte a PIL, se redimensiona, se pasa a tensor y se
# normaliza una vez por época: 5 veces en 5 épocas (300.000 redimensionados para las 60.000 imágenes). Con
# load_mnist se redimensiona una sola vez, al cargar, y luego solo se indexa el tensor en memoria. El
# DataLoader compensa cuando los datos no caben en memoria (se leen del disco a medida que hacen falta),
# cuando cada época debe ver una versión distinta de cada imagen (transformaciones aleatorias: pequeños giros,
# desplazamientos, recortes, es decir, aumento de datos), o cuando la preparación es cara y se puede repartir
# entre varios procesos con num_workers mientras la GPU entrena.

# %% 4.d
# Respuesta modelo: en el mismo ordenador, con la misma semilla y los mismos hilos, sí: PyTorch hace las mismas
# sumas en el mismo orden y salen los mismos pesos, bit a bit (en la CPU; en una GPU, algunas operaciones no
# lo garantizan sin torch.use_deterministic_algorithms). Al cambiar el número de hilos cambia cómo se reparten
# las sumas largas (cada hilo suma su trozo y luego se suman los trozos), el redondeo del último bit cambia,
# y tras miles de pasos los pesos ya son otros: el acierto queda a unas décimas, los kernels no son los mismos.

# %% 4.e
# Respuesta modelo (medido con la semilla 0, una época con lotes de 128): con lr=1e-2 la red aprende, e
# incluso más deprisa que con 1e-3 (en la medida, 98,2 % en test frente a 97,1 %): los pasos son más grandes
# pero todavía no demasiado. Con lr=1e-1 los pasos son tan grandes que los pesos saltan de un lado a otro:
# la pérdida sube en los primeros lotes (por encima de 5) y luego se queda clavada en 2,30 = ln 10, y el
# acierto en test es el del azar (en torno al 10 %): la red ha quedado en un estado en que da a todos los
# dígitos casi la misma probabilidad, y de ahí ya no sale. Una tasa demasiado grande no aprende más rápido:
# no aprende.
