"""The IDX reader and the Fashion-MNIST lookup: good files, corrupt files, search order."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest
import torch

from cnnlab.data import fashion_mnist
from cnnlab.data.idx import read_idx, write_idx
from cnnlab.data.memory import batches
from cnnlab.data.synthetic import write_fashion_mnist_like
from cnnlab.errors import CnnlabError


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_round_trip(tmp_path, suffix):
    data = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx(tmp_path / f"x-idx3-ubyte{suffix}", data)
    np.testing.assert_array_equal(read_idx(path), data)


def _raw(header: bytes, payload: bytes, path):
    path.write_bytes(header + payload)
    return path


@pytest.mark.parametrize(
    ("header", "payload", "message"),
    [
        (bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 2, 2), bytes(7), "truncated"),
        (bytes([0, 0, 8, 1]) + struct.pack(">I", 3), bytes(4), "trailing bytes"),
        (bytes([0, 1, 8, 1]) + struct.pack(">I", 1), bytes(1), "bad IDX magic"),
        (bytes([0, 0, 0x0D, 1]) + struct.pack(">I", 1), bytes(4), "bad IDX magic"),
        (bytes([0, 0, 8]), b"", "truncated IDX file"),
        (bytes([0, 0, 8, 3]) + struct.pack(">I", 2), b"", "truncated IDX header"),
    ],
)
def test_idx_corrupt_files_name_file_and_cause(tmp_path, header, payload, message):
    path = _raw(header, payload, tmp_path / "bad-idx-ubyte")
    with pytest.raises(CnnlabError, match=message) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_idx_wrong_dimension_count(tmp_path):
    path = write_idx(tmp_path / "labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(CnnlabError, match="expected 3 dimensions"):
        read_idx(path, expected_ndim=3)


def test_idx_corrupt_gzip(tmp_path):
    path = tmp_path / "x-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 2, 3, 4]))[:-6])
    with pytest.raises(CnnlabError, match="corrupt gzip") as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_load_split_validates_counts_and_labels(tmp_path, no_download):
    folder = write_fashion_mnist_like(tmp_path / "d", train=20, test=10)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.zeros(9, np.uint8))
    with pytest.raises(CnnlabError, match="10 images but .* has 9 labels"):
        fashion_mnist.load_split("test", folder)
    write_idx(folder / "t10k-labels-idx1-ubyte.gz", np.full(10, 12, np.uint8))
    with pytest.raises(CnnlabError, match="label 12 is out of range"):
        fashion_mnist.load_split("test", folder)


def test_search_order_env_then_error(tmp_path, no_download, monkeypatch, fake_fashion):
    with pytest.raises(CnnlabError) as info:
        fashion_mnist.locate()
    message = str(info.value)
    for option in ("--data-dir", "$CNNLAB_DATA", "dataset-fashion-mnist", "online"):
        assert option in message
    monkeypatch.setenv("CNNLAB_DATA", str(fake_fashion))
    assert fashion_mnist.locate() == fake_fashion
    with pytest.raises(CnnlabError, match="--data-dir"):
        fashion_mnist.locate(tmp_path / "empty")


def test_dataset_in_memory_and_batched_by_index(fake_fashion):
    train = fashion_mnist.load_split("train", fake_fashion)
    assert train.images.dtype == torch.uint8 and train.images.shape == (600, 1, 28, 28)
    assert train.labels.dtype == torch.int64 and len(train.classes) == 10
    seen = torch.cat([y for _, y in batches(train, 128, shuffle=True,
                                            generator=torch.Generator().manual_seed(0))])
    assert sorted(seen.tolist()) == sorted(train.labels.tolist())


def test_real_fashion_mnist_files(real_fashion_dir):
    test = fashion_mnist.load_split("test", real_fashion_dir)
    assert test.images.shape == (10_000, 1, 28, 28)
    assert torch.bincount(test.labels).tolist() == [1000] * 10  # balanced test set (the paper)
