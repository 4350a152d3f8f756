"""Where the CPU time of one training image goes, stage by stage, ours and the peer's, and what
libjpeg-turbo's DCT scales cost: the figures behind benchmarks/results/pipeline.md's
"Where the time goes" (bench_pipeline.py calls ``profile``).

Each stage runs over the same random files in one process (one torch thread), three rounds,
stages interleaved within a round; a figure is the median round's CPU ms per image.
"""

from __future__ import annotations

import random
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import simplejpeg
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.io import ImageReadMode, decode_jpeg
from torchvision.transforms.v2 import functional as F

from cnnlab.data.folder import IMAGENET_MEAN, IMAGENET_STD
from cnnlab.data.jpeg import DecodeCrop, _decode, _jpeg_header
from cnnlab.data.memory import normalize

DCT_SCALES = (8, 7, 6, 5, 4, 2, 1)  # libjpeg-turbo decodes at M/8 for M = 1..16


def _cpu_ms(stages: dict[str, Callable[[int], object]], n: int, rounds: int = 3) -> dict:
    """stage -> median over rounds of the CPU ms per call, for calls 0 .. n-1."""
    times: dict[str, list[float]] = {name: [] for name in stages}
    for _ in range(rounds):
        for name, fn in stages.items():
            start = time.process_time()
            for i in range(n):
                fn(i)
            times[name].append(1e3 * (time.process_time() - start) / n)
    return {name: statistics.median(v) for name, v in times.items()}


def _ours(files: list[str], size: int) -> dict[str, Callable[[int], object]]:
    crop = DecodeCrop(size, 1, reduced=False)
    data = [Path(f).read_bytes() for f in files]
    heads = [_jpeg_header(d) for d in data]
    boxes = [crop.draw(h[0], h[1], i) for i, h in enumerate(heads)]
    arrays = [_decode(d, 1, h[:2]) for d, h in zip(data, heads, strict=True)]
    outs = [crop(f, i) for i, f in enumerate(files)]
    batch = torch.stack(outs[:64])
    last = normalize(batch, IMAGENET_MEAN, IMAGENET_STD)

    def resize(i: int) -> torch.Tensor:
        b = boxes[i]
        return F.resized_crop(torch.from_numpy(arrays[i]).permute(2, 0, 1), b.top, b.left,
                              b.height, b.width, [size, size], antialias=True)

    # A batch stage runs on every 64th call: its CPU time per call is its cost per image.
    return {
        "read the file": lambda i: Path(files[i]).read_bytes(),
        "parse the header (simplejpeg; EXIF only if present)": lambda i: _jpeg_header(data[i]),
        "draw the crop and flip (v2's draw, seeded)": lambda i: crop.draw(*heads[i][:2], i),
        "decode, full size (libjpeg-turbo via simplejpeg)":
            lambda i: _decode(data[i], 1, heads[i][:2]),
        "(torchvision.io.decode_jpeg instead, for comparison)": lambda i: decode_jpeg(
            torch.frombuffer(bytearray(data[i]), dtype=torch.uint8), mode=ImageReadMode.RGB),
        "resize the crop to 224 (torch, uint8 antialiased)": resize,
        "flip (half of the images)": lambda i: F.horizontal_flip(outs[i]) if boxes[i].flip
        else None,
        "collate 64 (per image)": lambda i: torch.stack(outs[:64]) if i % 64 == 0 else None,
        "normalize into the last batch (per image)": lambda i: normalize(
            batch, IMAGENET_MEAN, IMAGENET_STD, out=last) if i % 64 == 0 else None,
        "normalize into a fresh batch (per image)": lambda i: normalize(
            batch, IMAGENET_MEAN, IMAGENET_STD) if i % 64 == 0 else None,
        "whole sample (DecodeCrop, full decode)": lambda i: crop(files[i], i),
    }


def _peer(files: list[str], size: int) -> dict[str, Callable[[int], object]]:
    crop_flip = T.Compose([T.RandomResizedCrop(size), T.RandomHorizontalFlip()])
    tail = T.Compose([T.ToTensor(), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])
    decoded = [Image.open(f).convert("RGB") for f in files]
    cropped = [crop_flip(im) for im in decoded]
    tensors = [tail(im) for im in cropped]
    return {
        "peer: read and decode (Pillow loader)": lambda i: Image.open(files[i]).convert("RGB"),
        "peer: crop, resize, flip (Pillow)": lambda i: crop_flip(decoded[i]),
        "peer: ToTensor + Normalize": lambda i: tail(cropped[i]),
        "peer: collate 64 float32 (per image)": lambda i: torch.stack(tensors[:64])
        if i % 64 == 0 else None,
    }


def _dct_scales(files: list[str]) -> dict[str, Callable[[int], object]]:
    data = [Path(f).read_bytes() for f in files]
    sizes = [simplejpeg.decode_jpeg_header(d)[:2] for d in data]

    def at(m: int) -> Callable[[int], object]:
        return lambda i: simplejpeg.decode_jpeg(
            data[i], colorspace="RGB", min_height=-(-sizes[i][0] * m // 8),
            min_width=-(-sizes[i][1] * m // 8))
    return {f"{m}/8": at(m) for m in DCT_SCALES}


def profile(root: Path, size: int, count: int = 128, seed: int = 0) -> dict:
    """{"files": count, "stages": stage -> CPU ms per image, "scales": "M/8" -> CPU ms per
    decode} over ``count`` (a multiple of 64) random training files of ``root``."""
    files = sorted(str(p) for p in (root / "train").rglob("*.jpg"))
    files = random.Random(seed).sample(files, count)
    with warnings.catch_warnings():  # torchvision 0.29 deprecates decode_jpeg (data/jpeg.py)
        warnings.simplefilter("ignore", DeprecationWarning)
        stages = _cpu_ms(_ours(files, size) | _peer(files, size), count)
    return {"files": count, "stages": stages, "scales": _cpu_ms(_dct_scales(files), count)}
