// The explorer's block diagram and profile table. The tree (from /api/explorer/structure)
// follows the model's modules: a stage holds residual blocks, a residual block shows its
// shortcut, an inception module lays its branches side by side, a grouped convolution shows
// its groups. Blocks expand and collapse (<details>); a layer's name selects it. Every number
// shown was computed by the server.
import { el, thousands } from "./dom.js";

const ROLE_TEXT = {
  stem: "stem", stage: "stage", residual: "residual block", inception: "inception module",
  branch: "branch", shortcut: "shortcut", plain: "plain block (no shortcut)", se: "squeeze-and-excitation", head: "head",
  auxiliary: "auxiliary classifier", grouped: "grouped conv", sequence: "", layer: "", model: "",
};

function shapeText(shape) {
  return shape && shape.length ? shape.join("x") : "-";
}

function convText(conv) {
  if (!conv) return null;
  const stride = conv.stride[0] === conv.stride[1] ? conv.stride[0] : conv.stride.join("x");
  return `${conv.out} filters ${conv.kernel.join("x")}, stride ${stride}`;
}

function heading(node, onSelect) {
  const role = ROLE_TEXT[node.role] ?? node.role;
  const name = node.layer
    ? el("button", { type: "button", class: "layer-link", "data-testid": `layer-${node.name}`,
                     title: "show this layer's filters and activation maps",
                     onclick: (event) => { event.preventDefault(); onSelect(node.name); } }, node.label)
    : el("strong", {}, node.label);
  return [name, " ", el("span", { class: "kind" }, node.kind), role ? el("span", { class: `role role-${node.role}` }, role) : null,
    el("span", { class: "shape" }, shapeText(node.shape)),
    node.params ? el("span", { class: "muted" }, `${thousands(node.params)} params`) : null,
    node.conv ? el("span", { class: "muted" }, convText(node.conv)) : null,
    node.note ? el("span", { class: "muted" }, node.note) : null];
}

function groups(node) {
  // AlexNet's two GPUs: each group sees only its own share of the input channels. ResNeXt's
  // 32 groups are one line.
  const g = node.conv.groups;
  if (g > 4) {
    return el("div", { class: "groups", "data-testid": `groups-${node.name}` }, el("div", { class: "group" },
      `${g} groups of ${node.conv.out / g} filters, each on ${node.conv.in / g} input channels`));
  }
  return el("div", { class: "groups", "data-testid": `groups-${node.name}` },
    Array.from({ length: g }, (_, i) => el("div", { class: "group" },
      `group ${i + 1}: ${node.conv.out / g} filters on input channels `
      + `${(i * node.conv.in) / g}-${((i + 1) * node.conv.in) / g - 1}`)));
}

export function blockView(node, onSelect, depth = 0) {
  if (!node.children.length) {
    return el("div", { class: `block leaf role-${node.role}`, "data-testid": `block-${node.name}` },
      el("div", { class: "head" }, heading(node, onSelect)), node.role === "grouped" ? groups(node) : null);
  }
  const inner = node.children.map((child) => blockView(child, onSelect, depth + 1));
  const body = node.role === "inception" || (node.role === "residual" && node.children.some((c) => c.role === "branch"))
    ? el("div", { class: "branches" }, inner) : el("div", { class: "children" }, inner);
  const shortcut = node.shortcut ? el("div", { class: "shortcut", "data-testid": `shortcut-${node.name}` }, `shortcut: ${node.shortcut}`) : null;
  return el("details", { class: `block role-${node.role}`, open: depth < 1 || (depth === 1 && node.role === "sequence"),
                         "data-testid": `block-${node.name || "model"}` },
    el("summary", {}, heading(node, onSelect)), body, shortcut);
}

// The profile table: the cells exactly as `cnnlab profile` prints them.
export function tableView(answer, onSelect) {
  const head = el("tr", {}, answer.columns.map((c, i) => el("th", { class: i < 3 ? "text" : null }, c)));
  const rows = answer.layers.map((cells) => el("tr", { "data-layer": cells[0], onclick: () => onSelect(cells[0].split("#")[0]) },
    cells.map((c, i) => el("td", { class: i < 3 ? "text" : null }, c))));
  const blocks = answer.blocks.map((cells) => el("tr", {}, cells.map((c, i) => el("td", { class: i < 3 ? "text" : null }, c))));
  return [
    el("table", { class: "data profile", "data-testid": "profile-layers" }, head, rows),
    answer.blocks.length ? el("h3", {}, "Blocks") : null,
    answer.blocks.length ? el("table", { class: "data profile", "data-testid": "profile-blocks" }, head.cloneNode(true), blocks) : null,
    el("dl", { class: "totals", "data-testid": "profile-totals" },
      answer.totals.map(([label, value]) => [el("dt", {}, label), el("dd", {}, value)]).flat()),
  ];
}
