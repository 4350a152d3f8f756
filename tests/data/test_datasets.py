"""CIFAR-format, ImageFolder and ImageNet-layout datasets behind load_dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.data import FileDataset, load_dataset
from cnnlab.data.cifar import write_cifar
from cnnlab.data.folder import collate
from cnnlab.data.loaders import Sharding, TrainBatches, eval_batches, split_holdout
from cnnlab.data.synthetic import write_image_folder
from cnnlab.errors import CnnlabError


@pytest.mark.parametrize(("name", "k"), [("cifar10", 10), ("cifar100", 100)])
def test_cifar_round_trip_is_pixel_exact(tmp_path, name, k):
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (30, 32, 32, 3), dtype=np.uint8)
    test = rng.integers(0, 256, (7, 32, 32, 3), dtype=np.uint8)
    train_y, test_y = rng.integers(0, k, 30), rng.integers(0, k, 7)
    write_cifar(tmp_path, name, train, train_y, test, test_y, [f"c{i}" for i in range(k)])
    data = load_dataset(name, "train", tmp_path)
    assert data.images.shape == (30, 3, 32, 32)
    assert torch.equal(data.images, torch.from_numpy(train).permute(0, 3, 1, 2))
    assert data.labels.tolist() == train_y.tolist()
    assert len(data.classes) == k
    assert load_dataset(name, "test", tmp_path).labels.tolist() == test_y.tolist()


def test_cifar_errors_name_the_cause(tmp_path):
    with pytest.raises(CnnlabError, match="cifar-10-batches-py"):
        load_dataset("cifar10", "train", tmp_path)
    rng = np.random.default_rng(0)
    write_cifar(tmp_path, "cifar10", rng.integers(0, 256, (10, 32, 32, 3), dtype=np.uint8),
                np.arange(10), rng.integers(0, 256, (2, 32, 32, 3), dtype=np.uint8),
                np.arange(2), [str(i) for i in range(10)])
    (tmp_path / "cifar-10-batches-py" / "data_batch_2").write_bytes(b"not a pickle")
    with pytest.raises(CnnlabError, match="corrupt cifar10"):
        load_dataset("cifar10", "train", tmp_path)


@pytest.fixture
def folder_tree(tmp_path):
    return write_image_folder(tmp_path / "tree", ["cat", "dog", "emu"],
                              {"train": 4, "val": 2}, size=(20, 24))


def test_image_folder_lists_classes_and_decodes(folder_tree):
    train = load_dataset("imagefolder", "train", folder_tree)
    test = load_dataset("imagefolder", "test", folder_tree)
    assert train.classes == ["cat", "dog", "emu"]
    assert len(train) == 12 and len(test) == 6
    assert train.labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    image, label, path = train[(5, 0)]
    assert image.shape == (3, 20, 24) and image.dtype == torch.uint8 and label == 1
    assert torch.equal(image, torch.from_numpy(np.array(Image.open(path))).permute(2, 0, 1))


def test_bad_file_stops_with_its_name_or_is_skipped_and_counted(folder_tree):
    bad = folder_tree / "train" / "dog" / "00099.png"
    bad.write_bytes(b"\x89PNG broken")
    train = load_dataset("imagefolder", "train", folder_tree)
    index = [s for s, _ in train.samples].index(str(bad))
    with pytest.raises(CnnlabError, match="00099.png"):
        train[(index, 0)]
    batch = collate([train.with_transform(None, skip_bad=True)[(i, 0)]
                     for i in range(len(train))])
    assert batch.bad_files == [str(bad)]
    assert batch.images.shape[0] == len(train) - 1


def test_imagenet_flat_val_with_solution_file(tmp_path):
    root = write_image_folder(tmp_path, ["n01", "n02"], {"train": 2}, size=(16, 16))
    (root / "val").mkdir()
    Image.new("RGB", (16, 16)).save(root / "val" / "ILSVRC2012_val_00000001.JPEG")
    Image.new("RGB", (16, 16)).save(root / "val" / "ILSVRC2012_val_00000002.JPEG")
    (root / "LOC_val_solution.csv").write_text(
        "ImageId,PredictionString\nILSVRC2012_val_00000001,n02 1 2 3 4\n"
        "ILSVRC2012_val_00000002,n01 1 2 3 4\n")
    (root / "LOC_synset_mapping.txt").write_text("n01 tench, Tinca tinca\nn02 goldfish\n")
    val = load_dataset("imagenet", "test", root)
    assert val.classes == ["tench", "goldfish"]
    assert val.labels.tolist() == [1, 0]
    assert val[(0, 0)][0].shape == (3, 16, 16)


def test_unknown_dataset_and_missing_layout(tmp_path):
    with pytest.raises(CnnlabError, match="unknown dataset 'mnist2'"):
        load_dataset("mnist2", "train")
    with pytest.raises(CnnlabError, match="train/"):
        load_dataset("imagefolder", "train", tmp_path)


def test_two_shards_make_up_the_global_batch(folder_tree):
    train = load_dataset("imagefolder", "train", folder_tree)
    kwargs = {"seed": 3, "image_size": 16, "workers": 0}
    whole = list(TrainBatches(train, 4, ["inception"], sharding=Sharding(0, 1), **kwargs)
                 .epoch(2))
    halves = [list(TrainBatches(train, 4, ["inception"], sharding=Sharding(r, 2), **kwargs)
                   .epoch(2)) for r in range(2)]
    for (_, full), (_, a), (_, b) in zip(whole, *halves, strict=True):
        assert torch.equal(full.images, torch.cat([a.images, b.images]))
        assert torch.equal(full.labels, torch.cat([a.labels, b.labels]))
    resumed = list(TrainBatches(train, 4, ["inception"], sharding=Sharding(0, 1), **kwargs)
                   .epoch(2, start_step=2))
    assert [s for s, _ in resumed] == [2]
    assert torch.equal(resumed[0][1].images, whole[2][1].images)


def test_worker_processes_decode_the_same_batches(folder_tree):
    train = load_dataset("imagefolder", "train", folder_tree)
    make = lambda workers: TrainBatches(train, 6, ["vgg"], seed=0, sharding=Sharding(),
                                        image_size=16, workers=workers)
    inline, workers = list(make(0).epoch(1)), list(make(2).epoch(1))
    assert all(torch.equal(a.images, b.images) for (_, a), (_, b) in zip(inline, workers,
                                                                         strict=True))


def test_holdout_is_disjoint_and_fixed(folder_tree):
    train = load_dataset("imagefolder", "train", folder_tree)
    kept, held = split_holdout(train, 3)
    assert isinstance(held, FileDataset) and len(held) == 3 and len(kept) == 9
    assert not {s for s, _ in kept.samples} & {s for s, _ in held.samples}
    assert held.samples == split_holdout(train, 3)[1].samples
    batches = list(eval_batches(held, 2, image_size=8))
    assert [b.images.shape[0] for b in batches] == [2, 1]
