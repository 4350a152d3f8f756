// Training curves in SVG: one chart per quantity (accuracy, loss), every run shown as one
// colour, test as a solid line and train as a dashed one, one dot per epoch that carries its
// value (data-value, and a <title> on hover). The values are metrics.csv's, as the API sent
// them; nothing is computed here beyond placing them.
import { svg } from "./dom.js";

const SIZE = { width: 560, height: 300, left: 56, right: 16, top: 16, bottom: 44 };
export const COLOURS = ["#2b6cb0", "#c05621", "#2f855a", "#9b2c2c", "#6b46c1", "#b7791f", "#2c7a7b", "#97266d"];
export const CHARTS = {
  accuracy: { label: "accuracy (%)", series: ["test_acc", "train_acc"], percent: true },
  loss: { label: "loss (cross-entropy)", series: ["test_loss", "train_loss"], percent: false },
};

function niceStep(span, count) {
  const raw = span / count;
  const base = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw);
}

function scales(runs, chart) {
  const values = runs.flatMap((r) => r.metrics.flatMap((row) => chart.series.map((s) => row[s])))
    .filter((v) => typeof v === "number");
  const lastEpoch = Math.max(1, ...runs.map((r) => Math.max(r.epochs ?? 0, r.metrics.length ? r.metrics.at(-1).epoch : 0)));
  let [low, high] = chart.percent ? [0, 1] : [0, Math.max(0.1, ...values) * 1.05];
  if (chart.percent && values.length) low = Math.max(0, Math.floor(Math.min(...values) * 10) / 10);
  const { width, height, left, right, top, bottom } = SIZE;
  return {
    low, high, lastEpoch,
    x: (epoch) => left + (lastEpoch > 1 ? (epoch - 1) / (lastEpoch - 1) : 0.5) * (width - left - right),
    y: (v) => top + (1 - (v - low) / (high - low)) * (height - top - bottom),
  };
}

function axes(s, chart) {
  const { width, height, left, right, top, bottom } = SIZE;
  const yStep = niceStep(s.high - s.low, 5);
  const yTicks = [];
  for (let t = Math.ceil(s.low / yStep) * yStep; t <= s.high + 1e-9; t += yStep) yTicks.push(t);
  const xStep = Math.max(1, Math.ceil((s.lastEpoch - 1) / 10));
  const xTicks = [];
  for (let e = 1; e <= s.lastEpoch; e += xStep) xTicks.push(e);
  const label = (t) => (chart.percent ? String(Math.round(t * 100)) : String(Number(t.toPrecision(3))));
  return [
    ...yTicks.flatMap((t) => [svg("line", { class: "grid", x1: left, x2: width - right, y1: s.y(t), y2: s.y(t) }),
      svg("text", { x: left - 6, y: s.y(t) + 4, "text-anchor": "end" }, label(t))]),
    ...xTicks.map((e) => svg("text", { x: s.x(e), y: height - bottom + 16, "text-anchor": "middle" }, String(e))),
    svg("line", { class: "axis", x1: left, x2: width - right, y1: height - bottom, y2: height - bottom }),
    svg("line", { class: "axis", x1: left, x2: left, y1: top, y2: height - bottom }),
    svg("text", { x: (left + width - right) / 2, y: height - 8, "text-anchor": "middle" }, "epoch"),
    svg("text", { x: 14, y: (top + height - bottom) / 2, "text-anchor": "middle",
                  transform: `rotate(-90 14 ${(top + height - bottom) / 2})` }, chart.label),
  ];
}

function seriesMarks(run, series, colour, s, chart) {
  const points = run.metrics.filter((row) => typeof row[series] === "number");
  const dashed = series.startsWith("train");
  const shown = (v) => (chart.percent ? `${(v * 100).toFixed(2)}%` : v.toPrecision(4));
  return [
    svg("polyline", { class: dashed ? "curve train" : "curve", stroke: colour,
                      points: points.map((row) => `${s.x(row.epoch)},${s.y(row[series])}`).join(" ") }),
    ...points.map((row) => svg("circle", {
      cx: s.x(row.epoch), cy: s.y(row[series]), r: dashed ? 2.5 : 3.5, fill: colour,
      "data-run": run.id, "data-series": series, "data-epoch": row.epoch, "data-value": row[series],
    }, svg("title", {}, `${run.id} · epoch ${row.epoch} · ${series} ${shown(row[series])}`))),
  ];
}

// runs: [{id, epochs (planned), metrics: [{epoch, test_acc, ...}]}]; returns an <svg>.
export function curveChart(name, runs) {
  const chart = CHARTS[name];
  const s = scales(runs, chart);
  const { width, height } = SIZE;
  const marks = runs.flatMap((run, i) => chart.series.flatMap((series) =>
    seriesMarks(run, series, COLOURS[i % COLOURS.length], s, chart)));
  return svg("svg", { class: "chart curves", viewBox: `0 0 ${width} ${height}`, width, height,
                      "data-testid": `chart-${name}`, role: "img", "aria-label": `${name} per epoch` },
    ...axes(s, chart), ...marks);
}
