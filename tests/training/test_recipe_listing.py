"""The recipe registry, `cnnlab train --list-recipes`, docs/training.md and the README agree."""

from __future__ import annotations

import re
from pathlib import Path

from cnnlab.cli import main
from cnnlab.device import bf16_is_fast, pick_device
from cnnlab.training import fast
from cnnlab.training.recipes import get_recipe, list_recipes, recipe_config

ROOT = Path(__file__).resolve().parents[2]


def test_list_recipes_prints_every_registered_recipe(capsys):
    assert main(["train", "--list-recipes"]) == 0
    printed = [line.split()[0] for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert printed == list_recipes()


def test_docs_and_readme_name_every_recipe():
    table = (ROOT / "docs" / "training.md").read_text(encoding="utf-8")
    in_table = set(re.findall(r"^\| `([a-z0-9-]+)`", table, flags=re.MULTILINE))
    assert in_table == set(list_recipes())
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first, *rest = readme[readme.index("cnnlab train --list-recipes"):].splitlines()
    lines = [first]
    for line in rest:  # the comment continues on lines holding only a comment
        if not line.strip().startswith("#"):
            break
        lines.append(line)
    comment = " ".join(line.split("#", 1)[1] for line in lines)
    assert {name.strip(" ,") for name in comment.split()} >= set(list_recipes())


def test_fast_30min_is_the_fast_recipe_longer_and_wider():
    cfg = recipe_config("fast-30min")
    base = recipe_config("fast")
    assert get_recipe("fast-30min").train_fn is fast.train_fast
    bf16 = bf16_is_fast(pick_device(cfg.device))  # an AMX CPU trains the bf16 schedule
    assert (cfg.epochs, cfg.model_options, cfg.eval_every) == \
        ((180, {"widths": [32, 64, 128], "stem": "patch"}, 10) if bf16 else
         (75, {"widths": [32, 64, 128], "stem": "patch"}, 5))
    assert base.lookahead_every == 5 and cfg.lookahead_every == 0  # measured without it
    assert base.model_options["stem"] == "conv3-pool"
    changed = {k for k, v in cfg.to_dict().items() if base.to_dict()[k] != v}
    values = {**fast.FAST_30MIN, **(fast.FAST_30MIN_BF16 if bf16 else {})}
    assert changed == {"recipe", *(k for k, v in values.items() if base.to_dict()[k] != v)}
    assert changed >= {"recipe", "epochs", "model_options", "eval_every", "lookahead_every"}
    resolved = fast.resolve(cfg.validate())
    assert resolved.translate == fast.TRANSLATE and resolved.eval_mode == "flipshift"
