# Soluciones del cuaderno 11_que_mira_la_red: un bloque por ejercicio («# %% 11.1») y una respuesta
# modelo por pregunta abierta («# %% 11.a»). Cada bloque de código sustituye los huecos de su celda.

# %% 11.1
# La esquina con la bajada mayor: max sobre las claves, comparando por su valor.
esquina = max(drops, key=drops.get)

# %% 11.2
# Grad-CAM tiene la resolución de la capa: conv2 (padding 1) conserva el lado de pool1, 8x8.
lado_cam = cam.shape[-1]

# %% 11.3
# El mayor cambio de un píxel, en la escala 0-1 de los píxeles (como mucho eps).
cambio = float((trazos.render.digit_pixels(fooled.image) - trazos.render.digit_pixels(four)).abs().max())

# %% 11.a
# Respuesta modelo: la red no ha aprendido «la forma de un 4» como la vemos nosotros, sino una suma
# de muchas evidencias pequeñas, píxel a píxel; empujar todas un poco a la vez, en el sentido del
# gradiente, cambia la suma aunque ningún píxel cambie mucho. Que funcione con un cambio tan pequeño
# dice que la frontera entre dígitos pasa muy cerca de las imágenes de verdad. Para que cueste más,
# se puede entrenar también con ejemplos adversarios (entrenamiento adversario): en cada lote, crear
# sus versiones con FGSM y enseñar a la red que siguen siendo el mismo dígito.

# %% 11.4
# Con padding 1, la fila 5 de la salida mira las filas 4, 5 y 6 de la imagen (y lo mismo en columnas).
ventana = seven[0, 4:7, 4:7]
valor = ((ventana * model.conv1.weight[0, 0]).sum() + model.conv1.bias[0]).item()

# %% 11.5
# conv1 ve 3; relu1 no cambia nada; pool1 junta 2 vecinos: 3 + 1 = 4 (vecinos a 2 píxeles);
# conv2 junta 3 valores de pool1: 4 + 2·2 = 8; relu2 no cambia nada.
lado_campo = 8

# %% 11.b
# Respuesta modelo: en la red, más pooling (o un pooling global al final, la media de cada mapa, en
# vez de una capa lineal con un peso por posición): así la posición exacta de cada rasgo importa
# menos. Con los datos, aumento de datos: entrenar también con los dígitos movidos uno, dos o tres
# píxeles al azar, para que la red vea que un dígito movido sigue siendo el mismo.
