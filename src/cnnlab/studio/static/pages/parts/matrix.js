// Matrices on the page: an editable grid of number inputs, and a read-only grid whose cells
// can be marked (the window under the kernel, padding, the current output).
import { el, show } from "./dom.js";

// An editable rows x cols grid. onChange() fires on every edit of a valid number.
export function matrixEditor(values, { onChange = () => {}, testid = "", min = 1, max = 32 } = {}) {
  let current = values.map((row) => [...row]);
  const table = el("table", { class: "matrix editor", "data-testid": testid });

  function render() {
    table.replaceChildren(...current.map((row, r) => el("tr", {}, row.map((v, c) => el("td", {},
      el("input", {
        type: "number", step: "any", value: v, "data-row": r, "data-col": c,
        "aria-label": `${testid} row ${r} column ${c}`,
        oninput: (event) => {
          const number = Number(event.target.value);
          if (event.target.value.trim() === "" || !Number.isFinite(number)) return;
          current[r][c] = number;
          onChange();
        },
      }))))));
  }

  render();
  return {
    element: table,
    get: () => current.map((row) => [...row]),
    set(next) { current = next.map((row) => [...row]); render(); },
    // Grow or shrink to rows x cols, keeping the values that still fit, new cells 0.
    resize(rows, cols) {
      rows = Math.max(min, Math.min(max, rows));
      cols = Math.max(min, Math.min(max, cols));
      // Unchanged: keep the inputs (a change event on blur must not re-create the focused one).
      if (rows === current.length && cols === current[0].length) return [rows, cols];
      current = Array.from({ length: rows }, (_, r) =>
        Array.from({ length: cols }, (_, c) => current[r]?.[c] ?? 0));
      render();
      return [rows, cols];
    },
  };
}

// A read-only grid. mark(r, c) returns extra class names for a cell; note(r, c) a small
// annotation written after the value (the kernel weight under a window cell, as the slides).
export function matrixView(values, { testid = "", mark = () => "", note = () => null, hide = () => false } = {}) {
  return el("table", { class: "matrix view", "data-testid": testid },
    values.map((row, r) => el("tr", {}, row.map((v, c) => {
      const hidden = hide(r, c);
      const extra = note(r, c);
      return el("td", { class: `${mark(r, c)}${hidden ? " pending" : ""}`.trim() || null,
                        "data-row": r, "data-col": c, "data-value": hidden ? null : v },
        hidden ? "" : show(v), extra === null || hidden ? null : el("small", {}, `×${show(extra)}`));
    }))));
}
