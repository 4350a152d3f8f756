// A run's files shown as they are: the runs list, its config, and the results that
// `cnnlab evaluate` (evaluation.json) and `cnnlab ensemble --out` (ensemble.json) saved there.
import { el, show } from "./dom.js";

const percent = (v) => (typeof v === "number" ? `${(v * 100).toFixed(2)}%` : "–");

function status(run) {
  if (run.error) return el("span", { class: "verdict-bad" }, run.error);
  if (run.training) return el("span", { class: "training" }, "training");
  return run.has_checkpoint ? "done" : "no checkpoint";
}

// rows: /api/runs's; chosen: the ids on view; onToggle(id, on) for the overlay boxes.
export function runList(rows, chosen, onToggle) {
  return el("table", { class: "data", "data-testid": "run-list" },
    el("tr", {}, ["overlay", "run", "model", "dataset", "epochs", "test accuracy", "status"].map(
      (h, i) => el("th", { class: i >= 1 && i <= 3 ? "text" : null }, h))),
    rows.map((run) => el("tr", { "data-run": run.id, class: chosen.includes(run.id) ? "chosen" : null },
      el("td", {}, el("input", { type: "checkbox", "data-testid": `overlay-${run.id}`, checked: chosen.includes(run.id),
                                 "aria-label": `overlay ${run.id}`, onchange: (e) => onToggle(run.id, e.target.checked) })),
      el("td", { class: "text" }, el("a", { href: `#/runs/${encodeURIComponent(run.id)}`, "data-testid": `open-${run.id}` }, run.id)),
      el("td", { class: "text" }, run.model ?? "–"), el("td", { class: "text" }, run.dataset ?? "–"),
      el("td", { "data-testid": `epochs-${run.id}` }, run.error ? "–" : `${run.epochs_done} / ${run.epochs ?? "?"}`),
      el("td", {}, percent(run.test_acc)), el("td", { class: "text" }, status(run)))));
}

export function configTable(config) {
  if (!config) return el("p", { class: "muted" }, "No config.json in this run.");
  return el("details", { "data-testid": "config" }, el("summary", {}, "config.json (the resolved config of the run)"),
    el("table", { class: "data" }, Object.entries(config).map(([key, value]) => el("tr", {},
      el("th", { class: "text" }, key),
      el("td", { class: "text mono", "data-key": key }, typeof value === "object" && value !== null ? JSON.stringify(value) : show(value))))));
}

export function evaluationPanel(evaluation) {
  if (!evaluation) {
    return el("p", { class: "muted", "data-testid": "evaluation-none" },
      "No `cnnlab evaluate` results in this run folder (run `cnnlab evaluate RUN` to add them).");
  }
  const perClass = Object.entries(evaluation.per_class_accuracy ?? {});
  return el("section", { class: "panel", "data-testid": "evaluation" }, el("h3", {}, "cnnlab evaluate (evaluation.json)"),
    el("p", { "data-testid": "evaluation-errors" },
      `top-1 error ${percent(evaluation.top1_error)}, top-5 error ${percent(evaluation.top5_error)} on `
      + `${evaluation.samples} test images, views: ${evaluation.crops}`),
    el("table", { class: "data" }, el("tr", {}, el("th", { class: "text" }, "class"), el("th", {}, "accuracy")),
      perClass.map(([name, acc]) => el("tr", {}, el("td", { class: "text" }, name), el("td", {}, percent(acc))))));
}

export function ensemblePanel(ensemble) {
  if (!ensemble) return null;
  return el("section", { class: "panel", "data-testid": "ensemble" }, el("h3", {}, "cnnlab ensemble (ensemble.json)"),
    el("table", { class: "data" },
      el("tr", {}, ["entry", "description", "top-1 error", "top-5 error"].map((h, i) => el("th", { class: i < 2 ? "text" : null }, h))),
      ensemble.entries.map((e) => el("tr", {}, el("td", { class: "text" }, e.name), el("td", { class: "text" }, e.description),
        el("td", {}, e.top1_error.toFixed(5)), el("td", {}, e.top5_error.toFixed(5))))),
    el("p", { class: "muted" }, `${ensemble.test_samples} test images; weights tuned on: ${ensemble.validation}`));
}
