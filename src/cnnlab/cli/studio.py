"""``cnnlab studio``: serve the local web app until Ctrl-C."""

from __future__ import annotations

import os
import sys
import threading
import time
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from cnnlab.errors import CnnlabError
from cnnlab.models import list_models
from cnnlab.models.torchvision_weights import is_weight_name
from cnnlab.studio.config import StudioConfig
from cnnlab.studio.serve import bind, make_server
from cnnlab.studio.work import wait_idle

STOP_WAIT_S = 10.0  # after Ctrl-C, how long to let running computations finish


def _open_when_ready(server, url: str) -> None:
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    if server.started:
        webbrowser.open(url)


def parse_weights(specs: list[str]) -> tuple[tuple[str, str], ...]:
    """``["resnet18=torchvision", "smallcnn=w.safetensors"]`` -> ((name, weights), ...),
    checked before the server starts: a known model, an existing file or a torchvision name."""
    pairs: dict[str, str] = {}
    for spec in specs:
        name, sep, weights = spec.partition("=")
        name, weights = name.strip(), weights.strip()
        if not sep or not name or not weights:
            raise CnnlabError(f"--weights {spec!r}: expected NAME=FILE, e.g. "
                              f"resnet18=torchvision or smallcnn=weights.safetensors")
        if name not in list_models():
            raise CnnlabError(f"--weights {spec!r}: unknown model {name!r} (`cnnlab models` "
                              f"lists them)")
        if not is_weight_name(weights) and not Path(weights).is_file():
            raise CnnlabError(f"--weights {spec!r}: no such file {weights}")
        if name in pairs:
            raise CnnlabError(f"--weights names {name} twice")
        pairs[name] = weights if is_weight_name(weights) else str(Path(weights).resolve())
    return tuple(pairs.items())


def studio_command(
    port: Annotated[int, typer.Option(min=0, max=65535, help="TCP port (0 = any free one).")]
    = 8765,
    host: Annotated[str, typer.Option(help="Address to listen on; anything but loopback lets "
                                      "other machines in (there is no authentication).")]
    = "127.0.0.1",
    runs: Annotated[Path, typer.Option(help="Folder whose run folders the pages may show.")]
    = Path("runs"),
    open_browser: Annotated[bool, typer.Option("--open", help="Open the page in a browser.")]
    = False,
    weights: Annotated[list[str] | None, typer.Option(
        help="NAME=FILE: weights for a zoo model in the explorer (a .pth/.safetensors file, "
             "`torchvision` or a torchvision weights name); repeatable. Models without "
             "weights are shown with random weights.")] = None,
) -> None:
    """Serve the studio: interactive pages that compute with cnnlab's library, until Ctrl-C."""
    if not StudioConfig(host=host).is_loopback:
        print(f"warning: the studio has no authentication; anyone who can reach {host} can use "
              f"it (the default --host 127.0.0.1 keeps it to this computer)", file=sys.stderr)
    pairs = parse_weights(weights or [])
    sock = bind(host, port)
    config = StudioConfig(host=host, port=sock.getsockname()[1], runs_dir=runs,
                          open_browser=open_browser, weights=pairs)
    server = make_server(config)
    print(f"cnnlab studio at {config.url}  (Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Thread(target=_open_when_ready, args=(server, config.url), daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly and passes the Ctrl-C on
    finally:
        sock.close()
    if not wait_idle(STOP_WAIT_S):
        # A computation is still inside native code; a normal exit could abort under it.
        print("studio stopped (a computation was still running)", flush=True)
        os._exit(0)
    print("studio stopped", flush=True)


def register(app: typer.Typer) -> None:
    app.command("studio")(studio_command)
