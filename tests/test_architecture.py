"""The package layout stays true to docs/architecture.md: arrows point down only.

An ast walk of src/cnnlab reads every import between the package's own files (module level,
inside functions, and importlib calls with a literal name) and checks three things: no import
cycle between files, no import from a lower layer up to a higher one, and no import of a
cnnlab module hidden inside a function.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "cnnlab"

# The layer of each top-level module or package (docs/architecture.md). An import must go to a
# lower layer or stay inside its own package; packages on the same layer never import each
# other. A new top-level module must be given its layer here.
LAYERS = {
    "": -1,  # cnnlab/__init__.py: only __version__
    "errors": 0,
    "fileio": 1,
    "imaging": 2, "device": 2, "plotting": 2, "console": 2,
    "checkpoint": 3, "convolution": 3, "corruptions": 3,
    "data": 4, "models": 4,
    "runs": 5, "complexity": 5,
    "papers": 6, "evaluation": 6,
    "training": 7, "inference": 7,
    "visualize": 8, "robustness": 8, "experiments": 8,
    "studio": 9,
    "cli": 10,
    "__main__": 11,
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


FILES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _resolve(name: str) -> str | None:
    """The module of ours that a dotted name lands in (walking up to a package)."""
    while name:
        if name in FILES:
            return name
        name = name.rpartition(".")[0]
    return None


def _targets(node: ast.AST, me: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            anchor = me.split(".") if is_package else me.split(".")[:-1]
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join(anchor + ([base] if base else []))
        return [f"{base}.{a.name}" if f"{base}.{a.name}" in FILES else base for a in node.names]
    if (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module",
                                                                             "__import__")):
        return [node.args[0].value]
    return []


def _imports() -> tuple[dict[str, set[str]], list[str]]:
    """Edges module -> modules it imports; and 'module:line' of imports inside functions."""
    edges: dict[str, set[str]] = {m: set() for m in FILES}
    hidden: list[str] = []
    for me, path in FILES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        nested = {id(n) for f in functions for n in ast.walk(f) if n is not f}
        for node in ast.walk(tree):
            for target in _targets(node, me, path.name == "__init__.py"):
                found = _resolve(target) if target.split(".")[0] == "cnnlab" else None
                if found is None or found == me:
                    continue
                edges[me].add(found)
                if id(node) in nested:
                    hidden.append(f"{me}:{node.lineno} imports {found}")
    return edges, hidden


def _unit(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root, first in edges.items():
        if root in index:
            continue
        work = [(root, iter(sorted(first)))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


EDGES, HIDDEN = _imports()


def test_the_walk_sees_the_package():
    # Guards the guard: a walk that found no files or no edges would pass everything below.
    assert "cnnlab.models.registry" in FILES and "cnnlab.cli" in FILES
    assert sum(len(v) for v in EDGES.values()) > 100


def test_no_import_cycles():
    assert _cycles(EDGES) == []


def test_every_top_level_module_has_a_layer():
    assert sorted({_unit(m) for m in FILES} - set(LAYERS)) == []


def test_imports_point_down_only():
    upward = [f"{src} -> {dst}" for src, targets in EDGES.items() for dst in sorted(targets)
              if _unit(src) != _unit(dst)
              and LAYERS.get(_unit(src), 99) <= LAYERS.get(_unit(dst), 99)]
    assert upward == []


def test_no_cnnlab_imports_inside_functions():
    assert HIDDEN == []


@pytest.mark.parametrize("module", sorted(FILES))
def test_files_stay_small(module):
    lines = FILES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= 500, f"{FILES[module]} has {lines} lines: split it by concept"


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
