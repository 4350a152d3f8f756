"""Every error path the suite drives through the CLI prints exactly one line, `error: ...`, on
stdout and stderr together: no traceback, no library warning, no note before it.

The cases are the failing commands of tests/cli, tests/complexity, tests/convolution,
tests/evaluation, tests/inference, tests/training and tests/visualize (with the same inputs),
plus hostile weights files and the run-folder refusals.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from cnnlab.cli import main
from cnnlab.data.synthetic import write_image_folder


class Evil:
    """Unpickling this runs a shell command: what a hostile .pth file carries."""

    def __reduce__(self):
        return (os.system, ("echo owned",))


@pytest.fixture(scope="module")
def inputs(fake_fashion, tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("one-line")
    run = root / "run"
    assert main(["train", "--data-dir", str(fake_fashion), "--epochs", "1", "--train-subset",
                 "64", "--test-subset", "32", "--threads", "1", "--quiet", "--out",
                 str(run)]) == 0
    (root / "empty").mkdir()
    (root / "folder").mkdir()
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(root / "img.png")
    (root / "notimage.png").write_text("hello")
    (root / "corrupt.png").write_bytes((root / "img.png").read_bytes()[:60])
    bad_idx = root / "bad-idx"
    bad_idx.mkdir()
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (bad_idx / name).write_bytes(b"\x00\x00\x08\x03garbage")
    tree = write_image_folder(root / "tree", ["a", "b"], {"train": 3, "val": 1}, size=(20, 20))
    (tree / "train" / "b" / "zz-broken.png").write_bytes(b"\x89PNG\r\n broken")
    for name, damage in [("misfit", None), ("bad-weights", "weights"), ("bad-meta", "meta")]:
        broken = root / name
        shutil.copytree(run, broken)
        meta = json.loads((broken / "checkpoint.json").read_text())
        meta["model_args"]["num_classes"] = 7
        (broken / "checkpoint.json").write_text(json.dumps(meta))
        if damage == "weights":
            (broken / "checkpoint.safetensors").write_bytes(b"not safetensors")
        elif damage == "meta":
            (broken / "checkpoint.json").write_text("{not json")
    with open(root / "evil-pickle.pth", "wb") as handle:  # plain pickle, protocol 4
        pickle.dump({"weight": Evil()}, handle)
    torch.save({"weight": Evil()}, root / "evil-torch.pth")
    return {"RUN": str(run), "EMPTY": str(root / "empty"), "FOLDER": str(root / "folder"),
            "IMG": str(root / "img.png"), "NOTIMAGE": str(root / "notimage.png"),
            "CORRUPT": str(root / "corrupt.png"), "MISSING": str(root / "missing"),
            "FASHION": str(fake_fashion), "BADIDX": str(bad_idx), "TREE": str(tree),
            "MISFIT": str(root / "misfit"), "BADWEIGHTS": str(root / "bad-weights"),
            "BADMETA": str(root / "bad-meta"), "EVILPICKLE": str(root / "evil-pickle.pth"),
            "EVILTORCH": str(root / "evil-torch.pth")}


CASES = {
    # tests/cli/test_cli_end_to_end.py
    "train-unknown-model": (["train", "--model", "nosuchnet", "--data-dir", "FASHION"],
                            "unknown model"),
    "train-epochs-0": (["train", "--epochs", "0"], "--epochs must be >= 1"),
    "train-bad-number": (["train", "--batch-size", "many"], "--batch-size"),
    "train-unknown-flag": (["train", "--no-such-flag"], "No such option"),
    "train-no-dataset": (["train", "--data-dir", "MISSING"], "Fashion-MNIST"),
    "train-truncated-idx": (["train", "--data-dir", "BADIDX", "--epochs", "1"], "truncated"),
    "evaluate-no-checkpoint": (["evaluate", "EMPTY"], "no checkpoint here"),
    "evaluate-no-folder": (["evaluate", "MISSING"], "no such run folder"),
    "predict-missing-image": (["predict", "RUN", "MISSING"], "no such file"),
    "predict-not-an-image": (["predict", "RUN", "NOTIMAGE"], "not an image"),
    "predict-corrupt-image": (["predict", "RUN", "CORRUPT"], "cannot decode"),
    "predict-bad-bool": (["predict", "RUN", "IMG", "--invert", "maybe"], "--invert"),
    "models-unknown": (["models", "vgg17"], "unknown model"),
    "evaluate-misfit": (["evaluate", "MISFIT"], "weights do not fit smallcnn"),
    "evaluate-bad-weights": (["evaluate", "BADWEIGHTS"], "cannot read weights"),
    "evaluate-bad-meta": (["evaluate", "BADMETA"], "corrupt checkpoint metadata"),
    # tests/cli/test_cli_commands.py
    "unknown-command": (["trian"], "No such command 'trian'"),
    "trace-unknown-flag": (["trace", "conv", "--no-such-flag"], "No such option"),
    # tests/complexity/test_profile_cli.py
    "profile-unknown-model": (["profile", "nosuchnet"], "unknown model"),
    "profile-input-too-small": (["profile", "alexnet", "--input", "3x224"], "too small"),
    "profile-malformed-input": (["profile", "alexnet", "--input", "3xabc"], "malformed --input"),
    "profile-input-31": (["profile", "alexnet", "--input", "3x31x31"], "too small"),
    "profile-batch-0": (["profile", "smallcnn", "--batch", "0"], "--batch"),
    "profile-optimizer": (["profile", "smallcnn", "--optimizer", "lion"], "--optimizer"),
    "profile-no-run": (["profile", "./no/such/run"], "no such run folder"),
    # tests/convolution/test_convolution_cli.py
    "shape-fraction": (["shape", "--input", "224x224x3", "conv:96,11,4,0"], "54.25"),
    "filter-missing": (["filter", "MISSING", "-o", "x.png"], "no such file"),
    "filter-no-input": (["filter", "-o", "x.png"], "either an IMAGE file or --sample"),
    "filter-unknown-sample": (["filter", "--sample", "dog", "-o", "x.png"], "unknown sample"),
    "trace-input-only": (["trace", "conv", "--input", "1,2;3,4"], "give --example NAME"),
    "trace-unknown-example": (["trace", "conv", "--example", "nope"], "unknown example"),
    "trace-kernel-not-single": (["trace", "conv", "--input", "1,2;3,4", "--kernel",
                                 "sobel-magnitude"], "not a single"),
    "kernels-unknown": (["kernels", "blurr"], "unknown kernel"),
    # tests/evaluation/test_crops_ensemble.py
    "evaluate-crop-mode": (["evaluate", "RUN", "--crops", "12crop"], "unknown crop mode"),
    "ensemble-one-run": (["ensemble", "RUN"], "at least two"),
    # tests/inference/test_inference_cli.py
    "export-into-folder": (["export", "RUN", "--onnx", "FOLDER"], "is a folder"),
    "benchmark-backend": (["benchmark", "infer", "smallcnn", "--backend", "tensorrt"],
                          "unknown backend 'tensorrt'"),
    # tests/training/test_recipes.py, test_resume.py, test_run_folder.py
    "train-broken-image": (["train", "--model", "smallcnn", "--dataset", "imagefolder",
                            "--data-dir", "TREE", "--epochs", "1", "--batch-size", "7",
                            "--quiet", "--set", "image_size=16", "--out", "NEWOUT"],
                           "zz-broken.png"),
    "resume-not-a-run": (["train", "--resume", "EMPTY"], "not a run folder"),
    "train-into-a-run": (["train", "--data-dir", "FASHION", "--out", "RUN"],
                         "already holds a run"),
    "nproc-into-a-run": (["train", "--data-dir", "FASHION", "--nproc", "2", "--out", "RUN"],
                         "already holds a run"),
    "train-out-is-a-file": (["train", "--data-dir", "FASHION", "--out", "IMG"],
                            "is a file, not a folder"),
    "resume-and-overwrite": (["train", "--resume", "RUN", "--overwrite"], "use one of them"),
    # tests/visualize/test_cli_viz.py (each with --out)
    "viz-unknown-layer": (["viz", "activations", "smallcnn", "IMG", "--layer", "features.9"],
                          "unknown layer 'features.9' in smallcnn: did you mean"),
    "viz-channel-range": (["viz", "receptive-field", "smallcnn", "IMG", "--layer",
                           "features.4", "--channel", "64"], "channel 64 is out of range"),
    "viz-missing-image": (["viz", "gradcam", "smallcnn", "MISSING"], "no such file"),
    "viz-not-an-image": (["viz", "saliency", "smallcnn", "NOTIMAGE"], "not an image file"),
    "viz-not-a-conv": (["viz", "filters", "smallcnn", "--layer", "features.1"],
                       "is a BatchNorm2d, not a convolution"),
    "viz-unknown-class": (["viz", "occlusion", "smallcnn", "IMG", "--target", "cat"],
                          "unknown class 'cat'"),
    "viz-needs-images": (["viz", "top-patches", "resnet18", "--layer", "layer1", "--channel",
                          "0"], "give --images"),
    # hostile weights (tests/models/test_pretrained_weights.py refuses them in the library)
    "weights-pickle-protocol-4": (["predict", "smallcnn", "IMG", "--weights", "EVILPICKLE"],
                                  "refused to load: not a plain state dict (pickle protocol 4"),
    "weights-torch-save-global": (["predict", "smallcnn", "IMG", "--weights", "EVILTORCH"],
                                  "refused to load: not a plain state dict (unsupported GLOBAL"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_failing_command_prints_one_error_line(case, inputs, tmp_path, monkeypatch,
                                                 no_download, capfd):
    argv, needle = CASES[case]
    places = {**inputs, "NEWOUT": str(tmp_path / "new")}
    argv = [places.get(a, a) for a in argv]
    if argv[0] == "viz":
        argv += ["--out", str(tmp_path / "x.png")]
    monkeypatch.chdir(tmp_path)  # default run folders and relative outputs land here
    capfd.readouterr()
    status = main(argv)
    captured = capfd.readouterr()
    text = captured.out + captured.err
    assert status != 0
    assert text.count("\n") == 1 and text.endswith("\n"), text
    assert text.startswith("error: ") and needle in text, text
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_hostile_weights_in_a_real_process(inputs):
    """The console entry point: torch's multi-line pickle-protocol warning stays out."""
    result = subprocess.run([sys.executable, "-m", "cnnlab", "predict", "smallcnn",
                             inputs["IMG"], "--weights", inputs["EVILPICKLE"]],
                            capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == (f"error: {inputs['EVILPICKLE']}: refused to load: not a plain state "
                             "dict (pickle protocol 4, which torch's safe loader reads only in "
                             "part: Unsupported operand 149; torch.save's default protocol "
                             "loads)\n")


def test_a_library_warning_becomes_one_note(monkeypatch, capfd):
    """Any warning that still reaches the CLI is one `note:` line, without file and source."""
    import warnings

    from cnnlab.cli import kernels as kernels_command

    real = kernels_command.list_kernels

    def noisy(*args, **kwargs):
        warnings.warn("first line of a library warning\nsecond line", UserWarning,
                      stacklevel=1)
        warnings.warn("first line of a library warning\nsecond line", UserWarning,
                      stacklevel=1)
        return real(*args, **kwargs)

    monkeypatch.setattr(kernels_command, "list_kernels", noisy)
    assert main(["kernels"]) == 0
    err = capfd.readouterr().err
    assert err == "note: first line of a library warning\n"
    assert Path(__file__).name not in err
