"""Los números como se escriben en español: coma decimal y punto de miles (desde cinco cifras), con una sola regla.

Un módulo hoja (no importa nada de trazos): `data` y `shapes` escriben sus mensajes con él sin
importar `render`, que los importa a ellos. `render` los vuelve a ofrecer (`render.decimal`, ...).
"""

__all__ = ["decimal", "integer", "percent"]


def decimal(value, decimals=2):
    """Un número con coma decimal, como se escribe en español: 0.125 -> «0,12»."""
    return f"{float(value):.{decimals}f}".replace(".", ",")


def integer(value):
    """Un entero como se escribe en español: punto de miles a partir de cinco cifras, 421642 -> «421.642»; con
    cuatro, sin punto, 9930 -> «9930» (la regla de la RAE, la misma que sigue la prosa de los cuadernos)."""
    n = int(value)
    return str(n) if abs(n) < 10000 else f"{n:,}".replace(",", ".")


def percent(fraction, decimals=1):
    """Una fracción como porcentaje: 0.9922 -> «99,22 %»."""
    return f"{decimal(100 * float(fraction), decimals)} %"
