# Soluciones del cuaderno 05_kernels.ipynb (para el profesorado).
# Cada bloque «# %% CLAVE» sustituye los huecos de la celda que comprueba ese ejercicio; los bloques de
# solo comentarios son las respuestas modelo de las preguntas «Para pensar».

# %% 5.1
forma = (32, 16, 3, 3)  # 32 filtros de salida; cada uno, un kernel de 3x3 por cada uno de los 16 canales de entrada

# %% 5.2
# Una línea horizontal: fila central positiva entre dos filas negativas, con suma total 0. Sobre la línea da
# 2 + 2 + 2 = 6; sobre una línea vertical, cada columna da -1 + 2 - 1 = 0; sobre una zona uniforme, 0. (Un
# kernel de borde, con -1 arriba y +1 abajo, responde a los dos lados de la línea pero da 0 sobre ella.)
kernel = [[-1, -1, -1],
          [2, 2, 2],
          [-1, -1, -1]]

# %% 5.3
# n = 64 canales · 3 · 3 = 576; Var(w) = 1/(3n) = 1/1728; la desviación típica es su raíz: 1/sqrt(1728) = 0,0241
# (o, lo mismo, el límite b = 1/sqrt(576) = 1/24 dividido entre sqrt(3)).
desviacion = (1 / (3 * 64 * 3 * 3)) ** 0.5

# %% 5.a
# Respuesta modelo: con Var(w) = 2/n cada convolución multiplica el tamaño de la señal por sqrt(2) en lugar de
# dividirlo por sqrt(3), y la ReLU lo reduce en la proporción de siempre; juntas, una convolución y su ReLU
# dejan la señal más o menos del mismo tamaño, y el max pooling la hace algo mayor. Medido con la semilla 0 y
# los sesgos a 0, la tabla pasa de encogerse (de 0,82 a 0,14 en los logits) a mantenerse o crecer un poco
# (de 0,82 a 1,9 en los logits). Con logits de ese tamaño, softmax ya no reparte por igual: la red recién
# creada está bastante segura de respuestas al azar, y la pérdida inicial sale por encima de ln 10 (unos 3,7
# en esa medida). Con tres capas da igual; en una red de decenas de capas, la inicialización por defecto
# apagaría la señal y Kaiming la mantendría.

# %% 5.b
# Respuesta modelo: K da positivo donde el brillo sube de izquierda a derecha, es decir, en el borde izquierdo
# de un trazo vertical (fondo → trazo); la ReLU deja pasar solo ese. El kernel con el signo cambiado (-K) da
# positivo en el borde derecho (trazo → fondo), y la ReLU deja pasar ese otro. Cada uno detecta un borde
# distinto, pero los dos juntos no hacen falta: todo trazo tiene los dos bordes, uno al lado del otro, así que
# cualquiera de ellos indica dónde hay un trazo vertical. La capa siguiente aprende sus pesos a partir de lo
# que le llega, sea cual sea el signo; por eso a la red le da igual aprender K o -K, y en la práctica acaba
# en uno u otro según el sorteo inicial.

# %% 5.4
responses = (after.conv1.weight[:, 0] * pattern).sum(dim=(1, 2)) + after.conv1.bias  # los 16 kernels a la vez
respuesta_maxima = responses.max().item()  # 3,17 en la red del curso, la del kernel 9 (línea vertical); el 12,
# la línea vertical al revés, da la más negativa (−3,15), y sin los sesgos la más alta sería 3,37

# %% 5.c
# Respuesta modelo: el 0 es un óvalo cerrado: tiene bordes en todas las orientaciones (verticales a los lados,
# horizontales arriba y abajo y diagonales en las cuatro curvas) y ningún trazo recto largo. Se encienden, en
# partes distintas del óvalo, casi todos los kernels de borde (cada uno donde la curva tiene su orientación),
# mientras que con el 7 los de borde horizontal se concentraban en la barra y los diagonales en el palo. Los
# kernels de línea responden en los tramos del óvalo con su orientación. Un mismo kernel responde por tanto en
# sitios diferentes según el dígito: lo que distingue los dígitos es qué kernels se encienden y dónde.
