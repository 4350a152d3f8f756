"""Decode user images safely into NumPy arrays (depends on Pillow and NumPy only).

Conventions, documented in docs/images.md:
- EXIF orientation is applied, so a phone photo is upright.
- Transparency is composited onto a white background (what a viewer shows), then dropped.
- 16-bit and 32-bit images are scaled to 0..255 by their bit depth, never clipped.
- Images above ``max_pixels`` are refused before decoding (decompression bombs).
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from cnnlab.errors import CnnlabError
from cnnlab.fileio import atomic_path

DEFAULT_MAX_PIXELS = 64_000_000  # 8000 x 8000: enough for any camera, small enough for RAM

# Modes whose samples are wider than 8 bits: scale by the nominal range, not by clipping.
_WIDE_MODES = {"I;16": 65535.0, "I;16B": 65535.0, "I;16L": 65535.0, "I;16N": 65535.0}


def _to_uint8(img: Image.Image) -> Image.Image:
    """Bring any mode to 8-bit L/RGB/RGBA without losing the dynamic range."""
    if img.mode in _WIDE_MODES or img.mode in ("I", "F"):
        arr = np.asarray(img, dtype=np.float64)
        if img.mode in _WIDE_MODES:
            scale = _WIDE_MODES[img.mode]
        elif img.mode == "I":
            # 32-bit integer images from PNG are really 16-bit; scale by the observed maximum range.
            scale = 65535.0 if arr.max(initial=0) > 255 else 255.0
        else:
            scale = 1.0 if arr.max(initial=0) <= 1.0 else 255.0
        arr = np.clip(arr / scale, 0.0, 1.0) * 255.0
        return Image.fromarray(np.round(arr).astype(np.uint8), mode="L")
    if img.mode in ("L", "RGB", "RGBA"):
        return img
    if img.mode in ("LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        return img.convert("RGBA")
    if img.mode == "1":
        return img.convert("L")
    return img.convert("RGB")


def _flatten_alpha(img: Image.Image) -> Image.Image:
    if img.mode != "RGBA":
        return img
    background = Image.new("RGBA", img.size, (255, 255, 255, 255))
    return Image.alpha_composite(background, img).convert("RGB")


def load_image(
    path: str | Path, mode: str = "RGB", max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Read an image file as uint8.

    Args:
        path: a PNG, JPEG or any format Pillow reads.
        mode: "RGB" gives an (H, W, 3) array, "L" an (H, W) grayscale array (ITU-R 601 luma).
        max_pixels: refuse images with more pixels than this, before decoding.

    Raises:
        CnnlabError: missing file, not an image, truncated data, or too many pixels.
    """
    _check_mode(mode)
    path = Path(path)
    if not path.exists():
        raise CnnlabError(f"{path}: no such file")
    if path.is_dir():
        raise CnnlabError(f"{path}: is a directory, not an image")
    return _decode(path, str(path), mode, max_pixels, None)


def decode_image(data: bytes, name: str = "upload", mode: str = "RGB",
                 max_pixels: int = DEFAULT_MAX_PIXELS,
                 formats: tuple[str, ...] = ("PNG", "JPEG")) -> np.ndarray:
    """Decode image bytes (an upload) as ``load_image`` decodes a file, accepting only
    ``formats`` (Pillow's names). ``name`` starts every error message.

    Returns:
        uint8 (H, W, 3) for "RGB", (H, W) for "L".

    Raises:
        CnnlabError: empty data, another format, truncated data, or too many pixels.
    """
    _check_mode(mode)
    if not data:
        raise CnnlabError(f"{name}: the file is empty")
    return _decode(io.BytesIO(data), name, mode, max_pixels, formats)


def _check_mode(mode: str) -> None:
    if mode not in ("RGB", "L"):
        raise CnnlabError(f"unknown image mode {mode!r}: use 'RGB' or 'L'")


def _decode(source: Path | io.BytesIO, name: str, mode: str, max_pixels: int,
            formats: tuple[str, ...] | None) -> np.ndarray:
    try:
        with Image.open(source, formats=formats) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise CnnlabError(
                    f"{name}: {width}x{height} = {width * height:,} pixels exceeds the limit of "
                    f"{max_pixels:,} (raise it with max_pixels)"
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img.load()
            img = ImageOps.exif_transpose(img)
            img = _flatten_alpha(_to_uint8(img))
            img = img.convert(mode)
            return np.asarray(img, dtype=np.uint8).copy()
    except CnnlabError:
        raise
    except UnidentifiedImageError:
        kinds = " or ".join(formats) if formats else "an image file Pillow can read"
        raise CnnlabError(f"{name}: not {'a ' + kinds + ' image' if formats else kinds}") from None
    except Image.DecompressionBombError as err:
        # Pillow refuses headers above twice its own limit while opening, before our check.
        raise CnnlabError(f"{name}: the size in its header exceeds the limit of {max_pixels:,} "
                          f"pixels or Pillow's decompression-bomb guard ({err})") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise CnnlabError(f"{name}: cannot decode image ({err})") from None


# Photos scikit-image ships inside its wheel (no download): name -> skimage.data function.
SAMPLE_PHOTOS = {"astronaut": "astronaut", "coffee": "coffee", "cat": "chelsea",
                 "camera": "camera"}


def load_sample(name: str, gray: bool) -> np.ndarray:
    """One of scikit-image's bundled photos as uint8 (H, W, 3), or (H, W) with ``gray``."""
    if name not in SAMPLE_PHOTOS:
        raise CnnlabError(f"unknown sample {name!r}: choose one of {', '.join(SAMPLE_PHOTOS)}")
    try:
        from skimage import data
    except ImportError:
        raise CnnlabError("sample photos need scikit-image (pip install scikit-image), or pass "
                          "an image file") from None
    image = getattr(data, SAMPLE_PHOTOS[name])()
    if gray and image.ndim == 3:
        # ITU-R 601 luma, the weights Pillow's convert("L") uses for image files.
        image = np.rint(image @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
    if not gray and image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return image


def save_image(array: np.ndarray, path: str | Path) -> Path:
    """Write a uint8 (H, W) or (H, W, 3) array atomically (temp file, then rename)."""
    path = Path(path)
    if array.dtype != np.uint8:
        raise CnnlabError(f"save_image needs uint8 data, got {array.dtype}")
    with atomic_path(path) as tmp:
        Image.fromarray(array).save(tmp, format=_format_for(path))
    return path


def _format_for(path: Path) -> str:
    suffix = path.suffix.lower()
    formats = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tif": "TIFF",
               ".tiff": "TIFF", ".webp": "WEBP"}
    if suffix not in formats:
        raise CnnlabError(f"{path}: unknown image extension {suffix!r} (use .png or .jpg)")
    return formats[suffix]
