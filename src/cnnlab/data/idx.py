"""Read and write the IDX format of MNIST and Fashion-MNIST (.gz or raw), with validation.

Format (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number, 0x00 0x00 <type> <ndim>,
then ndim big-endian uint32 dimension sizes, then the data in C order. We read only unsigned
bytes (type 0x08), the type both datasets use. Written by hand because torchvision's reader
does not validate the header against the file size or name the bad file.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from cnnlab.errors import CnnlabError
from cnnlab.fileio import atomic_path

_UBYTE = 0x08


def read_idx(path: str | Path, expected_ndim: int | None = None) -> np.ndarray:
    """Return the uint8 array stored in an IDX file.

    Raises:
        CnnlabError: missing file, bad magic number, unexpected dimension count, or a size that
            does not match the header (truncated or padded file). The message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise CnnlabError(f"{path}: no such file")
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise CnnlabError(f"{path}: corrupt gzip data ({err})") from None
    if len(raw) < 4:
        raise CnnlabError(f"{path}: truncated IDX file ({len(raw)} bytes, no header)")
    zero1, zero2, dtype, ndim = raw[0], raw[1], raw[2], raw[3]
    if zero1 != 0 or zero2 != 0 or dtype != _UBYTE or not 1 <= ndim <= 4:
        raise CnnlabError(f"{path}: bad IDX magic number 0x{raw[:4].hex()} "
                          "(expected 0x000008NN, unsigned bytes with 1-4 dimensions)")
    if expected_ndim is not None and ndim != expected_ndim:
        raise CnnlabError(f"{path}: expected {expected_ndim} dimensions, the header says {ndim}")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise CnnlabError(f"{path}: truncated IDX header")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    expected = int(np.prod(shape, dtype=np.int64))
    actual = len(raw) - header
    if actual != expected:
        what = "truncated" if actual < expected else "has trailing bytes"
        raise CnnlabError(f"{path}: {what}: header shape {shape} needs {expected:,} bytes of "
                          f"data, found {actual:,}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape).copy()


def write_idx(path: str | Path, array: np.ndarray) -> Path:
    """Write a uint8 array as IDX (gzip-compressed when the name ends in .gz), atomically."""
    path = Path(path)
    array = np.ascontiguousarray(array, dtype=np.uint8)
    payload = bytes([0, 0, _UBYTE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    payload += array.tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload, compresslevel=1)
    with atomic_path(path) as tmp:
        tmp.write_bytes(payload)
    return path
