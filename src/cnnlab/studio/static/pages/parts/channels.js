// Many channels, many filters: the shapes through one conv layer (`cnnlab trace layer`) and
// the lecture's 3-channel -> 2-filter example, one output value at a time: a 2D sum per input
// channel, plus the filter's bias. Numbers from /api/steps/layer and /api/steps/filters.
import { drawMatrix } from "../../lib/canvas.js";
import { el, numberField, select, show } from "./dom.js";
import { matrixView } from "./matrix.js";

const MAP_ZOOM = 4;  // 28x28 maps drawn at 112x112 canvas pixels

// The lecture's 32x32x3 image and six 5x5x3 filters as pictures: a small crop of a sample
// photo and the six 28x28 activation maps (each drawn from its own minimum to maximum).
function mapsView(ctx) {
  const photo = select([["cat", "cat"], ["astronaut", "astronaut"], ["coffee", "coffee"], ["camera", "camera"]],
    { "data-testid": "maps-photo" });
  const input = el("canvas", { class: "pixels", "data-testid": "maps-input" });
  const maps = el("div", { class: "row", "data-testid": "maps" });
  async function run() {
    let answer;
    try {
      answer = await ctx.api.get(`/api/steps/maps?photo=${encodeURIComponent(photo.value)}`);
    } catch {
      return;
    }
    drawMatrix(input, answer.input, { zoom: MAP_ZOOM, min: 0, max: 255 });
    maps.replaceChildren(...answer.maps.map((map, k) => {
      const canvas = el("canvas", { class: "pixels", "data-testid": `map-${k}` });
      drawMatrix(canvas, map, { zoom: MAP_ZOOM });
      return el("figure", {}, canvas, el("figcaption", {}, answer.filters[k]));
    }));
    maps.dataset.photo = answer.photo;
  }
  photo.addEventListener("change", run);
  const element = el("div", {},
    el("h4", {}, "Six activation maps"),
    el("div", { class: "row" }, el("label", {}, "photo ", photo)),
    el("div", { class: "row" }, el("figure", {}, input, el("figcaption", {}, "input 32x32x3 (a centre crop)")), maps));
  return { element, run };
}

function layerForm(ctx) {
  const fields = {
    height: numberField("H", 32, { min: 1 }), width: numberField("W", 32, { min: 1 }),
    channels: numberField("C", 3, { min: 1 }), filters: numberField("filters K", 6, { min: 1 }),
    kernel: numberField("F", 5, { min: 1 }), stride: numberField("stride", 1, { min: 1 }),
    padding: numberField("padding", 0, { min: 0 }),
  };
  for (const [name, f] of Object.entries(fields)) f.input.dataset.testid = `layer-${name}`;
  const output = el("strong", { "data-testid": "layer-output" });
  const text = el("pre", { "data-testid": "layer-text" });
  async function run() {
    const body = Object.fromEntries(Object.entries(fields).map(([k, f]) => [k, Number(f.input.value)]));
    try {
      const answer = await ctx.api.post("/api/steps/layer", body);
      ctx.clearError();
      output.textContent = answer.output_hwc.join("x");
      text.textContent = answer.text;
    } catch {
      output.textContent = "—";
      text.textContent = "";
    }
  }
  for (const f of Object.values(fields)) f.input.addEventListener("change", run);
  const element = el("div", {},
    el("div", { class: "row" }, Object.values(fields).map((f) => f.label)),
    el("p", {}, "output: ", output), text);
  return { element, run };
}

function filtersView(ctx, example) {
  let answer = null;
  const which = select(example.weights.map((_, k) => [String(k), `filter ${k}`]), { "data-testid": "filters-which" });
  const scrub = el("input", { type: "range", min: 0, max: 0, value: 0, "aria-label": "output position",
                              "data-testid": "filters-scrub" });
  const board = el("div", { class: "row" });
  const sums = el("div", { "data-testid": "filters-sums" });
  const maps = el("div", { class: "row", "data-testid": "filters-output" });

  function render() {
    if (!answer) return;
    const k = Number(which.value);
    const planes = answer.filters[k];
    const index = Number(scrub.value);
    const step = planes[0].steps[index];
    const f = answer.weights[k][0].length;
    const top = step.row * answer.stride;
    const left = step.col * answer.stride;
    const inWindow = (r, c) => r >= top && r < top + f && c >= left && c < left + f;
    const [height, width] = [planes[0].padded_input.length, planes[0].padded_input[0].length];
    const pad = answer.padding;
    const isPad = (r, c) => r < pad || c < pad || r >= height - pad || c >= width - pad;
    board.replaceChildren(...planes.map((plane, c) => el("figure", {},
      matrixView(plane.padded_input, {
        mark: (r, cc) => [inWindow(r, cc) ? "win" : "", isPad(r, cc) ? "pad" : ""].join(" ").trim(),
      }),
      matrixView(answer.weights[k][c]),
      el("figcaption", {}, `channel ${c} (padded) and filter ${k}'s slice ${c}`))));
    const value = answer.output[k][step.row][step.col];
    sums.replaceChildren(
      ...planes.map((_, c) => el("p", { class: "formula" }, `channel ${c}: ${answer.sums[k][c][index]}`)),
      el("p", { class: "formula" }, "sum of the channels + bias ", show(answer.bias[k]), " = ",
        el("strong", { "data-testid": "filters-value" }, show(value)),
        `  → out[${k}, ${step.row}, ${step.col}]`));
    maps.replaceChildren(...answer.output.map((map, kk) => el("figure", {},
      matrixView(map, { testid: `filters-map-${kk}`,
                        mark: (r, c) => (kk === k && r === step.row && c === step.col ? "current" : "") }),
      el("figcaption", {}, `activation map ${kk}`))));
  }

  async function run() {
    answer = await ctx.api.post("/api/steps/filters", {
      image: example.image, weights: example.weights, bias: example.bias,
      stride: example.stride, padding: example.padding,
    });
    scrub.max = String(answer.filters[0][0].steps.length - 1);
    render();
  }
  which.addEventListener("change", render);
  scrub.addEventListener("input", render);
  const [k, c, f] = [example.weights.length, example.image.length, example.weights[0][0].length];
  const element = el("div", {},
    el("p", { class: "muted" }, `${example.description}. ${k} filters of ${f}x${f}x${c}: each output value adds `,
      `one ${f}x${f} sum per input channel and the filter's bias.`),
    el("div", { class: "row" }, which, el("label", {}, "output position ", scrub)),
    board, sums, maps);
  return { element, run };
}

export function channelsSection(ctx, example) {
  const layer = layerForm(ctx);
  const filters = filtersView(ctx, example);
  const maps = mapsView(ctx);
  const section = el("section", { class: "panel", "data-testid": "channels-section" },
    el("h3", {}, "Many channels, many filters"),
    el("p", { class: "muted" }, "A 32x32x3 image and six 5x5x3 filters give six 28x28 activation maps, ",
      "stacked into a 28x28x6 output. Change the layer to see the shapes and costs."),
    layer.element, maps.element, filters.element);
  return { section, run: () => Promise.all([layer.run(), maps.run(), filters.run()]), stop: () => {} };
}
