"""Run folders: an existing run is refused or deleted by name, default names never collide,
and one writer holds a folder (cnnlab.fileio.run_lock) for the whole run, --resume included."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading

import pytest

from cnnlab.cli import main
from cnnlab.errors import CnnlabError
from cnnlab.fileio import LOCK_NAME, run_lock
from cnnlab.training import runfolder

TINY = ["--epochs", "1", "--batch-size", "32", "--train-subset", "64", "--test-subset", "32",
        "--threads", "1", "--quiet"]


def one_line(text: str) -> str:
    assert text.count("\n") == 1 and text.endswith("\n"), text
    return text.strip()


@pytest.fixture(scope="module")
def finished_run(fake_fashion, tmp_path_factory):
    out = tmp_path_factory.mktemp("folder") / "done"
    assert main(["train", "--data-dir", str(fake_fashion), *TINY, "--out", str(out)]) == 0
    return out


def test_a_finished_run_is_refused_with_the_way_out(finished_run, fake_fashion, capsys):
    before = (finished_run / "checkpoint.safetensors").read_bytes()
    capsys.readouterr()
    assert main(["train", "--data-dir", str(fake_fashion), *TINY, "--out",
                 str(finished_run)]) == 1
    captured = capsys.readouterr()
    line = one_line(captured.out + captured.err)
    assert line.startswith(f"error: {finished_run} already holds a run (config.json")
    assert f"cnnlab train --resume {finished_run}" in line and "--overwrite" in line
    assert (finished_run / "checkpoint.safetensors").read_bytes() == before


def test_an_unfinished_run_is_refused_too(tmp_path, fake_fashion, capsys):
    out = tmp_path / "crashed-in-epoch-1"
    (out / "state").mkdir(parents=True)
    (out / "config.json").write_text("{}")
    assert main(["train", "--data-dir", str(fake_fashion), *TINY, "--out", str(out)]) == 1
    assert "already holds a run (config.json, state)" in one_line(capsys.readouterr().err)
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME, "config.json", "state"]


def test_overwrite_says_what_it_deletes_and_keeps_other_files(finished_run, fake_fashion,
                                                              tmp_path, capsys):
    out = tmp_path / "again"
    out.mkdir()
    for path in finished_run.iterdir():
        if path.is_file():
            (out / path.name).write_bytes(path.read_bytes())
    (out / "state").mkdir()
    (out / "notes.txt").write_text("mine")
    (out / "metrics.csv").write_text("epoch\n1\n2\n3\n")  # three epochs: visibly the old run
    capsys.readouterr()
    assert main(["train", "--data-dir", str(fake_fashion), *TINY, "--out", str(out),
                 "--overwrite", "--seed", "3"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    assert captured.err.startswith(f"note: --overwrite: deleting the run in {out}: config.json, "
                                   "metrics.csv, curves.png, checkpoint.safetensors, "
                                   "checkpoint.json, state/ (")
    assert (out / "notes.txt").read_text() == "mine"
    assert len((out / "metrics.csv").read_text().splitlines()) == 2  # header + the new epoch
    assert json.loads((out / "config.json").read_text())["seed"] == 3


def test_nproc_refuses_before_torchrun_starts(finished_run, fake_fashion, capsys):
    assert main(["train", "--data-dir", str(fake_fashion), *TINY, "--nproc", "2", "--out",
                 str(finished_run)]) == 1
    assert "already holds a run" in one_line(capsys.readouterr().err)
    with run_lock(finished_run, "a test holding it"):
        assert main(["train", "--resume", str(finished_run), "--nproc", "2"]) == 1
    assert f"is in use by pid {os.getpid()}" in one_line(capsys.readouterr().err)


def test_resume_and_overwrite_exclude_each_other(finished_run, capsys):
    assert main(["train", "--resume", str(finished_run), "--overwrite"]) == 1
    assert "use one of them" in one_line(capsys.readouterr().err)


def test_default_names_started_in_the_same_second_differ(tmp_path, monkeypatch):
    monkeypatch.setattr(runfolder.time, "strftime", lambda fmt: "20261201-120000")
    names, threads = [], []
    for _ in range(8):
        threads.append(threading.Thread(
            target=lambda: names.append(runfolder.default_out("smallcnn", tmp_path).name)))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    expected = ["smallcnn-20261201-120000"] + [f"smallcnn-20261201-120000-{n}"
                                               for n in range(2, 9)]
    assert sorted(names) == sorted(expected)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(expected)


def test_a_run_that_fails_before_writing_leaves_no_folder(tmp_path, monkeypatch, no_download,
                                                          capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data-dir", str(tmp_path / "nowhere"), *TINY]) == 1
    assert "Fashion-MNIST" in one_line(capsys.readouterr().err)
    assert list((tmp_path / "runs").iterdir()) == []


HOLDER = """
import sys, time
from cnnlab.fileio import run_lock
with run_lock(sys.argv[1], "holder test"):
    print("held", flush=True)
    time.sleep(120)
"""


def test_run_lock_names_the_holder_and_takes_over_from_a_killed_one(tmp_path, capfd):
    folder = tmp_path / "locked"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder)], text=True,
                              stdout=subprocess.PIPE)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(CnnlabError) as err, run_lock(folder, "second writer"):
            pass
        message = str(err.value)
        assert message.startswith(f"{folder} is in use by pid {holder.pid} (holder test since ")
        assert "wait for it to finish" in message and "\n" not in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    capfd.readouterr()
    with run_lock(folder, "after the kill") as lock_file:
        record = json.loads(lock_file.read_text())
        assert record["pid"] == os.getpid() and record["what"] == "after the kill"
    stale_note = one_line(capfd.readouterr().err)
    assert stale_note.startswith(f"note: {folder}: took over the lock left by pid {holder.pid} "
                                 "(holder test since ")
    assert stale_note.endswith("which is no longer running")
    assert lock_file.read_text() == ""  # released: the next writer finds no stale record
    with run_lock(folder, "clean"):
        pass
    assert capfd.readouterr().err == ""


def test_resume_of_a_locked_run_is_refused(finished_run, capsys):
    with run_lock(finished_run, "a test holding it"):
        assert main(["train", "--resume", str(finished_run)]) == 1
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"error: {finished_run} is in use by pid {os.getpid()} "
                           "(a test holding it since ")


def test_two_runs_into_one_folder_at_once_one_wins(fake_fashion, tmp_path):
    out = tmp_path / "same"
    # Long enough (4 epochs) that the loser asks for the lock while the winner still holds it.
    args = [sys.executable, "-m", "cnnlab", "train", "--data-dir", str(fake_fashion), "--epochs",
            "4", "--batch-size", "32", "--train-subset", "256", "--test-subset", "32",
            "--threads", "1", "--quiet", "--out", str(out)]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [(p, *p.communicate(timeout=600)) for p in procs]
    won = [r for r in results if r[0].returncode == 0]
    lost = [r for r in results if r[0].returncode != 0]
    assert len(won) == 1 and len(lost) == 1, [r[2] for r in results]
    loser, winner = lost[0], won[0][0]
    assert loser[0].returncode == 1
    line = one_line(loser[1] + loser[2])
    assert line.startswith(f"error: {out} is in use by pid {winner.pid} (cnnlab train since ")
    assert f"--out {out}" in line
    assert won[0][1].startswith(f"run folder: {out}")
    assert len((out / "metrics.csv").read_text().splitlines()) == 1 + 4


def test_lock_record_is_written_before_the_run_reads_its_data(tmp_path, no_download, capsys):
    """The loser of a race fails at once: the lock comes before the (slow) dataset, so the
    error is the lock's, not the missing dataset's."""
    out = tmp_path / "early"
    with run_lock(out, "a test holding it"):
        assert main(["train", "--data-dir", str(tmp_path / "nowhere"), *TINY, "--out",
                     str(out)]) == 1
    assert "is in use by" in one_line(capsys.readouterr().err)
