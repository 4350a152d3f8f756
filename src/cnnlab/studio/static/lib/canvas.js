// Arrays drawn as pixels: every array cell becomes a zoom x zoom block of canvas pixels, with
// no smoothing, so a pixel read back from the canvas is the array's value (read-back tests and
// hover both rely on that). Small arrays are zoomed to a readable size; large photos are drawn
// 1:1 and scaled down by CSS only.

export function decodePixels(payload) {
  const text = atob(payload.data);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) bytes[i] = text.charCodeAt(i);
  return { height: payload.height, width: payload.width, channels: payload.channels, data: bytes };
}

// The largest whole zoom that keeps the longer side within `target` CSS pixels (at least 1).
export function zoomFor(height, width, target = 384, maxZoom = 48) {
  return Math.max(1, Math.min(maxZoom, Math.floor(target / Math.max(height, width))));
}

function toImageData(pixels) {
  const { height, width, channels, data } = pixels;
  const rgba = new Uint8ClampedArray(height * width * 4);
  for (let i = 0, j = 0; i < height * width; i += 1, j += channels) {
    const gray = channels < 3;
    rgba[4 * i] = data[j];
    rgba[4 * i + 1] = gray ? data[j] : data[j + 1];
    rgba[4 * i + 2] = gray ? data[j] : data[j + 2];
    rgba[4 * i + 3] = 255;
  }
  return new ImageData(rgba, width, height);
}

// Draw {height, width, channels, data: Uint8Array} (1 = gray, 3 = RGB) at `zoom`.
export function drawPixels(canvas, pixels, { zoom = zoomFor(pixels.height, pixels.width) } = {}) {
  const source = document.createElement("canvas");
  source.width = pixels.width;
  source.height = pixels.height;
  source.getContext("2d").putImageData(toImageData(pixels), 0, 0);
  canvas.width = pixels.width * zoom;
  canvas.height = pixels.height * zoom;
  const ctx = canvas.getContext("2d");
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(source, 0, 0, canvas.width, canvas.height);
  Object.assign(canvas.dataset, { zoom, rows: pixels.height, cols: pixels.width });
  return zoom;
}

// Draw a nested array (rows x cols, or rows x cols x 3) of numbers, mapping min..max to
// 0..255 (by default the array's own range) and rounding to whole gray levels.
export function drawMatrix(canvas, matrix, { zoom, min, max } = {}) {
  const flat = matrix.flat(2);
  const low = min ?? Math.min(...flat);
  const high = max ?? Math.max(...flat);
  const scale = high > low ? 255 / (high - low) : 0;
  const channels = Array.isArray(matrix[0][0]) ? matrix[0][0].length : 1;
  const data = Uint8Array.from(flat, (v) => Math.round(Math.min(255, Math.max(0, (v - low) * scale))));
  const pixels = { height: matrix.length, width: matrix[0].length, channels, data };
  return drawPixels(canvas, pixels, zoom ? { zoom } : undefined);
}

// The array cell under a mouse event, or null outside the canvas (works with CSS scaling).
export function cellAt(canvas, event) {
  const rect = canvas.getBoundingClientRect();
  const rows = Number(canvas.dataset.rows);
  const cols = Number(canvas.dataset.cols);
  const col = Math.floor(((event.clientX - rect.left) / rect.width) * cols);
  const row = Math.floor(((event.clientY - rect.top) / rect.height) * rows);
  if (row < 0 || col < 0 || row >= rows || col >= cols) return null;
  return { row, col };
}

// The [r, g, b, a] drawn for array cell (row, col): the centre of its zoomed block.
export function readPixel(canvas, row, col) {
  const zoom = Number(canvas.dataset.zoom);
  const x = col * zoom + Math.floor(zoom / 2);
  const y = row * zoom + Math.floor(zoom / 2);
  return Array.from(canvas.getContext("2d").getImageData(x, y, 1, 1).data);
}

// Outline array cells [top, top + rows) x [left, left + cols) on an overlay canvas laid over
// `under` (same size), leaving the pixels of `under` untouched. Cells outside are clipped.
export function outline(overlay, under, box, color = "#ff2d55") {
  overlay.width = under.width;
  overlay.height = under.height;
  const ctx = overlay.getContext("2d");
  ctx.clearRect(0, 0, overlay.width, overlay.height);
  if (!box) return;
  const zoom = Number(under.dataset.zoom);
  const line = Math.max(1, Math.round(overlay.width / (under.clientWidth || overlay.width)));
  ctx.strokeStyle = color;
  ctx.lineWidth = 2 * line;
  ctx.strokeRect(box.left * zoom, box.top * zoom, box.cols * zoom, box.rows * zoom);
}
