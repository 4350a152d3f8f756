// The explorer's pictures: the input with its overlays (attribution heat, receptive-field
// boxes), the top-5, a layer's filters and activation maps, a run's top patches. Pixels come
// from the server ready to draw (lib/canvas.js: one array cell = a zoom x zoom block).
import { cellAt, decodePixels, drawPixels, zoomFor } from "../../lib/canvas.js";
import { el } from "./dom.js";

export const INPUT_TARGET = 448; // CSS pixels for the input's longer side (28 px -> x16)

export function drawInput(canvas, payload) {
  return drawPixels(canvas, decodePixels(payload), { zoom: zoomFor(payload.height, payload.width, INPUT_TARGET) });
}

// The attribution heat on its own canvas over the input (same size; CSS sets its opacity).
export function drawHeat(canvas, payload, under) {
  if (!payload) { canvas.width = under.width; canvas.height = under.height; return; }
  drawPixels(canvas, decodePixels(payload), { zoom: Number(under.dataset.zoom) });
}

// Theoretical (green) and effective (red) receptive fields: [top, left, bottom, right) boxes.
export function drawBoxes(canvas, under, boxes) {
  canvas.width = under.width;
  canvas.height = under.height;
  const ctx = canvas.getContext("2d");
  const zoom = Number(under.dataset.zoom);
  for (const [box, color] of boxes) {
    if (!box) continue;
    const [top, left, bottom, right] = box;
    ctx.strokeStyle = color;
    ctx.lineWidth = 3;
    ctx.strokeRect(left * zoom + 1.5, top * zoom + 1.5, (right - left) * zoom - 3, (bottom - top) * zoom - 3);
  }
}

export function topList(answer, onPick) {
  return el("ol", { class: "top5", "data-testid": "top5" }, answer.top.map((t) => el("li", { "data-index": t.index, onclick: () => onPick(t.index) },
    el("span", { class: "prob" }, `${(100 * t.probability).toFixed(2)}%`), ` ${t.class}`,
    el("span", { class: "muted" }, ` (class ${t.index})`))));
}

function tile(payload, target, attrs, caption) {
  const canvas = el("canvas", { class: "pixels", ...attrs });
  drawPixels(canvas, decodePixels(payload), { zoom: zoomFor(payload.height, payload.width, target) });
  return el("figure", {}, canvas, el("figcaption", {}, caption));
}

export function filterTiles(answer) {
  const [out, inp, kh, kw] = answer.weight_shape;
  return [el("p", { class: "muted" }, `${out} filters of ${inp}x${kh}x${kw} (${answer.mode}), each scaled to its own range;`
    + ` ${answer.filters.length} shown.`),
  el("div", { class: "tiles", "data-testid": "filters" }, answer.tiles.map((t, i) => tile(t, 48, { "data-testid": `filter-${i}` },
    `${answer.filters[i]}`)))];
}

// One canvas per channel, strongest mean first; a click on a cell asks for its field.
export function activationTiles(answer, onPick) {
  const [c, h, w] = answer.output_shape;
  return [el("p", { class: "muted" }, `${c}x${h}x${w}; the ${answer.channels.length} channels with the largest mean activation, `
    + `on one scale 0..${answer.scale.toPrecision(3)} (brighter = stronger). Click a pixel for its receptive field.`),
  el("div", { class: "tiles", "data-testid": "activations" }, answer.maps.map((m, i) => {
    const channel = answer.channels[i];
    const figure = tile(m, 112, { "data-testid": `act-${i}`, "data-channel": channel.channel },
      `ch ${channel.channel} · mean ${channel.mean.toPrecision(3)}`);
    const canvas = figure.querySelector("canvas");
    canvas.addEventListener("click", (event) => {
      const cell = cellAt(canvas, event);
      if (cell) onPick(channel.channel, cell.row, cell.col);
    });
    return figure;
  }))];
}

export function fieldText(answer) {
  const size = answer.theoretical_size.join("x");
  const eff = answer.effective_box;
  return `${answer.layer} channel ${answer.channel}, unit (${answer.unit_yx.join(", ")}), activation `
    + `${answer.activation.toPrecision(3)}: theoretical field ${size} px (green, jump ${answer.jump.join("x")}), box `
    + `${answer.theoretical_box.join(", ")}; effective field (red, |gradient| >= ${answer.effective_threshold} of its peak) `
    + (eff ? `${eff.join(", ")}` : "none (zero gradient)")
    + `; ${(100 * answer.gradient_inside_theoretical).toFixed(1)}% of the gradient inside the theoretical box.`;
}

export function attributionText(answer) {
  const t = answer.target;
  const what = `class ${t.name} (p = ${t.probability.toFixed(3)})`;
  if (answer.square) return `occlusion, ${answer.square} px square, stride ${answer.stride}: ${what}; the largest drop `
    + `${answer.max_drop.toFixed(3)} at (${answer.max_drop_yx.join(", ")}).`;
  return `${answer.method}${answer.layer ? ` at ${answer.layer}` : ""}: ${what}; peak at (${answer.map_argmax_yx.join(", ")}).`;
}

export function patchTiles(answer) {
  return [el("p", { class: "muted" }, `${answer.layer} channel ${answer.channel}: the ${answer.top.length} test images (of `
    + `${answer.images}) that activate it most, each cut to the unit's receptive field `
    + `(${answer.receptive_field.join("x")} px; black = outside the image).`),
  el("div", { class: "tiles", "data-testid": "patches" }, answer.patches.map((p, i) => tile(p, 96, { "data-testid": `patch-${i}` },
    `#${answer.top[i].image} · ${answer.top[i].activation.toPrecision(3)}`)))];
}
