// Convolution step by step: the lecture's 5x5 * 3x3 example window by window, stride and
// padding, ReLU, 2x2 pooling, the curve detector, and many channels with many filters. Every
// number on this page comes from /api/steps/* (cnnlab.convolution.steps, what `cnnlab trace`
// prints).
import { debounce } from "../lib/debounce.js";
import { el, numberField, select, useStyle } from "./parts/dom.js";
import { matrixEditor, matrixView } from "./parts/matrix.js";
import { createStepper } from "./parts/stepper.js";
import { channelsSection } from "./parts/channels.js";

export const title = "Step by step";

const EXAMPLES = [["lecture", "lecture: 5x5 image, 3x3 X filter"],
  ["stride", "7x7 input, 3x3 filter, stride 2 → 3x3"],
  ["padding", "7x7 input, 3x3 filter, pad 1 → 7x7"],
  ["curve", "curve detector on the curve"], ["curve-other", "curve detector elsewhere"]];

// Send only the last of several quick requests' answers to `apply` (older ones are dropped).
function latest(fetcher, apply) {
  let ticket = 0;
  return async (...args) => {
    const mine = ++ticket;
    try {
      const answer = await fetcher(...args);
      if (mine === ticket) apply(answer);
      return answer;
    } catch (err) {
      if (mine === ticket) apply(null, err);
      return null;
    }
  };
}

function convFields() {
  return {
    choose: select(EXAMPLES, { "data-testid": "conv-example" }),
    rows: numberField("rows", 5, { min: 1, max: 32, "data-testid": "conv-rows" }),
    cols: numberField("cols", 5, { min: 1, max: 32, "data-testid": "conv-cols" }),
    ksize: numberField("kernel size", 3, { min: 1, max: 15, "data-testid": "conv-ksize" }),
    stride: numberField("stride", 1, { min: 1, max: 8, "data-testid": "conv-stride" }),
    padding: numberField("zero padding", 0, { min: 0, max: 8, "data-testid": "conv-padding" }),
    bias: numberField("bias", 0, { "data-testid": "conv-bias", step: "any" }),
    nonzero: el("input", { type: "checkbox", "data-testid": "conv-nonzero" }),
    same: el("button", { type: "button", "data-testid": "conv-same" }, "pad (F-1)/2"),
    formula: el("p", { class: "formula", "data-testid": "conv-formula" }),
    shape: el("p", { class: "muted", "data-testid": "conv-shape" }),
    relu: el("div", { class: "row", "data-testid": "conv-relu" }),
  };
}

// The output size, the (F-1)/2 button and the ReLU maps of one /api/steps/conv answer.
function showConv(f, answer, [ih, iw]) {
  if (!answer) {
    f.formula.textContent = "no output: see the message above";
    f.shape.textContent = "";
    return;
  }
  f.formula.textContent = `output size: ${answer.formula}`;
  const [oh, ow] = answer.output_shape;
  f.shape.textContent = `input ${ih}x${iw} → output ${oh}x${ow}` + (oh === ih && ow === iw
    ? " (size preserved)" : "");
  f.same.disabled = answer.same_padding === null;
  f.same.title = answer.same_padding === null ? "an even kernel has no (F-1)/2 padding"
    : `stride 1, pad ${answer.same_padding} keeps the size`;
  f.relu.replaceChildren(
    el("figure", {}, matrixView(answer.output, { testid: "conv-before-relu" }), el("figcaption", {}, "feature map")),
    el("figure", {}, matrixView(answer.relu, { testid: "conv-after-relu" }), el("figcaption", {}, "ReLU: max(0, x)")));
}

function convLayout(f, image, kernel, stepper) {
  return el("section", { class: "panel", "data-testid": "conv-section" },
    el("h3", {}, "Convolution, window by window"),
    el("p", { class: "muted" }, "Each output value is the sum of the window's values times the kernel's. ",
      "Edit any cell; stride and zero padding change the output size by (W - F + 2P)/S + 1. ",
      "With stride 1, zero padding (F-1)/2 preserves the size: F = 3 → pad 1, F = 5 → pad 2, F = 7 → pad 3."),
    el("div", { class: "row" }, el("label", {}, "example ", f.choose), f.stride.label, f.padding.label,
      f.bias.label, f.same, el("label", {}, f.nonzero, " only non-zero products")),
    el("div", { class: "row" },
      el("figure", {}, image.element, el("figcaption", {}, "input (editable) ", f.rows.label, f.cols.label)),
      el("figure", {}, kernel.element, el("figcaption", {}, "kernel (editable) ", f.ksize.label))),
    f.formula, f.shape, stepper.element,
    el("h3", {}, "ReLU"), f.relu);
}

function convSection(ctx, examples, onOutput) {
  const f = convFields();
  const stepper = createStepper({ testid: "conv" });
  const refresh = debounce(() => run(), 250);
  const image = matrixEditor(examples.conv.lecture.image, { onChange: refresh, testid: "conv-image" });
  const kernel = matrixEditor(examples.conv.lecture.kernel, { onChange: refresh, testid: "conv-kernel", max: 15 });
  let samePadding = null;

  const run = latest(() => ctx.api.post("/api/steps/conv", {
    image: image.get(), kernel: kernel.get(), stride: Number(f.stride.input.value),
    padding: Number(f.padding.input.value), bias: Number(f.bias.input.value) || 0,
    nonzero: f.nonzero.checked,
  }), (answer) => {
    const grid = image.get();
    showConv(f, answer, [grid.length, grid[0].length]);
    if (!answer) return;
    ctx.clearError();
    stepper.update(answer);
    samePadding = answer.same_padding;
    onOutput(answer.relu);
  });

  function load(name) {
    const e = examples.conv[name];
    image.set(e.image);
    kernel.set(e.kernel);
    [f.rows.input.value, f.cols.input.value] = [e.image.length, e.image[0].length];
    f.ksize.input.value = e.kernel.length;
    [f.stride.input.value, f.padding.input.value] = [e.stride, e.padding];
    f.nonzero.checked = name.startsWith("curve");
    run();
  }

  const resizeImage = () => {
    [f.rows.input.value, f.cols.input.value] = image.resize(Number(f.rows.input.value), Number(f.cols.input.value));
    run();
  };
  f.choose.addEventListener("change", () => load(f.choose.value));
  for (const field of [f.stride, f.padding, f.bias]) field.input.addEventListener("input", refresh);
  f.nonzero.addEventListener("change", () => run());
  f.rows.input.addEventListener("change", resizeImage);
  f.cols.input.addEventListener("change", resizeImage);
  f.ksize.input.addEventListener("change", () => {
    [f.ksize.input.value] = kernel.resize(Number(f.ksize.input.value), Number(f.ksize.input.value));
    run();
  });
  f.same.addEventListener("click", () => {
    if (samePadding === null) return;
    [f.stride.input.value, f.padding.input.value] = [1, samePadding];
    run();
  });
  const section = convLayout(f, image, kernel, stepper);
  return { section, run, stop: () => { stepper.stop(); refresh.cancel(); } };
}

function poolSection(ctx, examples) {
  const stepper = createStepper({ testid: "pool" });
  const size = numberField("window", 2, { min: 1, max: 15, "data-testid": "pool-size" });
  const stride = select([["1", "stride 1"], ["2", "stride 2"]], { "data-testid": "pool-stride" });
  const op = select([["max", "max pooling"], ["avg", "average pooling"]], { "data-testid": "pool-op" });
  const formula = el("p", { class: "formula", "data-testid": "pool-formula" });
  const refresh = debounce(() => run(), 250);
  const image = matrixEditor(examples.pool, { onChange: refresh, testid: "pool-image" });
  const useConv = el("button", { type: "button", "data-testid": "pool-use-conv" }, "use the ReLU map above");
  let convOutput = null;

  const run = latest(() => ctx.api.post("/api/steps/pool", {
    image: image.get(), size: Number(size.input.value), stride: Number(stride.value), op: op.value,
  }), (answer) => {
    if (!answer) { formula.textContent = "no output: see the message above"; return; }
    ctx.clearError();
    stepper.update(answer);
    formula.textContent = `output size: ${answer.formula}`;
  });

  const rows = numberField("rows", 3, { min: 1, max: 32, "data-testid": "pool-rows" });
  const cols = numberField("cols", 3, { min: 1, max: 32, "data-testid": "pool-cols" });
  const resize = () => {
    [rows.input.value, cols.input.value] = image.resize(Number(rows.input.value), Number(cols.input.value));
    run();
  };
  rows.input.addEventListener("change", resize);
  cols.input.addEventListener("change", resize);
  for (const control of [stride, op]) control.addEventListener("change", () => run());
  size.input.addEventListener("input", refresh);
  useConv.addEventListener("click", () => {
    if (!convOutput) return;
    image.set(convOutput);
    [rows.input.value, cols.input.value] = [convOutput.length, convOutput[0].length];
    run();
  });

  const section = el("section", { class: "panel", "data-testid": "pool-section" },
    el("h3", {}, "Pooling, window by window"),
    el("p", { class: "muted" }, "Max pooling keeps each window's largest value, average pooling its mean. ",
      "The lecture's slide: 2x2 max pooling with stride 1, here on its 3x3 feature map (4 3 4 / 2 4 3 / 2 3 4)."),
    el("div", { class: "row" }, size.label, stride, op, useConv),
    el("figure", {}, image.element, el("figcaption", {}, "input (editable) ", rows.label, cols.label)),
    formula, stepper.element);
  return { section, run, setConvOutput: (map) => { convOutput = map; }, stop: () => { stepper.stop(); refresh.cancel(); } };
}

async function curveSection(ctx, examples) {
  const answers = await Promise.all(["curve", "curve-other"].map((name) => {
    const e = examples.conv[name];
    return ctx.api.post("/api/steps/conv", { image: e.image, kernel: e.kernel, nonzero: true });
  }));
  const [on, off] = answers;
  const filter = examples.conv.curve.kernel;
  const card = (name, answer, testid) => el("figure", { "data-testid": testid },
    matrixView(examples.conv[name].image, { mark: (r, c) => (filter[r][c] ? "win" : "") }),
    el("figcaption", {}, examples.conv[name].description),
    el("p", { class: "formula" }, answer.sums[0]),
    el("p", {}, "response: ", el("strong", { "data-testid": `${testid}-value` }, String(answer.output[0][0]))));
  return el("section", { class: "panel", "data-testid": "curve-section" },
    el("h3", {}, "The curve detector"),
    el("p", { class: "muted" }, "A 7x7 filter whose 30s lie on a curve answers with a large number on a receptive ",
      "field holding that curve, and 0 on one without it (marked cells: where the filter is non-zero)."),
    el("div", { class: "row" },
      el("figure", {}, matrixView(filter, { testid: "curve-filter" }), el("figcaption", {}, "filter")),
      card("curve", on, "curve-on"), card("curve-other", off, "curve-off")));
}

export async function mount(root, ctx) {
  useStyle("/static/pages/parts/pages.css");
  const examples = await ctx.api.get("/api/steps/examples");
  const pool = poolSection(ctx, examples);
  const conv = convSection(ctx, examples, (map) => pool.setConvOutput(map));
  const channels = channelsSection(ctx, examples.filters);
  root.append(el("h2", {}, "Convolution step by step"), conv.section, pool.section,
    await curveSection(ctx, examples), channels.section);
  await Promise.all([conv.run(), pool.run(), channels.run()]);
  return () => { conv.stop(); pool.stop(); channels.stop(); };
}
