"""The lecture's and the papers' tables next to cnnlab's numbers, with every difference explained.

Each builder profiles the registered models (on the meta device, at their native input size
unless the table says otherwise) and returns a ``PaperTable``: the published row, cnnlab's row
and the difference, and notes that say why a number differs by more than rounding. A model
that is not registered gives a row that says so; nothing is dropped silently.
"""

from __future__ import annotations

from cnnlab.papers import tables as paper
from cnnlab.papers.explain import explain_shares, vgg16_memory_note
from cnnlab.papers.paper_table import (
    PaperTable,
    bias_additions,
    missing_row,
    native_profile,
    registered,
    within_rounding,
)


def share_table() -> PaperTable:
    """Table a: parameters and operations with their conv and FC shares."""
    headers = ["Model", "source", "Params (M)", "Conv %", "FC %", "Ops (M)", "Conv %", "FC %",
               "verdict"]
    table = PaperTable("shares", "Parameters and operations: conv vs FC", paper.LECTURE,
                       headers, [])
    table.notes.append(
        "Ops: the table does not define its unit. cnnlab prints multiply-accumulates (MACs); "
        "'+b' adds one addition per output of a biased conv/FC layer, which is what the "
        "table's numbers match (e.g. AlexNet 724.4M MACs + 0.7M = 725). Shares are of MACs.")
    for row in paper.SHARES:
        published = [row.params_m, row.params_conv, row.params_fc, row.ops_m, row.ops_conv,
                     row.ops_fc]
        table.rows.append([row.label, "paper", *(f"{v:g}" for v in published), ""])
        if not registered(row.model):
            table.rows.append(missing_row(row.model, len(headers)))
            table.missing.append(row.model)
            table.notes.append(f"{row.label}: not reproduced, {row.model} is not registered.")
            continue
        p = native_profile(row.model)
        macs_m, with_bias = p.macs / 1e6, (p.macs + bias_additions(p)) / 1e6
        ours = [p.params / 1e6, 100 * p.share("params", "conv"), 100 * p.share("params", "fc"),
                with_bias, 100 * p.share("macs", "conv"), 100 * p.share("macs", "fc")]
        ok = [within_rounding(o, q) for o, q in zip(ours, published, strict=True)]
        size = "x".join(str(s) for s in p.input_size[1:])
        cells = [f"{ours[0]:.2f}", f"{ours[1]:.1f}", f"{ours[2]:.1f}",
                 f"{macs_m:.1f} (+b {with_bias:.1f})", f"{ours[4]:.1f}", f"{ours[5]:.1f}"]
        verdict = "matches" if all(ok) else "DIFFERS (see notes)"
        table.rows.append(["", f"cnnlab {row.model} @{size}", *cells, verdict])
        table.rows.append(["", "difference", *(f"{o - q:+.2f}" if not k else "0"
                                               for o, q, k in zip(ours, published, ok,
                                                                  strict=True)), ""])
        if not all(ok):
            table.notes.append(f"{row.label}: " + explain_shares(row, p))
    return table


def vgg16_table() -> PaperTable:
    """Table b: VGG-16 layer by layer, weights without biases, memory in values."""
    headers = ["layer", "output (HxWxC)", "memory (slide)", "memory (cnnlab)", "params (slide)",
               "weights (cnnlab)", "biases (cnnlab)", "verdict"]
    table = PaperTable("vgg16", "VGG-16: memory and parameters per layer", paper.VGG_SLIDE,
                       headers, [])
    if not registered("vgg16"):
        table.rows.append(missing_row("vgg16", len(headers)))
        table.missing.append("vgg16")
        return table
    p = native_profile("vgg16", "3x224x224")
    picked = [r for r in p.rows if r.category in ("conv", "fc") or "MaxPool" in r.kind]
    ours = [((224, 224, 3), 150_528, 0, 0)] + [
        (_hwc(r.shape), r.activations, r.weights, r.biases) for r in picked]
    if len(ours) != len(paper.VGG16_LAYERS):
        table.notes.append(f"cnnlab's vgg16 has {len(ours) - 1} conv/pool/FC layers, the slide "
                           f"{len(paper.VGG16_LAYERS) - 1}: rows are paired in order.")
    for slide, (shape, values, weights, biases) in zip(paper.VGG16_LAYERS, ours, strict=False):
        good = slide_row_matches(slide, shape, values, weights)
        table.rows.append([slide.label, "x".join(map(str, shape)), slide.memory, f"{values:,}",
                           f"{slide.params:,}", f"{weights:,}", f"{biases:,}",
                           "matches" if good else "DIFFERS"])
    total_values = sum(v for _, v, _, _ in ours)
    weights, biases = sum(w for *_, w, _ in ours), sum(b for *_, b in ours)
    table.rows.append(["TOTAL memory", "", "24M x 4 B = 96 MB", (f"{total_values:,} x 4 B = "
                       f"{4 * total_values / 1e6:.1f} MB"), "", "", "", "DIFFERS (see notes)"])
    table.rows.append(["TOTAL params", "", "", "", "138M", f"{weights:,}", f"{biases:,}",
                       "matches" if round(weights / 1e6) == 138 else "DIFFERS"])
    table.notes.append(vgg16_memory_note(total_values, p))
    return table


def slide_row_matches(slide: paper.VggLayer, shape: tuple[int, int, int], values: int,
                      weights: int) -> bool:
    """True when a layer's output (H, W, C), its activation count (values, not bytes) and its
    weights (no biases) are what the VGG-16 slide prints; memory within the slide's 1%
    rounding ("3.2M")."""
    return (tuple(shape) == slide.shape and weights == slide.params
            and abs(values - _parse_amount(slide.memory)) <= 0.01 * values)


def cifar_table() -> PaperTable:
    """Table d: He et al.'s CIFAR-10 ResNets, parameters."""
    headers = ["model", "params (paper, M)", "params (cnnlab)", "difference (M)", "verdict"]
    table = PaperTable("cifar", "CIFAR-10 ResNets: parameters", paper.RESNET_T6, headers, [])
    for name, millions in paper.CIFAR_RESNET_PARAMS.items():
        if not registered(name):
            table.rows.append([name, f"{millions:g}", "not registered", "n/a", "NOT REPRODUCED"])
            table.missing.append(name)
            continue
        params = native_profile(name).params
        ok = within_rounding(params / 1e6, millions)
        table.rows.append([name, f"{millions:g}", f"{params:,}", f"{params / 1e6 - millions:+.3f}",
                           "matches" if ok else "DIFFERS (see notes)"])
        if not ok:
            table.notes.append(f"{name}: {params / 1e6:.3f}M does not round to the paper's "
                               f"{millions:g}M; no explanation known, please report it.")
    table.notes.append("Counted: every parameter, batch-norm scales and shifts included; option "
                       "A shortcuts (zero padding) have none.")
    return table


def _hwc(shape: tuple[int, ...]) -> tuple[int, int, int]:
    if len(shape) == 3:
        return int(shape[1]), int(shape[2]), int(shape[0])
    return 1, 1, int(shape[0])


def _parse_amount(text: str) -> float:
    """'3.2M' -> 3.2e6, '150K' -> 1.5e5, '4096' -> 4096."""
    scale = {"K": 1e3, "M": 1e6}.get(text[-1], 1)
    return float(text[:-1] if scale != 1 else text) * scale
