"""The commands kernels, filter, trace and shape, run through the real entry point."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cnnlab.cli import main
from cnnlab.imaging import load_image

LECTURE_INPUT = "1,1,1,0,0;0,1,1,1,0;0,0,1,1,1;0,0,1,1,0;0,1,1,0,0"


def _run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_trace_conv_lecture_example_and_the_same_typed_by_hand(capsys):
    status, example, _ = _run(capsys, "trace", "conv", "--example", "lecture")
    assert status == 0 and "2 3 4" in example
    status, typed, _ = _run(capsys, "trace", "conv", "--input", LECTURE_INPUT, "--kernel",
                            "1,0,1;0,1,0;1,0,1")
    assert status == 0 and typed == example


def test_trace_conv_json_curve(capsys):
    status, out, _ = _run(capsys, "trace", "conv", "--example", "curve", "--json")
    assert status == 0 and json.loads(out)["output"] == [[6600.0]]


def test_trace_pool_and_layer(capsys):
    status, out, _ = _run(capsys, "trace", "pool", "--input", "1,2;3,4", "--size", "2",
                          "--op", "avg")
    assert status == 0 and "mean(1, 2, 3, 4) = 2.5" in out
    status, out, _ = _run(capsys, "trace", "layer", "--json")
    assert status == 0 and json.loads(out)["output_hwc"] == [28, 28, 6]


def test_shape_command(capsys):
    status, out, _ = _run(capsys, "shape", "--input", "227x227x3", "conv:96,11,4,0", "pool:3,2",
                          "--json")
    assert status == 0
    assert [row["output"] for row in json.loads(out)["layers"]] == [[55, 55, 96], [27, 27, 96]]
    status, _, err = _run(capsys, "shape", "--input", "224x224x3", "conv:96,11,4,0")
    assert status == 1 and err.startswith("error: ") and "54.25" in err
    assert err.count("\n") == 1


def test_kernels_lists_every_kernel(capsys):
    status, out, _ = _run(capsys, "kernels", "--json")
    names = {k["name"] for k in json.loads(out)}
    assert status == 0 and {"sharpen", "emboss", "sobel-magnitude"} <= names
    status, out, _ = _run(capsys, "kernels", "emboss")
    assert status == 0 and "-2 -1  0" in out


def test_filter_a_file_with_figure(tmp_path, capsys):
    source = tmp_path / "in.png"
    rgb = np.random.default_rng(0).integers(0, 256, (24, 32, 3)).astype(np.uint8)
    Image.fromarray(rgb).save(source)
    out, figure = tmp_path / "out.png", tmp_path / "fig.png"
    status, stdout, _ = _run(capsys, "filter", str(source), "--kernel", "identity", "-o", str(out),
                             "--figure", str(figure), "--json")
    assert status == 0 and json.loads(stdout)["display"] == "clip"
    np.testing.assert_array_equal(load_image(out), rgb)
    assert Image.open(figure).size[1] > 24


def test_filter_stride_gray_and_custom_kernel(tmp_path, capsys):
    source = tmp_path / "in.png"
    Image.fromarray(np.zeros((20, 30), np.uint8)).save(source)
    out = tmp_path / "out.png"
    status, _, _ = _run(capsys, "filter", str(source), "-k", "0,-1,0;-1,4,-1;0,-1,0", "--gray",
                        "--stride", "2", "--padding", "valid", "-o", str(out))
    assert status == 0 and load_image(out, "L").shape == (9, 14)


def test_filter_sample_photo(tmp_path, capsys):
    pytest.importorskip("skimage")  # a dev dependency; the sample option says so when missing
    out = tmp_path / "cat.png"
    status, _, _ = _run(capsys, "filter", "--sample", "cat", "-k", "sobel-magnitude", "-o",
                        str(out))
    assert status == 0 and load_image(out).shape == (300, 451, 3)


@pytest.mark.parametrize(("args", "message"), [
    (["filter", "missing.png", "-o", "x.png"], "no such file"),
    (["filter", "-o", "x.png"], "either an IMAGE file or --sample"),
    (["filter", "--sample", "dog", "-o", "x.png"], "unknown sample"),
    (["trace", "conv", "--input", "1,2;3,4"], "give --example NAME"),
    (["trace", "conv", "--example", "nope"], "unknown example"),
    (["trace", "conv", "--input", "1,2;3,4", "--kernel", "sobel-magnitude"], "not a single"),
    (["kernels", "blurr"], "unknown kernel"),
])
def test_user_errors_print_one_line(capsys, args, message):
    status, _, err = _run(capsys, *args)
    assert status == 1 and err.startswith("error: ") and message in err
