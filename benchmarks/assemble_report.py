"""Write BENCHMARKS.md: benchmarks/summary.md, then every report in benchmarks/results/.

Each benchmark script writes its own report (benchmarks/results/NAME.md, headings from "#");
this puts them under one roof with their headings moved down two levels.

    python benchmarks/assemble_report.py            # rewrites BENCHMARKS.md at the repo root
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The skeleton first, then the pieces in the order the course meets them.
REPORTS = ["skeleton", "filters", "profile", "training", "pipeline", "fast", "inference",
           "inference-googlenet-16", "viz", "corruptions", "startup", "studio", "explorer",
           "experiments"]


def demote(markdown: str, levels: int = 2) -> str:
    """Every ATX heading ``#...`` gets ``levels`` more ``#`` (code blocks left alone)."""
    out, in_code = [], False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
        if not in_code and re.match(r"#{1,6} ", line):
            line = "#" * levels + line
        out.append(line)
    return "\n".join(out)


def assemble() -> str:
    reports = [demote((HERE / "results" / f"{name}.md").read_text(encoding="utf-8")).rstrip()
               for name in REPORTS]
    summary = (HERE / "summary.md").read_text(encoding="utf-8").rstrip()
    return f"{summary}\n\n## The reports\n\n" + "\n\n---\n\n".join(reports) + "\n"


def main() -> None:
    import sys

    sys.path.insert(0, str(HERE.parent / "src"))
    from cnnlab.fileio import write_text

    write_text(HERE.parent / "BENCHMARKS.md", assemble())


if __name__ == "__main__":
    main()
