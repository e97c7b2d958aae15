"""La página del profesorado: la clase entera, ejercicio a ejercicio, que se actualiza sola.

Una sola página HTML sin nada que descargar (ni bibliotecas ni fuentes: el aula puede no tener
internet). Su JavaScript pide `api/board` cada POLL_SECONDS segundos y redibuja:
- «Necesitan ayuda»: quien lleva 3 fallos o más en el mismo ejercicio en los últimos 5 minutos;
- la rejilla, una fila por estudiante y una columna por ejercicio, agrupadas por cuaderno (se
  puede ordenar por cuaderno o por ejercicio). Cada casilla lleva un símbolo además del color
  (✓ correcto, ✗ todavía no, … pendiente, vacío sin intentar), y los intentos y pistas;
- debajo de cada ejercicio, cuántos lo tienen bien de cuántos lo han intentado;
- por ejercicio: correctos, mediana de intentos y las respuestas incorrectas más frecuentes.
Letra grande y colores del curso (`render`) con contraste de al menos 4,5:1, para el proyector.
"""

import html

from ..render import PREDICTED, RIGHT, WRONG

__all__ = ["page_html", "POLL_SECONDS"]

POLL_SECONDS = 3

PAGE = """<!doctype html>
<html lang="es"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Progreso de la clase · trazos</title>
<style>
body { font: 20px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #1a1a1a; background: #fff; }
h1 { font-size: 1.6em; margin: .2em 0; color: __BLUE__; }
h2 { font-size: 1.2em; margin: 1em 0 .3em; }
.estado { color: #444; font-size: .85em; }
table { border-collapse: collapse; margin: .3em 0; }
th, td { border: 1px solid #767676; padding: .25em .5em; text-align: center; }
th[scope=row] { text-align: left; }
td.correct { background: __RIGHT__; color: #fff; font-weight: 600; }
td.wrong { background: __WRONG__; color: #fff; font-weight: 600; }
td.pending { background: #f0f0f0; color: #1a1a1a; }
td.none { color: #595959; }
tfoot td { font-weight: 600; background: #eef4fa; }
#ayuda li { color: __WRONG__; font-weight: 600; }
button { font: inherit; padding: .2em .7em; margin-right: .4em; border: 2px solid __BLUE__; background: #fff;
         color: __BLUE__; border-radius: 6px; cursor: pointer; }
button[aria-pressed=true] { background: __BLUE__; color: #fff; }
.cuaderno { background: #eef4fa; }
</style></head>
<body>
<h1>Progreso de la clase</h1>
<p class="estado">Docente: __USER__ · se actualiza solo cada __POLL__ s · <span id="hora" aria-live="polite">
cargando…</span> · <a href="api/progress.csv">descargar CSV</a></p>
<p>Leyenda: <span>✓ correcto</span> · <span>✗ todavía no</span> · <span>… pendiente</span> · vacío: sin intentar.
En cada casilla, los intentos (y las pistas vistas).</p>
<h2>Necesitan ayuda</h2>
<ul id="ayuda"><li>Nadie por ahora.</li></ul>
<h2>Rejilla</h2>
<p>Ordenar: <button id="por-cuaderno" aria-pressed="true">por cuaderno</button>
<button id="por-ejercicio" aria-pressed="false">por ejercicio</button></p>
<table id="rejilla"><caption class="estado">Estudiantes × ejercicios</caption><thead></thead><tbody></tbody>
<tfoot></tfoot></table>
<h2>Por ejercicio</h2>
<table id="ejercicios"><thead><tr><th scope="col">Ejercicio</th><th scope="col">Correctos</th>
<th scope="col">Mediana de intentos</th><th scope="col">Respuestas incorrectas más frecuentes</th></tr></thead>
<tbody></tbody></table>
<script>
"use strict";
// JupyterHub pide el token XSRF a las peticiones de fetch autenticadas con la cookie de la sesión.
const XSRF = "__XSRF__";
const SYMBOL = {correct: "✓", wrong: "✗", pending: "…"};
const WORD = {correct: "correcto", wrong: "todavía no", pending: "pendiente"};
let order = "cuaderno", board = null;
const num = x => String(x).replace(".", ",");
const esc = s => String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})[c]);
const part = e => e.split(".").map(Number);
const byExercise = (a, b) => { const x = part(a), y = part(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
  }
  return 0; };
function draw() {
  if (!board) return;
  const rows = board.progress, cell = {}, notebook = {};
  for (const r of rows) { cell[r.user + "|" + r.exercise] = r; notebook[r.exercise] = r.notebook; }
  const users = [...new Set(rows.map(r => r.user))].sort();
  let exercises = [...new Set(rows.map(r => r.exercise))].sort(byExercise);
  if (order === "cuaderno") {
    exercises.sort((a, b) => (notebook[a] || "").localeCompare(notebook[b] || "") || byExercise(a, b));
  }
  const head = document.querySelector("#rejilla thead");
  let h = "<tr><th scope='col'>Estudiante</th>";
  for (const e of exercises) h += `<th scope="col" title="${esc(notebook[e] || "")}">${esc(e)}</th>`;
  head.innerHTML = h + "</tr>";
  let body = "";
  for (const u of users) {
    body += `<tr><th scope="row">${esc(u)}</th>`;
    for (const e of exercises) {
      const r = cell[u + "|" + e];
      if (!r) {
        body += `<td class="none" data-user="${esc(u)}" data-exercise="${esc(e)}" data-status="none"></td>`;
        continue;
      }
      const hints = r.hints ? ` · ${r.hints} pista${r.hints === 1 ? "" : "s"}` : "";
      body += `<td class="${r.status}" data-user="${esc(u)}" data-exercise="${esc(e)}" data-status="${r.status}" ` +
              `title="${WORD[r.status]}">${SYMBOL[r.status]} ${r.attempts}${hints}</td>`;
    }
    body += "</tr>";
  }
  document.querySelector("#rejilla tbody").innerHTML = body ||
    "<tr><td>Aún no ha llegado ninguna comprobación.</td></tr>";
  const stats = {};
  for (const s of board.exercises) stats[s.exercise] = s;
  let foot = "<tr><th scope='row'>Bien / intentado</th>";
  for (const e of exercises) foot += `<td>${stats[e].correct}/${stats[e].students}</td>`;
  document.querySelector("#rejilla tfoot").innerHTML = foot + "</tr>";
  let per = "";
  for (const s of board.exercises) {
    const common = s.common_wrong.map(w => `${esc(w.answer)} (${w.count})`).join("; ") || "—";
    per += `<tr><th scope="row">${esc(s.exercise)}</th><td>${s.correct} de ${s.students}</td>` +
           `<td>${num(s.median_attempts)}</td><td>${common}</td></tr>`;
  }
  document.querySelector("#ejercicios tbody").innerHTML = per;
  const help = board.help.map(h => `<li>✗ ${esc(h.user)}: ${h.wrong} fallos en el ${esc(h.exercise)}</li>`);
  document.getElementById("ayuda").innerHTML = help.join("") || "<li style='color:inherit'>Nadie por ahora.</li>";
}
async function refresh() {
  try {
    const answer = await fetch("api/board", {cache: "no-store", headers: {"X-XSRFToken": XSRF}});
    if (!answer.ok) throw new Error(answer.status);
    board = await answer.json();
    draw();
    document.getElementById("hora").textContent = "actualizado a las " + new Date().toLocaleTimeString("es-ES");
  } catch (error) {
    document.getElementById("hora").textContent = "sin conexión con el servicio; se reintenta";
  }
}
for (const [id, name] of [["por-cuaderno", "cuaderno"], ["por-ejercicio", "ejercicio"]]) {
  document.getElementById(id).addEventListener("click", () => {
    order = name;
    for (const b of document.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.id === id));
    draw();
  });
}
refresh();
setInterval(refresh, __POLL__ * 1000);
</script>
</body></html>
"""


def page_html(user, xsrf):
    """La página, para la docente `user`, con el token XSRF de su sesión (lo pide JupyterHub)."""
    replacements = {"__XSRF__": html.escape(xsrf), "__BLUE__": PREDICTED, "__RIGHT__": RIGHT,
                    "__WRONG__": WRONG, "__USER__": html.escape(user), "__POLL__": str(POLL_SECONDS)}
    text = PAGE
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text
