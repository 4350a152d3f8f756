// Model explorer: any zoo model (native or chosen input size) or any run under --runs. The
// block diagram and `cnnlab profile`'s table come first (meta device, at once); the top-5,
// a layer's filters and activation maps, a unit's receptive fields, the attribution overlays
// and a run's top patches are computed on request, one at a time per model, while a status
// line counts the seconds. Routes: #/explorer/model/<name>[/<side>], #/explorer/run/<id>.
import { el, select, useStyle } from "./parts/dom.js";
import { blockView, tableView } from "./parts/explorer_tree.js";
import { activationTiles, attributionText, drawBoxes, drawHeat, drawInput, fieldText, filterTiles,
  patchTiles, topList } from "./parts/explorer_views.js";

export const title = "Explorer";

const NONE = "none";

// Event handlers start work nobody awaits: an API error is already in the banner, anything
// else is put there.
function quietly(page, promise) {
  promise.catch((err) => { if (!err.shown) page.ctx.showError(String(err.message ?? err)); });
}

function subjectFrom(params) {
  const [kind, name, side] = params;
  if (kind === "model" && name) return side ? { model: name, size: Number(side) } : { model: name };
  if (kind === "run" && name) return { run: name };
  return null;
}

function picker(options, subject) {
  const models = select(options.models.map((m) => [m.name, `${m.name} (${m.input_size.join("x")})${m.weights ? ", weights" : ""}`]),
    { "data-testid": "pick-model", "aria-label": "zoo model" });
  models.value = subject?.model ?? "resnet18";
  const side = el("input", { type: "number", min: 1, max: options.max_side, placeholder: "native", value: subject?.size ?? "",
                             "data-testid": "pick-size", "aria-label": "input side" });
  const runs = select([["", options.runs.length ? "a run…" : "no runs in --runs"], ...options.runs.map((r) => [r, r])],
    { "data-testid": "pick-run", "aria-label": "run" });
  runs.value = subject?.run ?? "";
  const openModel = el("button", { type: "button", "data-testid": "open-model", onclick: () => {
    location.hash = `#/explorer/model/${encodeURIComponent(models.value)}${side.value ? `/${Number(side.value)}` : ""}`;
  } }, "open model");
  const openRun = el("button", { type: "button", "data-testid": "open-run", disabled: !options.runs.length, onclick: () => {
    if (runs.value) location.hash = `#/explorer/run/${encodeURIComponent(runs.value)}`;
  } }, "open run");
  return el("div", { class: "row panel picker" }, el("label", {}, "zoo model ", models), el("label", {}, "input side ", side),
    openModel, el("span", { class: "muted" }, "or"), el("label", {}, "run ", runs), openRun,
    el("span", { class: "muted" }, `The studio keeps the last ${options.models_kept} opened models in memory.`));
}

// A status line that counts the seconds while answers are awaited (root.dataset.pending).
function tracker(root, line) {
  const waiting = new Map();
  let timer = null;
  function render() {
    const now = performance.now();
    line.textContent = [...waiting].map(([what, t0]) => `${what}… ${((now - t0) / 1000).toFixed(1)} s`).join(" · ");
    root.dataset.pending = String(waiting.size);
  }
  return {
    async run(what, promise) {
      waiting.set(what, performance.now());
      render();
      timer ??= setInterval(render, 200);
      try { return await promise; } finally {
        waiting.delete(what);
        if (!waiting.size) { clearInterval(timer); timer = null; }
        render();
      }
    },
    stop() { clearInterval(timer); },
  };
}

function layout() {
  const q = {};
  const make = (name, tag, attrs = {}, ...kids) => { q[name] = el(tag, { "data-testid": name, ...attrs }, ...kids); return q[name]; };
  const body = [
    el("p", {}, make("title", "strong"), " ", make("weights", "span", { class: "weights" })),
    make("status", "p", { class: "status muted", role: "status" }),
    el("div", { class: "row explorer-top" },
      el("section", { class: "panel tree-panel" }, el("h3", {}, "Blocks"), make("tree", "div", { class: "tree" })),
      el("section", { class: "panel table-panel" }, el("h3", {}, "Profile (", el("code", {}, "cnnlab profile"), ") ",
        el("label", {}, make("flops", "input", { type: "checkbox" }), " FLOPs")), make("table", "div", { class: "table-wrap" }))),
    el("div", { class: "row" },
      el("section", { class: "panel input-panel" }, el("h3", {}, "Input"), make("source", "div", { class: "row" }),
        el("div", { class: "stack input-stack" }, make("input", "canvas", { class: "pixels" }),
          make("heat", "canvas", { class: "pixels overlay heat" }), make("boxes", "canvas", { class: "pixels overlay" })),
        make("input-note", "p", { class: "muted" }), make("field-text", "p", { class: "muted" })),
      el("section", { class: "panel" }, el("h3", {}, "Prediction"), make("prediction", "div"),
        el("h3", {}, "Attribution"), make("methods", "div", { class: "row" }), make("occlusion", "div", { class: "row" }),
        make("attribution-text", "p", { class: "muted" }))),
    el("section", { class: "panel" }, el("h3", {}, "Layer ", make("layer-name", "code")), make("filters-box", "div"),
      make("activations-box", "div")),
    make("patches-panel", "section", { class: "panel", hidden: true }, el("h3", {}, "Top patches"), make("patch-controls", "div", { class: "row" }),
      make("patches-box", "div")),
  ];
  return { body, q };
}

export async function mount(root, ctx) {
  useStyle("/static/pages/parts/pages.css");
  useStyle("/static/pages/parts/explorer.css");
  const options = await ctx.api.get("/api/explorer/models");
  const subject = subjectFrom(ctx.params);
  root.append(el("h2", {}, "Model explorer"), picker(options, subject));
  if (!subject) {
    root.append(el("p", { class: "muted" }, "Open a zoo model (at its native input size or another) or a training run from "
      + "the studio's --runs folder: its blocks, its profile, and what its layers do with an image."));
    return undefined;
  }
  const { body, q } = layout();
  root.append(...body);
  const work = tracker(root, q.status);
  const page = { ctx, q, work, subject, options, image: null, layer: null, method: NONE, target: null };
  await Promise.all([openStructure(page), openTable(page)]);
  await setupSource(page);
  setupMethods(page);
  return () => work.stop();
}

async function openStructure(page) {
  const s = await page.work.run("reading the blocks", page.ctx.api.post("/api/explorer/structure", page.subject));
  page.q.title.textContent = `${s.title}, input ${s.input_size.join("x")}`;
  page.q.weights.textContent = `Weights: ${s.weights}.`;
  page.q.weights.classList.toggle("random", s.random_weights);
  page.inputSize = s.input_size;
  page.nodes = new Map();
  const visit = (node) => { page.nodes.set(node.name, node); node.children.forEach(visit); };
  visit(s.tree);
  page.q.tree.replaceChildren(blockView(s.tree, (name) => quietly(page, selectLayer(page, name))));
}

async function openTable(page) {
  const load = async () => {
    const answer = await page.work.run("profiling", page.ctx.api.post("/api/explorer/table", { ...page.subject, flops: page.q.flops.checked }));
    page.q.table.replaceChildren(...tableView(answer, (name) => quietly(page, selectLayer(page, name))));
    markRow(page);
  };
  page.q.flops.addEventListener("change", () => quietly(page, load()));
  await load();
}

function markRow(page) {
  for (const row of page.q.table.querySelectorAll("tr[data-layer]")) row.classList.toggle("selected", row.dataset.layer === page.layer);
}

async function setupSource(page) {
  const { ctx, q, subject } = page;
  const photos = await ctx.api.get("/api/photos");
  const choices = [...(subject.run ? [["test", "a test image of the run"]] : []), ...photos.samples.map((p) => [p.id, `photo: ${p.name}`])];
  const source = select(choices, { "data-testid": "image-source", "aria-label": "image" });
  const index = el("input", { type: "number", min: 0, value: 0, "data-testid": "test-index", "aria-label": "test image index" });
  const upload = el("input", { type: "file", accept: "image/png,image/jpeg", "data-testid": "upload", "aria-label": "upload an image" });
  const apply = () => {
    page.image = source.value === "test" ? { run: subject.run, index: Number(index.value) } : { photo: source.value };
    index.hidden = source.value !== "test";
    quietly(page, refresh(page));
  };
  source.addEventListener("change", apply);
  index.addEventListener("change", apply);
  const send = async () => {
    const answer = await ctx.api.upload("/api/photos", upload.files[0]);
    source.append(el("option", { value: answer.id }, `upload: ${answer.name}`));
    source.value = answer.id;
    apply();
  };
  upload.addEventListener("change", () => { if (upload.files.length) quietly(page, send()); });
  q.source.replaceChildren(el("label", {}, "image ", source), index, el("label", {}, "or upload ", upload));
  if (subject.run) {
    setupPatches(page);
    browse(page, (i) => { source.value = "test"; index.value = i; apply(); });
  }
  apply();
}

// A run's test images by class, from the Runs page's API (/api/runs/<id>/images); without it
// the index field alone picks a test image.
function browse(page, choose) {
  const strip = el("div", { class: "tiles browse", "data-testid": "browse" });
  const classes = el("select", { "data-testid": "browse-class", "aria-label": "browse by class" });
  const show = async (label) => {
    const query = label === "" ? "" : `&label=${label}`;
    const answer = await page.ctx.api.get(`/api/runs/${encodeURIComponent(page.subject.run)}/images?limit=12${query}`, { quiet: true });
    if (!classes.options.length) {
      classes.append(el("option", { value: "" }, "every class"), ...answer.classes.map((c, i) => el("option", { value: i }, c)));
    }
    strip.replaceChildren(...answer.images.map((im) => el("img", {
      src: im.url, alt: `test image ${im.index}: ${im.label_name}`, title: `#${im.index} ${im.label_name} (predicted ${im.predicted_name})`,
      class: "thumb", "data-index": im.index, onclick: () => choose(im.index) })));
  };
  classes.addEventListener("change", () => show(classes.value).catch(() => {}));
  show("").then(() => page.q.source.after(el("div", { class: "row" }, el("label", {}, "browse ", classes)), strip),
    () => {});
}

// A new image: the prediction, the selected layer's maps and the overlay are redone.
async function refresh(page) {
  drawBoxes(page.q.boxes, page.q.input, []);
  page.q["field-text"].textContent = "";
  const answer = await page.work.run("predicting", page.ctx.api.post("/api/explorer/predict", { ...page.subject, image: page.image }));
  drawInput(page.q.input, answer.input);
  drawHeat(page.q.heat, null, page.q.input);
  drawBoxes(page.q.boxes, page.q.input, []);
  const [h, w] = answer.input_size.slice(1);
  page.q["input-note"].textContent = `What the model sees: ${h}x${w} pixels, drawn x${page.q.input.dataset.zoom}.`
    + (answer.label !== null ? ` True class: ${answer.label_name ?? answer.label} (${answer.label}).` : "");
  page.target = null;
  page.q.prediction.replaceChildren(el("p", { class: "muted" }, `Weights: ${answer.weights}. Click a class to explain it `
    + "(default: the predicted one)."), topList(answer, (index) => {
    page.target = index;
    for (const item of page.q.prediction.querySelectorAll("li")) item.classList.toggle("selected", Number(item.dataset.index) === index);
    if (page.method !== NONE) quietly(page, showAttribution(page));
  }));
  await Promise.all([page.layer ? showActivations(page) : null, page.method !== NONE ? showAttribution(page) : null]);
}

async function selectLayer(page, name) {
  page.layer = name;
  page.q["layer-name"].textContent = name;
  markRow(page);
  page.q["filters-box"].replaceChildren();
  const jobs = [showActivations(page)];
  if (page.nodes.get(name)?.filters) jobs.push(showFilters(page));
  await Promise.all(jobs);
}

// A deeper layer's kernels: the mean over input channels, or one input channel's slice.
async function showFilters(page, inputChannel = null) {
  const layer = page.layer;
  const answer = await page.work.run(`reading ${layer}'s filters`, page.ctx.api.post("/api/explorer/filters",
    { ...page.subject, layer, ...(inputChannel === null ? {} : { input_channel: inputChannel }) }));
  if (layer !== page.layer) return;
  const inputs = answer.weight_shape[1];
  const pick = inputs > 3 || inputChannel !== null ? el("label", {}, "input channel ", el("input", {
    type: "number", min: 0, max: inputs - 1, value: inputChannel ?? "", placeholder: "mean", "data-testid": "filter-input-channel",
    onchange: (event) => quietly(page, showFilters(page, event.target.value === "" ? null : Number(event.target.value))),
  })) : null;
  page.q["filters-box"].replaceChildren(el("h3", {}, "Filters"), pick, ...filterTiles(answer));
}

async function showActivations(page) {
  const box = page.q["activations-box"];
  const layer = page.layer;
  try {
    const answer = await page.work.run(`computing ${layer}'s activation maps`,
      page.ctx.api.post("/api/explorer/activations", { ...page.subject, image: page.image, layer, top: 16 }));
    if (layer !== page.layer) return;
    box.replaceChildren(el("h3", {}, "Activation maps"), ...activationTiles(answer, (channel, y, x) => quietly(page, showField(page, channel, y, x))));
  } catch (err) {
    box.replaceChildren(el("p", { class: "muted" }, `No activation maps: ${err.message}`));
  }
}

async function showField(page, channel, y, x) {
  const answer = await page.work.run("tracing the receptive field", page.ctx.api.post("/api/explorer/receptive-field",
    { ...page.subject, image: page.image, layer: page.layer, channel, y, x }));
  // Green last: where the two boxes share an edge (both clipped by the image), it shows.
  drawBoxes(page.q.boxes, page.q.input, [[answer.effective_box, "#ef4444"], [answer.theoretical_box, "#22c55e"]]);
  page.q.boxes.dataset.box = answer.theoretical_box.join(",");
  page.q["field-text"].textContent = fieldText(answer);
  if (page.q["patch-channel"]) page.q["patch-channel"].value = channel;
}

function setupMethods(page) {
  const { q } = page;
  const methods = [NONE, ...page.options.methods];
  q.methods.replaceChildren(...methods.map((m) => el("label", {}, el("input", {
    type: "radio", name: "method", value: m, checked: m === NONE, "data-testid": `method-${m}`,
    onchange: () => { page.method = m; q.occlusion.hidden = m !== "occlusion"; quietly(page, showAttribution(page)); },
  }), m)));
  const side = page.inputSize[1];
  const square = el("input", { type: "number", min: 1, max: side, value: Math.max(1, Math.round(side / 7)), "data-testid": "occlusion-square" });
  const stride = el("input", { type: "number", min: 1, max: side, value: Math.max(1, Math.round(side / 7)), "data-testid": "occlusion-stride" });
  for (const input of [square, stride]) input.addEventListener("change", () => quietly(page, showAttribution(page)));
  q.occlusion.replaceChildren(el("label", {}, "square ", square), el("label", {}, "stride ", stride));
  page.camAtLayer = el("input", { type: "checkbox", "data-testid": "cam-at-layer",
                                  onchange: () => quietly(page, showAttribution(page)) });
  q.methods.append(el("label", { title: "Grad-CAM at the layer picked below instead of the last spatial one" },
    page.camAtLayer, "CAMs at the selected layer"));
  q.occlusion.hidden = true;
  page.occlusion = { square, stride };
}

async function showAttribution(page) {
  const { q } = page;
  if (page.method === NONE) { drawHeat(q.heat, null, q.input); q["attribution-text"].textContent = ""; return; }
  const body = { ...page.subject, image: page.image, method: page.method, target: page.target };
  if (page.method.startsWith("gradcam") && page.camAtLayer.checked && page.layer) body.layer = page.layer;
  if (page.method === "occlusion") Object.assign(body, { square: Number(page.occlusion.square.value), stride: Number(page.occlusion.stride.value) });
  const method = page.method;
  const answer = await page.work.run(`computing ${method}`, page.ctx.api.post("/api/explorer/attribution", body));
  if (method !== page.method) return;
  drawHeat(q.heat, answer.heat, q.input);
  q.heat.dataset.method = method;
  q["attribution-text"].textContent = attributionText(answer);
}

function setupPatches(page) {
  const { q } = page;
  q["patches-panel"].hidden = false;
  const channel = el("input", { type: "number", min: 0, value: 0, "data-testid": "patch-channel" });
  q["patch-channel"] = channel;
  const images = el("input", { type: "number", min: 1, max: 10000, value: 1000, "data-testid": "patch-images" });
  const search = async () => {
    if (!page.layer) { page.ctx.showError("pick a layer first (click its name in the blocks or the table)"); return; }
    const answer = await page.work.run("searching the test split", page.ctx.api.post("/api/explorer/top-patches",
      { run: page.subject.run, layer: page.layer, channel: Number(channel.value), images: Number(images.value) }));
    q["patches-box"].replaceChildren(...patchTiles(answer));
  };
  const go = el("button", { type: "button", "data-testid": "show-patches", onclick: () => quietly(page, search()) },
    "show top patches");
  q["patch-controls"].replaceChildren(el("label", {}, "channel ", channel), el("label", {}, "of the first ", images, " test images"), go);
}
