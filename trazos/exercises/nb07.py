"""Ejercicios del cuaderno 07_confusion: leer la matriz de confusión, la precisión de cada dígito,
los pares más confundidos y cuánto cuesta fiarse de la probabilidad.

Las respuestas se calculan con la red del curso sobre todo el test (una vez: se guardan en
memoria). Antes de calcular nada se rechaza lo que no es un entero.
"""

import functools

from . import as_integer, exercise, integer_hint


@functools.lru_cache(maxsize=1)
def results():
    """(etiquetas, predicciones, probabilidades, matriz) de la red del curso en todo el test."""
    from ..data import load_mnist
    from ..inspection import confusion_matrix, predict
    from ..training import trained_model
    model = trained_model("cnn", progress=False).model
    test = load_mnist(train=False, size=model.input_size)
    predictions, probs = predict(model, test.images)
    return test.labels, predictions, probs, confusion_matrix(test.labels, predictions)


ASKED_DIGIT = 9  # el dígito del ejercicio 7.1


@exercise("7.1", f"¿Cuántas imágenes que no son un {ASKED_DIGIT} leyó la red como {ASKED_DIGIT}?",
          "Sección 2: una fila responde a «de los d de verdad, ¿qué dijo la red?» y una columna a «cuando la red "
          "dice d, ¿qué eran?». Elige la buena y quita los aciertos.")
def _(falsos):
    count = as_integer(falsos)
    if count is None:
        return integer_hint(falsos, "un número entero de imágenes")
    *_, matrix = results()
    d = ASKED_DIGIT
    column, row = matrix[:, d], matrix[d]
    if count == int(column.sum() - column[d]):
        return True
    if count == int(row.sum() - row[d]):
        return f"Esos son los {d} de verdad que la red leyó como otra cosa: la fila. Aquí se pide la columna."
    if count == int(column.sum()):
        return f"Eso son todas las veces que la red dijo {d}, también las que acertó."
    return False


@exercise("7.2", "¿Qué dígito tiene la precisión más baja (cuando la red lo dice, acierta menos)?",
          "Sección 2: la precisión de d es su casilla de la diagonal entre el total de su columna; calcúlala para "
          "los diez dígitos con `matrix`.")
def _(digito):
    d = as_integer(digito)
    if d is None:
        return integer_hint(digito, "un dígito, un número entero de 0 a 9", example=None)
    if not 0 <= d <= 9:
        return "La respuesta es un dígito, de 0 a 9."
    *_, matrix = results()
    precision = matrix.diag() / matrix.sum(dim=0)
    if d == int(precision.argmin()):
        return True
    if d == int((matrix.diag() / matrix.sum(dim=1)).argmin()):
        return "Ese es el dígito con menos acierto, que divide por la fila. La precisión divide por la columna."
    return False


@exercise("7.3", "El índice en el test de un ejemplo del par más confundido.",
          "Sección 3: `pairs[0]` es el par (verdadero, predicho) más confundido; busca un índice con esa etiqueta "
          "y esa predicción (con torch.nonzero sobre `test.labels` y `predictions`).")
def _(indice):
    i = as_integer(indice)
    if i is None:
        return integer_hint(indice, "un índice del test, un número entero")
    labels, predictions, _, matrix = results()
    if not 0 <= i < len(labels):
        return f"El índice tiene que estar entre 0 y {len(labels) - 1}."
    from ..inspection import most_confused
    true, pred, _ = most_confused(matrix, k=1)[0]
    label, said = int(labels[i]), int(predictions[i])
    if (label, said) == (true, pred):
        return True
    if label == said:
        return "La red acierta con esa imagen: busca uno de sus errores."
    if (label, said) == (pred, true):
        return "Es el par al revés: el primer número del trío es la etiqueta verdadera, el segundo la predicción."
    return "Es un error, pero de otro par: busca uno del par más confundido."


@exercise("7.4", "¿Cuántas imágenes, como mínimo, tiene que revisar una persona para que entre las que la red "
                 "contesta sola no quede ningún error?",
          "Sección 4: la persona revisa las imágenes con la probabilidad por debajo de un umbral. ¿Qué umbral deja "
          "fuera incluso el error más seguro de la galería? Cuenta las imágenes que no lo superan.")
def _(revisar):
    count = as_integer(revisar)
    if count is None:
        return integer_hint(revisar, "un número entero de imágenes")
    labels, predictions, probs, _ = results()
    correct = predictions == labels
    confidence = probs.max(dim=1).values
    right = int((confidence <= confidence[~correct].max()).sum())
    if count == right:
        return True
    if count == int((~correct).sum()):
        return ("Para revisar solo los errores habría que saber cuáles son. La persona revisa todo lo que queda "
                "por debajo de un umbral de probabilidad: errores y también aciertos.")
    if count == right - 1:
        return "Casi: el error más seguro también tiene que revisarlo la persona."
    if count == int((confidence <= 0.9).sum()):
        return "Con el umbral del 90 % siguen quedando errores entre las aceptadas (la sección 4 da su acierto)."
    return False
