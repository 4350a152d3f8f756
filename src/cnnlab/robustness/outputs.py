"""The one place a robustness report reaches disk: the table, JSON and figures in one folder.

Files (all written atomically): robustness.json (every number, for the studio and scripts),
robustness.md (the table), robustness-accuracy.png (accuracy vs severity per challenge),
robustness-grid.png (one test image under every corruption and severity) and
robustness-confusions.png (the most confused classes' test images).
"""

from __future__ import annotations

from pathlib import Path

from cnnlab.fileio import write_json, write_text
from cnnlab.robustness.evaluate import REPORT_FILE
from cnnlab.robustness.figures import plot_accuracy, plot_confusions, plot_grid
from cnnlab.robustness.report import RobustnessReport, markdown


def write_report(report: RobustnessReport, out: str | Path) -> dict[str, Path]:
    """Write every output of ``report`` into ``out``; returns kind -> path."""
    out = Path(out)
    paths = {"table": write_text(out / "robustness.md", markdown(report)),
             "plot": plot_accuracy(report, out / "robustness-accuracy.png"),
             "grid": plot_grid(report, out / "robustness-grid.png"),
             "confusions": plot_confusions(report, out / "robustness-confusions.png")}
    paths["json"] = write_json(out / REPORT_FILE, {
        **report.to_dict(), "files": {k: p.name for k, p in paths.items()}})
    return paths
