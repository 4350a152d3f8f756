"""Screenshots of every studio page into docs/images/studio/<page>.png.

    PYTHONPATH=src python docs/make_studio_screenshots.py [--out docs/images/studio]

Serves the studio on a free 127.0.0.1 port and drives Debian's Chromium with Playwright, page
by page from the navigation bar's list (cnnlab.studio.server.page_names), so a new page is
photographed without editing this script. On the Kernels page the pointer rests on an output
pixel, so the shot shows a hover trace; the Explorer opens resnet18 at 112x112 with a layer,
Grad-CAM and one receptive field shown. The Runs page shows a short Fashion-MNIST run trained
here first (4 epochs on 6,000 images, about a minute on 2 cores) into a temporary --runs
folder, with a confusion cell clicked open.

    PYTHONPATH=src python docs/make_studio_screenshots.py --pages runs   # one page only
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page, sync_playwright

from cnnlab.fileio import atomic_path
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.serve import serve_in_thread
from cnnlab.studio.server import page_names
from cnnlab.training.config import TrainConfig
from cnnlab.training.trainer import train

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
READY_TIMEOUT_MS = 180_000  # some pages compute tables on first load on a 2-core machine
ROUTES = {"explorer": "explorer/model/resnet18/112"}  # pages shown with something opened


def _pose(page: Page, name: str) -> None:
    """Put the page in a state worth showing."""
    if name == "kernels":
        page.wait_for_function("document.getElementById('page').dataset.pending === 'false'")
        box = page.locator("#output").bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.42, box["y"] + box["height"] * 0.3)
        page.wait_for_selector("#hover[data-row]")
    if name == "explorer":
        _pose_explorer(page)
    if name == "runs":
        page.wait_for_selector("[data-testid=confusion]", timeout=READY_TIMEOUT_MS)
        # open the cell of the most frequent confusion between two classes
        cell = page.evaluate("""() => [...document.querySelectorAll("button.cell:not(.diagonal)")]
            .sort((a, b) => b.dataset.count - a.dataset.count)[0].dataset.testid""")
        page.get_by_test_id(cell).click()
        page.wait_for_selector("[data-testid=images] figure")
        page.wait_for_selector("html[data-requests='0']", state="attached")


def _pose_explorer(page: Page) -> None:
    idle = "#page[data-pending='0']"
    page.wait_for_selector(idle, state="attached", timeout=READY_TIMEOUT_MS)
    page.get_by_test_id("block-layer2").locator("summary").first.click()
    page.get_by_test_id("layer-layer2.0").click()
    page.wait_for_selector("[data-testid=act-0]", timeout=READY_TIMEOUT_MS)
    page.get_by_test_id("method-gradcam").check()
    page.wait_for_selector("[data-testid=heat][data-method=gradcam]", timeout=READY_TIMEOUT_MS)
    tile = page.get_by_test_id("act-0")
    box = tile.bounding_box()
    tile.click(position={"x": box["width"] * 0.4, "y": box["height"] * 0.4})
    page.wait_for_selector("[data-testid=boxes][data-box]", timeout=READY_TIMEOUT_MS)
    page.wait_for_selector(idle, state="attached", timeout=READY_TIMEOUT_MS)


def demo_runs(folder: Path) -> Path:
    """A runs folder holding one short run of smallcnn on Fashion-MNIST."""
    train(TrainConfig(epochs=4, train_subset=6000, test_subset=1000, quiet=True,
                      out=str(folder / "smallcnn-fashion-demo")))
    return folder


def shoot(out: Path, chromium: str = "/usr/bin/chromium", pages: list[str] | None = None
          ) -> list[str]:
    """Write one PNG per page (all, or ``pages``); returns the pages that failed (with the
    reason)."""
    out.mkdir(parents=True, exist_ok=True)
    failed = []
    with tempfile.TemporaryDirectory() as runs:
        config = StudioConfig(port=0, runs_dir=demo_runs(Path(runs) / "runs"))
        with serve_in_thread(config) as url, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            for name in pages or page_names():
                error = _shoot_page(page, url, name, out)
                if error:
                    failed.append(error)
            browser.close()
    return failed


def _shoot_page(page: Page, url: str, name: str, out: Path) -> str | None:
    """Photograph one page into out/<name>.png; the reason when that failed."""
    try:
        page.goto(f"{url}/#/{ROUTES.get(name, name)}")
        page.wait_for_selector(f"#page[data-page='{name}'][data-ready=true]",
                               timeout=READY_TIMEOUT_MS)
        # a page may go on loading after it mounts: wait for its last answer
        page.wait_for_selector("html[data-requests='0']", state="attached",
                               timeout=READY_TIMEOUT_MS)
        _pose(page, name)
        image = page.screenshot(full_page=True)
    except PlaywrightError as err:  # report every page, then fail once
        return f"{name}: {str(err).splitlines()[0]}"
    with atomic_path(out / f"{name}.png") as tmp:
        tmp.write_bytes(image)
    print(f"wrote {out / f'{name}.png'}")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/images/studio"))
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--pages", nargs="*", choices=page_names(), help="only these pages")
    args = parser.parse_args()
    failed = shoot(args.out, args.chromium, args.pages)
    for line in failed:
        print(f"error: {line}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
