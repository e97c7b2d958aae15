# Soluciones del cuaderno 11_que_mira_la_red: un bloque por ejercicio («# %% 11.1») y una respuesta
# modelo por pregunta abierta («# %% 11.a»). Cada bloque de código sustituye los huecos de su celda.

# %% 11.1
# argmax da la posición en el tensor aplanado (fila · 16 + columna); divmod la separa. En la red del
# curso cae en el trazo de arriba del 7: donde un poco más (o menos) de tinta cambia más la puntuación.
pixel = divmod(int(sal_seven.argmax()), 16)

# %% 11.2
# La esquina con la bajada mayor: max sobre las claves, comparando por su valor.
esquina = max(drops, key=drops.get)

# %% 11.3
# Grad-CAM tiene la resolución de la capa: 16 -> conv1 (padding 1) 16 -> pool1 8 -> conv2 (padding 1) 8.
lado_cam = cam.shape[-1]

# %% 11.4
# La media del valor absoluto del cambio, en la escala 0-1: bastante menos que eps, porque muchos
# píxeles no se mueven eps entero (los negros no pueden oscurecerse más).
cambio = float(change.abs().mean())

# %% 11.a
# Respuesta modelo: la red no ha aprendido «la forma de un 4» como la vemos nosotros, sino una suma
# de muchas evidencias pequeñas, píxel a píxel; empujar todas un poco a la vez, en el sentido del
# gradiente, cambia la suma aunque ningún píxel cambie mucho. Que funcione con un cambio tan pequeño
# dice que la frontera entre dígitos pasa muy cerca de las imágenes de verdad. Para que cueste más,
# se puede entrenar también con ejemplos adversarios (entrenamiento adversario): en cada lote, crear
# sus versiones con FGSM o con unos pasos de BIM/PGD y enseñar a la red que siguen siendo el mismo dígito.

# %% 11.5
# Los píxeles de 0 a 1, la máscara de los casi negros y su media. Casi la mitad de la imagen: ningún
# gradiente los empujó a aclararse, y el freno y el recorte los dejan en negro.
fraccion_negra = float((trazos.render.digit_pixels(perfect_three) < 0.05).float().mean())

# %% 11.6
# El vecino de cada punto en el plano, sin contarse a sí mismo; los «mezclados» tienen un vecino de
# otro dígito. Muy pocos de ellos son errores de la red: la mezcla viene de aplastar 512 números en 2.
points = epochs[-1]["points"]
distances = torch.cdist(points, points)
distances.fill_diagonal_(float("inf"))
mixed = few.labels[distances.argmin(dim=1)] != few.labels
wrong = trazos.predict(model, few.images)[0] != few.labels
fraccion_errores = float((mixed & wrong).sum() / mixed.sum())

# %% 11.7
# Con padding 1, la fila 5 de la salida mira las filas 4, 5 y 6 de la imagen (y lo mismo en columnas).
ventana = seven[0, 4:7, 4:7]
valor = ((ventana * model.conv1.weight[0, 0]).sum() + model.conv1.bias[0]).item()

# %% 11.8
# conv1 ve 3; relu1 no cambia nada; pool1 junta 2 vecinos: 3 + 1 = 4 (vecinos a 2 píxeles);
# conv2 junta 3 valores de pool1: 4 + 2·2 = 8; relu2 no cambia nada.
lado_campo = 8

# %% 11.9
# Lo que lee cada red con los dígitos movidos, comparado con las etiquetas; se cuentan los que acierta
# la convolucional y falla el perceptrón (bastantes más que al revés).
moved = trazos.digit_map.shift(few_test.images, 2, 0)
cnn_right = trazos.predict(comparison["cnn"], moved)[0] == few_test.labels
mlp_right = trazos.predict(comparison["mlp"], moved)[0] == few_test.labels
cuantos = int((cnn_right & ~mlp_right).sum())

# %% 11.b
# Respuesta modelo: en la red, más pooling (o un pooling global al final, la media de cada mapa, en
# vez de una capa lineal con un peso por posición): así la posición exacta de cada rasgo importa
# menos. Con los datos, aumento de datos: entrenar también con los dígitos movidos uno, dos o tres
# píxeles al azar, para que la red vea que un dígito movido sigue siendo el mismo.
