"""Fixtures for the studio: the ASGI test client, a live server on 127.0.0.1, and a Chromium
page driven by Playwright.

A missing browser or Playwright fails the browser tests with the command that installs it:
`make test` installs both where it can, and a silent skip would hide untested pages.
"""

from __future__ import annotations

import base64
import io
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from cnnlab.data import fashion_mnist
from cnnlab.data.synthetic import write_fashion_mnist_like
from cnnlab.errors import CnnlabError
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.serve import serve_in_thread
from cnnlab.studio.server import create_app
from cnnlab.training.config import TrainConfig
from cnnlab.training.trainer import train

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.fixture
def client() -> Iterator[TestClient]:
    """The studio app behind Starlette's TestClient; a bug surfaces as the exception itself."""
    with TestClient(create_app(StudioConfig()), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_url() -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 at a free port, e.g. "http://127.0.0.1:43121"."""
    with serve_in_thread(StudioConfig(port=0)) as url:
        yield url


def _chromium_path() -> str:
    found = CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")
    if not found:
        pytest.fail("Chromium is missing: the studio's browser tests need it. Install it with "
                    "`apt-get install chromium` (as root; `make test` does this on Debian).",
                    pytrace=False)
    return str(found)


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (Debian's package, not a downloaded build)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("Playwright for Python is missing: `pip install -e '.[dev]'` (or "
                    "`pip install playwright`); the browser itself comes from `apt-get install "
                    "chromium`.", pytrace=False)
    executable = _chromium_path()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, headless=True,
                                              args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page (1280x900). JavaScript errors on the page fail the test at teardown.

    The studio's Content-Security-Policy forbids eval, which Playwright's string predicates
    use, so this context bypasses it; test_kernels_page checks the pages under the policy.
    """
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    new_page = context.new_page()
    new_page.set_default_timeout(15_000)
    errors: list[str] = []
    new_page.on("pageerror", lambda err: errors.append(str(err)))
    yield new_page
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def strict_page(browser):
    """A page with the studio's Content-Security-Policy in force, as for a user. A page error
    or a console error (a blocked script or style among them) fails the test at teardown."""
    context = browser.new_context()
    strict = context.new_page()
    problems: list[str] = []
    strict.on("pageerror", lambda err: problems.append(str(err)))
    strict.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    yield strict
    context.close()
    assert not problems, problems


def png_bytes(image, format: str = "PNG") -> bytes:
    """An encoded image (uint8 (H, W) or (H, W, 3)) as a browser would upload it."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format=format)
    return buffer.getvalue()


@pytest.fixture
def make_png():
    """png_bytes as a fixture: ``make_png(array, "PNG" | "JPEG" | "GIF")``."""
    return png_bytes


def decode_payload(payload: dict):
    """The uint8 array behind a ``pixels_payload`` answer."""
    data = np.frombuffer(base64.b64decode(payload["data"]), dtype=np.uint8)
    shape = (payload["height"], payload["width"]) + ((payload["channels"],)
                                                      if payload["channels"] > 1 else ())
    return data.reshape(shape)


@pytest.fixture
def decode():
    """decode_payload as a fixture."""
    return decode_payload


@pytest.fixture(scope="session")
def run_data_dir(tmp_path_factory) -> str | None:
    """None when cnnlab finds the real Fashion-MNIST (the system copy), else a synthetic copy in
    its file layout, so the run fixtures work on a machine without the dataset package."""
    try:
        fashion_mnist.locate(download=False)
        return None
    except CnnlabError:
        return str(write_fashion_mnist_like(tmp_path_factory.mktemp("fashion-like")))


def train_tiny(out: Path, data_dir: str | None, **options) -> Path:
    """A short Fashion-MNIST run of smallcnn into ``out`` (a few seconds on one core)."""
    settings = {"epochs": 2, "batch_size": 64, "train_subset": 1000, "test_subset": 200,
                "lr": 0.05, "quiet": True, **options}
    return train(TrainConfig(data_dir=data_dir, out=str(out), **settings)).out


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, run_data_dir) -> tuple[Path, str]:
    """(runs_dir, run_id): a 2-epoch smallcnn run on 1,000 Fashion-MNIST training images,
    scored on the first 200 test images, in a runs folder of its own."""
    runs_dir = tmp_path_factory.mktemp("studio-runs")
    train_tiny(runs_dir / "tiny-fashion", run_data_dir)
    return runs_dir, "tiny-fashion"


@pytest.fixture(scope="session")
def second_run(tiny_run, run_data_dir) -> str:
    """The id of a second run (another seed, 3 epochs) beside ``tiny_run``, for overlays."""
    runs_dir, _ = tiny_run
    train_tiny(runs_dir / "tiny-fashion-seed1", run_data_dir, seed=1,
               epochs=3, train_subset=500)
    return "tiny-fashion-seed1"


@pytest.fixture(scope="session")
def runs_live_url(tiny_run) -> Iterator[str]:
    """A live server whose --runs folder is ``tiny_run``'s."""
    with serve_in_thread(StudioConfig(port=0, runs_dir=tiny_run[0])) as url:
        yield url


@pytest.fixture
def runs_client(tiny_run) -> Iterator[TestClient]:
    """The TestClient on a studio whose --runs folder is ``tiny_run``'s."""
    config = StudioConfig(runs_dir=tiny_run[0])
    with TestClient(create_app(config), base_url="http://127.0.0.1") as test_client:
        yield test_client


@pytest.fixture(scope="session")
def train_run(run_data_dir):
    """``train_run(out, **config)``: a tiny Fashion-MNIST run like ``tiny_run``'s into ``out``."""
    return lambda out, **options: train_tiny(out, run_data_dir, **options)


@pytest.fixture(scope="session")
def explorer_runs(tmp_path_factory, tiny_run) -> tuple[Path, str]:
    """A --runs folder for the explorer: ``tiny`` (a copy of ``tiny_run``'s run, so no second
    training) and ``broken`` (the same run with a checkpoint whose weights are not safetensors).
    Returns (runs_dir, "tiny")."""
    runs = tmp_path_factory.mktemp("explorer-runs")
    shutil.copytree(tiny_run[0] / tiny_run[1], runs / "tiny")
    broken = runs / "broken"
    shutil.copytree(runs / "tiny", broken)
    (broken / "checkpoint.safetensors").write_bytes(b"not a safetensors file")
    return runs, "tiny"
