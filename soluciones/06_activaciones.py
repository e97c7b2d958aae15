# Soluciones del cuaderno 06_activaciones: un bloque por ejercicio («# %% 6.1») y una respuesta
# modelo por pregunta abierta («# %% 6.a»). Cada bloque de código sustituye los huecos de su celda.

# %% 6.1
# padding=1 conserva el lado en cada convolución y cada pooling lo divide entre 2:
# 28 -> conv1 28 -> pool1 14 -> conv2 14 -> pool2 7. Los canales los fija conv2: 32.
forma = (32, 7, 7)

# %% 6.a
# La ReLU es una función creciente: si a <= b, entonces ReLU(a) <= ReLU(b). Por eso el
# máximo de los ReLU de una ventana es el ReLU de su máximo: max(ReLU(x)) = ReLU(max(x)).
# Con la media no pasa: la media de (-2, 2) es 0 y su ReLU 0, pero la media de los ReLU,
# (0 + 2) / 2, es 1. Como da igual el orden, hacer primero el pooling y luego la ReLU hace
# cuatro veces menos cuentas de ReLU (se aplica a 16x8x8 valores en vez de a 16x16x16).

# %% 6.2
# Cada convolución de 3x3 añade 2 píxeles al lado de lo que ve un valor de la salida:
# 3 -> 5 -> 7. (En general, k1 + k2 - 1 para dos kernels seguidos.)
lado_kernel = 7

# %% 6.3
# Las ventanas de arriba a la izquierda (máximo 1,5) y de arriba a la derecha (0,9) tienen
# el máximo en su columna derecha: al moverse, sale de la ventana. La de abajo a la derecha
# (1,1) también. Solo la de abajo a la izquierda (2,1, en su columna izquierda) conserva su
# máximo, y lo que entra por su izquierda (ceros) no es mayor.
iguales = 1

# %% 6.4
# El primer índice en el que no coincide el argmax de fc sin mover y movido.
indice = int(torch.nonzero(original["fc"].argmax(dim=1) != moved["fc"].argmax(dim=1))[0])

# %% 6.5
# Hacia atrás: un valor de conv1 ve 3 píxeles de lado (distancia entre vecinos: 1 píxel).
# pool1 junta 2 valores vecinos: 3 + 1·1 = 4 (y ahora los vecinos están a 2 píxeles).
# conv2 junta 3 valores de pool1: 4 + 2·2 = 8. pool2 junta 2 valores de conv2: 8 + 1·2 = 10.
lado_visto = 10

# %% 6.b
# Respuesta modelo: unos pocos mapas de pool2 se encienden con casi todos los dígitos
# (responden a rasgos comunes, como un trazo vertical o la zona central con tinta); otros
# solo con uno o dos dígitos (un bucle cerrado arriba, una barra horizontal arriba sin
# nada debajo...). Los que más ayudan a decidir son los específicos: un mapa que se
# enciende con todos no distingue un dígito de otro, mientras que uno que solo se enciende
# con el 7 y el 1 empuja la puntuación de esos dígitos. Lo que decide fc es la combinación:
# la suma ponderada de todos los mapas, con pesos positivos para los rasgos de cada dígito
# y negativos para los de sus rivales.
