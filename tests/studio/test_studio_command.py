"""`cnnlab studio`: prints its URL, serves, stops cleanly on Ctrl-C; a taken port or a
non-loopback host is reported on one line."""

from __future__ import annotations

import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from cnnlab.cli import main

SRC = Path(__file__).resolve().parents[2] / "src"


def _read_line(process: subprocess.Popen, timeout_s: float) -> str:
    """The first stdout line, waiting at most timeout_s (the import of torch can be slow)."""
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if selector.select(timeout=0.5):
            return process.stdout.readline()
        if process.poll() is not None:
            break
    return ""


def test_serves_until_ctrl_c_without_a_traceback():
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "cnnlab", "studio", "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=env)
    try:
        line = _read_line(process, 120)
        assert line.startswith("cnnlab studio at http://127.0.0.1:"), line
        url = line.split()[3]
        with urllib.request.urlopen(url, timeout=30) as response:
            assert b"/static/shell.js" in response.read()
        with urllib.request.urlopen(url + "api/kernels", timeout=30) as response:
            assert b"sharpen" in response.read()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode in (0, 130), err
    assert "Traceback" not in err and "Traceback" not in out
    assert "studio stopped" in out


def test_port_in_use_is_one_line(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["studio", "--port", str(port)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: port {port} on 127.0.0.1 is already in use (another studio?); " \
                  "pick another with --port\n"


def test_non_loopback_host_warns_that_there_is_no_authentication(capsys):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["studio", "--host", "0.0.0.0", "--port", str(port)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith("warning: the studio has no authentication")
    assert err[1].startswith(f"error: port {port} on 0.0.0.0 is already in use")
