"""/api/steps/*: the step-by-step page's numbers are the lecture's and `cnnlab trace`'s."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from cnnlab.cli import main
from cnnlab.convolution.examples import FILTERS_EXAMPLE, POOL_EXAMPLE

# The nine "2D Convolution Layer - Computation" slides (cnn-lecture.txt lines 136-191), in
# their order: window (0,0), (0,1), (0,2), (1,0), ... each as window value × kernel value.
LECTURE_SUMS = [
    "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 0×0 + 1×1 = 4",
    "1×1 + 1×0 + 0×1 + 1×0 + 1×1 + 1×0 + 0×1 + 1×0 + 1×1 = 3",
    "1×1 + 0×0 + 0×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 1×1 = 4",
    "0×1 + 1×0 + 1×1 + 0×0 + 0×1 + 1×0 + 0×1 + 0×0 + 1×1 = 2",
    "1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 0×1 + 1×0 + 1×1 = 4",
    "1×1 + 1×0 + 0×1 + 1×0 + 1×1 + 1×0 + 1×1 + 1×0 + 0×1 = 3",
    "0×1 + 0×0 + 1×1 + 0×0 + 0×1 + 1×0 + 0×1 + 1×0 + 1×1 = 2",
    "0×1 + 1×0 + 1×1 + 0×0 + 1×1 + 1×0 + 1×1 + 1×0 + 0×1 = 3",
    "1×1 + 1×0 + 1×1 + 1×0 + 1×1 + 0×0 + 1×1 + 0×0 + 0×1 = 4",
]


@pytest.fixture
def examples(client):
    answer = client.get("/api/steps/examples")
    assert answer.status_code == 200
    return answer.json()


def _cli(capsys, *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


def test_the_nine_lecture_sums_and_the_cli_text(client, examples, capsys):
    lecture = examples["conv"]["lecture"]
    answer = client.post("/api/steps/conv", json={"image": lecture["image"],
                                                  "kernel": lecture["kernel"]}).json()
    assert answer["sums"] == LECTURE_SUMS
    assert [s["value"] for s in answer["steps"]] == [4, 3, 4, 2, 4, 3, 2, 3, 4]
    assert answer["output"] == [[4, 3, 4], [2, 4, 3], [2, 3, 4]]
    assert answer["formula"] == "(5 - 3 + 2*0)/1 + 1 = 3"
    # The page shows what the terminal prints for the same example.
    assert answer["text"] + "\n" == _cli(capsys, "trace", "conv", "--example", "lecture")


def test_stride_2_gives_3x3_and_pad_1_keeps_7x7(client, examples):
    for name, shape in (("stride", [3, 3]), ("padding", [7, 7])):
        e = examples["conv"][name]
        answer = client.post("/api/steps/conv", json={
            "image": e["image"], "kernel": e["kernel"], "stride": e["stride"],
            "padding": e["padding"]}).json()
        assert answer["output_shape"] == shape
        image, kernel = torch.tensor(e["image"]), torch.tensor(e["kernel"])
        expected = F.conv2d(image[None, None], kernel[None, None], stride=e["stride"],
                            padding=e["padding"])[0, 0]
        np.testing.assert_allclose(answer["output"], expected.numpy())


@pytest.mark.parametrize("size", [3, 5, 7])
def test_same_padding_is_f_minus_1_over_2_and_preserves_the_size(client, size):
    image = np.arange(81.0).reshape(9, 9).tolist()
    kernel = np.ones((size, size)).tolist()
    first = client.post("/api/steps/conv", json={"image": image, "kernel": kernel}).json()
    assert first["same_padding"] == (size - 1) // 2
    kept = client.post("/api/steps/conv", json={"image": image, "kernel": kernel,
                                                "padding": first["same_padding"]}).json()
    assert kept["output_shape"] == [9, 9]


def test_even_kernel_has_no_same_padding_and_relu_clips_negatives(client):
    answer = client.post("/api/steps/conv", json={"image": [[1, -2, 3], [-4, 5, -6], [7, -8, 9]],
                                                  "kernel": [[1, -1], [-1, 1]]}).json()
    assert answer["same_padding"] is None
    np.testing.assert_array_equal(answer["relu"], np.maximum(answer["output"], 0))
    assert min(map(min, answer["output"])) < 0


def test_curve_detector_6600_on_the_curve_0_elsewhere(client, examples):
    values = []
    for name in ("curve", "curve-other"):
        e = examples["conv"][name]
        answer = client.post("/api/steps/conv", json={"image": e["image"], "kernel": e["kernel"],
                                                      "nonzero": True}).json()
        values.append(answer["output"])
        if name == "curve":
            assert answer["sums"][0].startswith("50×30 + 20×30 + 50×30 + 50×30 + 50×30 = 6600")
    assert values == [[[6600]], [[0]]]


@pytest.mark.parametrize(("op", "stride"), [("max", 1), ("max", 2), ("avg", 1), ("avg", 2)])
def test_pooling_2x2_equals_torch(client, op, stride):
    image = POOL_EXAMPLE if stride == 1 else np.arange(16.0).reshape(4, 4)
    answer = client.post("/api/steps/pool", json={"image": image.tolist(), "size": 2,
                                                  "stride": stride, "op": op}).json()
    pool = F.max_pool2d if op == "max" else F.avg_pool2d
    expected = pool(torch.tensor(image)[None, None], 2, stride)[0, 0].numpy()
    np.testing.assert_allclose(answer["output"], expected)
    assert len(answer["sums"]) == expected.size
    if op == "max" and stride == 1:
        assert answer["sums"][0] == "max(4, 3, 2, 4) = 4"


def test_padded_max_pool_writes_minus_infinity_as_text(client):
    answer = client.post("/api/steps/pool", json={"image": POOL_EXAMPLE.tolist(), "size": 2,
                                                  "stride": 1, "padding": 1}).json()
    assert answer["padded_input"][0][0] == "-inf"
    expected = F.max_pool2d(torch.tensor(POOL_EXAMPLE)[None, None], 2, 1, padding=1)[0, 0]
    np.testing.assert_allclose(answer["output"], expected.numpy())


def test_layer_32x32x3_six_5x5_filters_gives_28x28x6_as_the_cli(client, capsys):
    answer = client.post("/api/steps/layer", json={}).json()
    assert answer["output_hwc"] == [28, 28, 6] and answer["weights"] == 450
    assert answer["text"] + "\n" == _cli(capsys, "trace", "layer")


def test_three_channels_two_filters_equal_torch(client, examples):
    e = examples["filters"]
    answer = client.post("/api/steps/filters", json=e).json()
    expected = F.conv2d(torch.tensor(FILTERS_EXAMPLE.image)[None],
                        torch.tensor(FILTERS_EXAMPLE.weights), torch.tensor(FILTERS_EXAMPLE.bias),
                        stride=2, padding=1)[0].numpy()
    assert answer["output_shape"] == [2, 3, 3]
    np.testing.assert_allclose(answer["output"], expected)
    assert answer["checked"] is True
    # One sum per input channel: their values plus the bias make each output value.
    per_channel = [plane["steps"][4]["value"] for plane in answer["filters"][1]]
    assert sum(per_channel) + e["bias"][1] == answer["output"][1][1][1]


@pytest.mark.parametrize(("path", "body", "words"), [
    ("/api/steps/conv", {"kernel": [[1]]}, "missing field 'image'"),
    ("/api/steps/conv", {"image": [[1, 2], [3]], "kernel": [[1]]}, "same length"),
    ("/api/steps/conv", {"image": [[1, True]], "kernel": [[1]]}, "a number between"),
    ("/api/steps/conv", {"image": [[1, "x"]], "kernel": [[1]]}, "a number between"),
    ("/api/steps/conv", {"image": [[0] * 33] * 33, "kernel": [[1]]}, "1 to 32"),
    ("/api/steps/conv", {"image": [[1, 2]], "kernel": [[1, 1, 1]]}, "larger than"),
    ("/api/steps/conv", {"image": [[1] * 7] * 7, "kernel": [[1] * 3] * 3, "stride": 3},
     "not an integer"),
    ("/api/steps/conv", {"image": [[1]], "kernel": [[1]], "padding": -1}, "'padding'"),
    ("/api/steps/conv", {"image": [[1]], "kernel": [[1]], "stride": 1.5}, "'stride'"),
    ("/api/steps/pool", {"image": [[1, 2], [3, 4]], "op": "min"}, "'op'"),
    ("/api/steps/pool", {"image": [[1, 2], [3, 4]], "size": 2, "padding": 2}, "half the window"),
    ("/api/steps/layer", {"filters": 0}, "'filters'"),
    ("/api/steps/filters", {"image": [[[1]]], "weights": [[[[1]]], [[[1]]]], "bias": [1]},
     "one bias per filter"),
    ("/api/steps/filters", {"image": [[[1]]], "weights": [[[[1]], [[1]]]]}, "same C"),
])
def test_bad_input_gets_a_400_naming_the_cause(client, path, body, words):
    answer = client.post(path, json=body)
    assert answer.status_code == 400
    assert words in answer.json()["error"]


def test_a_form_post_is_refused(client):
    answer = client.post("/api/steps/conv", content=b"image=1", headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 415


def test_activation_maps_of_a_sample_photo_and_an_unknown_one(client):
    answer = client.get("/api/steps/maps?photo=camera").json()
    assert np.asarray(answer["input"]).shape == (32, 32, 3)
    assert np.asarray(answer["maps"]).shape == (6, 28, 28) and answer["output_hwc"] == [28, 28, 6]
    bad = client.get("/api/steps/maps?photo=..%2Fserver.py")
    assert bad.status_code == 400 and "unknown photo" in bad.json()["error"]
