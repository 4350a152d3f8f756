"""One tuning run of the ``fast`` recipe (the standard trainer), scored with every test-time view.

The choices at the top of src/cnnlab/training/fast.py (translation for long schedules only,
flipshift views, lookahead) cite runs of this script:

    python benchmarks/tune_fast_recipe.py --epochs 6 --seed 0                  # the recipe
    python benchmarks/tune_fast_recipe.py --epochs 6 --seed 0 --translate 1    # with translation
    python benchmarks/tune_fast_recipe.py --epochs 6 --seed 0 --set lookahead_every=0  # without
    python benchmarks/tune_fast_recipe.py --epochs 6 --seed 0 --set label_smoothing=0.2

Prints one JSON line (and appends it to --jsonl): the options, the training CPU and wall
seconds (this process, 1 thread by default; evaluation excluded), the load average before the
run, the test accuracy after each epoch with the views the recipe would use, and the final
accuracy with the centre, flip and flipshift views.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path

import yaml

from cnnlab.device import pick_device
from cnnlab.evaluation.metrics import topk_accuracy
from cnnlab.evaluation.predict import ViewSpec, predict
from cnnlab.training import fast
from cnnlab.training.distributed import DistContext
from cnnlab.training.recipes import recipe_config
from cnnlab.training.trainer import Run

VIEWS = ("center", "flip", "flipshift")


def accuracy(run: Run, view: str, ema: bool = False) -> float:
    model = run.ema.module if ema else run.raw_model
    preds = predict(model, run.test_set, device=run.ctx.device, batch_size=2000,
                    spec=ViewSpec(view), channels_last=True)
    return round(topk_accuracy(preds.log_probs, preds.labels, ks=(1,))[0], 4)


def tuning_run(args: argparse.Namespace) -> dict:
    """Train once as the recipe would with the given changes; accuracies per view."""
    load_before = round(os.getloadavg()[0], 2)
    cfg = recipe_config("fast")
    cfg.epochs, cfg.seed, cfg.quiet, cfg.threads = args.epochs, args.seed, True, args.threads
    for item in args.set:
        key, value = item.split("=", 1)
        setattr(cfg, key, yaml.safe_load(value))
    if args.translate is not None:
        cfg.translate = args.translate
    if args.lookahead:
        cfg.lookahead_every = 5  # airbench's period
    fast.resolve(cfg.validate())  # the recipe's rule picks the views: flipshift when translating
    view = cfg.eval_mode
    with tempfile.TemporaryDirectory() as folder:  # the run folder is thrown away
        run = Run(cfg, DistContext(device=pick_device(cfg.device)), Path(folder))
        rows = run.fit(lambda step, ctx: None)
        finals = {v: accuracy(run, v) for v in VIEWS}
        if run.ema is not None:  # the EMA weights too (ema_decay)
            finals.update({f"ema_{v}": accuracy(run, v, ema=True) for v in VIEWS})
    return {"args": vars(args), "translate": cfg.translate, "load_before": load_before,
            "cpu_seconds": round(sum(r["cpu_seconds"] for r in rows), 1),
            "wall_seconds": round(sum(r["seconds"] for r in rows), 1),
            f"{view}_by_epoch": [round(r["test_acc"], 4) for r in rows if "test_acc" in r],
            **finals}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--translate", type=int, help="pixels (default: the recipe's rule)")
    parser.add_argument("--lookahead", action="store_true",
                        help="--set lookahead_every=5 (now the recipe's own value)")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE",
                        help="TrainConfig field, as `cnnlab train --set`")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--jsonl", type=Path, help="append the result line here")
    result = tuning_run(parser.parse_args())
    line = json.dumps(result, default=str)
    print(line, flush=True)
    if result["args"]["jsonl"]:
        with open(result["args"]["jsonl"], "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


if __name__ == "__main__":
    main()
