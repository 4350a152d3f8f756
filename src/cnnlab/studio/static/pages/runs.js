// Runs: every run folder in the studio's --runs folder. One run (#/runs/<id>): its curves,
// which follow a run still training (metrics.csv is polled every few seconds), its config, the
// `cnnlab evaluate` / `cnnlab ensemble` results saved with it, and its scores on its test
// images: per-class accuracy and the confusion matrix, whose cells open the images counted
// there. Several runs (#/runs/<id>,<id>): their curves overlaid. Numbers from /api/runs/...
import { el, useStyle } from "./parts/dom.js";
import { COLOURS, curveChart } from "./parts/curves.js";
import { configTable, ensemblePanel, evaluationPanel, runList } from "./parts/runinfo.js";
import { confusionTable, imageGrid, perClassTable } from "./parts/scores.js";

export const title = "Runs";
const POLL_MS = 2000;
const IMAGES_PER_PAGE = 24;

const runPath = (id) => `/api/runs/${encodeURIComponent(id)}`;

function curvesView(runs) {
  const legend = el("div", { class: "legend", "data-testid": "legend" }, runs.map((run, i) => {
    const swatch = el("span", { class: "swatch" });
    swatch.style.backgroundColor = COLOURS[i % COLOURS.length];
    const done = run.metrics.length;
    const state = run.training ? `training, epoch ${done} of ${run.epochs ?? "?"}` : `${done} epochs`;
    return el("span", { "data-testid": `legend-${run.id}` }, swatch, `${run.id} (${state})`);
  }), el("span", { class: "muted" }, "solid: test, dashed: train"));
  return [legend, el("div", { class: "row" }, curveChart("accuracy", runs), curveChart("loss", runs))];
}

function scoresView(ctx, id, report) {
  const imagesBox = el("div", { "data-testid": "images-box" },
    el("p", { class: "muted" }, "Click a cell of the matrix (or a class) to see its test images."));
  async function pick(label, predicted) {
    const query = (offset) => {
      const q = new URLSearchParams({ offset, limit: IMAGES_PER_PAGE });
      if (label !== null) q.set("label", label);
      if (predicted !== null) q.set("predicted", predicted);
      return `${runPath(id)}/images?${q}`;
    };
    imagesBox.replaceChildren(el("p", { class: "loading" }, "Loading images…"));
    const answer = await ctx.api.get(query(0));
    imagesBox.replaceChildren(imageGrid(answer, (offset) => ctx.api.get(query(offset))));
  }
  const epoch = report.epoch ? ` (the checkpoint of epoch ${report.epoch})` : "";
  return [el("p", { "data-testid": "scores-summary" },
    `Accuracy ${(report.accuracy * 100).toFixed(2)}% on ${report.samples} test images${epoch}, views: ${report.views}; `
    + "the images the run was scored on while it trained, by cnnlab's prediction pass."),
  el("div", { class: "row" },
    el("section", { class: "panel" }, el("h3", {}, "Per-class accuracy"), perClassTable(report, pick)),
    el("section", { class: "panel" }, el("h3", {}, "Confusion matrix (rows: true class, columns: predicted)"),
      confusionTable(report, pick))),
  imagesBox];
}

// Scores of the newest checkpoint; while a run trains, a newer epoch offers to score again and
// a run with no checkpoint yet is scored once its first epoch ends.
function scoresLoader(ctx, id, box) {
  let scoredEpoch = null;
  let waiting = false;
  function load() {
    waiting = false;
    box.replaceChildren(el("p", { class: "loading" }, "Scoring the run's test images (the first time takes a while)…"));
    ctx.api.get(`${runPath(id)}/scores`, { quiet: true }).then((report) => {
      scoredEpoch = report.epoch;
      box.replaceChildren(...scoresView(ctx, id, report));
    }, (err) => {
      waiting = err.status === 409;
      if (!waiting) ctx.showError(err.message);
      box.replaceChildren(el("p", { class: waiting ? "muted" : "verdict-bad", "data-testid": "scores-error" },
        waiting ? `${err.message}; the scores appear then.` : `Not available: ${err.message}`));
    });
  }
  function onMetrics(run) {
    const last = run.metrics.at(-1)?.epoch ?? null;
    if (waiting && last !== null) { load(); return; }
    if (scoredEpoch === null || last === null || last <= scoredEpoch || box.querySelector("[data-testid=rescore]")) return;
    box.prepend(el("p", {}, el("button", { type: "button", "data-testid": "rescore", onclick: load },
      `Score the checkpoint of epoch ${last}`), ` (these scores are epoch ${scoredEpoch}'s)`));
  }
  load();
  return onMetrics;
}

function single(ctx, run, curvesBox) {
  const scoresBox = el("div", { "data-testid": "scores" });
  run.onMetrics = scoresLoader(ctx, run.id, scoresBox);
  const cfg = run.config ?? {};
  return [el("h3", { "data-testid": "run-title" }, run.id),
    el("p", { class: "muted" }, `${run.model ?? "?"} on ${run.dataset ?? "?"}, recipe ${run.recipe ?? "?"}, `
      + `${cfg.epochs ?? "?"} epochs of batch ${cfg.batch_size ?? "?"}, lr ${cfg.lr ?? "?"}, schedule ${cfg.schedule ?? "?"}. `,
    el("a", { href: `#/explorer/run/${encodeURIComponent(run.id)}` }, "Open its model in the explorer")),
    curvesBox, configTable(run.config), evaluationPanel(run.evaluation), ensemblePanel(run.ensemble),
    el("h3", {}, "Scores on the test images"), scoresBox];
}

function choose(ids) {
  location.hash = ids.length ? `#/runs/${ids.map(encodeURIComponent).join(",")}` : "#/runs";
}

// Poll each run's metrics; redraw when a row was added or changed (a run still training).
function poller(ctx, runs, redraw, listBox, chosen) {
  let busy = false;
  return setInterval(async () => {
    if (busy) return;
    busy = true;
    try {
      let changed = false;
      for (const run of runs) {
        const answer = await ctx.api.get(`${runPath(run.id)}/metrics`, { quiet: true });
        if (JSON.stringify(answer.metrics) !== JSON.stringify(run.metrics) || answer.training !== run.training) {
          Object.assign(run, { metrics: answer.metrics, training: answer.training, epochs: answer.epochs });
          run.onMetrics?.(run);
          changed = true;
        }
      }
      if (changed) redraw();
      const list = await ctx.api.get("/api/runs", { quiet: true });
      listBox.replaceChildren(runList(list.runs, chosen, toggler(chosen)));
    } catch {
      // a run folder removed or a server stopped: the next tick tries again
    } finally {
      busy = false;
    }
  }, POLL_MS);
}

function toggler(chosen) {
  return (id, on) => choose(on ? [...chosen, id] : chosen.filter((x) => x !== id));
}

export async function mount(root, ctx) {
  useStyle("/static/pages/parts/pages.css");
  useStyle("/static/pages/parts/runs.css");
  const list = await ctx.api.get("/api/runs");
  const asked = (ctx.params[0] ?? "").split(",").filter(Boolean);
  const chosen = asked.length ? asked : list.runs.filter((r) => !r.error).slice(0, 1).map((r) => r.id);
  const listBox = el("div", { class: "panel" }, runList(list.runs, chosen, toggler(chosen)));
  root.append(el("h2", {}, "Runs"),
    el("p", { class: "muted" }, `The run folders in the studio's --runs folder (${list.runs_dir}/), newest first; `
      + "tick two or more to overlay their curves."), listBox);
  if (!list.runs.length) {
    root.append(el("p", { "data-testid": "no-runs" }, `No runs yet: train one with \`cnnlab train --out ${list.runs_dir}/NAME\``
      + " and it appears here."));
  }
  if (!chosen.length) return () => {};
  const runs = await Promise.all(chosen.map((id) => ctx.api.get(runPath(id))));
  const curvesBox = el("div", { "data-testid": "curves" });
  const redraw = () => curvesBox.replaceChildren(...curvesView(runs));
  redraw();
  root.append(el("div", { "data-testid": "run-view" }, runs.length === 1 ? single(ctx, runs[0], curvesBox)
    : [el("h3", {}, `${runs.length} runs overlaid`), curvesBox]));
  const timer = poller(ctx, runs, redraw, listBox, chosen);
  return () => clearInterval(timer);
}
