"""The fused decode + random-resized crop of image folders (cnnlab.data.jpeg), checked against
torchvision's v2 transforms on Pillow's decode, on real photos (scikit-image's)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import simplejpeg
import torch
from PIL import Image
from skimage import data
from torchvision.transforms import v2

from cnnlab.data import load_dataset
from cnnlab.data.augment import INCEPTION_RATIO, INCEPTION_SCALE, train_transform
from cnnlab.data.folder import collate
from cnnlab.data.jpeg import CropBox, DecodeCrop, fused_pieces
from cnnlab.data.loaders import Sharding, TrainBatches
from cnnlab.errors import CnnlabError
from cnnlab.imaging import load_image

SEEDS = range(12)


@pytest.fixture(scope="module")
def photo_folder(tmp_path_factory):
    """ROOT/train/{astronaut,coffee}/: JPEGs of several sizes (one large enough for reduced
    decoding), an EXIF-rotated one, an upright one with EXIF, a grayscale one, a CMYK one, one
    libjpeg-turbo's strict mode refuses (stray bytes between header segments) and a PNG."""
    root = tmp_path_factory.mktemp("photos")
    astronaut, coffee = data.astronaut(), data.coffee()
    files = {
        "astronaut/a.jpg": (Image.fromarray(astronaut).resize((500, 375)), {}),
        "astronaut/big.jpg": (Image.fromarray(astronaut).resize((1200, 1000)), {}),
        "astronaut/gray.jpg": (Image.fromarray(astronaut).convert("L"), {}),
        "astronaut/cmyk.jpg": (Image.fromarray(astronaut).convert("CMYK"), {}),
        "coffee/c.jpg": (Image.fromarray(coffee), {}),
        "coffee/p.png": (Image.fromarray(coffee[:300, :350]), {}),
    }
    rotated = Image.fromarray(coffee).resize((420, 300))
    exif = rotated.getexif()
    exif[0x0112] = 6  # stored sideways: a viewer turns it 90 degrees clockwise
    files["coffee/rotated.jpg"] = (rotated, {"exif": exif.tobytes()})
    upright = Image.fromarray(coffee).getexif()
    upright[0x0112] = 1
    files["coffee/upright.jpg"] = (Image.fromarray(coffee), {"exif": upright.tobytes()})
    for name, (image, extra) in files.items():
        path = root / "train" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        image.save(path, quality=92, **extra)
    good = (root / "train" / "coffee" / "c.jpg").read_bytes()
    app0_end = 4 + int.from_bytes(good[4:6], "big")  # SOI, then APP0 (JFIF) and its length
    (root / "train" / "coffee" / "stray.jpg").write_bytes(
        good[:app0_end] + b"\x00\x00" + good[app0_end:])
    return root


def reference(path: str, seed: int, flips: int = 1) -> torch.Tensor:
    """torchvision v2 on Pillow's decode (cnnlab.imaging.load_image), seeded like ours."""
    image = torch.from_numpy(load_image(path)).permute(2, 0, 1).contiguous()
    steps = [v2.RandomResizedCrop(224, scale=INCEPTION_SCALE, ratio=INCEPTION_RATIO,
                                  antialias=True)] + [v2.RandomHorizontalFlip()] * flips
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return v2.Compose(steps)(image)


def _paths(root):
    return sorted(str(p) for p in (root / "train").rglob("*.*"))


def test_full_decode_equals_torchvision_v2_on_pillow(photo_folder):
    crop = DecodeCrop(224, flips=1, reduced=False)
    assert len(_paths(photo_folder)) == 9
    for path in _paths(photo_folder):
        for seed in SEEDS:
            out = crop(path, seed)
            assert out.shape == (3, 224, 224) and out.dtype == torch.uint8
            assert torch.equal(out, reference(path, seed)), (path, seed)


def test_two_flip_pieces_draw_like_two_v2_flips(photo_folder):
    path = str(photo_folder / "train" / "coffee" / "c.jpg")
    crop = DecodeCrop(224, flips=2, reduced=False)
    for seed in SEEDS:
        assert torch.equal(crop(path, seed), reference(path, seed, flips=2))


def test_exif_rotation_is_applied_before_the_crop(photo_folder):
    path = str(photo_folder / "train" / "coffee" / "rotated.jpg")
    assert load_image(path).shape[:2] == (420, 300)  # upright: portrait
    box = DecodeCrop(224).draw(420, 300, 0)
    assert box.top + box.height <= 420 and box.left + box.width <= 300


def test_reduced_decoding_is_close_to_the_full_decode(photo_folder):
    path = str(photo_folder / "train" / "astronaut" / "big.jpg")
    crop = DecodeCrop(224, flips=1, reduced=True)
    reduced_seeds = [s for s in range(200) if crop.scale(crop.draw(1000, 1200, s)) > 1]
    assert len(reduced_seeds) >= 5
    for seed in reduced_seeds[:8]:
        out, expected = crop(path, seed).float(), reference(path, seed).float()
        # DCT scaling averages 2x2 blocks where the full path filters bilinearly: the mean
        # moves by about a level, sharp edges by more (benchmarks/results/pipeline.md).
        assert (out - expected).abs().mean() < 2.5
        assert abs(out.mean() - expected.mean()) < 1.0
    small = str(photo_folder / "train" / "astronaut" / "a.jpg")
    for seed in SEEDS:  # 500 x 375: no crop is 448 px on both sides, so nothing changes
        assert torch.equal(crop(small, seed), reference(small, seed))


@pytest.mark.parametrize(("side", "factor"), [(447, 1), (448, 2), (895, 2), (896, 4),
                                              (1792, 8), (5000, 8)])
def test_reduction_keeps_the_crop_at_least_the_output_size(side, factor):
    assert DecodeCrop(224).scale(CropBox(0, 0, side, side + 10, False)) == factor
    assert DecodeCrop(224).scale(CropBox(0, 0, side + 10, side, False)) == factor
    assert DecodeCrop(224, reduced=False).scale(CropBox(0, 0, side, side, False)) == 1


def test_fused_only_for_the_inception_crop_and_flips():
    assert fused_pieces(["inception"]) == 1
    assert fused_pieces(["inception", "flip"]) == 2
    assert fused_pieces(["flip", "inception"]) is None
    assert fused_pieces(["inception", "pca-lighting"]) is None
    assert fused_pieces([]) is None


def _batches(root, seed, workers, augment=("inception",)):
    train = load_dataset("imagefolder", "train", root)
    source = TrainBatches(train, 3, list(augment), seed=seed, sharding=Sharding(),
                          image_size=224, workers=workers)
    return source, [(step, b.images.clone(), b.labels.clone()) for step, b in source.epoch(0)]


def test_same_seed_same_batches_with_any_worker_count(photo_folder):
    source, zero = _batches(photo_folder, 7, 0)
    assert isinstance(source.files.transform, DecodeCrop)
    _, again = _batches(photo_folder, 7, 0)
    _, other = _batches(photo_folder, 8, 0)
    assert len(zero) == 3
    for workers in (1, 2):
        _, more = _batches(photo_folder, 7, workers)
        for (s0, x0, y0), (s2, x2, y2), (_, xa, _) in zip(zero, more, again, strict=True):
            assert s0 == s2 and torch.equal(y0, y2)
            assert torch.equal(x0, x2) and torch.equal(x0, xa)
    assert not all(torch.equal(a[1], b[1]) for a, b in zip(zero, other, strict=True))


def test_other_augmentations_keep_the_v2_pipeline(photo_folder):
    source, _ = _batches(photo_folder, 0, 0, augment=("resnet",))
    assert isinstance(source.files.transform, v2.Compose)
    assert train_transform(["inception", "pca-lighting"], 224) is not None


def test_a_truncated_jpeg_is_named_or_skipped(photo_folder, tmp_path):
    good = photo_folder / "train" / "coffee" / "c.jpg"
    bad_dir = tmp_path / "train" / "coffee"
    bad_dir.mkdir(parents=True)
    (bad_dir / "bad.jpg").write_bytes(good.read_bytes()[:5000])
    (bad_dir / "junk.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    crop = DecodeCrop(224)
    for name in ("bad.jpg", "junk.jpg"):
        with pytest.raises(CnnlabError, match=name) as err:
            crop(str(bad_dir / name), 0)
        assert "\n" not in str(err.value) and "csrc" not in str(err.value)
    files = load_dataset("imagefolder", "train", tmp_path).with_transform(crop, skip_bad=True)
    batch = collate([files[(i, 0)] for i in range(len(files))])
    assert batch.images.shape[0] == 0 and len(batch.bad_files) == 2


def test_a_missing_file_is_one_line(tmp_path):
    with pytest.raises(CnnlabError, match="no such file") as err:
        DecodeCrop(224)(str(tmp_path / "gone.jpg"), 0)
    assert "\n" not in str(err.value)


def test_a_jpeg_libjpeg_turbo_refuses_is_read_by_pillow(photo_folder):
    path = str(photo_folder / "train" / "coffee" / "stray.jpg")
    with pytest.raises(ValueError, match="extraneous bytes"):
        simplejpeg.decode_jpeg_header(Path(path).read_bytes())
    for seed in SEEDS:
        assert torch.equal(DecodeCrop(224)(path, seed), reference(path, seed))


def test_grayscale_and_cmyk_jpegs_come_out_rgb(photo_folder):
    for name in ("gray.jpg", "cmyk.jpg"):
        path = str(photo_folder / "train" / "astronaut" / name)
        out = DecodeCrop(224)(path, 3)
        assert out.shape == (3, 224, 224)
        assert torch.equal(out, reference(path, 3))
    gray = DecodeCrop(224)(str(photo_folder / "train" / "astronaut" / "gray.jpg"), 3)
    assert torch.equal(gray[0], gray[1]) and torch.equal(gray[1], gray[2])
    assert np.asarray(Image.open(photo_folder / "train" / "astronaut" / "gray.jpg")).ndim == 2
