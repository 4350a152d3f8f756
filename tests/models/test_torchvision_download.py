"""--weights torchvision / IMAGENET1K_V2: the real download code (torch.hub's downloader with the
hash check, into torch's hub cache) against a local HTTP server on 127.0.0.1 serving a file the
test makes; the offline messages; the weights list of `cnnlab models NAME`."""

from __future__ import annotations

import hashlib
import io
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
import torchvision
from PIL import Image
from torchvision.models import ResNet18_Weights

from cnnlab.cli import main
from cnnlab.errors import CnnlabError
from cnnlab.models import get_model, list_models, model_info
from cnnlab.models.torchvision_weights import available_weights, find_weights
from cnnlab.models.weights import load_pretrained
from cnnlab.runs import resolve_model

WITH_TORCHVISION = [n for n in list_models() if model_info(n).torchvision]


@pytest.fixture(scope="module")
def served() -> dict:
    """torchvision's own resnet18 (random init) saved as a .pth, and its SHA-256."""
    torch.manual_seed(0)
    state = torchvision.models.resnet18().state_dict()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    data = buffer.getvalue()
    return {"state": state, "data": data, "sha": hashlib.sha256(data).hexdigest()}


@pytest.fixture
def server(served):
    """127.0.0.1 on a free port: /ok/* serves the file, /cut/* half of it under the full
    Content-Length, anything else 404. Yields the base URL; shut down after the test."""
    data = served["data"]

    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a stuck client cannot hold the thread for longer

        def do_GET(self) -> None:
            if not self.path.startswith(("/ok/", "/cut/")):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data if self.path.startswith("/ok/") else data[: len(data) // 2])
            self.close_connection = True

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def hub(tmp_path, monkeypatch) -> Path:
    """torch's hub cache moved into the test's folder (TORCH_HOME is torch's own setting)."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch" / "hub" / "checkpoints"


def _serve_at(monkeypatch, url: str) -> None:
    # The weight entry of torchvision's enum points at the local server for this test only.
    monkeypatch.setattr(ResNet18_Weights.IMAGENET1K_V1.value, "url", url)


def _cache_files(hub: Path) -> list[str]:
    return sorted(p.name for p in hub.iterdir()) if hub.is_dir() else []


def test_right_hash_downloads_into_the_hub_cache_and_loads_equal(served, server, hub, tmp_path,
                                                                 monkeypatch, capsys):
    name = f"resnet18-{served['sha'][:8]}.pth"
    _serve_at(monkeypatch, f"{server}/ok/{name}")
    image = tmp_path / "red.png"
    Image.new("RGB", (64, 48), (200, 30, 40)).save(image)
    assert main(["predict", "resnet18", str(image), "--weights", "torchvision", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["top"][0]["class"]  # stdout is only the JSON
    # One note on stderr and no progress bar (stderr is not a terminal here).
    assert captured.err.splitlines() == [f"note: downloading {server}/ok/{name} -> {hub / name}"]
    assert _cache_files(hub) == [name]
    # Cached now: a server that answers 404 is never asked.
    _serve_at(monkeypatch, f"{server}/gone/{name}")
    model, _ = resolve_model("resnet18", weights="IMAGENET1K_V1")
    loaded = model.state_dict()
    assert loaded.keys() == served["state"].keys()
    assert all(torch.equal(loaded[k], v) for k, v in served["state"].items())


@pytest.mark.parametrize("route, hash_chars", [("ok", "wrong"), ("cut", 12)])
def test_wrong_hash_or_truncated_file_is_refused_and_not_kept(served, server, hub, monkeypatch,
                                                              route, hash_chars):
    prefix = "deadbeef" if hash_chars == "wrong" else served["sha"][:hash_chars]
    _serve_at(monkeypatch, f"{server}/{route}/resnet18-{prefix}.pth")
    with pytest.raises(CnnlabError) as err:
        resolve_model("resnet18", weights="torchvision")
    message = str(err.value)
    assert "\n" not in message and f"not {prefix}" in message and "nothing was kept" in message
    assert _cache_files(hub) == []  # no file, and no .partial left behind


def test_404_names_the_url_and_the_cache_path(server, hub, monkeypatch, capsys):
    url = f"{server}/missing/resnet18-0123abcd.pth"
    _serve_at(monkeypatch, url)
    assert main(["predict", "resnet18", "x.png", "--weights", "torchvision"]) == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("error: ") and "HTTP 404" in error and url in error
    assert f"place that file at {hub / 'resnet18-0123abcd.pth'}" in error
    assert _cache_files(hub) == []


def test_offline_names_the_url_and_the_file_to_place(served, hub, monkeypatch, tmp_path):
    with socket.socket() as probe:  # a port nobody listens on: connection refused, as offline
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    name = f"resnet18-{served['sha'][:8]}.pth"
    _serve_at(monkeypatch, f"http://127.0.0.1:{port}/{name}")
    with pytest.raises(CnnlabError, match="cannot download") as err:
        resolve_model("resnet18", weights="torchvision")
    assert f"place that file at {hub / name}" in str(err.value)
    # Placing that exact file there, as the message says, makes the command work offline.
    hub.mkdir(parents=True, exist_ok=True)
    (hub / name).write_bytes(served["data"])
    model, _ = resolve_model("resnet18", weights="torchvision")
    assert torch.equal(model.fc.weight, served["state"]["fc.weight"])


def test_a_wrong_file_placed_in_the_cache_is_refused(served, hub, monkeypatch):
    name = f"resnet18-{served['sha'][:8]}.pth"
    _serve_at(monkeypatch, f"http://127.0.0.1:9/{name}")
    hub.mkdir(parents=True)
    (hub / name).write_bytes(served["data"][:1000])
    with pytest.raises(CnnlabError, match="does not start with .* delete it"):
        resolve_model("resnet18", weights="torchvision")


def test_unknown_weight_name_and_model_without_torchvision_weights():
    with pytest.raises(CnnlabError, match="has no torchvision weights 'IMAGENET1K_V9'; it has "
                                          "IMAGENET1K_V1, IMAGENET1K_V2"):
        resolve_model("resnet50", weights="IMAGENET1K_V9")
    with pytest.raises(CnnlabError, match="resnet20 has no torchvision weights .*resnet50"):
        resolve_model("resnet20", weights="torchvision")


@pytest.mark.filterwarnings("ignore:The default weight initialization:FutureWarning")
@pytest.mark.parametrize("name", WITH_TORCHVISION)
def test_every_torchvision_weight_is_hash_checked_and_fits(name):
    info = model_info(name)
    found = available_weights(name)
    assert [w.name for w in found] == [w.name for w in
                                        torchvision.models.get_model_weights(info.torchvision)]
    assert sum(w.default for w in found) == 1
    # The hash in every file name is what the download is checked against.
    assert all(torch.hub.HASH_REGEX.search(w.cache_path.name) for w in found)
    with torch.device("meta"):
        theirs = torchvision.models.get_model(info.torchvision).state_dict()
        ours = get_model(name, **info.pretrained_options)
    load_pretrained(ours, theirs)  # strict: raises CnnlabError naming any key that differs


def test_models_name_lists_the_published_accuracy(capsys):
    assert main(["models", "resnet50", "--json"]) == 0
    weights = {w["name"]: w for w in json.loads(capsys.readouterr().out)["pretrained"]}
    # torchvision's model table (docs.pytorch.org/vision/stable/models.html):
    # ResNet50_Weights.IMAGENET1K_V1 76.13 / 92.862, IMAGENET1K_V2 80.858 / 95.434.
    assert (weights["IMAGENET1K_V1"]["acc1"], weights["IMAGENET1K_V1"]["acc5"]) == (76.13, 92.862)
    assert (weights["IMAGENET1K_V2"]["acc1"], weights["IMAGENET1K_V2"]["acc5"]) == (80.858, 95.434)
    assert weights["IMAGENET1K_V2"]["default"] and weights["IMAGENET1K_V2"]["resize"] == 232
    assert weights["IMAGENET1K_V2"]["recipe"].startswith("https://")
    assert main(["models", "resnet50"]) == 0
    text = capsys.readouterr().out
    line = next(ln for ln in text.splitlines() if "IMAGENET1K_V2" in ln)
    assert "80.86" in line and "95.43" in line and "default" in line
    assert find_weights("resnet50", "torchvision").name == "IMAGENET1K_V2"


def test_finetuning_from_torchvision_weights_keeps_a_new_head(served, server, hub, monkeypatch):
    _serve_at(monkeypatch, f"{server}/ok/resnet18-{served['sha'][:8]}.pth")
    ten = load_pretrained(get_model("resnet18", num_classes=10), "torchvision", new_head=True)
    assert torch.equal(ten.conv1.weight, served["state"]["conv1.weight"])
    assert ten.fc.weight.shape == (10, 512)  # the 1000-class head of the file is left out
