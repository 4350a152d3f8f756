"""Fuzzing the Steps and Shapes endpoints with plausible bodies: 200 or a 4xx with a message,
never a 500 (the TestClient re-raises a handler's exception, so a bug fails as itself)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

numbers = st.integers(-5, 5) | st.floats(-1e12, 1e12, allow_nan=False) | st.booleans() | st.none()


def matrices(depth: int, side: int = 9):
    inner = numbers if depth == 1 else matrices(depth - 1, side)
    return st.lists(inner, min_size=0, max_size=side) | numbers | st.text(max_size=3)


small = st.integers(-2, 12) | st.floats(-3, 3) | st.text(max_size=3) | st.none()
STEPS = {
    "/api/steps/conv": st.fixed_dictionaries({}, optional={
        "image": matrices(2), "kernel": matrices(2, 4), "stride": small, "padding": small,
        "bias": numbers, "nonzero": st.booleans() | small}),
    "/api/steps/pool": st.fixed_dictionaries({}, optional={
        "image": matrices(2), "size": small, "stride": small, "padding": small,
        "op": st.sampled_from(["max", "avg", "min"]) | small}),
    "/api/steps/layer": st.fixed_dictionaries({}, optional={
        key: st.integers(-1, 300) | small for key in
        ("height", "width", "channels", "filters", "kernel", "stride", "padding")}),
    "/api/steps/filters": st.fixed_dictionaries({}, optional={
        "image": matrices(3, 5), "weights": matrices(4, 3), "bias": matrices(1, 4),
        "stride": small, "padding": small}),
}
specs = st.sampled_from(["conv:8,3,1,1", "conv:4,5,2", "pool:2,2", "pool:3,2,1", "avgpool:2",
                         "fc:10", "relu", "norm", "conv:1,99", "pool:0", "fc:", "conv:1,3,1,1,2",
                         "bogus"]) | st.text(max_size=8) | st.integers()
SHAPES = st.fixed_dictionaries({}, optional={
    "input": st.sampled_from(["224x224x3", "32x32x3", "7x7", "1x1x1", "0x3x3", "x"])
    | st.text(max_size=8) | st.integers(),
    "layers": st.lists(specs, max_size=8) | specs,
    "rounding": st.sampled_from(["strict", "floor", "ceil", "up"]),
    "compare": st.sampled_from(["vgg16", "x"]) | st.none()})


def _check(answer) -> None:
    assert answer.status_code in (200, 400), answer.text[:300]
    if answer.status_code == 400:
        assert answer.json()["error"]


@pytest.mark.parametrize("path", list(STEPS))
def test_steps_endpoints_never_fail(client, path):
    @FUZZ
    @given(body=STEPS[path])
    def run(body):
        _check(client.post(path, json=body))

    run()


def test_shapes_endpoint_never_fails(client):
    @FUZZ
    @given(body=SHAPES)
    def run(body):
        _check(client.post("/api/shapes", json=body))

    run()
