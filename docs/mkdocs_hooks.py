"""MkDocs hooks for the site (mkdocs.yml `hooks:`): pages that live outside docs/.

README.md (the home page) and BENCHMARKS.md sit at the repository root, where GitHub shows
them and where their links start with `docs/`. The site takes them as they are and rewrites
those links to the site's layout, so one text serves both; a link that leaves docs/ any other
way stays as written and fails the strict build. The course section lists docs/course/ as it
is: its README.md, then the notebooks in file-name order (01-..., 02-...).

MkDocs checks the links of Markdown pages only; a notebook's page is HTML that mkdocs-jupyter
made, so its relative links (written for GitHub: ``../convolution.md``, ``02-layers.ipynb``)
are checked here against the site's files and pointed at their pages, and a broken one is a
warning, which fails the strict build; their anchors go to mkdocs's own anchor check.
"""

from __future__ import annotations

import logging
import posixpath
import re
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger("mkdocs.hooks.cnnlab")

ROOT = Path(__file__).resolve().parent.parent

# Repository-root Markdown -> its page on the site.
ROOT_PAGES = {"README.md": "index.md", "BENCHMARKS.md": "benchmarks.md"}

# A Markdown link or image target: ](target) or ](target "title").
_LINK = re.compile(r"\]\((?P<target>[^)\s]+)")
# An HTML link or image target.
_HTML_LINK = re.compile(r'(?P<attr>href|src)="(?P<target>[^"]*)"')


def site_links(markdown: str) -> str:
    """Rewrite links written from the repository root to links from the site's root."""

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        path, hash_, anchor = target.partition("#")
        if path.startswith("docs/"):
            path = path.removeprefix("docs/")
        elif path in ROOT_PAGES:
            path = ROOT_PAGES[path]
        return f"]({path}{hash_}{anchor}"

    return _LINK.sub(rewrite, markdown)


def course_nav(docs_dir: Path) -> list:
    """The course section: docs/course/README.md, then docs/course/*.ipynb by name."""
    course = docs_dir / "course"
    entries = ["course/README.md"] if (course / "README.md").is_file() else []
    entries += [f"course/{p.name}" for p in sorted(course.glob("*.ipynb"))]
    return entries


def on_config(config):
    """Fill the nav's Course section from docs/course/; drop it while the folder is empty."""
    entries = course_nav(Path(config["docs_dir"]))
    nav = []
    for item in config["nav"]:
        if isinstance(item, dict) and "Course" in item:
            if entries:
                nav.append({"Course": entries})
        else:
            nav.append(item)
    config["nav"] = nav
    return config


def on_files(files, config):
    """Add README.md and BENCHMARKS.md from the repository root as site pages."""
    # Imported here so that the link rewriting above can be tested without the docs extra.
    from mkdocs.structure.files import File

    for source, page in ROOT_PAGES.items():
        text = (ROOT / source).read_text(encoding="utf-8")
        files.append(File.generated(config, page, content=site_links(text)))
    return files


def on_page_content(html, page, config, files):
    """Check a notebook page's relative links and point them at the site's pages.

    A link's anchor is handed to mkdocs's own anchor check (``page.links_to_anchors``, run
    after every page is built), and the notebook's ids become anchors others may link to.
    """
    if not page.file.src_uri.endswith(".ipynb"):
        return html
    page.present_anchor_ids = set(re.findall(r'\bid="([^"]+)"', html))
    anchors = page.links_to_anchors = {}

    def rewrite(match: re.Match[str]) -> str:
        target = match["target"]
        parts = urlsplit(target)
        if parts.scheme or parts.netloc:  # a URL, data: images included
            return match[0]
        if not parts.path:
            if parts.fragment:
                anchors.setdefault(page.file, {}).setdefault(parts.fragment, target)
            return match[0]
        base = posixpath.dirname(page.file.src_uri)
        linked = files.get_file_from_path(posixpath.normpath(posixpath.join(base, parts.path)))
        if linked is None:
            log.warning("Notebook '%s' links to '%s', which is not in the site",
                        page.file.src_uri, target)
            return match[0]
        if parts.fragment:
            anchors.setdefault(linked, {}).setdefault(parts.fragment, target)
        url = linked.url_relative_to(page.file)
        anchor = f"#{parts.fragment}" if parts.fragment else ""
        return f'{match["attr"]}="{url}{anchor}"'

    return _HTML_LINK.sub(rewrite, html)
