// A run's scores on its test images: per-class accuracy, the confusion matrix (rows = true
// class, columns = predicted; a cell opens the images it counts) and the image grid. Every
// number is the API's (/api/runs/<id>/scores, /images); the shading only shows it.
import { el } from "./dom.js";

const percent = (v) => (v === null || v === undefined ? "–" : `${(v * 100).toFixed(1)}%`);

export function perClassTable(report, onPick) {
  const totals = report.confusion.map((row) => row.reduce((a, b) => a + b, 0));
  return el("table", { class: "data", "data-testid": "per-class" },
    el("tr", {}, el("th", { class: "text" }, "class"), el("th", {}, "test images"), el("th", {}, "accuracy"), el("th", { class: "text" }, "")),
    report.classes.map((name, k) => {
      const bar = el("span", { class: "bar" });
      bar.style.width = `${(report.per_class_accuracy[k] ?? 0) * 8}rem`;
      return el("tr", { "data-class": k },
        el("td", { class: "text" }, el("button", { type: "button", class: "link", "data-testid": `class-${k}`,
                                                   onclick: () => onPick(k, null) }, name)),
        el("td", {}, String(totals[k])),
        el("td", { "data-testid": `accuracy-${k}` }, percent(report.per_class_accuracy[k])),
        el("td", { class: "text" }, bar));
    }));
}

// Cells shaded by their share of the row (the true class's images), so a confusion between
// two classes stands out whatever the class sizes.
export function confusionTable(report, onPick) {
  const { classes, confusion } = report;
  const header = el("tr", {}, el("th", { class: "text" }, "true \\ predicted"),
    classes.map((name, j) => el("th", { class: "rot", title: name }, el("span", {}, short(name, j)))));
  const rows = confusion.map((row, i) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    return el("tr", {}, el("th", { class: "text", title: classes[i] }, classes[i]),
      row.map((count, j) => {
        const share = count / total;
        const cell = el("button", {
          type: "button", class: i === j ? "cell diagonal" : "cell", "data-testid": `cell-${i}-${j}`,
          "data-count": count, title: `${count} test images of ${classes[i]} predicted as ${classes[j]}`,
          disabled: count === 0, onclick: () => onPick(i, j),
        }, String(count));
        const hue = i === j ? "120 45%" : "0 70%";
        cell.style.backgroundColor = count ? `hsl(${hue} ${Math.round(96 - share * 50)}%)` : "";
        return el("td", {}, cell);
      }));
  });
  return el("table", { class: "confusion", "data-testid": "confusion" }, header, rows);
}

function short(name, j) {
  return name.length > 9 ? `${name.slice(0, 8)}…` : name || String(j);
}

// The grid of one selection; `more()` appends the next page of images.
export function imageGrid(answer, more) {
  const { classes, label, predicted, total } = answer;
  const what = [label !== null ? `true class ${classes[label]}` : null,
    predicted !== null ? `predicted as ${classes[predicted]}` : null].filter(Boolean).join(", ") || "all";
  const grid = el("div", { class: "thumbs", "data-testid": "images" });
  const button = el("button", { type: "button", "data-testid": "more-images" }, "more");
  let shown = 0;
  function add(page) {
    grid.append(...page.images.map((image) => el("figure", { "data-index": image.index, "data-label": image.label,
                                                             "data-predicted": image.predicted },
      el("img", { src: image.url, alt: `test image ${image.index}` }),
      el("figcaption", {}, `#${image.index}: ${image.label_name} → ${image.predicted_name} `
        + `(${(image.probability * 100).toFixed(0)}%)`))));
    shown += page.images.length;
    button.hidden = shown >= total;
    count.textContent = `${total} test image${total === 1 ? "" : "s"}: ${what}; showing ${shown}.`;
  }
  const count = el("p", { "data-testid": "images-count" });
  button.addEventListener("click", async () => { button.disabled = true; add(await more(shown)); button.disabled = false; });
  add(answer);
  return el("div", {}, count, grid, button);
}
