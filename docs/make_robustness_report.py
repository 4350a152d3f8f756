"""Rebuild docs/robustness.md and docs/images/robustness/: the default model under the
lecture's challenges, and the same training with `--set augment=challenges` beside it.

Trains two runs with the same seed and epochs (the demo's `cnnlab train` config, and that
config plus the challenge augmentation) unless their folders exist, measures both with
`cnnlab robustness` (the second normalized to the first: CE and relative CE), copies the
figures and writes the page from the two robustness.json files.

    .venv/bin/python docs/make_robustness_report.py                 # the full default scale
    .venv/bin/python docs/make_robustness_report.py --epochs 2 --train-subset 10000 \\
        --limit 1000                                                # a smaller, faster one
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "docs" / "images" / "robustness"
sys.path.insert(0, str(ROOT / "src"))

from cnnlab.corruptions import (
    CHALLENGES,
    clutter,
    deformation,
    illumination,
    occlusion,
)
from cnnlab.corruptions import viewpoint as view
from cnnlab.fileio import write_text


def cnnlab(*args: str) -> None:
    print("+ cnnlab", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "cnnlab", *args], check=True, cwd=ROOT)


def train(out: Path, args: argparse.Namespace, *extra: str) -> None:
    if (out / "checkpoint.json").exists():
        return
    scale = ["--epochs", str(args.epochs), "--seed", str(args.seed)]
    if args.train_subset:
        scale += ["--train-subset", str(args.train_subset)]
    cnnlab("train", "--out", str(out), "--quiet", *scale, *extra)


def measure(run: Path, args: argparse.Namespace, *extra: str) -> dict:
    """The run's robustness.json, measured unless one with these settings is there."""
    saved = run / "robustness.json"
    if saved.exists():
        report = json.loads(saved.read_text())
        if (report["settings"]["seed"] == args.seed and report["settings"]["limit"] == args.limit
                and ("--reference" not in extra or report["normalized"])):
            return report
    limit = ["--limit", str(args.limit)] if args.limit else []
    cnnlab("robustness", str(run), "--seed", str(args.seed), *limit, *extra)
    return json.loads(saved.read_text())


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.2f}%"


def severity_table() -> str:
    rows = [("viewpoint", "rotation", "degrees, either way", view.ROTATION_DEGREES),
            ("viewpoint", "shear", "horizontal shift per unit height, either way", view.SHEAR),
            ("viewpoint", "scale", "zoom 1 +- this", view.SCALE_CHANGE),
            ("viewpoint", "translation", "fraction of the side", view.TRANSLATION),
            ("viewpoint", "perspective", "corner shift, fraction of the side",
             view.PERSPECTIVE),
            ("illumination", "brightness", "added to [0, 1] intensities",
             illumination.BRIGHTNESS),
            ("illumination", "contrast", "share of the distance to the mean kept",
             illumination.CONTRAST),
            ("illumination", "gamma", "x -> x ** gamma", illumination.GAMMA),
            ("illumination", "shadow", "light lost at the dark edge of a ramp",
             illumination.SHADOW),
            ("deformation", "elastic", "RMS displacement, fraction of the side (Simard 2003)",
             deformation.ELASTIC),
            ("deformation", "warp", "wave amplitude, fraction of the side", deformation.WARP),
            ("occlusion", "erase", "hidden fraction, one grey rectangle", occlusion.ERASED),
            ("occlusion", "stripes", "hidden fraction, 4 grey bars", occlusion.STRIPED),
            ("clutter", "texture", "background peak (gray) / blend weight (colour)",
             clutter.CLUTTER),
            ("clutter", "noise", "background peak (gray) / blend weight (colour)",
             clutter.CLUTTER)]
    lines = ["| challenge | corruption | parameter | 1 | 2 | 3 | 4 | 5 |",
             "|---|---|---|---|---|---|---|---|"]
    for challenge, name, what, values in rows:
        assert name in CHALLENGES[challenge]  # the page lists what the code has
        lines.append(f"| {challenge} | {name} | {what} | "
                     + " | ".join(f"{v:g}" for v in values) + " |")
    return "\n".join(lines)


def side_by_side(default: dict, augmented: dict) -> str:
    norm = augmented["normalized"]
    lines = ["| | default | `--set augment=challenges` |", "|---|---:|---:|",
             (f"| clean top-1 accuracy | {pct(default['clean_accuracy'])} | "
             f"{pct(augmented['clean_accuracy'])} |"),
             (f"| mean corruption error (unnormalized) | "
             f"{pct(default['mean_corruption_error'])} | "
             f"{pct(augmented['mean_corruption_error'])} |")]
    for challenge, value in default["challenge_means"].items():
        lines.append(f"| {challenge}: mean error | {pct(value)} | "
                     f"{pct(augmented['challenge_means'][challenge])} |")
    lines += [f"| mCE, in % of the default run's | 100.0 | {100 * norm['mce']:.1f} |",
              "| relative mCE, in % of the default run's | 100.0 | "
              + ("n/a" if norm["relative_mce"] is None else f"{100 * norm['relative_mce']:.1f}")
              + " |"]
    return "\n".join(lines)


def page(default: dict, augmented: dict, table: str, args: argparse.Namespace,
         minutes: float) -> str:
    scale = (f"{args.epochs} epochs" + (f" on the first {args.train_subset:,} training images"
                                        if args.train_subset else " on all 60,000 training "
                                        "images")
             + f", seed {args.seed}; scored on {default['samples']:,} test images")
    command = ("`.venv/bin/python docs/make_robustness_report.py --epochs "
               f"{args.epochs} --seed {args.seed}"
               + (f" --train-subset {args.train_subset}" if args.train_subset else "")
               + (f" --limit {args.limit}" if args.limit else "") + "`")
    mce = augmented["mean_corruption_error"]
    text = (ROOT / "docs" / "robustness.template.md").read_text(encoding="utf-8")
    return text.format(
        severities=severity_table(), table=table, scale=scale, command=command,
        minutes=f"{minutes:.0f}", side_by_side=side_by_side(default, augmented),
        clean_drop=f"{100 * (default['clean_accuracy'] - augmented['clean_accuracy']):.2f}",
        mce_drop=f"{100 * (default['mean_corruption_error'] - mce):.2f}",
        pairs="\n".join(f"- {p['classes'][0]} taken for {p['classes'][1]} {p['a_as_b']} times, "
                        f"the other way {p['b_as_a']} times"
                        for p in default["intraclass"]["most_confused"]),
        spread=f"{100 * default['intraclass']['spread']:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="the demo's default: 5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-subset", type=int, help="first N training images (all)")
    parser.add_argument("--limit", type=int, help="first N test images scored (all 10,000)")
    parser.add_argument("--runs", default="runs", help="folder for the two run folders")
    args = parser.parse_args()
    start = time.perf_counter()
    runs = ROOT / args.runs
    default_run, challenge_run = runs / "robustness-default", runs / "robustness-challenges"
    train(default_run, args)
    train(challenge_run, args, "--set", "augment=challenges")
    default = measure(default_run, args)
    augmented = measure(challenge_run, args, "--reference", str(default_run))
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name in ("accuracy", "grid", "confusions"):
        shutil.copyfile(default_run / f"robustness-{name}.png", IMAGES / f"default-{name}.png")
    shutil.copyfile(challenge_run / "robustness-accuracy.png", IMAGES / "challenges-accuracy.png")
    table = (default_run / "robustness.md").read_text(encoding="utf-8")
    table = table.replace(str(default_run), "the default run")
    minutes = (time.perf_counter() - start) / 60
    write_text(ROOT / "docs" / "robustness.md", page(default, augmented, table, args, minutes))
    print(f"wrote docs/robustness.md and {IMAGES.relative_to(ROOT)}/ in {minutes:.0f} minutes")


if __name__ == "__main__":
    main()
