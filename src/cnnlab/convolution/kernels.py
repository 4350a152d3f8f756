"""A named library of hand-crafted kernels, and parsing of user-supplied ones.

The matrices are the ones the lecture shows (its "Convolution Filters (Hand Crafted)" slide and the
setosa.io image-kernels page it links) plus the classic edge operators. Every kernel is applied as
a cross-correlation (the window is not flipped), which is what CNN layers compute; for the
symmetric kernels here this is the same as a convolution, for Sobel, Prewitt and emboss the sign
or direction differs (see docs/convolution.md).

A kernel with ``parts`` is not linear: it combines the responses of its parts by their Euclidean
norm (Sobel magnitude = sqrt(Gx^2 + Gy^2)).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cnnlab.convolution.matrices import as_matrix, looks_like_file, read_matrix
from cnnlab.errors import CnnlabError

MAX_KERNEL_SIZE = 63  # larger hand-written kernels are almost surely a typo


@dataclass(frozen=True)
class Kernel:
    """A 2D filter: ``matrix`` is (kh, kw) float64; ``parts`` are combined by magnitude."""

    name: str
    matrix: np.ndarray
    description: str
    source: str = ""
    parts: tuple[Kernel, ...] = field(default=())

    @property
    def shape(self) -> tuple[int, int]:
        """(kh, kw) of the matrix, or of the first part for a magnitude kernel."""
        return tuple(self.parts[0].matrix.shape if self.parts else self.matrix.shape)

    @property
    def is_linear(self) -> bool:
        """True for one matrix; False for a magnitude of parts (not a convolution).

        sobel-magnitude, for one, is sqrt(gx^2 + gy^2) of two convolutions.
        """
        return not self.parts

    @property
    def sum(self) -> float:
        """Sum of the weights: 1 keeps brightness, 0 answers only to change (edges)."""
        return float(self.matrix.sum()) if self.is_linear else 0.0


def _k(rows: list[list[float]], scale: float = 1.0) -> np.ndarray:
    matrix = np.asarray(rows, dtype=np.float64) * scale
    matrix.setflags(write=False)
    return matrix


def _embed(inner: np.ndarray, size: int) -> np.ndarray:
    """Centre ``inner`` in a ``size`` x ``size`` zero matrix (the lecture's 5x5 variants)."""
    outer = np.zeros((size, size))
    top = (size - inner.shape[0]) // 2
    outer[top:top + inner.shape[0], top:top + inner.shape[1]] = inner
    outer.setflags(write=False)
    return outer


_SHARPEN = _k([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
_SOBEL_X = _k([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
_SOBEL_Y = _k([[-1, -2, -1], [0, 0, 0], [1, 2, 1]])
_LECTURE = "lecture, slide 'Convolution Filters (Hand Crafted)'"
_SETOSA = "setosa.io/ev/image-kernels (linked from the lecture)"

_LINEAR = [
    Kernel("identity", _k([[0, 0, 0], [0, 1, 0], [0, 0, 0]]), "output = input", _SETOSA),
    Kernel("sharpen", _SHARPEN, "boost the centre against its 4 neighbours", _SETOSA),
    Kernel("sharpen-5x5", _embed(_SHARPEN, 5), "the same sharpen inside a 5x5 window", _LECTURE),
    Kernel("laplacian", _k([[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
           "4-neighbour Laplacian: second derivative, edges in every direction", _LECTURE),
    Kernel("laplacian-8", _k([[1, 1, 1], [1, -8, 1], [1, 1, 1]]),
           "8-neighbour Laplacian (diagonals too)", "classic"),
    Kernel("outline", _k([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
           "negated 8-neighbour Laplacian: bright edges on black", _SETOSA),
    Kernel("box-blur", _k(np.ones((3, 3)), 1 / 9), "mean of the 3x3 window", "classic"),
    Kernel("box-blur-5x5", _embed(_k(np.ones((3, 3)), 1 / 9), 5),
           "3x3 block of ones in a 5x5 window, divided by 9 to keep brightness "
           "(the lecture prints the ones)", _LECTURE),
    Kernel("gaussian-blur", _k([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16),
           "3x3 binomial approximation of a Gaussian (sigma ~ 0.85)", _SETOSA),
    Kernel("gaussian-blur-5x5", _k(np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]), 1 / 256),
           "5x5 binomial approximation of a Gaussian (sigma ~ 1.0)", "classic"),
    Kernel("emboss", _k([[-2, -1, 0], [-1, 1, 1], [0, 1, 2]]),
           "relief: the image plus a diagonal gradient", _LECTURE),
    Kernel("sobel-x", _SOBEL_X, "horizontal gradient: answers to vertical edges", "Sobel 1968"),
    Kernel("sobel-y", _SOBEL_Y, "vertical gradient: answers to horizontal edges", "Sobel 1968"),
    Kernel("prewitt-x", _k([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]]),
           "horizontal gradient with equal row weights", "Prewitt 1970"),
    Kernel("prewitt-y", _k([[-1, -1, -1], [0, 0, 0], [1, 1, 1]]),
           "vertical gradient with equal column weights", "Prewitt 1970"),
]
_BY_NAME = {kernel.name: kernel for kernel in _LINEAR}
_BY_NAME["sobel-magnitude"] = Kernel(
    "sobel-magnitude", np.zeros((3, 3)), "gradient strength sqrt(Gx^2 + Gy^2), not linear",
    "Sobel 1968", parts=(_BY_NAME["sobel-x"], _BY_NAME["sobel-y"]))
KERNELS: dict[str, Kernel] = dict(sorted(_BY_NAME.items()))


def integer_form(matrix: np.ndarray) -> tuple[int, np.ndarray]:
    """(d, M) with matrix == M / d and M integer, for the smallest d in 1..256; else (1, matrix).

    Blur kernels read better as "1/16 x [[1, 2, 1], ...]" than as decimals.
    """
    for denominator in range(1, 257):
        scaled = matrix * denominator
        if np.allclose(scaled, np.rint(scaled), atol=1e-9):
            return denominator, np.rint(scaled)
    return 1, matrix


def list_kernels() -> list[Kernel]:
    """All named kernels, sorted by name."""
    return list(KERNELS.values())


def get_kernel(spec: str) -> Kernel:
    """A named kernel, or a custom one parsed from a matrix string, JSON text or a file.

    Accepted forms: ``sharpen``; ``"1,0,1;0,1,0;1,0,1"`` (rows split by ``;``, values by ``,``
    or spaces, fractions like ``1/9`` allowed); ``"[[1,0,1],[0,1,0],[1,0,1]]"``; a path to a
    .json file (a list of rows, or ``{"name": ..., "matrix": ...}``), a .npy file, or a text file
    with one row per line.

    Raises:
        CnnlabError: unknown name, unreadable file, ragged rows, non-numbers, empty or too large.
    """
    spec = spec.strip()
    if spec in KERNELS:
        return KERNELS[spec]
    if looks_like_file(spec) or spec.startswith("[") or any(ch.isdigit() for ch in spec):
        return custom_kernel(read_matrix(spec, "kernel"), _short_name(spec))
    raise CnnlabError(f"unknown kernel {spec!r}: choose one of {', '.join(KERNELS)} "
                      "or give a matrix such as '1,0,1;0,1,0;1,0,1'")


def _short_name(spec: str) -> str:
    """The kernel's display name: a JSON file's "name", a file's name, or the matrix text."""
    if not looks_like_file(spec):
        return spec
    path = Path(spec)
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))  # read_matrix already validated it
        if isinstance(data, dict) and "name" in data:
            return str(data["name"])
    return path.name


def custom_kernel(matrix: np.ndarray | list, name: str = "custom") -> Kernel:
    """Wrap a user matrix as a Kernel after checking it is 2D, finite and not too large."""
    array = as_matrix(matrix, f"kernel {name!r}")
    if max(array.shape) > MAX_KERNEL_SIZE:
        raise CnnlabError(f"kernel {name!r} is {array.shape[0]}x{array.shape[1]}; the limit is "
                          f"{MAX_KERNEL_SIZE}x{MAX_KERNEL_SIZE}")
    array.setflags(write=False)
    return Kernel(name, array, "user-supplied", "user")
