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

from cnnlab.corruptions import CHALLENGE_OF, PARAMETERS
from cnnlab.fileio import write_text

# The page; each {name} is filled in by page() from the two runs' robustness.json.
PAGE = """# Robustness: the lecture's challenges of recognition, measured

The lecture opens with the six challenges of image classification: viewpoint, illumination,
deformation, occlusion, background clutter and intraclass variation. `cnnlab robustness`
measures how a trained model holds up under each, in the form the field uses (ImageNet-C,
CIFAR-10-C, MNIST-C: top-1 error per corruption and severity, their means, and the corruption
error normalized to a reference model), and `cnnlab train --set augment=challenges` trains
with the corruptions mixed in.

<!-- Written by docs/make_robustness_report.py; edit the template there, not this page. -->

## The command

    cnnlab robustness runs/demo                          # every corruption, severities 1-5
    cnnlab robustness runs/demo --challenges viewpoint,occlusion --severities 1,3,5
    cnnlab robustness runs/mine --reference runs/demo    # CE and relative CE vs runs/demo
    cnnlab robustness resnet18 --weights resnet18-f37072fd.pth --dataset imagenet --limit 500
    cnnlab train --set augment=challenges                # train with the challenges

It writes, into the run folder (or `--out DIR`): `robustness.md` (the table),
`robustness-accuracy.png` (accuracy vs severity per challenge), `robustness-grid.png` (one
test image under every corruption at every severity), `robustness-confusions.png` (the most
confused classes' test images) and `robustness.json` (every number). The clean row is the
same prediction pass as `cnnlab evaluate` with the views the run is scored with, so it is
`cnnlab evaluate`'s top-1 error to the digit. Image-file datasets (ImageNet, image folders)
are decoded once into memory at the evaluation crop, so use `--limit` there.

## The corruptions

Every corruption works on a batch of tensors in torch (one `grid_sample` per batch for the
geometry, no per-image Python loop), so it runs on a GPU as well; severity 0 is the clean
image exactly, and a seed (`--seed`) fixes every random draw. Directions, positions and
phases are random per image; the amount is the severity's, so severity s means the same
change for every image. cnnlab has its own corruptions because the packages that implement
ImageNet-C's (imagecorruptions and the MNIST-C code) refuse images under 32 pixels, which
rules out Fashion-MNIST, several break on current NumPy and scikit-image, and they work one
NumPy image at a time.

{severities}

Background clutter needs to know what is object and what is background. On one-channel
images (Fashion-MNIST: a bright garment on black) the garment is cut out by its brightness
and put in front of the background, untouched; on colour images the background is blended
over the whole image with at most 55% weight, so the object stays legible. Occluders are mid
grey: a black patch on Fashion-MNIST would only look like more background.

Intraclass variation is a report, not a corruption: no transform of one shirt makes another
shirt. It is read from the clean predictions: accuracy per class, its spread, and the pairs
of classes most often taken for each other, with their test images.

## Corruption error (Hendrycks & Dietterich 2019)

For a model f, corruption c and severity s with top-1 error E(f, c, s), the corruption error
against a reference model is CE(f, c) = sum over s of E(f, c, s) / sum over s of E(ref, c, s),
the relative CE uses each model's error increase over its clean error, E(f, c, s) - E(f,
clean), in the same ratio, and mCE and relative mCE are their means over corruptions
(Hendrycks & Dietterich, "Benchmarking Neural Network Robustness to Common Corruptions and
Perturbations", ICLR 2019, section 3). The paper's reference is AlexNet on ImageNet; here it
is the run `--reference` names, scored on the same images, corruptions, severities and seed
(its robustness.json is reused when it covers them). Without a reference, the table reports
the unnormalized mean corruption error: the mean over corruptions of each one's mean error
over the five severities.

## The default model

The default `cnnlab train` config (the demo's: smallcnn, one-cycle SGD, flips), {scale}.
Rebuilt by {command}.

{table}
![Accuracy vs severity per challenge](images/robustness/default-accuracy.png)

![One test image under every corruption and severity](images/robustness/default-grid.png)

Intraclass variation (the last lines of the table): the test images of the most confused
pairs, each row one direction.

![The most confused classes](images/robustness/default-confusions.png)

## Training with the challenges

The same config and seed with `--set augment=challenges`: each training image is left clean
with probability 1/2, else gets one of the corruptions, picked uniformly, at a severity drawn
from 1-5 (batched per step, `cnnlab.corruptions.mixing`). Side by side, CE normalized to the
default run:

{side_by_side}

Mixing the challenges in lowers the mean corruption error by {mce_drop} points and costs
{clean_drop} points of clean accuracy (a negative cost is a gain). Read this as what the
augmentation buys on these corruptions, not as robustness in general: the model trained on
the same corruption families it is tested on (other random draws of them), which is exactly
what ImageNet-C's protocol rules out for a benchmark claim. Unseen corruptions would have to
be measured apart.

![Trained with the challenges: accuracy vs severity](images/robustness/challenges-accuracy.png)

The scale of the runs on this page is in the command above; the script's defaults (5 epochs
on all 60,000 training images, all 10,000 test images) are the demo's full scale, and
rerunning it with no options rebuilds the page at that scale.
"""


def cnnlab(*args: str) -> None:
    print("+ cnnlab", " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "cnnlab", *args], check=True, cwd=ROOT)


def train(out: Path, args: argparse.Namespace, *extra: str) -> None:
    if (ROOT / out / "checkpoint.json").exists():
        return
    scale = ["--epochs", str(args.epochs), "--seed", str(args.seed)]
    if args.train_subset:
        scale += ["--train-subset", str(args.train_subset)]
    cnnlab("train", "--out", str(out), "--quiet", *scale, *extra)


def measure(run: Path, args: argparse.Namespace, *extra: str) -> dict:
    """The run's robustness.json, measured unless one with these settings is there."""
    saved = ROOT / run / "robustness.json"
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
    lines = ["| challenge | corruption | parameter | 1 | 2 | 3 | 4 | 5 |",
             "|---|---|---|---|---|---|---|---|"]
    for name, (what, values) in PARAMETERS.items():
        lines.append(f"| {CHALLENGE_OF[name]} | {name} | {what} | "
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


def page(default: dict, augmented: dict, table: str, args: argparse.Namespace) -> str:
    scale = (f"{args.epochs} epochs" + (f" on the first {args.train_subset:,} training images"
                                        if args.train_subset else " on all 60,000 training "
                                        "images")
             + f", seed {args.seed}; scored on {default['samples']:,} test images")
    command = ("`.venv/bin/python docs/make_robustness_report.py --epochs "
               f"{args.epochs} --seed {args.seed}"
               + (f" --train-subset {args.train_subset}" if args.train_subset else "")
               + (f" --limit {args.limit}" if args.limit else "") + "`")
    mce = augmented["mean_corruption_error"]
    return PAGE.format(
        severities=severity_table(), table=table, scale=scale, command=command,
        side_by_side=side_by_side(default, augmented),
        clean_drop=f"{100 * (default['clean_accuracy'] - augmented['clean_accuracy']):.2f}",
        mce_drop=f"{100 * (default['mean_corruption_error'] - mce):.2f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="the demo's default: 5")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--train-subset", type=int, help="first N training images (all)")
    parser.add_argument("--limit", type=int, help="first N test images scored (all 10,000)")
    parser.add_argument("--runs", default="runs", help="folder for the two run folders")
    args = parser.parse_args()
    start = time.perf_counter()
    runs = Path(args.runs)  # relative to the repository: the page names no local path
    default_run, challenge_run = runs / "robustness-default", runs / "robustness-challenges"
    train(default_run, args)
    train(challenge_run, args, "--set", "augment=challenges")
    default = measure(default_run, args)
    augmented = measure(challenge_run, args, "--reference", str(default_run))
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name in ("accuracy", "grid", "confusions"):
        shutil.copyfile(ROOT / default_run / f"robustness-{name}.png",
                        IMAGES / f"default-{name}.png")
    shutil.copyfile(ROOT / challenge_run / "robustness-accuracy.png",
                    IMAGES / "challenges-accuracy.png")
    table = (ROOT / default_run / "robustness.md").read_text(encoding="utf-8")
    table = table.replace(str(default_run), "the default run")
    minutes = (time.perf_counter() - start) / 60
    write_text(ROOT / "docs" / "robustness.md", page(default, augmented, table, args))
    print(f"wrote docs/robustness.md and {IMAGES.relative_to(ROOT)}/ in {minutes:.0f} minutes")


if __name__ == "__main__":
    main()
