// Shapes: `cnnlab shape` as a form. Add, remove and reorder conv / pool / fc layers; each
// row shows the output size with its formula, parameters, activations and receptive field,
// all from /api/shapes (cnnlab.convolution.shapes and cnnlab.complexity.receptive_field).
// The VGG-16 preset sets the lecture's memory table beside the computed rows.
import { debounce } from "../lib/debounce.js";
import { el, select, thousands, useStyle } from "./parts/dom.js";

export const title = "Shapes";

// Each layer kind's numbers in the order of its spec (conv:K,F,S,P,D): name, the value
// `cnnlab shape` assumes when the spec leaves it out (null: required), the least value.
const KINDS = {
  conv: [["filters", null, 1], ["kernel", null, 1], ["stride", 1, 1], ["padding", 0, 0], ["dilation", 1, 1]],
  pool: [["kernel", null, 1], ["stride", null, 1], ["padding", 0, 0]],
  avgpool: [["kernel", null, 1], ["stride", null, 1], ["padding", 0, 0]],
  fc: [["outputs", null, 1]],
  relu: [],
  norm: [],
};
// What "add layer" and a change of kind start from.
const FRESH = { conv: [64, 3, 1, 1, 1], pool: [2, 2, 0], avgpool: [2, 2, 0], fc: [1000], relu: [], norm: [] };

// "conv:6,5" -> {kind: "conv", numbers: [6, 5, 1, 0, 1]}; a pool's stride defaults to its
// window, as in `cnnlab shape`.
function parseSpec(text) {
  const [head, args = ""] = text.split(":");
  const kind = head === "maxpool" ? "pool" : head;
  const given = args ? args.split(",").map(Number) : [];
  const numbers = KINDS[kind].map(([name, fallback], i) => {
    if (i < given.length) return given[i];
    return name === "stride" && fallback === null ? given[0] : fallback;
  });
  return { kind, numbers };
}

function specText(layer) {
  return layer.numbers.length ? `${layer.kind}:${layer.numbers.join(",")}` : layer.kind;
}

function layerRow(layer, index, count, actions) {
  const kind = select(Object.keys(KINDS).map((k) => [k, k]), { "data-testid": `layer-${index}-kind` });
  kind.value = layer.kind;
  kind.addEventListener("change", () => actions.retype(index, kind.value));
  const numbers = KINDS[layer.kind].map(([name, , min], i) => {
    const input = el("input", { type: "number", min, step: 1, value: layer.numbers[i],
                                "data-testid": `layer-${index}-${name}`, "aria-label": name,
                                title: name });
    input.addEventListener("input", () => actions.set(index, i, Number(input.value)));
    return el("label", {}, name, input);
  });
  const button = (text, testid, fn, disabled = false) => el("button",
    { type: "button", "data-testid": `layer-${index}-${testid}`, onclick: fn, disabled }, text);
  return el("div", { class: "layer-row", "data-testid": `layer-${index}` },
    el("span", { class: "muted" }, `${index + 1}.`), kind, ...numbers,
    button("↑", "up", () => actions.move(index, -1), index === 0),
    button("↓", "down", () => actions.move(index, 1), index === count - 1),
    button("✕", "remove", () => actions.remove(index), count === 1));
}

function resultTable(answer) {
  const slide = answer.slide;
  const heads = ["#", "layer", "output size (W - F + 2P)/S + 1", "output", "activations", "weights",
    "biases", "params", "receptive field", "jump"];
  if (slide) heads.push("slide: layer", "slide: output", "slide: memory", "slide: params", "verdict");
  const rows = [];
  const slideCells = (i) => {
    if (!slide) return [];
    const s = slide.rows[i];
    if (!s) return [el("td", { class: "text", colspan: 5 }, "no slide row")];
    return [el("td", { class: "text" }, s.label), el("td", {}, s.shape.join("x")), el("td", {}, s.memory),
      el("td", {}, thousands(s.params)),
      el("td", { class: s.matches ? "verdict-ok" : "verdict-bad" }, s.matches ? "matches" : "DIFFERS")];
  };
  const [h, w, c] = answer.input;
  rows.push(el("tr", {}, el("td", {}, "0"), el("td", { class: "text" }, "input"), el("td", {}),
    el("td", {}, answer.input.join("x")), el("td", {}, thousands(h * w * c)), el("td", {}, "0"),
    el("td", {}, "0"), el("td", {}, "0"), el("td", {}, "1"), el("td", {}, "1"), ...slideCells(0)));
  answer.layers.forEach((row, i) => {
    const rf = row.receptive_field;
    rows.push(el("tr", { "data-testid": `row-${i}` }, el("td", {}, String(i + 1)),
      el("td", { class: "text" }, row.layer), el("td", { class: "text mono" }, row.formula),
      el("td", { "data-testid": `row-${i}-output` }, row.output.join("x")),
      el("td", { "data-testid": `row-${i}-activations` }, thousands(row.activations)),
      el("td", {}, thousands(row.weights)), el("td", {}, thousands(row.biases)),
      el("td", { "data-testid": `row-${i}-params` }, thousands(row.params)),
      el("td", { "data-testid": `row-${i}-rf` }, rf.global ? `${rf.size[0]} (global)` : String(rf.size[0])),
      el("td", {}, String(rf.jump[0])), ...slideCells(i + 1)));
  });
  return el("table", { class: "data", "data-testid": "shape-table" },
    el("tr", {}, heads.map((head) => el("th", { class: "text" }, head))), rows);
}

const INTRO = "Each layer's output size is (W - F + 2P)/S + 1; a conv has F x F x C_in x K weights and K "
  + "biases; fc flattens its input. The receptive field is how many input pixels one output unit sees "
  + "(per axis), the jump how far apart neighbouring units' centres are.";

function totalsText(answer) {
  const last = answer.layers[answer.layers.length - 1];
  return `total parameters ${thousands(answer.total_params)}; output ${last.output.join("x")}; `
    + `activations per image ${thousands(answer.total_activations)} values `
    + `(${(4 * answer.total_activations / 1e6).toFixed(1)} MB in float32)`;
}

function slideNotes(slide) {
  if (!slide) return [];
  return [el("p", { class: "muted" }, `Slide: ${slide.source}. Its totals: ${slide.total_memory}; ${slide.total_params}.`),
    el("ol", { class: "notes", "data-testid": "shape-notes" }, slide.notes.map((n) => el("li", {}, n)))];
}

export async function mount(root, ctx) {
  useStyle("/static/pages/parts/pages.css");
  const presets = await ctx.api.get("/api/shapes/presets");
  let layers = [];
  let compare = null;
  const choose = select([...Object.entries(presets).map(([k, p]) => [k, p.title]), ["custom", "custom"]],
    { "data-testid": "shape-preset" });
  const input = el("input", { type: "text", value: "224x224x3", size: 12, "data-testid": "shape-input",
                              "aria-label": "input size H x W x C" });
  const rounding = select([["strict", "strict"], ["floor", "floor (PyTorch)"], ["ceil", "ceil"]],
    { "data-testid": "shape-rounding" });
  const list = el("div", { "data-testid": "layer-list" });
  const add = el("button", { type: "button", "data-testid": "layer-add" }, "+ add layer");
  const command = el("pre", { "data-testid": "shape-command" });
  const totals = el("p", { "data-testid": "shape-totals" });
  const table = el("div", {});
  const notes = el("div", {});
  const refresh = debounce(() => run(), 300);
  let ticket = 0;

  const actions = {
    set(i, j, value) { layers[i].numbers[j] = value; refresh(); },
    retype(i, kind) { layers[i] = { kind, numbers: [...FRESH[kind]] }; drawList(); run(); },
    move(i, by) { const [layer] = layers.splice(i, 1); layers.splice(i + by, 0, layer); drawList(); run(); },
    remove(i) { layers.splice(i, 1); drawList(); run(); },
  };

  function drawList() {
    list.replaceChildren(...layers.map((layer, i) => layerRow(layer, i, layers.length, actions)));
  }

  async function run() {
    const mine = ++ticket;
    const specs = layers.map(specText);
    command.textContent = `cnnlab shape --input ${input.value} --rounding ${rounding.value} ${specs.join(" ")}`;
    let answer;
    try {
      answer = await ctx.api.post("/api/shapes", { input: input.value, layers: specs,
                                                   rounding: rounding.value, compare });
    } catch {
      if (mine === ticket) { table.replaceChildren(); totals.textContent = "no result: see the message above"; }
      return;
    }
    if (mine !== ticket) return;
    ctx.clearError();
    table.replaceChildren(resultTable(answer));
    totals.textContent = totalsText(answer);
    notes.replaceChildren(...slideNotes(answer.slide));
  }

  function load(name) {
    const preset = presets[name];
    if (!preset) return;
    input.value = preset.input;
    layers = preset.layers.map(parseSpec);
    compare = preset.compare;
    drawList();
    return run();
  }

  choose.addEventListener("change", () => { if (choose.value === "custom") { compare = null; run(); } else load(choose.value); });
  input.addEventListener("input", refresh);
  rounding.addEventListener("change", () => run());
  add.addEventListener("click", () => { layers.push({ kind: "conv", numbers: [...FRESH.conv] }); drawList(); run(); });

  root.append(el("h2", {}, "Shapes, layer by layer"),
    el("section", { class: "panel" }, el("p", { class: "muted" }, INTRO),
      el("div", { class: "row" }, el("label", {}, "preset ", choose), el("label", {}, "input H x W x C ", input),
        el("label", {}, "rounding ", rounding)),
      list, add, el("p", { class: "muted" }, "The same in a terminal:"), command),
    totals, table, notes);
  choose.value = "vgg16";
  await load("vgg16");
  return () => refresh.cancel();
}
