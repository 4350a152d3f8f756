"""The site's hooks (docs/mkdocs_hooks.py): root pages' links, the course nav, notebook links.

`make docs` builds with --strict, which checks every Markdown page's links and anchors; these
tests cover what the hooks add, without the docs extra installed.
"""

from __future__ import annotations

import importlib.util
import logging
import posixpath
import re
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"

_spec = importlib.util.spec_from_file_location("mkdocs_hooks", DOCS / "mkdocs_hooks.py")
hooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hooks)


def _relative_targets(markdown: str) -> list[str]:
    """Link and image targets that are files of the repository (no URL, no bare anchor)."""
    targets = re.findall(r"\]\(([^)\s]+)", markdown)
    return [t.partition("#")[0] for t in targets
            if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_root_links_are_rewritten_for_the_site():
    text = ("![a](docs/images/viz/x.png) [b](BENCHMARKS.md#summary) [c](docs/fast.md) "
            "[d](https://example.org/docs/fast.md) [e](#tour) [f](README.md)")
    assert hooks.site_links(text) == (
        "![a](images/viz/x.png) [b](benchmarks.md#summary) [c](fast.md) "
        "[d](https://example.org/docs/fast.md) [e](#tour) [f](index.md)")


@pytest.mark.parametrize("source", sorted(hooks.ROOT_PAGES))
def test_root_pages_links_work_on_github_and_on_the_site(source):
    text = (ROOT / source).read_text(encoding="utf-8")
    on_github = _relative_targets(text)
    assert on_github, f"{source} has no relative link to check"
    for target in on_github:
        assert (ROOT / target).exists(), f"{source}: {target} is missing"
    site_files = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*")}
    site_files |= set(hooks.ROOT_PAGES.values())
    for target in _relative_targets(hooks.site_links(text)):
        assert target in site_files, f"{source}: {target} is not a file of the site"


def test_course_nav_lists_the_readme_then_the_notebooks_in_order(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    for name in ("02-b.ipynb", "01-a.ipynb", "README.md", "notes.txt"):
        (course / name).write_text("{}")
    assert hooks.course_nav(tmp_path) == [
        "course/README.md", "course/01-a.ipynb", "course/02-b.ipynb"]
    nav = [{"Home": "index.md"}, {"Course": []}, {"API": ["api/index.md"]}]
    config = hooks.on_config({"docs_dir": str(tmp_path), "nav": nav})
    assert config["nav"][1] == {"Course": hooks.course_nav(tmp_path)}


def test_an_empty_course_leaves_the_nav(tmp_path):
    nav = [{"Home": "index.md"}, {"Course": []}]
    assert hooks.on_config({"docs_dir": str(tmp_path), "nav": nav})["nav"] == [
        {"Home": "index.md"}]


class _File:
    """The part of mkdocs's File the hook uses (hashable, like File)."""

    def __init__(self, src_uri: str, url: str) -> None:
        self.src_uri, self.url = src_uri, url

    def url_relative_to(self, other):  # as mkdocs's File: from the other page's folder
        return posixpath.relpath(self.url, posixpath.dirname(other.url) or ".")


class _Files:
    def __init__(self, *files):
        self.by_path = {f.src_uri: f for f in files}

    def get_file_from_path(self, path):
        return self.by_path.get(path)


def test_notebook_links_point_at_pages_and_a_broken_one_warns(caplog):
    notebook = _File(src_uri="course/01-a.ipynb", url="course/01-a.html")
    files = _Files(notebook, _File(src_uri="convolution.md", url="convolution.html"),
                   _File(src_uri="course/02-b.ipynb", url="course/02-b.html"),
                   _File(src_uri="images/viz/x.png", url="images/viz/x.png"))
    page = SimpleNamespace(file=notebook)
    html = ('<h1 id="top">A</h1>'
            '<a href="../convolution.md#stride">s</a> <a href="02-b.ipynb">next</a> '
            '<img src="../images/viz/x.png"> <a href="https://pytorch.org">t</a> '
            '<a href="#top">top</a> <img src="data:image/png;base64,AAAA"> '
            '<a href="../missing.md">m</a>')
    with caplog.at_level(logging.WARNING, logger="mkdocs.hooks.cnnlab"):
        out = hooks.on_page_content(html, page, {}, files)
    assert out == ('<h1 id="top">A</h1>'
                   '<a href="../convolution.html#stride">s</a> <a href="02-b.html">next</a> '
                   '<img src="../images/viz/x.png"> <a href="https://pytorch.org">t</a> '
                   '<a href="#top">top</a> <img src="data:image/png;base64,AAAA"> '
                   '<a href="../missing.md">m</a>')
    assert [r.getMessage() for r in caplog.records] == [
        "Notebook 'course/01-a.ipynb' links to '../missing.md', which is not in the site"]
    convolution = files.get_file_from_path("convolution.md")
    # mkdocs checks these anchors once every page is built
    assert page.links_to_anchors == {convolution: {"stride": "../convolution.md#stride"},
                                     notebook: {"top": "#top"}}
    assert page.present_anchor_ids == {"top"}


def test_markdown_pages_are_left_to_mkdocs():
    page = SimpleNamespace(file=_File(src_uri="convolution.md", url="convolution.html"))
    html = '<a href="missing.md">m</a>'
    assert hooks.on_page_content(html, page, {}, _Files()) == html
