// A window-by-window player for one trace of /api/steps/conv or /api/steps/pool: the padded
// input with the current window marked, the kernel, the sum written out as on the slides, and
// the output filled in up to the current step. Play, pause, step back and forth, scrub.
import { el } from "./dom.js";
import { matrixView } from "./matrix.js";

export function createStepper({ testid, delay = 900 }) {
  let trace = null;
  let index = 0;
  let timer = null;

  const board = el("div", { class: "row stepper-board" });
  const sum = el("p", { class: "formula sum", "data-testid": `${testid}-sum` });
  const where = el("span", { class: "muted", "data-testid": `${testid}-where` });
  const scrub = el("input", { type: "range", min: 0, max: 0, value: 0,
                              "aria-label": "scrub", "data-testid": `${testid}-scrub`,
                              oninput: () => go(Number(scrub.value)) });
  const back = el("button", { type: "button", "data-testid": `${testid}-back`,
                              onclick: () => { pause(); go(index - 1); } }, "◀ step");
  const play = el("button", { type: "button", "data-testid": `${testid}-play`,
                              onclick: () => (timer ? pause() : start()) }, "▶ play");
  const next = el("button", { type: "button", "data-testid": `${testid}-step`,
                              onclick: () => { pause(); go(index + 1); } }, "step ▶");
  const controls = el("div", { class: "stepper-controls" }, back, play, next, scrub, where);
  const element = el("div", { class: "stepper", "data-testid": testid }, controls, sum, board);

  function start() {
    if (!trace) return;
    if (index >= trace.steps.length - 1) go(0);
    play.textContent = "⏸ pause";
    timer = setInterval(() => {
      if (index >= trace.steps.length - 1) pause();
      else go(index + 1);
    }, delay);
  }

  function pause() {
    clearInterval(timer);
    timer = null;
    play.textContent = "▶ play";
  }

  function go(i) {
    if (!trace) return;
    index = Math.max(0, Math.min(trace.steps.length - 1, i));
    render();
  }

  function render() {
    const step = trace.steps[index];
    const kernel = trace.kernel;
    const [kh, kw] = kernel ? [kernel.length, kernel[0].length]
      : [step.window.length, step.window[0].length];
    const top = step.row * trace.stride;
    const left = step.col * trace.stride;
    const rows = trace.padded_input.length;
    const cols = trace.padded_input[0].length;
    const inWindow = (r, c) => r >= top && r < top + kh && c >= left && c < left + kw;
    const isPad = (r, c) => r < trace.padding || c < trace.padding
      || r >= rows - trace.padding || c >= cols - trace.padding;
    const input = matrixView(trace.padded_input, {
      testid: `${testid}-input`,
      mark: (r, c) => [inWindow(r, c) ? "win" : "", isPad(r, c) ? "pad" : ""].join(" ").trim(),
      note: (r, c) => (kernel && inWindow(r, c) ? kernel[r - top][c - left] : null),
    });
    const width = trace.output[0].length;
    const output = matrixView(trace.output, {
      testid: `${testid}-output`,
      mark: (r, c) => (r === step.row && c === step.col ? "current" : ""),
      hide: (r, c) => r * width + c > index,
    });
    const parts = [el("figure", {}, input, el("figcaption", {}, trace.padding
      ? `input, padded by ${trace.padding}` : "input"))];
    if (kernel) {
      parts.push(el("figure", {}, matrixView(kernel, { testid: `${testid}-kernel` }),
        el("figcaption", {}, "kernel")));
    }
    parts.push(el("figure", {}, output, el("figcaption", {}, trace.operation === "conv"
      ? "convolved feature" : "pooled feature")));
    board.replaceChildren(...parts);
    sum.textContent = `out[${step.row},${step.col}] = ${trace.sums[index]}`;
    where.textContent = ` step ${index + 1} of ${trace.steps.length}`;
    scrub.max = String(trace.steps.length - 1);
    scrub.value = String(index);
    element.dataset.index = String(index);
  }

  return {
    element,
    update(next) {
      trace = next;
      go(index);
    },
    stop: pause,
  };
}
