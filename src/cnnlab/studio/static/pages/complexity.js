// Complexity: the lecture's "Comparing Complexity" chart (after Canziani et al. 2017): top-1
// accuracy against operations, bubble area = parameters, drawn here in SVG; hover a bubble for
// its numbers and their source. Below it, the lecture's tables of `cnnlab tables` with their
// verdicts and notes. Numbers from /api/complexity/chart and /api/complexity/tables.
import { el, svg, thousands, useStyle } from "./parts/dom.js";

export const title = "Complexity";

const SIZE = { width: 900, height: 520, left: 64, right: 24, top: 20, bottom: 52 };
const LEGEND_MILLIONS = [5, 25, 100];
// Bubble area proportional to parameters: radius = sqrt(millions) * RADIUS_SCALE pixels.
const RADIUS_SCALE = 2.4;

function radius(params) {
  return Math.max(2, Math.sqrt(params / 1e6) * RADIUS_SCALE);
}

// Round axis ticks: about `count` steps of 1, 2 or 5 x 10^k between low and high.
function ticks(low, high, count = 6) {
  const raw = (high - low) / count;
  const base = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw);
  const first = Math.ceil(low / step) * step;
  return Array.from({ length: Math.floor((high - first) / step) + 1 }, (_, i) => first + i * step);
}

// Scales from data to SVG coordinates for the points shown.
function scales(shown, state) {
  const ops = (p) => (state.unit === "flops" ? p.flops : p.macs) / 1e9;
  const xMax = Math.max(...shown.map(ops)) * 1.08;
  const ys = shown.map((p) => p.accuracy[state.source].top1);
  const [yLow, yHigh] = [Math.floor(Math.min(...ys) - 2), Math.ceil(Math.max(...ys) + 2)];
  const { width, height, left, right, top, bottom } = SIZE;
  return {
    ops, xMax, yLow, yHigh,
    x: (v) => left + (v / xMax) * (width - left - right),
    y: (v) => top + (1 - (v - yLow) / (yHigh - yLow)) * (height - top - bottom),
  };
}

function frame(s, state) {
  const { width, height, left, right, top, bottom } = SIZE;
  const unit = state.unit === "flops" ? "GFLOPs (2 x MACs)" : "GMACs (multiply-accumulates)";
  const grid = [
    ...ticks(0, s.xMax).map((t) => [svg("line", { class: "grid", x1: s.x(t), x2: s.x(t), y1: top, y2: height - bottom }),
      svg("text", { x: s.x(t), y: height - bottom + 16, "text-anchor": "middle" }, String(t))]),
    ...ticks(s.yLow, s.yHigh).map((t) => [svg("line", { class: "grid", x1: left, x2: width - right, y1: s.y(t), y2: s.y(t) }),
      svg("text", { x: left - 8, y: s.y(t) + 4, "text-anchor": "end" }, String(t))]),
  ].flat();
  const middle = (top + height - bottom) / 2;
  return [...grid,
    svg("line", { class: "axis", x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }),
    svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: height - bottom }),
    svg("text", { x: (left + width - right) / 2, y: height - 12, "text-anchor": "middle", "data-testid": "x-label" },
      `operations per image at the native input size, ${unit}`),
    svg("text", { x: 16, y: middle, "text-anchor": "middle", transform: `rotate(-90 16 ${middle})` },
      `ImageNet top-1 accuracy (%), ${state.source}`)];
}

function legend() {
  const { width, height, right, bottom } = SIZE;
  return [svg("text", { x: width - right - 150, y: height - bottom - 72 }, "bubble area = parameters"),
    ...LEGEND_MILLIONS.map((m, i) => {
      const [cx, cy] = [width - right - 150 + i * 48, height - bottom - 40];
      return [svg("circle", { cx, cy, r: radius(m * 1e6), fill: "#999" }),
        svg("text", { x: cx, y: cy + radius(m * 1e6) + 12, "text-anchor": "middle" }, `${m}M`)];
    }).flat()];
}

// Bubbles overlap: the one whose centre is nearest the pointer (within its radius, or a few
// pixels for small ones) is the one hovered, so a covered bubble can still be read.
function hover(chart, bubbles, shown, state, tooltip) {
  let current = null;
  chart.addEventListener("mousemove", (event) => {
    const at = new DOMPoint(event.clientX, event.clientY).matrixTransform(chart.getScreenCTM().inverse());
    let best = null;
    let bestDistance = Infinity;
    for (const circle of bubbles) {
      const d = Math.hypot(at.x - circle.cx.baseVal.value, at.y - circle.cy.baseVal.value);
      if (d <= Math.max(circle.r.baseVal.value, 8) && d < bestDistance) [best, bestDistance] = [circle, d];
    }
    if (best !== current) current?.classList.remove("hover");
    current = best;
    if (!best) { tooltip.hidden = true; return; }
    best.classList.add("hover");
    showTip(tooltip, shown.find((p) => p.model === best.dataset.model), state, event);
  });
  chart.addEventListener("mouseleave", () => { current?.classList.remove("hover"); current = null; tooltip.hidden = true; });
}

function drawChart(data, state, tooltip) {
  const shown = data.points.filter((p) => p.accuracy[state.source]);
  const s = scales(shown, state);
  // Largest bubbles first, so small ones are drawn on top.
  const ordered = [...shown].sort((a, b) => b.params - a.params);
  const at = (p) => [s.x(s.ops(p)), s.y(p.accuracy[state.source].top1)];
  const bubbles = ordered.map((p, i) => svg("circle", {
    cx: at(p)[0], cy: at(p)[1], r: radius(p.params), fill: `hsl(${(i * 47) % 360} 65% 55%)`,
    "data-model": p.model, "data-testid": `bubble-${p.model}`,
  }));
  const labels = ordered.map((p) => svg("text", { x: at(p)[0], y: at(p)[1] - radius(p.params) - 3,
                                                  "text-anchor": "middle" }, p.model));
  const { width, height } = SIZE;
  const chart = svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width, height, "data-testid": "chart",
                             role: "img", "aria-label": "accuracy against operations" },
    ...frame(s, state), ...legend(), ...bubbles, ...labels);
  hover(chart, bubbles, shown, state, tooltip);
  return chart;
}

function showTip(tooltip, p, state, event) {
  const acc = p.accuracy[state.source];
  const ops = state.unit === "flops" ? `${(p.flops / 1e9).toFixed(2)} GFLOPs` : `${(p.macs / 1e9).toFixed(2)} GMACs`;
  tooltip.replaceChildren(
    el("strong", {}, `${p.model}`), ` (${p.full_name})`, el("br"),
    el("span", { "data-testid": "tip-top1" }, `top-1 ${acc.top1.toFixed(2)}%`), ` (${acc.key})`, el("br"),
    el("span", { "data-testid": "tip-ops" }, ops), ` at ${p.input_size.slice(1).join("x")}`, el("br"),
    el("span", { "data-testid": "tip-params" }, `${thousands(p.params)} parameters`), el("br"),
    el("span", { class: "muted" }, `accuracy: ${state.sources[state.source]}`), el("br"),
    el("span", { class: "muted" }, `model: ${p.paper}`));
  const box = tooltip.parentElement.getBoundingClientRect();
  tooltip.style.left = `${event.clientX - box.left + 14}px`;
  tooltip.style.top = `${event.clientY - box.top + 14}px`;
  tooltip.hidden = false;
}

function tableView(table) {
  const verdictAt = table.headers.indexOf("verdict");
  return el("section", { class: "panel", "data-testid": `table-${table.key}` },
    el("h3", {}, table.title), el("p", { class: "muted" }, `Source: ${table.source}.`),
    el("table", { class: "data" },
      el("tr", {}, table.headers.map((head, i) => el("th", { class: i < 2 ? "text" : null }, head))),
      table.rows.map((row) => el("tr", { class: row[1] === "paper" ? "paper" : null },
        row.map((cell, i) => el("td", {
          class: i === verdictAt && cell ? (cell.startsWith("matches") ? "verdict-ok" : "verdict-bad")
            : (i < 2 ? "text" : null),
        }, cell))))),
    table.notes.length ? el("ol", { class: "notes" }, table.notes.map((n) => el("li", {}, n))) : null);
}

function toggle(name, options, onChange) {
  return el("fieldset", { class: "row", "data-testid": `toggle-${name}` },
    options.map(([value, label], i) => el("label", {}, el("input", {
      type: "radio", name, value, checked: i === 0, "data-testid": `${name}-${value}`,
      onchange: () => onChange(value),
    }), label)));
}

// The page appears at once; the chart and the tables fill in when the server has profiled the
// zoo (the first visit after a start takes a while). Each lands in its own box, so an answer
// that arrives after the user moved to another page changes nothing there.
export async function mount(root, ctx) {
  useStyle("/static/pages/parts/pages.css");
  const waiting = "Profiling every model of the zoo on shapes only (the first visit after a start takes a while)…";
  const holder = el("div", { class: "chart-wrap", "data-testid": "chart-box" }, el("p", { class: "loading" }, waiting));
  const tooltip = el("div", { class: "tooltip", hidden: true, "data-testid": "tooltip" });
  const missing = el("p", { class: "muted", "data-testid": "chart-missing" });
  const reference = el("p", { class: "muted" });
  const tablesBox = el("div", { "data-testid": "tables-box" }, el("p", { class: "loading" }, waiting));
  const state = { unit: "macs", source: "torchvision", sources: {} };
  let data = null;
  function redraw() {
    if (!data) return;
    tooltip.hidden = true;
    holder.replaceChildren(drawChart(data, state, tooltip), tooltip);
    const hidden = data.points.filter((p) => !p.accuracy[state.source]).map((p) => p.model);
    missing.textContent = `Not shown (no ${state.source} top-1): ${hidden.join(", ") || "none"}. `
      + `Without any published ImageNet top-1: ${data.skipped.join(", ")}.`;
  }
  root.append(el("h2", {}, "Comparing complexity"), reference,
    el("div", { class: "row" },
      toggle("unit", [["macs", "MACs"], ["flops", "FLOPs = 2 x MACs"]], (v) => { state.unit = v; redraw(); }),
      toggle("source", [["torchvision", "torchvision accuracy"], ["paper", "paper accuracy"]], (v) => { state.source = v; redraw(); })),
    holder, missing,
    el("h2", {}, "The lecture's tables, beside cnnlab's numbers"),
    el("p", { class: "muted" }, "What `cnnlab tables` prints: each published row, cnnlab's row, the difference and a verdict; the notes say why a number differs."),
    tablesBox);
  const failed = (box) => () => box.replaceChildren(el("p", { class: "muted" }, "Not available: see the message above."));
  ctx.api.get("/api/complexity/chart").then((answer) => {
    data = answer;
    state.sources = answer.sources;
    reference.textContent = `After ${answer.reference}. Every model of cnnlab's zoo with a published ImageNet top-1; `
      + "operations and parameters counted by cnnlab's profiler at the model's native input size.";
    redraw();
  }, failed(holder));
  ctx.api.get("/api/complexity/tables").then((tables) => tablesBox.replaceChildren(...tables.map(tableView)),
    failed(tablesBox));
}
