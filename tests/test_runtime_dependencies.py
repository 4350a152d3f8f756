"""`make demo` installs only [project].dependencies: every library the package imports must be
declared there, not arrive through the dev extra or as another package's dependency."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared(group: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] if group is None else \
        project["optional-dependencies"][group]
    return {_normal(re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]) for spec in specs}


def _imported_top_levels() -> dict[str, str]:
    """Top-level module -> one file importing it, for every absolute import under src/cnnlab."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "src" / "cnnlab").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and node.level == 0 else []
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def _optional_backends() -> set[str]:
    """Extras that hold an optional backend (imported only after checking it is installed)."""
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    return set().union(*(_declared(g) for g in groups if g not in ("dev", "docs")))


def test_every_imported_library_is_a_runtime_dependency():
    distributions = packages_distributions()
    declared = _declared() | _optional_backends()
    undeclared = []
    for module, where in _imported_top_levels().items():
        if module in sys.stdlib_module_names or module in ("cnnlab", "__future__"):
            continue
        owners = {_normal(d) for d in distributions.get(module, [module])}
        if not owners & declared:
            undeclared.append(f"{module} ({where}; from {', '.join(sorted(owners))})")
    assert not undeclared, f"imported but not in [project].dependencies: {undeclared}"


def test_test_tools_stay_out_of_the_runtime_install():
    tools = {"pytest", "timm", "fvcore", "ptflops", "thop", "tensorboard", "hypothesis"}
    assert tools <= _declared("dev") and not tools & _declared()
