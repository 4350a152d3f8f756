"""`cnnlab export`, `cnnlab benchmark infer` and `cnnlab predict --backend` end to end."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from PIL import Image

from cnnlab.checkpoint import save_checkpoint
from cnnlab.cli import main
from cnnlab.inference.backends import auto_candidates, installed_backends


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, seeded_model):
    """A run folder holding smallcnn with the seed-0 weights (its export is cached)."""
    out = tmp_path_factory.mktemp("run")
    model = seeded_model("smallcnn")
    save_checkpoint(out, model, {
        "model": "smallcnn", "model_args": {"num_classes": 10, "in_channels": 1},
        "dataset": "fashion-mnist", "classes": [f"c{i}" for i in range(10)],
        "input_size": [1, 28, 28], "normalization": {"mean": [0.286], "std": [0.353]}})
    return out


def test_export_writes_a_valid_onnx(run_dir, tmp_path, capsys):
    target = tmp_path / "model.onnx"
    assert main(["export", str(run_dir), "--onnx", str(target), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["onnx"] == str(target) and summary["bytes"] == target.stat().st_size
    onnx.checker.check_model(str(target))
    graph = onnx.load(str(target)).graph
    assert [i.name for i in graph.input] == ["images"]
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param  # dynamic batch


def test_export_into_a_folder_is_an_error(run_dir, tmp_path, capsys):
    assert main(["export", str(run_dir), "--onnx", str(tmp_path)]) == 1
    assert "is a folder" in capsys.readouterr().err


def test_benchmark_infer_json(capsys):
    assert main(["benchmark", "infer", "smallcnn", "--batch", "2", "--backend", "eager",
                 "--backend", "onnxruntime", "--repeats", "2", "--warmup", "1", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["model"] == "smallcnn" and result["batch"] == 2
    rows = {r["backend"]: r for r in result["backends"]}
    assert set(rows) == {"eager", "onnxruntime"} and rows["eager"]["speedup_vs_eager"] == 1.0
    for row in rows.values():
        assert row["ms_per_batch"] > 0
        assert row["images_per_s"] == pytest.approx(2e3 / row["ms_per_batch"])


def test_benchmark_unknown_backend(capsys):
    assert main(["benchmark", "infer", "smallcnn", "--backend", "tensorrt"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown backend 'tensorrt': choose from auto, eager")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_benchmark_marks_auto_as_the_default(capsys):
    assert main(["benchmark", "infer", "smallcnn", "--backend", "auto", "--backend", "eager",
                 "--repeats", "1", "--warmup", "0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    rows, auto = result["backends"], result["auto"]
    assert auto["backend"] in auto_candidates()
    assert [r["backend"] for r in rows] == [auto["backend"], "eager"]
    assert [r["default"] for r in rows] == [True, False]
    if len(auto_candidates()) > 1 and not auto["remembered"]:
        timed = auto["timed_ms_per_call"]
        assert set(timed) == set(auto_candidates()) and min(timed, key=timed.get) == auto[
            "backend"]


def test_predict_unknown_backend_is_one_line(run_dir, tmp_path, capsys):
    Image.fromarray(np.zeros((28, 28), np.uint8)).save(tmp_path / "x.png")
    assert main(["predict", str(run_dir), str(tmp_path / "x.png"), "--backend", "tvm"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown backend 'tvm'") and err.count("\n") == 1


def test_predict_backends_agree(run_dir, tmp_path, capsys):
    image = np.random.default_rng(0).integers(0, 255, (28, 28), dtype=np.uint8)
    Image.fromarray(image).save(tmp_path / "x.png")
    tops = {}
    for backend in ("eager", "auto", *(b for b in ("onnxruntime", "openvino")
                                       if b in installed_backends())):
        assert main(["predict", str(run_dir), str(tmp_path / "x.png"), "--json",
                     "--backend", backend]) == 0
        tops[backend] = json.loads(capsys.readouterr().out)[0]["top"]
    for backend, top in tops.items():
        assert [t["index"] for t in top] == [t["index"] for t in tops["eager"]], backend
        np.testing.assert_allclose([t["probability"] for t in top],
                                   [t["probability"] for t in tops["eager"]], atol=1e-5)
