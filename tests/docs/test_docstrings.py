"""Every public function and class of the documented modules has a docstring.

The documented modules are the ones the API reference expands: each `::: cnnlab.x` line of
docs/api/*.md. A module's public names are its `__all__` when it has one (re-exports
included: the module offers them), otherwise the functions and classes defined in that module
whose names do not start with `_`. A public class's own public methods and properties count
too (dunder methods and property setters do not). Docstrings are read from the source with
`ast`, as the API reference reads them, so the signature docstring that `dataclass` invents
for a class without one does not count. What the course notebooks (docs/course/*.ipynb) import
from cnnlab must come from a documented module.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import json
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_PAGES = ROOT / "docs" / "api"
COURSE = ROOT / "docs" / "course"


def documented_modules() -> list[str]:
    """The modules named by `::: module` lines in docs/api/*.md, in page order."""
    names = []
    for page in sorted(API_PAGES.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        names += re.findall(r"^::: (cnnlab(?:\.\w+)*)\s*$", text, flags=re.MULTILINE)
    return names


def public_objects(module) -> dict[str, object]:
    """The module's public functions and classes, by the name the module gives them."""
    if hasattr(module, "__all__"):
        objects = {name: getattr(module, name) for name in module.__all__}
    else:
        objects = {name: obj for name, obj in vars(module).items()
                   if not name.startswith("_")
                   and getattr(inspect.unwrap(obj), "__module__", None) == module.__name__}
    return {name: obj for name, obj in objects.items()
            if inspect.isclass(obj) or inspect.isfunction(inspect.unwrap(obj))}


@cache
def _definitions(path: Path) -> dict[str, ast.AST]:
    """Every function and class definition of a file by qualified name (`Class.method`)."""
    found: dict[str, ast.AST] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                found.setdefault(prefix + child.name, child)
                visit(child, f"{prefix}{child.name}.")

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def _is_setter(node: ast.AST) -> bool:
    return any(isinstance(d, ast.Attribute) and d.attr in ("setter", "deleter")
               for d in getattr(node, "decorator_list", []))


def missing_docstrings(module) -> list[str]:
    """`module.name` (or `module.Class.method`) for each public object without a docstring."""
    missing = []
    for name, obj in public_objects(module).items():
        obj = inspect.unwrap(obj)
        definitions = _definitions(Path(inspect.getsourcefile(obj)))
        node = definitions[obj.__qualname__]
        if not ast.get_docstring(node):
            missing.append(f"{module.__name__}.{name}")
        if not isinstance(node, ast.ClassDef):
            continue
        for child in node.body:
            if (isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not child.name.startswith("_") and not _is_setter(child)
                    and not ast.get_docstring(child)):
                missing.append(f"{module.__name__}.{name}.{child.name}")
    return missing


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:  # the parent is a module, not a package
        return False


def imported_modules(source: str) -> set[str]:
    """The cnnlab modules a piece of Python imports from (`from cnnlab.x import y` -> cnnlab.x,
    or cnnlab.x.y when y is itself a module)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cnnlab"):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if _is_module(submodule) else node.module)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("cnnlab.")}
    return found


def notebook_code(path: Path) -> str:
    """A notebook's code cells as one Python text (IPython's %magic and !shell lines left out)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = [line for cell in cells if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines()
             if not line.lstrip().startswith(("%", "!"))]
    return "\n".join(lines)


MODULES = documented_modules()


def test_the_api_reference_documents_the_public_modules():
    assert len(MODULES) >= 20, MODULES
    assert len(set(MODULES)) == len(MODULES), "a module is documented twice"
    for name in ("cnnlab.models", "cnnlab.convolution.reference", "cnnlab.training",
                 "cnnlab.complexity", "cnnlab.evaluation.metrics", "cnnlab.visualize.attribution"):
        assert name in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_public_objects_have_docstrings(name):
    module = importlib.import_module(name)
    assert public_objects(module), f"{name} has no public function or class to document"
    missing = missing_docstrings(module)
    assert not missing, "no docstring: " + ", ".join(missing)


def test_the_course_imports_from_documented_modules():
    for notebook in sorted(COURSE.glob("*.ipynb")):
        undocumented = imported_modules(notebook_code(notebook)) - set(MODULES)
        assert not undocumented, f"{notebook.name} imports from {sorted(undocumented)}, " \
            "which docs/api/ does not document"


def test_imported_modules_names_the_module_a_name_comes_from():
    source = ("from cnnlab.convolution import reference\nfrom cnnlab.models import get_model\n"
              "import cnnlab.errors\nimport cnnlab\nimport numpy\nfrom os import path\n")
    assert imported_modules(source) == {"cnnlab.convolution.reference", "cnnlab.models",
                                        "cnnlab.errors"}


def test_the_check_finds_a_missing_docstring(tmp_path, monkeypatch):
    """The check itself: a bare function, a bare method and a bare dataclass are all found."""
    (tmp_path / "docless.py").write_text(
        "from dataclasses import dataclass\n\n"
        "def told():\n    '''Documented.'''\n\n"
        "def bare():\n    pass\n\n"
        "def _private():\n    pass\n\n"
        "@dataclass\nclass Plain:\n    x: int = 0\n\n"
        "class Told:\n    '''Documented.'''\n\n"
        "    def method(self):\n        pass\n\n"
        "    @property\n    def size(self):\n        '''Documented.'''\n        return 1\n\n"
        "    @size.setter\n    def size(self, value):\n        pass\n\n"
        "    def __len__(self):\n        return 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("docless")
    assert missing_docstrings(module) == ["docless.bare", "docless.Plain", "docless.Told.method"]
