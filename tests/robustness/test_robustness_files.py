"""Image-file datasets: decoded once into memory at the evaluation crop, then measured like
an in-memory split; a zoo model name works as the target."""

from __future__ import annotations

import torch

from cnnlab.data import load_dataset
from cnnlab.data.loaders import eval_batches
from cnnlab.data.synthetic import write_image_folder
from cnnlab.evaluation.predict import ViewSpec
from cnnlab.robustness.evaluate import evaluate_robustness
from cnnlab.robustness.measure import as_in_memory
from cnnlab.robustness.settings import RobustnessSettings

CLASSES = [f"c{i}" for i in range(10)]


def test_files_become_the_centre_crops_evaluate_sees(tmp_path):
    root = write_image_folder(tmp_path / "f", CLASSES, {"train": 1, "val": 2})
    data = load_dataset("imagefolder", "test", root)
    memory = as_in_memory(data, ViewSpec("center", 32, 36), batch_size=7)
    expected = torch.cat([b.images for b in eval_batches(data, 50, image_size=32, resize=36)])
    assert memory.images.dtype == torch.uint8 and memory.images.shape == (20, 3, 32, 32)
    assert torch.equal(memory.images, expected)
    assert memory.labels.tolist() == data.labels.tolist()


def test_a_zoo_model_on_image_files(tmp_path):
    root = write_image_folder(tmp_path / "f", CLASSES, {"train": 1, "val": 1})
    settings = RobustnessSettings(["rotation"], [2], seed=1, limit=6, batch_size=3)
    report = evaluate_robustness("resnet20", settings, dataset="imagefolder", data_dir=root)
    assert report.samples == 6 and report.views == "center"
    assert list(report.errors) == ["rotation"] and 0 <= report.errors["rotation"][2] <= 1
    assert report.grid.shape == (1, 2, 3, 224, 224)
