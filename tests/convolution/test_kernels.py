"""The kernel library and parsing of user kernels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cnnlab.convolution.kernels import KERNELS, MAX_KERNEL_SIZE, get_kernel, list_kernels
from cnnlab.errors import CnnlabError

REQUIRED = ["identity", "sharpen", "sharpen-5x5", "laplacian", "laplacian-8", "box-blur",
            "box-blur-5x5", "gaussian-blur", "emboss", "sobel-x", "sobel-y", "sobel-magnitude",
            "prewitt-x", "prewitt-y", "outline"]


def test_the_classic_kernels_are_all_there_and_sorted():
    names = [k.name for k in list_kernels()]
    assert set(REQUIRED) <= set(names)
    assert names == sorted(names)


@pytest.mark.parametrize("name", ["identity", "sharpen", "sharpen-5x5", "box-blur",
                                  "box-blur-5x5", "gaussian-blur", "gaussian-blur-5x5", "emboss"])
def test_brightness_keeping_kernels_sum_to_one(name):
    assert KERNELS[name].sum == pytest.approx(1.0)


@pytest.mark.parametrize("name", ["laplacian", "laplacian-8", "outline", "sobel-x", "sobel-y",
                                  "prewitt-x", "prewitt-y", "sobel-magnitude"])
def test_edge_kernels_sum_to_zero(name):
    assert KERNELS[name].sum == 0


def test_gaussian_blur_is_the_outer_product_of_binomial_rows():
    np.testing.assert_allclose(KERNELS["gaussian-blur"].matrix,
                               np.outer([1, 2, 1], [1, 2, 1]) / 16)


def test_outline_is_the_negated_8_neighbour_laplacian():
    np.testing.assert_array_equal(KERNELS["outline"].matrix, -KERNELS["laplacian-8"].matrix)


def test_library_matrices_are_read_only():
    with pytest.raises(ValueError):
        KERNELS["sharpen"].matrix[0, 0] = 3


@pytest.mark.parametrize("spec", ["1,0,1;0,1,0;1,0,1", "1 0 1; 0 1 0; 1 0 1",
                                  "[[1,0,1],[0,1,0],[1,0,1]]"])
def test_custom_kernels_from_strings(spec):
    kernel = get_kernel(spec)
    np.testing.assert_array_equal(kernel.matrix, [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    assert kernel.source == "user"


def test_fractions_are_allowed():
    np.testing.assert_allclose(get_kernel("1/9,1/9;1/9,1/9").matrix, np.full((2, 2), 1 / 9))


def test_custom_kernels_from_files(tmp_path):
    rows = [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]
    (tmp_path / "k.json").write_text(json.dumps({"name": "mine", "matrix": rows}))
    (tmp_path / "rows.json").write_text(json.dumps(rows))
    (tmp_path / "k.txt").write_text("0 -1 0\n-1 5 -1\n0 -1 0\n")
    np.save(tmp_path / "k.npy", np.array(rows, dtype=np.float32))
    assert get_kernel(str(tmp_path / "k.json")).name == "mine"
    for name in ("k.json", "rows.json", "k.txt", "k.npy"):
        np.testing.assert_array_equal(get_kernel(str(tmp_path / name)).matrix, rows)


@pytest.mark.parametrize(("spec", "message"), [
    ("sharpn", "unknown kernel 'sharpn'"),
    ("1,2;3", "rows of different lengths"),
    ("1,x;3,4", "'x' is not a number"),
    ("1/0", "'1/0' is not a number"),
    ("[[1,2],[3]]", "not a rectangular matrix"),
    ("[[1,2]", "invalid JSON"),
    ("[1,2,3]", "2D matrix"),
    ("missing.json", "no such kernel file"),
    (",".join(["1"] * (MAX_KERNEL_SIZE + 1)), "the limit is"),
])
def test_bad_kernels_raise_one_line_errors(spec, message):
    with pytest.raises(CnnlabError, match=message) as err:
        get_kernel(spec)
    assert "\n" not in str(err.value)


def test_npy_with_pickled_objects_is_refused(tmp_path):
    np.save(tmp_path / "bad.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CnnlabError, match="not a plain .npy"):
        get_kernel(str(tmp_path / "bad.npy"))


def test_integer_form_shows_blurs_as_fractions():
    from cnnlab.convolution.kernels import integer_form

    denominator, matrix = integer_form(KERNELS["gaussian-blur"].matrix)
    assert denominator == 16
    np.testing.assert_array_equal(matrix, [[1, 2, 1], [2, 4, 2], [1, 2, 1]])
    assert integer_form(KERNELS["sharpen"].matrix)[0] == 1
