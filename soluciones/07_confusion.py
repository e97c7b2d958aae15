# Soluciones del cuaderno 07_confusion: un bloque por ejercicio («# %% 7.1») y una respuesta
# modelo por pregunta abierta («# %% 7.a»). Cada bloque de código sustituye los huecos de su celda.

# %% 7.1
# La columna del 9 son todas las veces que la red dijo 9; sin la diagonal, las que no lo era.
falsos_nueves = int(matrix[:, 9].sum() - matrix[9, 9])

# %% 7.2
# Precisión de cada dígito: la diagonal entre la suma de cada columna (dim=0).
digito = int((matrix.diag() / matrix.sum(dim=0)).argmin())

# %% 7.3
verdadero, predicho, _ = pairs[0]
indice = int(torch.nonzero((test.labels == verdadero) & (predictions == predicho))[0])

# %% 7.a
# Respuesta modelo (depende del ejemplo): casi siempre el trazo tiene el rasgo que define
# al otro dígito. Un 7 tomado por 2 suele llevar un trazo o un gancho en la base; un 9
# tomado por 4 tiene la cabeza abierta o angulosa; un 5 tomado por 3 tiene el trazo de
# arriba curvado hacia la derecha. A 16x16 ese detalle ocupa dos o tres píxeles. A menudo
# la red dudaba: el dígito verdadero tiene la segunda probabilidad más alta, lejos de 0.
# Y algunos ejemplos son ambiguos también para una persona, o tienen una etiqueta
# discutible.

# %% 7.4
# Para que entre las aceptadas no quede ningún error, el umbral tiene que dejar fuera
# incluso el error más seguro: se revisan todas las imágenes cuya probabilidad no pasa de la
# de ese error (también él). Son muchas más que los errores: la mayoría son aciertos.
revisar = int((confidence <= confidence[~correct].max()).sum())

# %% 7.b
# Respuesta modelo: en varios de los errores más seguros, una persona también lee lo que
# dijo la red (dígitos mal escritos, cortados o con una etiqueta discutible). Esos errores
# no son fallos de la red sino de los datos, o dígitos de verdad ambiguos. Por eso un 100 %
# de acierto en MNIST no es un objetivo razonable: a partir de cierto punto, «acertar» esos
# ejemplos significaría aprenderse las etiquetas raras, no leer mejor.
