"""cnnlab.imaging.load_image on every mode a user's file may have, and its failures."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from cnnlab.errors import CnnlabError
from cnnlab.imaging import load_image, save_image


def _save(tmp_path, image: Image.Image, name: str, **kwargs) -> str:
    path = tmp_path / name
    image.save(path, **kwargs)
    return str(path)


def test_rgba_is_composited_onto_white(tmp_path):
    rgba = np.zeros((2, 2, 4), np.uint8)
    rgba[0, 0] = (255, 0, 0, 255)  # opaque red stays red
    rgba[0, 1] = (255, 0, 0, 0)  # transparent anything becomes white
    rgba[1, 0] = (0, 0, 0, 128)  # half-transparent black becomes mid gray
    path = _save(tmp_path, Image.fromarray(rgba, "RGBA"), "a.png")
    out = load_image(path)
    assert out.shape == (2, 2, 3) and out.dtype == np.uint8
    assert out[0, 0].tolist() == [255, 0, 0] and out[0, 1].tolist() == [255, 255, 255]
    assert abs(int(out[1, 0, 0]) - 127) <= 1
    assert load_image(path, "L")[0, 1] == 255


def test_la_gray_with_alpha(tmp_path):
    la = np.array([[[0, 255], [0, 0]]], np.uint8)
    out = load_image(_save(tmp_path, Image.fromarray(la, "LA"), "la.png"), "L")
    assert out.tolist() == [[0, 255]]


def test_palette_with_transparency(tmp_path):
    image = Image.new("P", (2, 1))
    image.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 1)
    path = _save(tmp_path, image, "p.png", transparency=0)
    assert Image.open(path).mode == "P"
    assert load_image(path).tolist() == [[[255, 255, 255], [0, 0, 255]]]


def test_palette_without_transparency(tmp_path):
    image = Image.new("P", (1, 1))
    image.putpalette([10, 20, 30] + [0] * 765)
    assert load_image(_save(tmp_path, image, "p.gif")).tolist() == [[[10, 20, 30]]]


def test_16_bit_is_scaled_not_clipped(tmp_path):
    wide = np.array([[0, 32768, 65535, 1000]], np.uint16)
    path = _save(tmp_path, Image.fromarray(wide), "g16.png")
    assert Image.open(path).mode == "I;16"
    # Scaled by 255/65535: clipping would have turned 32768 and 1000 into 255.
    assert load_image(path, "L").tolist() == [[0, 128, 255, 4]]
    assert load_image(path).shape == (1, 4, 3)


def test_32_bit_float_tiff_in_0_1(tmp_path):
    values = np.array([[0.0, 0.5, 1.0]], np.float32)
    path = _save(tmp_path, Image.fromarray(values, "F"), "f.tif")
    assert load_image(path, "L").tolist() == [[0, 128, 255]]


def test_one_bit(tmp_path):
    bits = Image.new("1", (3, 1))
    bits.putpixel((1, 0), 1)
    assert load_image(_save(tmp_path, bits, "b.png"), "L").tolist() == [[0, 255, 0]]


def test_cmyk(tmp_path):
    cmyk = Image.new("CMYK", (2, 1))
    cmyk.putpixel((0, 0), (255, 0, 0, 0))  # pure cyan
    cmyk.putpixel((1, 0), (0, 0, 0, 0))  # no ink: white
    out = load_image(_save(tmp_path, cmyk, "c.tif"))
    assert out.tolist() == [[[0, 255, 255], [255, 255, 255]]]


def test_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((10, 20, 3), np.uint8)
    stored[:, :10] = (255, 0, 0)  # left half red
    stored[:, 10:] = (0, 0, 255)  # right half blue
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = _save(tmp_path, Image.fromarray(stored), "phone.jpg", exif=exif, quality=95)
    out = load_image(path)
    assert out.shape == (20, 10, 3)  # upright: portrait
    assert out[2, 5, 0] > 200 and out[2, 5, 2] < 50  # the left edge is now the top: red
    assert out[17, 5, 2] > 200 and out[17, 5, 0] < 50


@pytest.mark.parametrize("name", ["t.png", "t.jpg"])
def test_truncated_file(tmp_path, name):
    noise = np.random.default_rng(0).integers(0, 256, (64, 64, 3)).astype(np.uint8)
    path = tmp_path / name
    Image.fromarray(noise).save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CnnlabError, match="cannot decode image"):
        load_image(path)


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("hello")
    with pytest.raises(CnnlabError, match="not an image file"):
        load_image(path)


def test_missing_file_directory_and_bad_mode(tmp_path):
    with pytest.raises(CnnlabError, match="no such file"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(CnnlabError, match="is a directory"):
        load_image(tmp_path)
    with pytest.raises(CnnlabError, match="unknown image mode"):
        load_image(tmp_path / "nope.png", mode="CMYK")


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    path = _save(tmp_path, Image.new("RGB", (20, 10)), "big.png")
    with pytest.raises(CnnlabError, match="200 pixels exceeds the limit of 199"):
        load_image(path, max_pixels=199)
    assert load_image(path, max_pixels=200).shape == (10, 20, 3)


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b"")


def test_decompression_bomb_header_is_refused_with_the_limit_named(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(_png_header_only(40_000, 40_000))  # 1.6 G pixels claimed in 57 bytes
    with pytest.raises(CnnlabError, match="exceeds the limit"):
        load_image(path)


def test_save_image_round_trip_and_errors(tmp_path):
    rgb = np.random.default_rng(1).integers(0, 256, (5, 6, 3)).astype(np.uint8)
    np.testing.assert_array_equal(load_image(save_image(rgb, tmp_path / "x.png")), rgb)
    with pytest.raises(CnnlabError, match="needs uint8"):
        save_image(rgb.astype(np.float32), tmp_path / "x.png")
    with pytest.raises(CnnlabError, match="unknown image extension"):
        save_image(rgb, tmp_path / "x.xyz")
