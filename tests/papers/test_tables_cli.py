"""`cnnlab tables` end to end: JSON and Markdown."""

from __future__ import annotations

import json

from cnnlab.cli import main


def run(capsys, *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_tables_markdown_and_json(capsys, tmp_path):
    status, out, _ = run(capsys, "tables", "--table", "vgg16", "--format", "json")
    data = json.loads(out)
    assert status == 0 and data[0]["key"] == "vgg16" and data[0]["missing"] == []
    status, out, _ = run(capsys, "tables", "--table", "vgg16", "--format", "markdown")
    assert status == 0 and "| CONV3-64 | 224x224x64 | 3.2M | 3,211,264 |" in out
