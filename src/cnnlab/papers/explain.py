"""Why a cnnlab number differs from a published one: each reason is computed, not asserted.

Every explanation quotes the numbers that support it (recomputed on each run), so a zoo change
that invalidates a reason shows up as a reason that no longer adds up.
"""

from __future__ import annotations

from cnnlab.complexity.profiler import Profile
from cnnlab.papers.paper_table import bias_additions, native_profile
from cnnlab.papers.tables import GOOGLENET_TABLE1, ShareRow


def explain_shares(row: ShareRow, p: Profile) -> str:
    """A sentence on why ``p`` differs from the lecture's row ``row``."""
    reason = _REASONS.get(row.model)
    text = reason(row, p) if reason else ("differs by more than rounding and no explanation is "
                                          "known: please report it.")
    if p.params_not_run:
        text += (f" {p.params_not_run:,} parameters of modules that do not run at inference "
                 f"(auxiliary classifiers) are not counted; with them the total is "
                 f"{(p.params + p.params_not_run) / 1e6:.2f}M.")
    return text


def _vgg_f(row: ShareRow, p: Profile) -> str:
    conv = sum(r.params for r in p.rows if r.category == "conv")
    fc = sum(r.params for r in p.rows if r.category == "fc")
    conv_pub = row.params_m * row.params_conv / 100
    fc_pub = row.params_m * row.params_fc / 100
    fc6 = next((r for r in p.rows if r.category == "fc"), None)
    fc6_text = f"{fc6.weights / 1e6:.1f}M" if fc6 else "n/a"
    return (f"the convolutional part agrees ({conv / 1e6:.2f}M params vs {conv_pub:.2f}M "
            f"implied by 2.2% of 99M), the FC part does not ({fc / 1e6:.1f}M vs {fc_pub:.1f}M). "
            f"The extra {fc_pub - fc / 1e6:.1f}M parameters and the extra "
            f"{row.ops_m - p.macs / 1e6:.0f}M ops are the same amount, as an FC layer's would "
            f"be, about one more 6x6x256 -> 4096 layer ({fc6_text}). Chatfield et al.'s "
            f"Table 1 gives the architecture cnnlab builds (64-256-256-256-256 filters, FC "
            f"4096-4096-1000); the row is not reproducible from it.")


def _nin(row: ShareRow, p: Profile) -> str:
    at_227 = native_profile(row.model, "3x227x227")
    return (f"parameters and shares agree; ops do not: {p.macs / 1e6:.0f}M MACs at "
            f"{p.input_size[1]}x{p.input_size[2]} ({(p.macs + bias_additions(p)) / 1e6:.0f}M "
            f"with bias additions), {at_227.macs / 1e6:.0f}M at 227x227, against 1168M. The "
            f"paper gives no ImageNet architecture; cnnlab builds the authors' released Caffe "
            f"model, and neither input size nor bias additions close the "
            f"{1168 - p.macs / 1e6:.0f}M gap: the slide's source counted another variant or "
            f"convention, and cnnlab cannot reproduce this cell.")


def _googlenet(row: ShareRow, p: Profile) -> str:
    fc = sum(r.params for r in p.rows if r.category == "fc")
    weights = sum(r.weights for r in p.rows)
    table_k = sum(r.params_k or 0 for r in GOOGLENET_TABLE1)
    table_ops = sum(r.ops_m or 0 for r in GOOGLENET_TABLE1)
    conv1 = next((r for r in p.rows if r.category == "conv"), None)
    conv1_ops = conv1.macs / 1e6 if conv1 else 0.0
    return (f"the paper's Table 1 sums to {table_k:,.0f}K weights (K = 1024, "
            f"{table_k * 1024 / 1e6:.2f}M) and {table_ops:,.0f}M multiply-adds; with conv1 "
            f"counted as the 7x7x3x64 convolution it is ({conv1_ops:.0f}M instead of 34M, see "
            f"table c) that is {table_ops - 34 + conv1_ops:,.0f}M, against cnnlab's "
            f"{p.macs / 1e6:,.0f}M MACs (table c lists the per-module differences). cnnlab has "
            f"{weights / 1e6:.2f}M weights, {p.params / 1e6:.2f}M with biases; the slide's "
            f"6.9M reads like a truncated 6.96M, and its FC share follows from it "
            f"({fc / 1e6:.3f}M FC / 6.9M = {100 * fc / 6.9e6:.1f}%). Its 1566M matches no sum "
            f"we can form from the paper.")


_REASONS = {"vgg_f": _vgg_f, "nin": _nin, "googlenet": _googlenet}


def vgg16_memory_note(total_values: int, p: Profile) -> str:
    """Why the slide's 24M values (96 MB) is not what its own rows add up to."""
    relu = sum(r.activations for r in p.rows if r.category == "conv")
    extra = p.activation_count() - total_values
    unlisted = [f"{r.name} ({r.kind})" for r in p.rows if r.activations
                and r.category == "other" and "MaxPool" not in r.kind]
    return (f"TOTAL memory: the slide's own rows add up to {total_values:,} values "
            f"({total_values / 1e6:.1f}M, {4 * total_values / 1e6:.1f} MB in float32), not "
            f"24M: the slide's total does not follow from its rows. Counting each ReLU output "
            f"as a tensor of its own (in-place off) adds {relu:,} values, "
            f"{(total_values + relu) / 1e6:.1f}M; no counting we know of gives 24M. `cnnlab "
            f"profile vgg16` reports {p.activation_count():,} values per image: {extra:,} more "
            f"than the slide's rows, from layers the slide does not list: "
            f"{', '.join(unlisted) or 'none'}.")
