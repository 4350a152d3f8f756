"""The Kernels API against the library: the picture equals `cnnlab filter`'s file, the hover
step equals apply_kernel's value and prints as `cnnlab trace conv` does."""

from __future__ import annotations

import numpy as np
import pytest

from cnnlab.cli import main
from cnnlab.convolution.apply import apply_kernel
from cnnlab.convolution.kernels import KERNELS
from cnnlab.convolution.steps import trace_conv
from cnnlab.convolution.steps_text import format_steps
from cnnlab.imaging import load_image, load_sample

RNG = np.random.default_rng(3)

# (request fields, the same settings as `cnnlab filter` flags)
CASES = [
    ({"kernel": "sharpen"}, ["-k", "sharpen"]),
    ({"kernel": "gaussian-blur", "color": "gray"}, ["-k", "gaussian-blur", "--gray"]),
    ({"kernel": "sobel-magnitude", "stride": 2, "padding": "valid"},
     ["-k", "sobel-magnitude", "--stride", "2", "--padding", "valid"]),
    ({"matrix": "1,2;3,-4", "border": "zero", "display": "minmax"},
     ["-k", "1,2;3,-4", "--border", "zero", "--display", "minmax"]),
    ({"matrix": [[1, 0, -1]] * 5, "padding": 3, "border": "replicate", "dilation": 2,
      "display": "abs"},
     ["-k", "1,0,-1;1,0,-1;1,0,-1;1,0,-1;1,0,-1", "--padding", "3", "--border", "replicate",
      "--dilation", "2", "--display", "abs"]),
    ({"matrix": "1/9,1/9,1/9;1/9,1/9,1/9;1/9,1/9,1/9", "stride": 3, "display": "clip"},
     ["-k", "1/9,1/9,1/9;1/9,1/9,1/9;1/9,1/9,1/9", "--stride", "3", "--display", "clip"]),
]


def _cli_filter(tmp_path, source: list[str], flags: list[str]) -> np.ndarray:
    out = tmp_path / "cli.png"
    assert main(["filter", *source, *flags, "-o", str(out)]) == 0
    return load_image(out, "RGB")


@pytest.mark.parametrize(("fields", "flags"), CASES)
def test_sample_photo_equals_cnnlab_filter(client, decode, tmp_path, fields, flags):
    answer = client.post("/api/kernels/apply", json={"photo": "sample:coffee", **fields})
    assert answer.status_code == 200, answer.text
    pixels = decode(answer.json()["output"])
    expected = _cli_filter(tmp_path, ["--sample", "coffee"], flags)
    if pixels.ndim == 2:  # the CLI wrote a gray PNG; read back as RGB, all channels equal
        expected = expected[..., 0]
    np.testing.assert_array_equal(pixels, expected)
    geometry = answer.json()["geometry"]
    assert (geometry["rows"]["size"], geometry["cols"]["size"]) == pixels.shape[:2]


@pytest.mark.parametrize(("fields", "flags"), CASES[:4])
def test_uploaded_png_equals_cnnlab_filter(client, decode, make_png, tmp_path, fields, flags):
    image = RNG.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    (tmp_path / "in.png").write_bytes(make_png(image))
    upload = client.post("/api/photos", content=make_png(image),
                         headers={"content-type": "image/png", "x-filename": "in.png"})
    assert upload.status_code == 201, upload.text
    assert upload.json()["width"] == 53 and upload.json()["height"] == 37
    answer = client.post("/api/kernels/apply", json={"photo": upload.json()["id"], **fields})
    pixels = decode(answer.json()["output"])
    expected = _cli_filter(tmp_path, [str(tmp_path / "in.png")], flags)
    np.testing.assert_array_equal(pixels, expected if pixels.ndim == 3 else expected[..., 0])


@pytest.mark.parametrize(("fields", "position"), [
    ({"kernel": "sharpen"}, (0, 0)), ({"kernel": "gaussian-blur-5x5"}, (511, 3)),
    ({"matrix": "1,2;3,4", "border": "zero"}, (511, 511)),
    ({"kernel": "laplacian", "stride": 3, "padding": 4, "border": "replicate", "dilation": 3},
     (170, 2)),
    ({"kernel": "emboss", "color": "gray", "border": "reflect"}, (100, 200))])
def test_hover_step_equals_apply_kernel(client, fields, position):
    body = {"photo": "sample:astronaut", "row": position[0], "col": position[1], **fields}
    answer = client.post("/api/kernels/step", json=body)
    assert answer.status_code == 200, answer.text
    gray = fields.get("color") == "gray"
    image = load_sample("astronaut", gray)
    kernel = KERNELS[fields["kernel"]].matrix if "kernel" in fields else np.array(
        [[1.0, 2.0], [3.0, 4.0]])
    values = apply_kernel(image, kernel, fields.get("stride", 1), fields.get("padding", "same"),
                          fields.get("border", "reflect"), fields.get("dilation", 1), "numpy")
    channels = answer.json()["channels"]
    assert [c["channel"] for c in channels] == (["gray"] if gray else ["R", "G", "B"])
    for c, channel in enumerate(channels):
        expected = values[position] if gray else values[position][c]
        assert channel["value"] == pytest.approx(float(expected), abs=1e-3)
        products = np.array(channel["parts"][0]["products"])
        assert products.sum() == pytest.approx(channel["value"])


def test_hover_text_is_trace_conv_text(client, make_png):
    plane = RNG.integers(0, 9, (6, 6), dtype=np.uint8)
    upload = client.post("/api/photos", content=make_png(plane)).json()
    kernel = "1,0,1;0,1,0;1,0,1"
    trace = format_steps(trace_conv(plane, np.array([[1, 0, 1], [0, 1, 0], [1, 0, 1]]), 1, 1))
    for row, col in [(0, 0), (2, 3), (5, 5)]:
        answer = client.post("/api/kernels/step", json={
            "photo": upload["id"], "matrix": kernel, "padding": 1, "border": "zero",
            "color": "gray", "row": row, "col": col}).json()
        lines = answer["channels"][0]["lines"]
        assert lines[0].startswith(f"out[{row},{col}]: window rows {row}-{row + 2}")
        assert "\n".join(lines) in trace


def test_magnitude_kernel_step_combines_its_parts(client):
    answer = client.post("/api/kernels/step", json={
        "photo": "sample:camera", "kernel": "sobel-magnitude", "row": 40, "col": 40}).json()
    channel = answer["channels"][0]
    gx, gy = (part["value"] for part in channel["parts"])
    assert channel["value"] == pytest.approx(np.hypot(gx, gy))
    assert channel["lines"][-1].startswith("sobel-magnitude: sqrt(")


def test_kernel_list_is_the_library_list(client):
    answer = client.get("/api/kernels").json()
    assert [k["name"] for k in answer["kernels"]] == list(KERNELS)
    blur = next(k for k in answer["kernels"] if k["name"] == "gaussian-blur")
    assert blur["denominator"] == 16 and blur["integers"][1][1] == 4
    assert answer["max_size"] == 15


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "missing field 'photo'"),
    ({"photo": "sample:cat"}, "missing field 'kernel'"),
    ({"photo": "sample:cat", "kernel": "../../etc/passwd"}, "unknown kernel"),
    ({"photo": "sample:cat", "kernel": "kernel.npy"}, "unknown kernel"),
    ({"photo": "sample:nope", "kernel": "sharpen"}, "no photo 'sample:nope'"),
    ({"photo": "sample:cat", "matrix": [[1] * 16]}, "1 to 15 rows and columns"),
    ({"photo": "sample:cat", "matrix": "1,2;3"}, "rows of different lengths"),
    ({"photo": "sample:cat", "matrix": "1,x;3,4"}, "'x' is not a number"),
    ({"photo": "sample:cat", "matrix": [[1e300]]}, "within"),
    ({"photo": "sample:cat", "matrix": [[True]]}, "rows of numbers"),
    ({"photo": "sample:cat", "kernel": "sharpen", "stride": 0}, "field 'stride' must be >= 1"),
    ({"photo": "sample:cat", "kernel": "sharpen", "stride": 1.5}, "'stride' must be an integer"),
    ({"photo": "sample:cat", "kernel": "sharpen", "dilation": 17}, "'dilation' must be"),
    ({"photo": "sample:cat", "kernel": "sharpen", "padding": -1}, "'padding' must be 0 to 64"),
    ({"photo": "sample:cat", "kernel": "sharpen", "padding": "full"}, "same, valid or a number"),
    ({"photo": "sample:cat", "kernel": "sharpen", "border": "wrap"}, "zero, reflect, replicate"),
    ({"photo": "sample:cat", "kernel": "sharpen", "display": "log"}, "'display' must be one of"),
    ({"photo": "sample:cat", "kernel": "sharpen", "color": "hsv"}, "'color' must be one of"),
    ({"photo": "sample:cat", "matrix": [[]]}, "rows of numbers"),
    ({"photo": "sample:cat", "kernel": "sharpen", "padding": 64, "border": "reflect",
      "stride": 1}, None),
])
def test_bad_settings_get_a_400_naming_the_cause(client, fields, message):
    answer = client.post("/api/kernels/apply", json=fields)
    if message is None:  # the control: a valid edge case is accepted
        assert answer.status_code == 200, answer.text[:300]
        return
    assert answer.status_code in (400, 404), answer.text[:300]
    assert message in answer.json()["error"]


def test_step_outside_the_output_is_a_400(client):
    answer = client.post("/api/kernels/step", json={
        "photo": "sample:cat", "kernel": "sharpen", "stride": 2, "row": 150, "col": 0})
    assert answer.status_code == 400
    assert "outside the 150x226 output" in answer.json()["error"]


@pytest.mark.parametrize(("content_type", "body", "status", "message"), [
    ("text/plain", b'{"photo": 1}', 415, "Content-Type application/json"),
    ("application/json", b"{not json", 400, "not valid JSON"),
    ("application/json", b"[1, 2]", 400, "must be a JSON object"),
    ("application/json", b'{"photo": NaN}', 400, "not valid JSON"),
    ("application/json", b"[" * 100_000, 400, "not valid JSON"),
])
def test_malformed_bodies(client, content_type, body, status, message):
    answer = client.post("/api/kernels/apply", content=body,
                         headers={"content-type": content_type})
    assert answer.status_code == status
    assert message in answer.json()["error"]


def test_oversized_json_is_413(client):
    answer = client.post("/api/kernels/apply", json={"photo": "x" * (1024 * 1024)})
    assert answer.status_code == 413
    assert "limit" in answer.json()["error"]
