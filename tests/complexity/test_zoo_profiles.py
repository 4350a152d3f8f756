"""`profile` works for every registered model, at its native size, on the meta device."""

from __future__ import annotations

import pytest

from cnnlab.complexity.profiler import profile
from cnnlab.models import list_models
from cnnlab.runs import meta_model


# resnet1202 has resnet20's blocks, 200 times over: the CIFAR table test profiles it.
@pytest.mark.parametrize("name", [n for n in list_models() if n != "resnet1202"])
def test_every_registered_model_profiles(name):
    model, size = meta_model(name)
    p = profile(model, size)
    total = sum(t.numel() for t in model.parameters())
    assert p.params + p.params_not_run == total  # every parameter is in a row or reported
    assert p.macs > 0 and p.activation_bytes() > 0
    assert p.approximate_ops == []  # every operator of the zoo has a receptive-field rule
    convs = [r for r in p.rows if r.category == "conv"]
    assert convs and all(r.field is not None and r.field.exact for r in convs)
