// The page shell: the navigation bar, hash routes (#/<page>/<rest>) and the error banner.
// Each page module exports `title` and `mount(root, ctx)`; mount may return a function that
// the shell calls before the next page mounts (to stop timers and listeners).
import { createApi } from "./lib/api.js";

export const PAGES = ["kernels", "steps", "shapes", "complexity", "explorer", "runs"];

const nav = document.getElementById("nav");
const root = document.getElementById("page");
const banner = document.getElementById("error-banner");
const bannerText = document.getElementById("error-text");
let unmount = null;
let modules = {};

export function showError(message) {
  bannerText.textContent = message;
  banner.hidden = false;
}

export function clearError() {
  banner.hidden = true;
  bannerText.textContent = "";
}

document.getElementById("error-close").addEventListener("click", clearError);
window.addEventListener("unhandledrejection", (event) => {
  if (!event.reason?.shown) showError(String(event.reason?.message ?? event.reason));
});

const busy = document.getElementById("busy");
const api = createApi(showError, (on) => { busy.hidden = !on; });

function route() {
  const [name, ...rest] = location.hash.replace(/^#\/?/, "").split("/");
  return { name: name || PAGES[0], params: rest.map(decodeURIComponent) };
}

async function loadModules() {
  const loaded = await Promise.allSettled(PAGES.map((name) => import(`./pages/${name}.js`)));
  loaded.forEach((result, i) => {
    modules[PAGES[i]] = result.status === "fulfilled" ? result.value : { error: result.reason };
  });
  nav.replaceChildren(...PAGES.map((name) => {
    const link = document.createElement("a");
    link.href = `#/${name}`;
    link.dataset.page = name;
    link.textContent = modules[name].title ?? name;
    return link;
  }));
}

async function show() {
  const { name, params } = route();
  if (unmount) {
    try { unmount(); } catch (err) { console.error(err); }
    unmount = null;
  }
  clearError();
  for (const link of nav.children) {
    link.classList.toggle("active", link.dataset.page === name);
  }
  const module = modules[name];
  root.replaceChildren();
  root.dataset.page = name;
  root.dataset.ready = "false";
  if (!module || module.error) {
    showError(module ? `the ${name} page failed to load: ${module.error.message ?? module.error}`
      : `no page "${name}"; the pages are ${PAGES.join(", ")}`);
    root.dataset.ready = "error";
    return;
  }
  document.title = `${module.title} · cnnlab studio`;
  try {
    const cleanup = await module.mount(root, { api, showError, clearError, params });
    unmount = typeof cleanup === "function" ? cleanup : null;
  } catch (err) {
    if (!err.shown) showError(`the ${name} page failed: ${err.message ?? err}`);
    root.dataset.ready = "error";
    return;
  }
  root.dataset.ready = "true";
}

window.addEventListener("hashchange", show);
await loadModules();
await show();
