# Soluciones del cuaderno 10_mira_como_aprende: un bloque por ejercicio («# %% 10.1») y una respuesta
# modelo por pregunta abierta («# %% 10.a»). Cada bloque de código sustituye los huecos de su celda.

# %% 10.1
# La distancia a 3 se multiplica por (1 − 2·a·lr) en cada paso; deja de encoger cuando
# |1 − 2·a·lr| = 1, es decir lr = 1/a con a = media(x²) (1/1,4 ≈ 0,714 con estos datos).
tasa_limite = float(1 / (x ** 2).mean())

# %% 10.2
# El paso es w -= lr * w.grad: el cambio es −lr por el gradiente de ese peso antes del paso.
cambio = float(-lr * grad0[0, 0, 1, 1])

# %% 10.a
# Respuesta modelo: si acierta muy segura, p − y es casi 0 en todas las clases (p_c − 1 = −0,001
# y las demás casi 0): esa imagen apenas empuja los pesos. Si está muy segura y se equivoca,
# p_c ≈ 0 y su derivada es ≈ −1, y la clase equivocada tiene ≈ +1: el gradiente es el más
# grande posible. Las imágenes difíciles (las que falla o acierta por poco) son las que más
# mueven los pesos; las fáciles, ya aprendidas, casi no cuentan.

# %% 10.3
# ∂L/∂z_1 = p_1 − 1, porque ahora 1 es la clase correcta (p no cambia: solo depende de los logits).
derivada = float(torch.softmax(torch.tensor(LOGITS), dim=0)[1] - 1)

# %% 10.4
# La primera foto de la timeline con más de un 80 % de acierto en validación.
paso_80 = next(s["step"] for s in explorer.timeline if s["val_acc"] > 0.8)

# %% 10.b
# Respuesta modelo (lo que imprime la tabla; los números cambian con la máquina, la forma no): no son grandes al
# principio. En el paso 0 el gradiente de conv1 es pequeño: la red reparte la probabilidad casi por igual y p − y es
# grande, pero para llegar a conv1 ese error atraviesa fc y conv2, que tienen pesos aleatorios pequeños y aún no
# «saben» qué canal importa. En los primeros pasos (más o menos del 20 al 60) esas capas aprenden, la señal que
# llega hacia atrás crece y los gradientes de conv1 y conv2 son los mayores del entrenamiento. Después, a medida que
# la red acierta la mayoría de las imágenes, p − y se acerca a 0 en casi todas y los gradientes bajan, aunque
# suben y bajan de un lote a otro (cada foto mide un solo lote). Se mueven más, en cada paso, los kernels con más
# gradiente (el cambio es lr × gradiente), pero lo que cuenta al final es la suma de muchos pasos: un kernel con
# gradientes pequeños pero siempre del mismo signo se mueve más que uno con gradientes grandes que cambian de signo.

# %% 10.c
# Respuesta modelo: ya acierta todas las de entrenamiento, pero la pérdida sigue bajando
# porque la red se vuelve cada vez más segura (p_c se acerca a 1): hace los pesos más grandes
# para separar más los logits, y memoriza detalles de esas 300 imágenes. En validación, las
# que falla las falla cada vez con más seguridad (p_c más cerca de 0, −log p_c más grande),
# así que la pérdida media sube aunque el número de aciertos no cambie.

# %% 10.d
# Respuesta modelo: los dígitos del panel se quedan casi todos en rojo y predicen lo mismo, y
# la matriz de confusión tiene una columna llena: la red responde siempre el mismo dígito. Con
# pasos demasiado grandes los pesos saltan a valores donde muchas ReLU quedan siempre a cero
# («mueren») o un logit se dispara; entonces la salida casi no depende de la imagen y la
# pérdida más baja que puede conseguir así es predecir siempre la clase más frecuente.
