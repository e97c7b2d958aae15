// El lienzo de «Dibuja tu dígito» (lo carga anywidget; lo describe canvas.py).
//
// El trazo se pinta aquí, en el navegador, mientras se mueve el ratón o el dedo: ningún
// movimiento viaja al núcleo. Al terminar el trazo (soltar el botón, levantar el dedo o salir
// del lienzo), sus puntos se añaden a `strokes` y solo entonces Python recibe el dibujo.
// Cada vez que `strokes` cambia (un trazo nuevo, «Borrar», un trazo hecho desde Python) o la
// vista se vuelve a abrir (otra pestaña, recargar), el lienzo se repinta entero desde
// `strokes`: lo que se ve es siempre lo que tiene Python.

// Pinta un trazo: un punto suelto es un círculo del grosor del lápiz (stroke() no dibuja
// nada con un solo punto); varios, una línea con extremos y uniones redondos.
function paintStroke(context, points, pen) {
  if (points.length === 0) return;
  context.beginPath();
  if (points.length === 1) {
    context.arc(points[0][0], points[0][1], pen / 2, 0, 2 * Math.PI);
    context.fill();
    return;
  }
  context.moveTo(points[0][0], points[0][1]);
  for (const [x, y] of points.slice(1)) context.lineTo(x, y);
  context.stroke();
}

// Fondo negro y lápiz blanco redondo (Python lo pinta igual: `rasterize` en canvas.py).
function paintAll(context, strokes, pen) {
  const size = context.canvas.width;
  context.fillStyle = "black";
  context.fillRect(0, 0, size, size);
  context.fillStyle = context.strokeStyle = "white";
  context.lineWidth = pen;
  context.lineCap = context.lineJoin = "round";
  for (const points of strokes) paintStroke(context, points, pen);
}

function render({ model, el }) {
  const size = model.get("size");
  const pen = model.get("pen");
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = size;
  // touch-action: none -> en un móvil o una tableta, el dedo dibuja en vez de desplazar la página.
  canvas.style.cssText = `width:${size}px;height:${size}px;max-width:100%;display:block;` +
    "border:1px solid #888;touch-action:none;cursor:crosshair";
  canvas.title = "Dibuja aquí un dígito con el ratón (o con el dedo)";
  el.appendChild(canvas);
  const context = canvas.getContext("2d");
  let current = null; // el trazo que se está dibujando: [[x, y], ...]
  let pointer = null; // el puntero que lo dibuja (con varios dedos, solo cuenta el primero)

  // Posición en píxeles del lienzo (si la página lo encoge, max-width, se reescala), con un decimal.
  function position(event) {
    const box = canvas.getBoundingClientRect();
    const scale = canvas.width / canvas.clientWidth;
    const x = (event.clientX - box.left - canvas.clientLeft) * scale;
    const y = (event.clientY - box.top - canvas.clientTop) * scale;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  function start(event) {
    if (current || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    pointer = event.pointerId;
    current = [position(event)];
    paintStroke(context, current, pen);
  }

  function move(event) {
    if (!current || event.pointerId !== pointer) return;
    // Los movimientos agrupados por el navegador entre dos fotogramas: el trazo sale más fino.
    const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
    for (const each of events.length ? events : [event]) {
      const point = position(each);
      const last = current[current.length - 1];
      // Menos de un píxel no cambia el dibujo: el trazo (y el mensaje) no crece sin necesidad.
      if (Math.hypot(point[0] - last[0], point[1] - last[1]) < 1) continue;
      paintStroke(context, [last, point], pen);
      current.push(point);
    }
  }

  // El único mensaje al núcleo: la lista de trazos con el nuevo al final.
  function finish(event) {
    if (!current || event.pointerId !== pointer) return;
    const points = current;
    current = pointer = null;
    model.set("strokes", [...model.get("strokes"), points]);
    model.save_changes();
  }

  function repaint() {
    paintAll(context, model.get("strokes"), pen);
    if (current) paintStroke(context, current, pen); // un trazo a medias sigue a la vista
  }

  canvas.addEventListener("pointerdown", start);
  canvas.addEventListener("pointermove", move);
  for (const name of ["pointerup", "pointerleave", "pointercancel"]) canvas.addEventListener(name, finish);
  model.on("change:strokes", repaint);
  repaint();
  return () => model.off("change:strokes", repaint);
}

export default { render };
