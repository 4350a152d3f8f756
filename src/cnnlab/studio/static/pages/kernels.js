// Kernels: a photo filtered by any kernel, as `cnnlab filter` computes it; hovering an output
// pixel shows its window, products and sum as `cnnlab trace conv` prints them. Every number
// here comes from the server (the library); the page only draws and lays out.
import { cellAt, decodePixels, drawPixels, outline, zoomFor } from "../lib/canvas.js";
import { debounce } from "../lib/debounce.js";
import { createMatrixEditor } from "../lib/matrix_editor.js";

export const title = "Kernels";

const TEMPLATE = `
<h2>Kernels</h2>
<p class="muted">Pick a photo and a kernel, or type your own matrix: the output is what
<code>cnnlab filter</code> computes. Rest the pointer on an output pixel to see its sum.</p>
<div class="row">
  <div class="panel controls" id="controls">
    <label for="photo">photo</label><select id="photo"></select>
    <label for="upload">upload</label><input id="upload" type="file" accept="image/png,image/jpeg">
    <label for="kernel-name">kernel</label><select id="kernel-name"></select>
    <label for="kernel-size">size</label>
    <span><input id="kernel-rows" type="number" min="1" max="15" aria-label="rows"> x
      <input id="kernel-cols" type="number" min="1" max="15" aria-label="columns"></span>
    <span></span><div><table class="matrix" id="kernel-matrix"></table>
      <p class="muted" id="kernel-note"></p></div>
    <label for="stride">stride</label><input id="stride" type="number" min="1" max="64" value="1">
    <label for="padding">padding</label>
    <span><select id="padding"><option>same</option><option>valid</option>
      <option value="pixels">pixels</option></select>
      <input id="padding-pixels" type="number" min="0" max="64" value="1" hidden aria-label="padding pixels"></span>
    <label for="border">border</label><select id="border"></select>
    <label for="dilation">dilation</label><input id="dilation" type="number" min="1" max="16" value="1">
    <label for="color">channels</label>
    <select id="color"><option value="rgb">R, G, B each</option><option value="gray">gray</option></select>
    <label for="display">display</label><select id="display"></select>
  </div>
  <div class="view"><h3>Input <span class="muted" id="input-size"></span></h3>
    <div class="stack"><canvas id="input" class="pixels"></canvas>
      <canvas id="input-overlay" class="pixels overlay"></canvas></div></div>
  <div class="view"><h3>Output <span class="muted" id="output-size"></span></h3>
    <div class="stack"><canvas id="output" class="pixels"></canvas>
      <canvas id="output-overlay" class="pixels overlay"></canvas></div>
    <p class="formula" id="formula"></p><p class="muted" id="output-note"></p></div>
</div>
<div class="panel" id="hover"><h3 id="hover-title">Output pixel: rest the pointer on the output</h3>
  <div class="row" id="hover-steps"></div></div>`;

const $ = (root, id) => root.querySelector(`#${id}`);

function option(value, text = value) {
  const element = document.createElement("option");
  element.value = value;
  element.textContent = text;
  return element;
}

function pre(lines, label) {
  const box = document.createElement("div");
  const head = document.createElement("h3");
  head.textContent = label;
  const text = document.createElement("pre");
  text.textContent = lines.join("\n");
  box.append(head, text);
  return box;
}

// The cell texts of a named kernel: its integer form over a common denominator, e.g. "2/16".
function kernelTexts(info) {
  return info.integers.map((row) => row.map((v) => (info.denominator > 1 ? `${v}/${info.denominator}` : `${v}`)));
}

export async function mount(root, ctx) {
  root.innerHTML = TEMPLATE;
  const el = (id) => $(root, id);
  const [options, photos] = await Promise.all([ctx.api.get("/api/kernels"), ctx.api.get("/api/photos")]);
  const kernels = Object.fromEntries(options.kernels.map((k) => [k.name, k]));
  for (const k of options.kernels) el("kernel-name").append(option(k.name));
  el("kernel-name").append(option("custom", "custom matrix"));
  for (const p of photos.samples) el("photo").append(option(p.id, `${p.name} (${p.width}x${p.height})`));
  for (const b of options.borders) el("border").append(option(b));
  for (const d of options.displays) el("display").append(option(d, d === "minmax" ? "min-max" : d));
  el("border").value = options.defaults.border;
  el("display").value = options.defaults.display;
  el("upload").title = `PNG or JPEG, at most ${Math.round(photos.max_upload_bytes / 2 ** 20)} MB`;

  const editor = createMatrixEditor(el("kernel-matrix"), { onInput: () => {
    el("kernel-name").value = "custom";
    el("kernel-note").textContent = "";
    update();
  } });
  let version = 0;
  let hovered = null;
  let inputLoaded = null;

  function showKernel(name) {
    const info = kernels[name];
    if (info.matrix) {
      editor.set(kernelTexts(info));
      el("kernel-note").textContent = info.description;
    } else {
      editor.set([["—"]]);
      el("kernel-note").textContent = `${info.description}: combines ${info.parts.join(" and ")}`;
    }
    editor.setDisabled(!info.matrix);
    [el("kernel-rows").value, el("kernel-cols").value] = info.shape;
  }

  function settings() {
    const padding = el("padding").value === "pixels" ? el("padding-pixels").value : el("padding").value;
    const body = { photo: el("photo").value, stride: Number(el("stride").value),
      padding: /^\d+$/.test(padding) ? Number(padding) : padding, border: el("border").value,
      dilation: Number(el("dilation").value), color: el("color").value, display: el("display").value };
    if (el("kernel-name").value === "custom") body.matrix = editor.text();
    else body.kernel = el("kernel-name").value;
    return body;
  }

  async function loadInput() {
    const key = `${el("photo").value}/${el("color").value}`;
    if (inputLoaded === key) return;
    const answer = await ctx.api.get(`/api/photos/${encodeURIComponent(el("photo").value)}?color=${el("color").value}`);
    const pixels = decodePixels(answer.pixels);
    drawPixels(el("input"), pixels, { zoom: zoomFor(pixels.height, pixels.width, 512) });
    el("input-size").textContent = `${pixels.width} x ${pixels.height} x ${pixels.channels}`;
    inputLoaded = key;
  }

  async function apply() {
    const mine = ++version;
    const body = settings();
    root.dataset.pending = "true";
    try {
      await loadInput();
      const started = performance.now();
      const answer = await ctx.api.post("/api/kernels/apply", body);
      if (mine !== version) return;
      ctx.clearError();
      const pixels = decodePixels(answer.output);
      drawPixels(el("output"), pixels, { zoom: zoomFor(pixels.height, pixels.width, 512) });
      outline(el("output-overlay"), el("output"), null);
      outline(el("input-overlay"), el("input"), null);
      const g = answer.geometry;
      el("output-size").textContent = `${pixels.width} x ${pixels.height} x ${pixels.channels}`;
      el("formula").textContent = `(W - F + 2P)/S + 1\nrows:    ${g.rows.formula}\ncolumns: ${g.cols.formula}`;
      el("output-note").textContent = `kernel ${answer.kernel.name} ${answer.kernel.shape.join("x")}`
        + `, responses ${answer.response_min.toFixed(1)} to ${answer.response_max.toFixed(1)}`
        + `, display ${answer.display}; ${answer.server_ms.toFixed(0)} ms on the server,`
        + ` ${(performance.now() - started).toFixed(0)} ms round trip`;
      Object.assign(el("output").dataset, { kernel: JSON.stringify(answer.kernel.matrix ?? answer.kernel.name),
        version: String(mine), settings: JSON.stringify(body) });
      if (hovered) showStep(hovered);
    } catch (err) {
      if (!err.shown) ctx.showError(err.message);
    } finally {
      if (mine === version) root.dataset.pending = "false";
    }
  }
  const update = debounce(apply, 150);

  async function showStep(cell) {
    const body = { ...settings(), row: cell.row, col: cell.col };
    const answer = await ctx.api.post("/api/kernels/step", body, { quiet: true }).catch(() => null);
    if (!answer || hovered !== cell) return;
    el("hover-title").textContent = `Output pixel (row ${answer.row}, column ${answer.col})`;
    const blocks = answer.kernels.map((k) => pre(k.lines, `kernel ${k.name}`));
    for (const channel of answer.channels) {
      blocks.push(pre(channel.lines, `channel ${channel.channel}`));
      for (const part of channel.parts) blocks.push(pre(part.product_lines, `products (${channel.channel})`));
    }
    el("hover-steps").replaceChildren(...blocks);
    Object.assign(el("hover").dataset, { row: answer.row, col: answer.col,
      values: JSON.stringify(answer.channels.map((c) => c.value)) });
    outline(el("input-overlay"), el("input"), answer.box);
    outline(el("output-overlay"), el("output"), { top: answer.row, left: answer.col, rows: 1, cols: 1 });
  }
  const hover = debounce(showStep, 40);

  el("output").addEventListener("mousemove", (event) => {
    const cell = cellAt(el("output"), event);
    if (!cell || (hovered && cell.row === hovered.row && cell.col === hovered.col)) return;
    hovered = cell;
    hover(cell);
  });
  el("kernel-name").addEventListener("change", () => {
    if (el("kernel-name").value !== "custom") showKernel(el("kernel-name").value);
    else editor.setDisabled(false);
    update();
  });
  for (const id of ["kernel-rows", "kernel-cols"]) {
    el(id).addEventListener("input", () => {
      const rows = Math.max(1, Math.min(15, Number(el("kernel-rows").value) || 1));
      const cols = Math.max(1, Math.min(15, Number(el("kernel-cols").value) || 1));
      el("kernel-name").value = "custom";
      editor.setDisabled(false);
      editor.resize(rows, cols);
      update();
    });
  }
  el("padding").addEventListener("change", () => {
    el("padding-pixels").hidden = el("padding").value !== "pixels";
  });
  for (const id of ["photo", "stride", "padding", "padding-pixels", "border", "dilation", "color", "display"]) {
    el(id).addEventListener(id === "photo" || id === "color" ? "change" : "input", update);
  }
  el("upload").addEventListener("change", async () => {
    const file = el("upload").files[0];
    if (!file) return;
    try {
      const answer = await ctx.api.upload("/api/photos", file);
      el("photo").append(option(answer.id, `${answer.name} (${answer.width}x${answer.height})`));
      el("photo").value = answer.id;
      inputLoaded = null;
      ctx.clearError();
      await apply();
    } catch (err) {
      if (!err.shown) ctx.showError(err.message);
    } finally {
      el("upload").value = "";
    }
  });

  el("kernel-name").value = "sharpen";
  showKernel("sharpen");
  await apply();
  return () => { update.cancel(); hover.cancel(); version += 1; };
}
