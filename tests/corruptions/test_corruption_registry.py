"""Every corruption: severity 0 is the identity; shape, dtype and range kept; same seed, same
output; strength grows with severity (distance to the clean image); bad names and severities
are one-line errors."""

from __future__ import annotations

import itertools

import pytest
import torch

from cnnlab.corruptions import (
    CHALLENGE_OF,
    CHALLENGES,
    CORRUPTIONS,
    PARAMETERS,
    check_severity,
    corrupt,
    list_corruptions,
    resolve_names,
)
from cnnlab.errors import CnnlabError

NAMES = list(CORRUPTIONS)


def garments(n: int = 32, size: int = 28, seed: int = 0) -> torch.Tensor:
    """uint8 N x 1 x H x W: a bright textured block on black, at random places (a stand-in
    for Fashion-MNIST: the object is the bright part)."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.zeros(n, 1, size, size, dtype=torch.uint8)
    for i in range(n):
        top, left = (int(v) for v in torch.randint(4, 10, (2,), generator=gen))
        block = torch.randint(150, 255, (12, 10), generator=gen, dtype=torch.uint8)
        x[i, 0, top:top + 12, left:left + 10] = block
    return x


def test_the_table_covers_the_lectures_six_challenges():
    assert list(CHALLENGES) == ["viewpoint", "illumination", "deformation", "occlusion",
                                "clutter", "intraclass"]
    assert CHALLENGES["intraclass"] == {}  # a report, not a corruption
    assert all(len(CHALLENGES[c]) >= 2 for c in list(CHALLENGES)[:5])
    assert {CHALLENGE_OF[n] for n in NAMES} == set(list(CHALLENGES)[:5])
    # every corruption says what its severities mean, five values each
    assert list(PARAMETERS) == NAMES
    assert all(len(values) == 5 and what for what, values in PARAMETERS.values())


@pytest.mark.parametrize("name", NAMES)
def test_severity_zero_is_the_identity(name):
    x = garments()
    assert torch.equal(corrupt(x, name, 0, 3), x)
    f = torch.rand(2, 3, 17, 23)
    assert torch.equal(corrupt(f, name, 0, 3), f)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("severity", [1, 5])
def test_shape_dtype_range_kept(name, severity):
    u8 = torch.randint(0, 256, (3, 3, 20, 24), dtype=torch.uint8)
    out = corrupt(u8, name, severity, 1)
    assert out.shape == u8.shape and out.dtype == torch.uint8
    for dtype in (torch.float32, torch.float64):
        f = torch.rand(3, 1, 28, 28, dtype=dtype)
        out = corrupt(f, name, severity, 1)
        assert out.shape == f.shape and out.dtype == dtype
        assert float(out.min()) >= 0.0 and float(out.max()) <= 1.0
        assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_output(name):
    x = garments()
    assert torch.equal(corrupt(x, name, 3, 11), corrupt(x, name, 3, 11))
    gen_a, gen_b = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    assert torch.equal(corrupt(x, name, 4, gen_a), corrupt(x, name, 4, gen_b))


@pytest.mark.parametrize("name", NAMES)
def test_distance_to_clean_grows_with_severity(name):
    x = garments(64)
    clean = x.float()
    distance = [float((corrupt(x, name, s, 2).float() - clean).abs().mean())
                for s in range(6)]
    assert distance[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(distance)), distance


def test_bad_severities_and_names_are_one_line_errors():
    x = garments(2)
    for severity in (-1, 6, 2.5, True):
        with pytest.raises(CnnlabError, match="outside 0-5"):
            corrupt(x, "rotation", severity)
    with pytest.raises(CnnlabError, match="unknown corruption 'blur'"):
        corrupt(x, "blur", 1)
    with pytest.raises(CnnlabError, match="unknown challenge or corruption 'weather'"):
        resolve_names(["weather"])
    with pytest.raises(CnnlabError, match="unknown challenge 'light'"):
        list_corruptions(["light"])
    with pytest.raises(CnnlabError, match="N x C x H x W"):
        corrupt(x[0], "rotation", 1)
    assert check_severity(0) == 0


def test_names_resolve_to_table_order():
    assert resolve_names(["noise", "viewpoint", "rotation"]) == [
        "rotation", "shear", "scale", "translation", "perspective", "noise"]
    assert list_corruptions(["occlusion"]) == ["erase", "stripes"]
