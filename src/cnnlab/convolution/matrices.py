"""Read a small 2D matrix a user typed or saved: ``"1,0,1;0,1,0"``, JSON, .npy, .txt, or image.

Used for custom kernels and for the inputs of step-by-step traces.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from cnnlab.errors import CnnlabError
from cnnlab.imaging import load_image

_TEXT_FILES = (".txt", ".csv")
_IMAGE_FILES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def parse_matrix(text: str, what: str = "matrix") -> np.ndarray:
    """Parse ``"1,0,1;0,1,0"`` (rows by ``;`` or newlines, values by ``,`` or blanks) as float64.

    Values may be fractions such as ``1/9``.

    Raises:
        CnnlabError: empty text, ragged rows, or a value that is not a number.
    """
    rows = [row for row in text.replace("\n", ";").split(";") if row.strip()]
    parsed = [[_number(tok, what) for tok in row.replace(",", " ").split()] for row in rows]
    widths = {len(row) for row in parsed}
    if not parsed or widths == {0}:
        raise CnnlabError(f"{what} {text!r} is empty")
    if len(widths) != 1:
        raise CnnlabError(f"{what} {text!r} has rows of different lengths {sorted(widths)}")
    return np.asarray(parsed, dtype=np.float64)


def _number(token: str, what: str) -> float:
    try:
        if "/" in token:
            top, bottom = token.split("/", 1)
            return float(top) / float(bottom)
        return float(token)
    except (ValueError, ZeroDivisionError):
        raise CnnlabError(f"{what}: {token!r} is not a number") from None


def _from_json(text: str, where: str) -> np.ndarray:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise CnnlabError(f"{where}: invalid JSON ({err.msg} at position {err.pos})") from None
    if isinstance(data, dict):
        if "matrix" not in data:
            raise CnnlabError(f"{where}: a JSON object needs a 'matrix' key")
        data = data["matrix"]
    return as_matrix(data, where)


def as_matrix(data: object, what: str) -> np.ndarray:
    """A finite, non-empty 2D float64 array, or a CnnlabError naming ``what``."""
    try:
        array = np.array(data, dtype=np.float64)
    except (ValueError, TypeError):
        raise CnnlabError(f"{what} is not a rectangular matrix of numbers") from None
    if array.ndim != 2 or array.size == 0:
        raise CnnlabError(f"{what} must be a non-empty 2D matrix, got shape {array.shape}")
    if not np.isfinite(array).all():
        raise CnnlabError(f"{what} has NaN or infinite values")
    return array


def looks_like_file(spec: str) -> bool:
    """True when ``spec`` names a file by its extension (rather than being a matrix)."""
    return len(spec) < 4096 and Path(spec).suffix.lower() in (
        ".json", ".npy", *_TEXT_FILES, *_IMAGE_FILES)


def read_matrix(spec: str, what: str = "matrix") -> np.ndarray:
    """A 2D float64 matrix from text (``"1,0;0,1"`` or JSON ``[[1,0],[0,1]]``) or from a file.

    Files: .json (rows, or ``{"matrix": rows}``), .npy (no pickles), .txt/.csv (one row per
    line), or an image (read as 8-bit grayscale, 0..255).
    """
    spec = spec.strip()
    if looks_like_file(spec):
        return _from_file(Path(spec), what)
    if spec.startswith("["):
        return _from_json(spec, what)
    return as_matrix(parse_matrix(spec, what), what)


def _from_file(path: Path, what: str) -> np.ndarray:
    if not path.is_file():
        raise CnnlabError(f"{path}: no such {what} file")
    suffix = path.suffix.lower()
    if suffix in _IMAGE_FILES:
        return load_image(path, mode="L").astype(np.float64)
    if suffix == ".npy":
        try:
            return as_matrix(np.load(path, allow_pickle=False), str(path))
        except ValueError as err:
            raise CnnlabError(f"{path}: not a plain .npy array ({err})") from None
    text = path.read_text(encoding="utf-8", errors="replace")
    if suffix == ".json":
        return _from_json(text, str(path))
    return as_matrix(parse_matrix(text, str(path)), str(path))
