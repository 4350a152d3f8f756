"""The course in docs/course: every notebook runs at the tiny size, and none carries outputs.

Executed by nbclient in a Jupyter kernel of this Python (the .venv's), with
CNNLAB_COURSE_SCALE=tiny, one torch thread and its temporary files under the test's folder. The
site build (make docs) runs the same notebooks at the default size.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import cnnlab

COURSE = Path(__file__).resolve().parents[2] / "docs" / "course"
NOTEBOOKS = sorted(COURSE.glob("*.ipynb"))
STUDIO = re.compile(r"http://127\.0\.0\.1:8765/#/[a-z]+")
CHECK_CALL = re.compile(r"^check_\w+\(", re.MULTILINE)


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def test_the_course_has_its_seven_parts_in_the_readme():
    names = [path.name for path in NOTEBOOKS]
    assert [name[:3] for name in names] == [f"{i:02d}-" for i in range(1, 8)], names
    index = (COURSE / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"\((\d\d-[\w-]+\.ipynb)\)", index)
    assert listed == names, "docs/course/README.md lists one line per notebook, in order"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(path):
    nb = _read(path)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        assert "execution" not in cell.metadata, f"cell {i} keeps its run's timings"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {i} has outputs: clear them before committing"
            assert cell.execution_count is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_states_what_it_assumes_and_links_the_studio(path):
    nb = _read(path)
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    assert "**You should know:**" in text
    assert STUDIO.search(text), "link the studio page of the topic"
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert 'os.environ.get("CNNLAB_COURSE_SCALE", "default")' in code, "the parameter cell"
    assert CHECK_CALL.search(code), "exercises with a check cell"
    assert "subprocess" not in code and "!cnnlab" not in code, "the Python API, not the CLI"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_at_the_tiny_size(path, tmp_path, monkeypatch):
    monkeypatch.setenv("CNNLAB_COURSE_SCALE", "tiny")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # one core per pytest-xdist worker
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebook's runs and figures
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The kernel spec of this Python's environment first (ipykernel installs it there), so a
    # python3 kernel spec of the user's own cannot start another interpreter.
    monkeypatch.setenv("JUPYTER_PATH", str(Path(sys.prefix) / "share" / "jupyter"))
    nb = _read(path)
    # one more cell, in memory only: which Python and which cnnlab the kernel ran
    nb.cells.append(nbformat.v4.new_code_cell(
        "import sys, cnnlab; print(sys.executable); print(cnnlab.__file__)"))
    client = NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(COURSE)}})
    try:
        client.execute()
    except CellExecutionError as err:
        pytest.fail(f"{path.name}: {str(err)[-2000:]}", pytrace=False)
    outputs = {i: "".join(o.get("text", "") for o in cell.outputs)
               for i, cell in enumerate(nb.cells) if cell.cell_type == "code"}
    checks = [i for i, cell in enumerate(nb.cells)
              if cell.cell_type == "code" and CHECK_CALL.search(cell.source)]
    for i in checks:
        assert "right" in outputs[i], f"{path.name} cell {i}: the check printed no verdict"
    executable, package = outputs[len(nb.cells) - 1].split()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    assert Path(package).resolve() == Path(cnnlab.__file__).resolve(), "another cnnlab ran"
