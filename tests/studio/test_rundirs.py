"""Run ids become paths in one place; anything but a direct child run folder is refused."""

from __future__ import annotations

import pytest

from cnnlab.studio.http import ApiError
from cnnlab.studio.rundirs import list_runs, resolve_run


@pytest.fixture
def runs(tmp_path):
    root = tmp_path / "runs"
    (root / "a-run").mkdir(parents=True)
    (root / "a-run" / "config.json").write_text("{}")
    (root / "not-a-run").mkdir()
    (root / ".hidden").mkdir()
    (root / ".hidden" / "config.json").write_text("{}")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "config.json").write_text("{}")
    (root / "link").symlink_to(outside)
    return root


def test_lists_only_direct_child_runs(runs):
    assert list_runs(runs) == ["a-run"]
    assert list_runs(runs / "absent") == []


def test_resolves_a_run(runs):
    assert resolve_run(runs, "a-run") == runs / "a-run"


@pytest.mark.parametrize("bad", ["..", "../outside", "a-run/..", "/etc", "a\\b", ".hidden",
                                 "%2e%2e", "a-run/config.json", "", "x" * 300, "a\x00b"])
def test_refuses_ids_that_are_not_a_name(runs, bad):
    with pytest.raises(ApiError) as caught:
        resolve_run(runs, bad)
    assert caught.value.status == 400


@pytest.mark.parametrize("missing", ["not-a-run", "absent", "link"])
def test_refuses_folders_that_are_not_runs_inside(runs, missing):
    with pytest.raises(ApiError) as caught:
        resolve_run(runs, missing)
    assert caught.value.status == 404
