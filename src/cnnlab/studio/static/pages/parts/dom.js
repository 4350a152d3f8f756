// Small DOM helpers shared by the Steps, Shapes and Complexity pages. Every number they show
// comes from the API; these only build elements, so nothing here computes a result.

const SVG_NS = "http://www.w3.org/2000/svg";

// el("div", {class: "panel", "data-testid": "x"}, child, "text", ...): an element with
// attributes (no inline styles: the studio's CSP allows stylesheets only) and children.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  setAttrs(node, attrs);
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  setAttrs(node, attrs);
  node.append(...children.flat().filter((c) => c !== null && c !== undefined));
  return node;
}

function setAttrs(node, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      node.addEventListener(key.slice(2), value);
    } else {
      node.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

// A value as the API sent it, written short: 4, -1, 0.1111, -inf (strings pass through).
export function show(value) {
  if (typeof value !== "number") return String(value);
  if (Number.isInteger(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

// 1234567 -> "1,234,567"
export function thousands(value) {
  return Number(value).toLocaleString("en-US");
}

// A <select> of [value, label] pairs.
export function select(options, attrs = {}) {
  return el("select", attrs, options.map(([value, label]) => el("option", { value }, label)));
}

// A labelled number input inside a <label>; returns {label, input}.
export function numberField(text, value, attrs = {}) {
  const input = el("input", { type: "number", value, step: 1, ...attrs });
  return { label: el("label", {}, `${text} `, input), input };
}

// Load one of the pages' stylesheets once (a <link>, which the CSP allows).
export function useStyle(href) {
  if (document.querySelector(`link[data-page-style="${href}"]`)) return;
  document.head.append(el("link", { rel: "stylesheet", href, "data-page-style": href }));
}
