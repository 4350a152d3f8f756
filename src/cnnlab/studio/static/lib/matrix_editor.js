// An editable rows x cols grid of number cells. Cells hold text exactly as typed ("1/9",
// "-2", "0.5"); the server parses it (convolution.matrices.parse_matrix), so the page never
// computes a kernel value itself.

export function createMatrixEditor(table, { onInput }) {
  let cells = [];

  function render(texts) {
    table.replaceChildren();
    cells = texts.map((row, r) => {
      const tr = table.insertRow();
      return row.map((text, c) => {
        const input = document.createElement("input");
        input.type = "text";
        input.inputMode = "decimal";
        input.value = text;
        input.dataset.row = r;
        input.dataset.col = c;
        input.setAttribute("aria-label", `kernel row ${r + 1}, column ${c + 1}`);
        input.addEventListener("input", () => onInput());
        tr.insertCell().append(input);
        return input;
      });
    });
  }

  return {
    set(texts) { render(texts); },
    // Keep the values that still fit, fill new cells with "0".
    resize(rows, cols) {
      const old = cells.map((row) => row.map((input) => input.value));
      render(Array.from({ length: rows }, (_, r) =>
        Array.from({ length: cols }, (_, c) => old[r]?.[c] ?? "0")));
    },
    // "a,b;c,d": the text form `cnnlab filter --kernel` takes. An empty cell stays visible
    // to the parser as "(empty)", so its error names it.
    text() {
      return cells.map((row) => row.map((input) => input.value.trim().replace(/[\s,;]+/g, "") || "(empty)")
        .join(",")).join(";");
    },
    size() { return [cells.length, cells[0]?.length ?? 0]; },
    setDisabled(disabled) { cells.flat().forEach((input) => { input.disabled = disabled; }); },
  };
}
