"""Ejercicios del cuaderno 10_mira_como_aprende: descenso por el gradiente con un peso, un paso
de SGD a mano, el gradiente de la entropía cruzada (p − y) y el entrenamiento en vivo.

Lo que no depende del entrenamiento se recalcula aquí con los mismos datos que el cuaderno;
lo que sí (ejercicio 10.4) se comprueba con la timeline del explorador que se pasa a `check`.
"""

import torch

from . import as_number, as_integer, exercise

LR = 0.1  # la tasa del paso a mano (sección 2)
WEIGHT = (0, 0, 1, 1)  # conv1.weight[0, 0, 1, 1]: el centro del primer kernel
LOGITS = (2.0, 1.0, 0.0, -1.0, 0.5, 0.0, 0.0, 0.0, 0.0, 0.0)  # sección 3; la clase correcta es la 0
ASKED_CLASS = 1  # ejercicio 10.3: la derivada si la clase correcta fuera esta (la de la celda es la 0)
TARGET = 0.8  # ejercicio 10.4: el acierto en validación que hay que pasar


def one_weight_data():
    """Los datos de la sección 1: x de 0 a 2 y y = 3·x; la pérdida es mean((w·x − y)²)."""
    x = torch.linspace(0, 2, 11)
    return x, 3 * x


def _close(value, right, tolerance):
    return abs(value - right) <= tolerance * max(abs(right), 1e-12)


@exercise("10.1", "¿A partir de qué tasa de aprendizaje diverge el descenso por el gradiente con un solo peso?",
          "Sección 1: la pérdida es una parábola en w, L(w) = a·(w − 3)² con a = mean(x²). Un paso multiplica la "
          "distancia a 3 por (1 − 2·a·lr): ¿cuándo deja de ser menor que 1 en valor absoluto?")
def _(tasa):
    value = as_number(tasa)
    if value is None:
        return "La respuesta es un número: una tasa de aprendizaje."
    x, _ = one_weight_data()
    a = float((x ** 2).mean())
    right = 1 / a  # |1 − 2·a·lr| = 1 cuando lr = 1/a
    if _close(value, right, 0.02):
        return True
    if _close(value, right / 2, 0.02):
        return "Con esa tasa se llega a 3 en un solo paso (la mejor); la pregunta es a partir de cuál se aleja."
    return False


def _first_step_change():
    from ..data import load_mnist
    from ..live import fresh_weights
    from ..models import CNN
    from ..runner import loss
    model = CNN()
    fresh_weights(model, 0)
    images, labels = load_mnist(train=True, size=16, limit=64)[:64]
    loss(model(images), labels).backward()
    return -LR * float(model.conv1.weight.grad[WEIGHT])


@exercise("10.2", "En el primer paso a mano (lr = 0,1), ¿cuánto cambia conv1.weight[0, 0, 1, 1]?",
          "Sección 2: el paso es w -= lr * w.grad, así que el cambio es −lr por el gradiente de ese peso "
          "(model.conv1.weight.grad[0, 0, 1, 1]) antes del paso. Cuidado con el signo.")
def _(cambio):
    value = as_number(cambio)
    if value is None:
        return "La respuesta es un número (con signo): el peso después menos el peso antes."
    right = _first_step_change()
    if _close(value, right, 0.01):
        return True
    if _close(value, -right, 0.01):
        return "Casi: el paso va en contra del gradiente; revisa el signo."
    if _close(abs(value), abs(right / LR), 0.2):  # también redondeado (0.0005) o con el signo cambiado
        return "Eso es el gradiente (o casi); el cambio del peso es −lr por el gradiente."
    if _close(abs(value), abs(right), 0.2):
        return ("Cerca, pero no igual: calcula con el valor completo de grad0[0, 0, 1, 1] (el impreso está "
                "redondeado) y revisa el signo: el cambio es −lr por el gradiente.")
    if value != 0 and 0.1 <= abs(value / right) <= 10:
        return ("Del orden correcto, pero no es: el cambio es −lr × grad0[0, 0, 1, 1], con lr = 0,1 (la de la "
                "celda) y el gradiente de ese peso, el centro del primer kernel, no el de otro.")
    return False


@exercise("10.3", f"Para los logits de la sección 3, si la clase correcta fuera la {ASKED_CLASS}, ¿cuánto valdría la "
                  f"derivada de la pérdida respecto al logit {ASKED_CLASS}?",
          "Sección 3: la derivada de la entropía cruzada respecto a los logits es p − y: la probabilidad de "
          "softmax menos 1 en la clase correcta (y 0 en las demás). Cambiar la clase correcta cambia y, no p.")
def _(derivada):
    value = as_number(derivada)
    if value is None:
        return f"La respuesta es un número: la derivada respecto al logit de la clase {ASKED_CLASS}."
    p = torch.softmax(torch.tensor(LOGITS), dim=0)
    right = float(p[ASKED_CLASS]) - 1
    if abs(value - right) <= 1e-3:
        return True
    if abs(value - float(p[ASKED_CLASS])) <= 1e-3:
        return (f"Esa es la probabilidad de la clase {ASKED_CLASS}; falta restar y = 1, porque ahora es la "
                "clase correcta.")
    if abs(value - (float(p[0]) - 1)) <= 1e-3:
        return (f"Esa es la derivada respecto al logit 0 con la clase correcta 0, la de la celda de arriba; ahora "
                f"la correcta es la {ASKED_CLASS}: cambia y, no p.")
    return False


@exercise("10.4", "¿En qué paso grabado pasa por primera vez el acierto en validación del 80 %?",
          "Sección 4: recorre explorer.timeline (una foto cada `every` pasos) y busca la primera con "
          "s['val_acc'] > 0.8; la respuesta es su s['step'].")
def _(paso, explorer):
    step = as_integer(paso)
    if step is None:
        return "La respuesta es un número de paso (un entero), el de una foto de la timeline."
    timeline = explorer.timeline
    above = [s["step"] for s in timeline if s["val_acc"] > TARGET]
    if not above:
        return "En esta timeline el acierto no pasa del 80 %: entrena más pasos (explorer.play()) y vuelve a mirar."
    if step == above[0]:
        return True
    if step in above:
        return "En ese paso ya está por encima, pero no es el primero: mira las fotos anteriores."
    if step not in [s["step"] for s in timeline]:
        return f"No hay ninguna foto en el paso {step}: las hay cada {timeline[1]['step']} pasos."
    return False
