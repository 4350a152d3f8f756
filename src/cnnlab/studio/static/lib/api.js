// fetch wrapper for the studio's JSON API. A 4xx/5xx answer {"error": ...} is shown in the
// page's error banner and thrown as an ApiError (marked `shown`, so callers need not show it
// again); a network failure is reported the same way.

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
    this.shown = false;
  }
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (response.ok) return body;
  const message = body?.error ?? `${response.status} ${response.statusText}: ${text.slice(0, 200)}`;
  throw new ApiError(message, response.status);
}

// onBusy(true) when a request has been waiting for 300 ms, onBusy(false) when none is left,
// so a slow computation shows that the page is working rather than frozen.
export function createApi(showError, onBusy = () => {}) {
  let inFlight = 0;
  let timer = null;
  // <html data-requests="N">: how many requests are out (tests and screenshots wait for 0)
  function count() { document.documentElement.dataset.requests = String(inFlight); }
  function started() {
    inFlight += 1;
    count();
    if (!timer) timer = setTimeout(() => onBusy(true), 300);
  }
  function finished() {
    inFlight -= 1;
    count();
    if (inFlight === 0) { clearTimeout(timer); timer = null; onBusy(false); }
  }
  async function request(path, options = {}) {
    started();
    try {
      return await send(path, options);
    } finally {
      finished();
    }
  }
  async function send(path, options) {
    const { quiet = false, ...init } = options;
    let response;
    try {
      response = await fetch(path, init);
    } catch (err) {
      const error = new ApiError(`the studio server did not answer (${err.message}); is it still running?`, 0);
      if (!quiet) { showError(error.message); error.shown = true; }
      throw error;
    }
    try {
      return await parse(response);
    } catch (err) {
      if (!quiet) { showError(err.message); err.shown = true; }
      throw err;
    }
  }
  return {
    get: (path, options = {}) => request(path, options),
    post: (path, body, options = {}) => request(path, {
      ...options, method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }),
    upload: (path, file, options = {}) => request(path, {
      ...options, method: "POST",
      headers: { "Content-Type": file.type || "application/octet-stream",
                 "X-Filename": encodeURIComponent(file.name || "upload") },
      body: file,
    }),
  };
}
