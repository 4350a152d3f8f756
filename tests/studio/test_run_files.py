"""Reading a run folder for the Runs page: metrics cells, JSON files, and the writer lock."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from cnnlab.fileio import LOCK_NAME, lock_holder, run_lock
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.http import ApiError
from cnnlab.studio.runfiles import read_json_file, read_metrics, summary
from cnnlab.studio.server import create_app


def test_metrics_cells_become_numbers_or_none(tmp_path):
    (tmp_path / "metrics.csv").write_text(
        "epoch,lr,train_loss,test_acc,skipped_steps\n1,0.1,2.5,,\n2,0,nan,0.91,3\n")
    assert read_metrics(tmp_path) == [
        {"epoch": 1, "lr": 0.1, "train_loss": 2.5, "test_acc": None, "skipped_steps": None},
        {"epoch": 2, "lr": 0, "train_loss": None, "test_acc": 0.91, "skipped_steps": 3}]
    assert read_metrics(tmp_path / "absent") == []


def test_json_files_are_objects_with_finite_numbers(tmp_path):
    (tmp_path / "evaluation.json").write_text('{"top1_error": NaN, "per": [1.5, Infinity]}')
    assert read_json_file(tmp_path, "evaluation.json") == {"top1_error": None,
                                                           "per": [1.5, None]}
    assert read_json_file(tmp_path, "absent.json") is None
    (tmp_path / "list.json").write_text("[1, 2]")
    with pytest.raises(ApiError) as caught:
        read_json_file(tmp_path, "list.json")
    assert caught.value.status == 422 and "list.json holds list" in caught.value.message


def test_a_run_is_training_while_a_live_process_holds_its_lock(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model": "smallcnn", "epochs": 3}))
    assert lock_holder(tmp_path) is None and summary("r", tmp_path)["training"] is False
    with run_lock(tmp_path, "cnnlab train"):
        assert lock_holder(tmp_path)["pid"] == os.getpid()
        assert summary("r", tmp_path)["training"] is True
    assert lock_holder(tmp_path) is None  # released: the record is emptied


def test_a_record_left_by_a_dead_process_is_not_a_writer(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    record = {"pid": int(dead.stdout), "host": socket.gethostname(), "what": "cnnlab train"}
    (tmp_path / LOCK_NAME).write_text(json.dumps(record))
    assert lock_holder(tmp_path) is None
    (tmp_path / LOCK_NAME).write_text("{half a record")
    assert lock_holder(tmp_path) is None


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=st.dictionaries(st.sampled_from(["label", "predicted", "offset", "limit"]),
                             st.text(max_size=6) | st.integers(-5, 200).map(str), max_size=4))
def test_image_queries_answer_200_or_a_4xx(tiny_run, query):
    runs_dir, run_id = tiny_run
    with TestClient(create_app(StudioConfig(runs_dir=runs_dir)),
                    base_url="http://127.0.0.1") as client:
        answer = client.get(f"/api/runs/{run_id}/images", params=query)
    assert answer.status_code in (200, 400), answer.text
    if answer.status_code == 200:
        assert len(answer.json()["images"]) <= int(query.get("limit", 24))
