"""Run every experiment at the quick scale and write docs/experiments/ and docs/experiments.md.

    python docs/make_experiments.py [NAME ...] [--work experiment-runs] [--threads 1] [--shared]

Each experiment trains into WORK/<name>/ (run folders with checkpoints: not committed); its
report.md, results.json and figure.png are copied to docs/experiments/<name>/, and
docs/experiments.md is rewritten from every results.json there. Rerunning skips the models
that are finished, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

from cnnlab.experiments import list_experiments, run_experiment
from cnnlab.fileio import write_json, write_text

DOCS = Path(__file__).resolve().parent
# BENCHMARKS.md collects benchmarks/results/*.md; the quick-scale table goes there too.
BENCH_REPORT = DOCS.parent / "benchmarks" / "results" / "experiments.md"
REPORTS = DOCS / "experiments"
FILES = ("report.md", "results.json", "figure.png")
SHARED = ("The cores were shared with other jobs while this ran, so wall-clock times are longer "
          "than on an idle machine (CPU seconds are the fairer measure).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="experiments (default: all)")
    parser.add_argument("--work", default="experiment-runs", help="where the runs go")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: default)")
    parser.add_argument("--shared", action="store_true",
                        help="other jobs share the cores: the reports say so")
    args = parser.parse_args()
    for name in args.names or list_experiments():
        stamp = time.strftime("%H:%M:%S")
        print(f"{stamp} {name}", flush=True)
        folder = run_experiment(name, "quick", out=Path(args.work) / name, threads=args.threads,
                                log=lambda line: print(f"  {time.strftime('%H:%M:%S')} {line}",
                                                       flush=True))
        target = REPORTS / name
        target.mkdir(parents=True, exist_ok=True)
        for file in FILES:
            if (folder / file).is_file():
                shutil.copyfile(folder / file, target / file)
        report = target / "report.md"
        text = report.read_text(encoding="utf-8")
        if args.shared:
            text = text.replace("\n- Time: ", f"\n- {SHARED}\n- Time: ", 1)
            results = json.loads((target / "results.json").read_text(encoding="utf-8"))
            results["machine"]["shared"] = True
            write_json(target / "results.json", results)
        write_text(report, text.replace(
            "Every model's run folder is under `runs/` (`cnnlab evaluate runs/<name>` scores it "
            "again)", "The run folders (checkpoints) are not committed; `python "
            f"docs/make_experiments.py {name}` makes them again under `{args.work}/{name}/runs/`"
            ", where `cnnlab evaluate` scores them"))
        write_summary()


def write_summary() -> Path:
    """docs/experiments.md from the results.json of every report in docs/experiments/."""
    results = {}
    for path in sorted(REPORTS.glob("*/results.json")):
        results[path.parent.name] = json.loads(path.read_text(encoding="utf-8"))
    order = [n for n in list_experiments() if n in results]
    lines = [
        "# The lecture's claims, measured",
        "",
        ("`cnnlab experiment run NAME` trains what a claim needs through cnnlab's trainer and "
        "writes a report: the claim, the setup, the numbers with their spread over seeds, a "
        "figure and a verdict. The reports below are the quick scale (Fashion-MNIST subsets, "
        "a few epochs, CPU), made by `python docs/make_experiments.py`; each links its full "
        "report. A verdict follows from the numbers: an effect smaller than the seed spread is "
        "\"not shown at this scale\", whatever the paper found."),
        "",
    ]
    if order:
        machine = results[order[0]]["machine"]
        shared = any(r["machine"].get("shared") for r in results.values())
        lines += [(f"Machine: {machine['cpu']} (`lscpu` flags {machine.get('cpu_flags', '?')}), "
                  f"{machine['logical_cores']} logical cores, no GPU, torch {machine['torch']}, "
                  f"Python {machine['python']}; one torch thread per experiment (`--threads 1`)"
                  f", at most two at once. {SHARED if shared else ''}").rstrip(), ""]
    machine_line = lines[4:-1]  # the machine sentence, when there are results
    lines += summary_table(results, order, "experiments/")
    write_text(BENCH_REPORT, "\n".join([
        "# Experiments: the lecture's claims at the quick scale", "",
        *machine_line, "", *summary_table(results, order, "docs/experiments/"), "",
        ("Command: `nice python docs/make_experiments.py --threads 1 --shared`, two "
         "experiments at a time (the same numbers as docs/experiments.md, where each claim's "
         "findings and figure are)."), ""]))
    missing = [n for n in list_experiments() if n not in results]
    if missing:
        lines += ["", f"Not yet run at the quick scale: {', '.join(missing)}."]
    for name in order:
        r = results[name]
        lines += ["", f"## {name}: {r['title']}", "", f"> \"{r['claim']}\" ({r['lecture']})",
                  "", f"Source: {r['source']}.", "",
                  (f"Scale {r['scale']}: {', '.join(f'{k} {v}' for k, v in r['setup'].items())}; "
                   f"{r['seeds']} seeds, {len(r['models'])} models; training "
                   f"{r['train_seconds'] / 60:.1f} min wall clock, {r['train_cpu_seconds']:.0f} "
                   "CPU s."), ""]
        lines += [f"- {f['statement']} **{f['verdict']}**: {f['reason']}."
                  for f in r["findings"]]
        if (REPORTS / name / "figure.png").is_file():
            lines += ["", f"![{name}](experiments/{name}/figure.png)"]
    lines += ["", ("Training minutes and CPU seconds add up every model's training (evaluation "
              "and reporting not included). Rerun one with `cnnlab experiment run NAME "
              "--scale quick`."), ""]
    return write_text(DOCS / "experiments.md", "\n".join(lines))


def summary_table(results: dict, order: list[str], prefix: str) -> list[str]:
    """The Markdown table of verdicts and training times; links start with ``prefix``."""
    lines = [("| experiment | claim (lecture) | verdict | seeds | models | training min "
              "(wall) | training CPU s |"), "|---|---|---|---|---|---|---|"]
    for name in order:
        r = results[name]
        lines.append(f"| [{name}]({prefix}{name}/report.md) | {r['title']} | "
                     f"**{r['verdict']}** | {r['seeds']} | {len(r['models'])} | "
                     f"{r['train_seconds'] / 60:.1f} | {r['train_cpu_seconds']:.0f} |")
    return lines


if __name__ == "__main__":
    main()
