// The drawing pad's view (anywidget, mnist_lab/draw.py's DrawingPad): records strokes, draws them, Clear and Undo.
function button(label) {
  const b = document.createElement("button");
  b.textContent = label;
  b.className = "mnist-lab-" + label.toLowerCase();
  return b;
}

function render({ model, el }) {
  const size = model.get("size");
  const canvas = document.createElement("canvas");
  canvas.width = size;
  canvas.height = size;
  canvas.className = "mnist-lab-canvas";
  const ctx = canvas.getContext("2d");
  let current = null;  // the stroke being drawn, sent to Python when it ends

  function paint() {
    ctx.fillStyle = "white";
    ctx.fillRect(0, 0, size, size);
    ctx.strokeStyle = "black";
    ctx.fillStyle = "black";
    ctx.lineWidth = model.get("pen");
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    for (const s of model.get("strokes").concat(current ? [current] : [])) {
      if (s.length === 1) {
        ctx.beginPath();
        ctx.arc(s[0][0], s[0][1], model.get("pen") / 2, 0, 2 * Math.PI);
        ctx.fill();
        continue;
      }
      ctx.beginPath();
      s.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
      ctx.stroke();
    }
  }

  function point(e) {
    const r = canvas.getBoundingClientRect();
    const x = ((e.clientX - r.left) * size) / r.width;
    const y = ((e.clientY - r.top) * size) / r.height;
    return [Math.round(x * 10) / 10, Math.round(y * 10) / 10];
  }

  canvas.addEventListener("pointerdown", (e) => {
    canvas.setPointerCapture(e.pointerId);
    current = [point(e)];
    paint();
  });
  canvas.addEventListener("pointermove", (e) => {
    if (current) {
      current.push(point(e));
      paint();
    }
  });
  const end = () => {
    if (!current) return;
    model.set("strokes", [...model.get("strokes"), current]);
    current = null;
    model.save_changes();
    paint();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  const clear = button("Clear");
  clear.onclick = () => { model.set("strokes", []); model.save_changes(); };
  const undo = button("Undo");
  undo.onclick = () => { model.set("strokes", model.get("strokes").slice(0, -1)); model.save_changes(); };

  model.on("change:strokes", paint);
  paint();
  const tools = document.createElement("div");
  tools.append(clear, undo);
  el.classList.add("mnist-lab-pad");
  el.append(canvas, tools);
  return () => model.off("change:strokes", paint);
}
export default { render };
