"""The studio server: what it serves, what it refuses, and that errors are JSON."""

from __future__ import annotations

import glob
import time
import tomllib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from cnnlab.studio.api import kernels
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.server import STATIC, create_app

ROOT = Path(__file__).resolve().parents[2]


def test_index_is_the_shell_with_a_strict_content_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    assert '<script type="module" src="/static/shell.js">' in response.text
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy  # nothing from a CDN can load


def test_static_files_come_from_the_package(client):
    response = client.get("/static/shell.js")
    assert response.status_code == 200
    assert response.text == (STATIC / "shell.js").read_text()
    assert "javascript" in response.headers["content-type"]


@pytest.mark.parametrize("path", [
    "/static/../server.py", "/static/%2e%2e/server.py", "/static/%2E%2E/%2E%2E/imaging.py",
    "/static/%252e%252e/server.py", "/static/..%2fserver.py", "/static/..%5cserver.py",
    "/static/..\\server.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
    "/static/lib/../../server.py", "//etc/passwd", "/etc/passwd", "/static/",
    "/api/photos/..%2f..%2fserver.py", "/api/photos/sample:..%2fcat",
    "/api/photos/%2fetc%2fpasswd",
])
def test_path_traversal_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404, response.text[:200]
    assert "root:" not in response.text and "create_app" not in response.text
    assert response.json()["status"] == 404


def test_unknown_api_path_is_json_404(client):
    response = client.post("/api/no-such-thing", json={})
    assert response.status_code == 404
    assert response.json() == {"error": "no API endpoint /api/no-such-thing", "status": 404}


def test_wrong_method_is_json_405(client):
    response = client.delete("/api/kernels")
    assert response.status_code == 405
    assert "DELETE is not allowed" in response.json()["error"]


def test_foreign_host_header_is_refused_on_loopback(client):
    # A page elsewhere whose DNS name was rebound to 127.0.0.1 sends its own Host header.
    assert client.get("/api/kernels", headers={"host": "attacker.example"}).status_code == 400
    assert client.get("/api/kernels", headers={"host": "localhost:8765"}).status_code == 200


@pytest.mark.parametrize(("host", "loopback"), [("127.0.0.1", True), ("localhost", True),
                                                ("::1", True), ("0.0.0.0", False),
                                                ("192.168.1.5", False)])
def test_loopback_detection(host, loopback):
    assert StudioConfig(host=host).is_loopback is loopback


def test_a_slow_request_does_not_stall_the_others(live_url, monkeypatch):
    # The filter itself is slowed down: while it runs in its worker thread, the event loop
    # must keep answering other requests.
    real = kernels._apply

    def slow_apply(*args):
        time.sleep(6)
        return real(*args)

    monkeypatch.setattr(kernels, "_apply", slow_apply)
    body = {"photo": "sample:camera", "kernel": "sharpen"}
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(httpx.post, f"{live_url}/api/kernels/apply", json=body, timeout=60)
        time.sleep(0.3)
        quick = httpx.get(f"{live_url}/api/kernels", timeout=60)
        assert quick.status_code == 200
        assert not slow.done()  # the slow one was still running when the quick one came back
        assert slow.result().status_code == 200


def test_every_static_file_ships_in_the_wheel():
    # setuptools copies only files matching [tool.setuptools.package-data]; a front-end file
    # outside those patterns would work from a checkout and be missing after `pip install`.
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["package-data"]["cnnlab.studio"]
    package = STATIC.parent
    shipped = {Path(p) for pattern in patterns
               for p in glob.glob(str(package / pattern), recursive=True)}
    present = {p for p in STATIC.rglob("*") if p.is_file()}
    assert present and present <= shipped, sorted(map(str, present - shipped))


def test_a_bug_answers_json_without_its_traceback(monkeypatch):
    def broken(*args):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(kernels, "_apply", broken)
    with TestClient(create_app(), base_url="http://127.0.0.1",
                    raise_server_exceptions=False) as quiet:
        answer = quiet.post("/api/kernels/apply", json={"photo": "sample:cat",
                                                        "kernel": "sharpen"})
    assert answer.status_code == 500
    assert answer.json()["error"].startswith("internal error (RuntimeError)")
    assert "secret" not in answer.text and "Traceback" not in answer.text
