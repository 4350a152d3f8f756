"""The command table: `cnnlab --help` and the light commands start without torch, each
command's module is imported only when it runs, and the table's help is each command's own."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

import pytest

from cnnlab.cli import COMMANDS, load_command, main
from cnnlab.cli import kernels as kernels_command

HEAVY = ("torch", "torchvision", "matplotlib")

# Runs main() in a fresh interpreter, then reports what it printed and which modules it loaded.
_PROBE = """
import contextlib, io, json, sys
from cnnlab.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    status = main(sys.argv[1:])
print(json.dumps({"status": status, "out": out.getvalue(), "modules": sorted(sys.modules)}))
"""


def probe(*args: str) -> dict:
    """Exit status, stdout and the loaded module names of ``cnnlab ARGS`` in a new process."""
    env = {**os.environ, "COLUMNS": "300"}  # one line per command in the help's table
    result = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True,
                            check=True, text=True, timeout=120, env=env)
    return json.loads(result.stdout)


def command_modules(modules: list[str]) -> set[str]:
    return {entry.module for entry in COMMANDS.values()} & set(modules)


def test_help_lists_every_command_and_imports_none():
    report = probe("--help")
    assert report["status"] == 0
    listed = [line.strip("│ ").split(None, 1) for line in report["out"].splitlines()
              if line.startswith("│ ") and not line.startswith("│ --")]
    assert [(name, " ".join(help_.split())) for name, help_ in listed] == [
        (name, entry.help) for name, entry in COMMANDS.items()]
    assert command_modules(report["modules"]) == set()
    assert not set(HEAVY) & set(report["modules"])


@pytest.mark.parametrize("argv", [
    ["kernels"],
    ["shape", "--input", "227x227x3", "conv:96,11,4,0", "pool:3,2", "fc:4096"],
    ["trace", "conv", "--example", "lecture"],
])
def test_light_commands_import_no_torch_torchvision_or_matplotlib(argv):
    report = probe(*argv)
    assert report["status"] == 0 and report["out"]
    assert command_modules(report["modules"]) == {COMMANDS[argv[0]].module}
    assert not set(HEAVY) & set(report["modules"])


@pytest.mark.parametrize("name", list(COMMANDS))
def test_table_help_is_the_commands_own_first_paragraph(name):
    command = load_command(name)
    assert command.name == name
    first = inspect.cleandoc(command.help).split("\n\n")[0]
    assert " ".join(first.split()) == COMMANDS[name].help


def test_unknown_command_suggests_from_the_table(capsys):
    assert main(["trian"]) == 2
    err = capsys.readouterr().err
    assert err == ("error: No such command 'trian'. Did you mean 'train', 'trace'? "
                   "(cnnlab --help shows the usage)\n")


def test_a_commands_own_help_and_usage_errors(capsys):
    assert main(["kernels", "--help"]) == 0
    assert "usage: cnnlab kernels [options] [name]" in capsys.readouterr().out.lower()
    assert main(["trace", "conv", "--no-such-flag"]) == 2
    assert capsys.readouterr().err == ("error: No such option: --no-such-flag "
                                       "(cnnlab trace conv --help shows the usage)\n")
    assert main([]) == 0
    assert "Usage: cnnlab [OPTIONS] COMMAND [ARGS]..." in capsys.readouterr().out


def test_interrupt_exits_130(monkeypatch, capsys):
    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(kernels_command, "list_kernels", interrupted)
    assert main(["kernels"]) == 130
    # typer turns the interrupt into exit 130 itself; where it does not, main() says so.
    assert capsys.readouterr().err in ("", "interrupted\n")
