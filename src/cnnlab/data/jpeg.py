"""The random-resized crop fused with JPEG decoding: the "inception" training pipeline of
image folders, at the speed of libjpeg-turbo.

ImageNet-style training on a CPU is bound by decoding (benchmarks/results/pipeline.md), so the
crop is drawn from the file's header before any pixel is decoded, and then:

- JPEGs are decoded by libjpeg-turbo through ``torchvision.io.decode_jpeg`` straight into a
  uint8 tensor (the same pixels as Pillow's decoder, without Pillow's copies), and the crop is
  resized by torch's uint8 antialiased bilinear kernel: bit for bit what augment's v2
  pipeline computes for the same seed.
- Reduced-size decoding: when the crop is at least twice the output size on both sides,
  libjpeg-turbo decodes the whole image at 1/2, 1/4 or 1/8 scale (DCT scaling, through
  Pillow's draft mode), so the crop stays at least the output size and is still only
  downscaled; Pillow resizes the scaled box (fractional coordinates) to the output. The pixels
  then differ slightly from a full decode (DCT scaling averages like a box filter; see
  docs/training.md, "Image folders"); ``reduced=False`` turns it off.
- Other files (PNG, CMYK or 16-bit JPEGs, anything Pillow reads) go through
  ``cnnlab.imaging.load_image`` with the same crop and flips.

Each sample's randomness comes from its own seed (``folder.index_seed``), drawn in the order
torchvision's v2 transforms draw it (crop, then one coin per flip), so the images depend on
(seed, epoch, index) only.
"""

from __future__ import annotations

import functools
import io
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torchvision.io import ImageReadMode, decode_jpeg
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from cnnlab.data.augment import INCEPTION_RATIO, INCEPTION_SCALE, sample_rng
from cnnlab.errors import CnnlabError
from cnnlab.imaging import DEFAULT_MAX_PIXELS, load_image

_JPEG_MAGIC = b"\xff\xd8"
_SCALES = (8, 4, 2)  # libjpeg-turbo's DCT scaling factors (1/8, 1/4, 1/2), largest first
_ORIENTATION = 0x0112  # EXIF tag; values 5-8 swap width and height


@dataclass(frozen=True)
class CropBox:
    """A crop of the (upright) image in pixels and whether the output is mirrored."""

    top: int
    left: int
    height: int
    width: int
    flip: bool


def fused_pieces(names: list[str]) -> int | None:
    """How many flip coins follow the crop when ``names`` is "inception" then only "flip"
    pieces (the pipeline this module fuses); None for any other list."""
    if not names or names[0] != "inception" or any(n != "flip" for n in names[1:]):
        return None
    return len(names)  # the "inception" piece ends with a flip of its own


@dataclass(frozen=True)
class DecodeCrop:
    """path, seed -> uint8 3 x size x size: random-resized crop (8%-100% of the area, aspect
    3/4-4/3) and ``flips`` coin-toss flips, decoded at reduced size where ``reduced`` allows."""

    size: int
    flips: int = 1
    reduced: bool = True

    def draw(self, height: int, width: int, seed: int) -> CropBox:
        """The crop of a height x width image for ``seed``: v2.RandomResizedCrop's draw,
        then the flips' coins, from torch's global generator seeded with ``seed``."""
        crop = _crop_drawer(self.size)
        shape_only = torch.empty((1, 1, 1), dtype=torch.uint8).expand(3, height, width)
        with sample_rng(seed):
            box = crop.make_params([shape_only])
            flip = sum(bool(torch.rand(1) < 0.5) for _ in range(self.flips)) % 2 == 1
        return CropBox(box["top"], box["left"], box["height"], box["width"], flip)

    def scale(self, box: CropBox) -> int:
        """The reduction factor for ``box``: the largest of 8, 4, 2 that keeps the crop at
        least ``size`` pixels on both sides, or 1 (full decode)."""
        if self.reduced:
            for factor in _SCALES:
                if min(box.height, box.width) >= factor * self.size:
                    return factor
        return 1

    def __call__(self, path: str, seed: int) -> torch.Tensor:
        with open(path, "rb") as file:
            data = file.read()
        header = _jpeg_header(data) if data.startswith(_JPEG_MAGIC) else None
        if header is None:
            return self._from_array(load_image(path, mode="RGB"), seed)
        img, width, height = header
        if width * height > DEFAULT_MAX_PIXELS:
            load_image(path)  # raises the message every other image path gives
        box = self.draw(height, width, seed)
        factor = self.scale(box)
        if factor > 1 and _orientation(img) == 1:
            out = _reduced_resize(img, box, factor, self.size, path)
        else:
            out = F.resized_crop(_decode(data, path), box.top, box.left, box.height, box.width,
                                 [self.size, self.size], antialias=True)
        return F.horizontal_flip(out) if box.flip else out

    def _from_array(self, array: np.ndarray, seed: int) -> torch.Tensor:
        image = torch.from_numpy(array).permute(2, 0, 1)  # 3 x H x W uint8
        box = self.draw(image.shape[1], image.shape[2], seed)
        out = F.resized_crop(image, box.top, box.left, box.height, box.width,
                             [self.size, self.size], antialias=True)
        return F.horizontal_flip(out) if box.flip else out


@functools.cache
def _crop_drawer(size: int) -> v2.RandomResizedCrop:
    return v2.RandomResizedCrop(size, scale=INCEPTION_SCALE, ratio=INCEPTION_RATIO)


def _orientation(img: Image.Image) -> int:
    """The EXIF orientation (1 = upright); parsing EXIF only when the file has it."""
    return img.getexif().get(_ORIENTATION, 1) if "exif" in img.info else 1


def _jpeg_header(data: bytes) -> tuple[Image.Image, int, int] | None:
    """(lazy Pillow image, upright width, upright height) of a baseline/progressive 8-bit RGB
    or grayscale JPEG; None for anything load_image should handle (CMYK, broken headers)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=("JPEG",))
        if img.mode not in ("RGB", "L"):
            return None
        width, height = img.size
        if _orientation(img) in (5, 6, 7, 8):
            width, height = height, width
        return img, width, height
    except Exception:  # noqa: BLE001 - any header Pillow refuses goes to load_image's messages
        return None


def _decode(data: bytes, path: str) -> torch.Tensor:
    """Full-size decode, EXIF orientation applied: uint8 3 x H x W."""
    try:
        with warnings.catch_warnings():
            # torchvision 0.29 deprecates its decoders in favour of TorchCodec's, which has no
            # JPEG DCT scaling either; the decoder works and is the one libjpeg-turbo we ship.
            warnings.simplefilter("ignore", DeprecationWarning)
            return decode_jpeg(torch.frombuffer(bytearray(data), dtype=torch.uint8),
                               mode=ImageReadMode.RGB, apply_exif_orientation=True)
    except RuntimeError as err:
        # torchvision's message starts with its source location: keep the reason only
        reason = str(err).splitlines()[0].rsplit(", ", 1)[-1]
        raise CnnlabError(f"{path}: cannot decode image ({reason})") from None


def _reduced_resize(img: Image.Image, box: CropBox, factor: int, size: int,
                    path: str) -> torch.Tensor:
    """Decode at 1/factor scale (libjpeg-turbo DCT scaling) and resize the crop's box, in the
    scaled image's fractional coordinates, to size x size: uint8 3 x size x size."""
    full_w, full_h = img.size
    img.draft("RGB", (full_w // factor, full_h // factor))
    try:
        img = img.convert("RGB")
    except (OSError, SyntaxError, ValueError) as err:
        raise CnnlabError(f"{path}: cannot decode image ({err})") from None
    sx, sy = img.size[0] / full_w, img.size[1] / full_h
    region = (box.left * sx, box.top * sy, (box.left + box.width) * sx,
              (box.top + box.height) * sy)
    out = img.resize((size, size), Image.Resampling.BILINEAR, box=region)
    return torch.from_numpy(np.asarray(out).copy()).permute(2, 0, 1).contiguous()
