"""The random-resized crop fused with JPEG decoding: the "inception" training pipeline of
image folders, at the speed of libjpeg-turbo.

ImageNet-style training on a CPU is bound by decoding (benchmarks/results/pipeline.md), so the
crop is drawn from the file's header before any pixel is decoded, and then:

- JPEGs are decoded by libjpeg-turbo through simplejpeg straight into a uint8 array (the same
  pixels as Pillow's decoder, without Pillow's copies, and faster than torchvision.io's
  bundled decoder), and the crop is resized by torch's uint8 antialiased bilinear kernel: bit
  for bit what augment's v2 pipeline computes for the same seed. Files whose EXIF turns them
  are decoded by ``torchvision.io.decode_jpeg``, which applies the orientation.
- Reduced-size decoding: when the crop is at least twice the output size on both sides,
  libjpeg-turbo decodes the whole image at 1/2, 1/4 or 1/8 scale (DCT scaling), so the crop
  stays at least the output size and is still only downscaled; Pillow resizes the scaled box
  (fractional coordinates) to the output. The pixels then differ slightly from a full decode
  (DCT scaling averages like a box filter; see docs/training.md, "Image folders");
  ``reduced=False`` turns it off. libjpeg-turbo's other scales (3/8, 5/8, 3/4, 7/8) have no
  SIMD code and decode slower than the full size (benchmarks/results/pipeline.md).
- Other files (PNG, CMYK JPEGs, JPEGs libjpeg-turbo refuses or only warns about, anything
  Pillow reads) go through ``cnnlab.imaging.load_image`` with the same crop and flips, so they
  decode, or fail with its messages, as everywhere else in cnnlab.

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
import simplejpeg
import torch
from PIL import Image
from torchvision.io import ImageReadMode, decode_jpeg
from torchvision.transforms import v2
from torchvision.transforms.v2 import functional as F

from cnnlab.data.augment import INCEPTION_RATIO, INCEPTION_SCALE, sample_rng
from cnnlab.errors import CnnlabError
from cnnlab.imaging import DEFAULT_MAX_PIXELS, load_image

_JPEG_MAGIC = b"\xff\xd8"
_SCALES = (8, 4, 2)  # libjpeg-turbo's fast DCT scaling factors (1/8, 1/4, 1/2), largest first
_ORIENTATION = 0x0112  # EXIF tag; values 5-8 swap width and height
# libjpeg-turbo converts these to RGB as Pillow does; CMYK and YCCK go to load_image.
_COLORSPACES = ("YCbCr", "Gray")


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
        try:
            with open(path, "rb") as file:
                data = file.read()
        except OSError:
            data = b""  # load_image below names the cause (a missing file, a folder)
        header = _jpeg_header(data)
        if header is not None:
            height, width, orientation = header
            if width * height > DEFAULT_MAX_PIXELS:
                load_image(path)  # raises the message every other image path gives
            box = self.draw(height, width, seed)
            image = self._decode_crop(data, (height, width), box, orientation, path)
            if image is not None:
                return F.horizontal_flip(image) if box.flip else image
        return self._from_array(load_image(path, mode="RGB"), seed)

    def _decode_crop(self, data: bytes, shape: tuple[int, int], box: CropBox, orientation: int,
                     path: str) -> torch.Tensor | None:
        """The crop resized to size x size, or None when libjpeg-turbo refuses the data;
        ``shape``: the upright (height, width) read from the header."""
        if orientation != 1:
            image = _decode_turned(data, path)
        else:  # upright: the stored shape is the upright one
            factor = self.scale(box)
            array = _decode(data, factor, shape)
            if array is None:
                return None
            if factor > 1:
                return _resize_box(array, box, shape, self.size)
            image = torch.from_numpy(array).permute(2, 0, 1)  # a view, channels last in memory
        return self._resize_crop(image, box)

    def _resize_crop(self, image: torch.Tensor, box: CropBox) -> torch.Tensor:
        return F.resized_crop(image, box.top, box.left, box.height, box.width,
                              [self.size, self.size], antialias=True)

    def _from_array(self, array: np.ndarray, seed: int) -> torch.Tensor:
        image = torch.from_numpy(array).permute(2, 0, 1)  # 3 x H x W uint8
        box = self.draw(image.shape[1], image.shape[2], seed)
        out = self._resize_crop(image, box)
        return F.horizontal_flip(out) if box.flip else out


@functools.cache
def _crop_drawer(size: int) -> v2.RandomResizedCrop:
    return v2.RandomResizedCrop(size, scale=INCEPTION_SCALE, ratio=INCEPTION_RATIO)


def _jpeg_header(data: bytes) -> tuple[int, int, int] | None:
    """(upright height, upright width, EXIF orientation) of an 8-bit YCbCr or grayscale JPEG
    that libjpeg-turbo reads; None for anything load_image should handle."""
    if not data.startswith(_JPEG_MAGIC):
        return None
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    if colorspace not in _COLORSPACES:
        return None
    orientation = _orientation(data)
    if orientation in (5, 6, 7, 8):
        height, width = width, height
    return height, width, orientation


def _orientation(data: bytes) -> int:
    """The EXIF orientation (1 = upright), parsed by Pillow only when the file has EXIF."""
    if not _has_exif(data):
        return 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=("JPEG",)).getexif().get(
                _ORIENTATION, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block leaves the image as stored
        return 1


def _has_exif(data: bytes) -> bool:
    """Whether an APP1 "Exif" segment comes before the image data. Hand-written: walking the
    few segment headers costs microseconds, Pillow's full header parse 0.1 ms per image."""
    pos = 2
    while pos + 10 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: no header segment follows
            return False
        if marker == 0xE1 and data[pos + 4:pos + 10] == b"Exif\x00\x00":
            return True
        pos += 2 + int.from_bytes(data[pos + 2:pos + 4], "big")
    return False


def _decode(data: bytes, factor: int, shape: tuple[int, int]) -> np.ndarray | None:
    """H x W x 3 uint8 at 1/factor scale of the stored (height, width) ``shape``
    (libjpeg-turbo's accurate DCT and upsampling, as Pillow decodes), or None when
    libjpeg-turbo refuses or warns (strict mode)."""
    try:
        if factor == 1:
            return simplejpeg.decode_jpeg(data, colorspace="RGB")
        height, width = shape
        return simplejpeg.decode_jpeg(data, colorspace="RGB", min_height=-(-height // factor),
                                      min_width=-(-width // factor))
    except ValueError:
        return None


def _decode_turned(data: bytes, path: str) -> torch.Tensor:
    """Full-size decode with the EXIF orientation applied (simplejpeg does not): 3 x H x W."""
    try:
        with warnings.catch_warnings():
            # torchvision 0.29 deprecates its decoders in favour of TorchCodec's, which does
            # not apply EXIF orientation to JPEGs either; this one does.
            warnings.simplefilter("ignore", DeprecationWarning)
            return decode_jpeg(torch.frombuffer(bytearray(data), dtype=torch.uint8),
                               mode=ImageReadMode.RGB, apply_exif_orientation=True)
    except RuntimeError as err:
        # torchvision's message starts with its source location: keep the reason only
        reason = str(err).splitlines()[0].rsplit(", ", 1)[-1]
        raise CnnlabError(f"{path}: cannot decode image ({reason})") from None


def _resize_box(array: np.ndarray, box: CropBox, shape: tuple[int, int],
                size: int) -> torch.Tensor:
    """Resize the crop's box, in the scaled image's fractional coordinates, to size x size
    (Pillow: torch's resize takes whole pixels only): uint8 3 x size x size. ``shape``: the
    full-size (height, width)."""
    full_h, full_w = shape
    sy, sx = array.shape[0] / full_h, array.shape[1] / full_w
    region = (box.left * sx, box.top * sy, (box.left + box.width) * sx,
              (box.top + box.height) * sy)
    out = Image.fromarray(array).resize((size, size), Image.Resampling.BILINEAR, box=region)
    return torch.from_numpy(np.asarray(out).copy()).permute(2, 0, 1).contiguous()
