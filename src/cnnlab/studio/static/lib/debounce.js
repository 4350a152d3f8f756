// debounce(fn, ms): call fn once the calls have paused for ms milliseconds, with the last
// arguments. The returned function has .cancel() and .flush() (run a pending call now).
export function debounce(fn, ms) {
  let timer = null;
  let pending = null;
  function debounced(...args) {
    pending = args;
    clearTimeout(timer);
    timer = setTimeout(() => debounced.flush(), ms);
  }
  debounced.cancel = () => { clearTimeout(timer); timer = null; pending = null; };
  debounced.flush = () => {
    clearTimeout(timer);
    timer = null;
    if (pending === null) return undefined;
    const args = pending;
    pending = null;
    return fn(...args);
  };
  return debounced;
}
