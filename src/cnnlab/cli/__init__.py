"""The ``cnnlab`` command line: a thin layer over the library.

Each command lives in a module of this package with a ``register(app)`` function; adding a
command is adding its module name to ``COMMAND_MODULES``. Errors a user can cause print one
line (``error: ...``) and exit non-zero, with no traceback.
"""

from __future__ import annotations

import importlib
import sys

import click
import typer

from cnnlab.errors import CnnlabError

COMMAND_MODULES = ["train", "evaluate", "predict", "models", "samples", "kernels", "filter", "trace", "shape", "viz", "profile", "tables", "ensemble", "export", "benchmark"]

app = typer.Typer(
    name="cnnlab",
    help="Convolutional neural networks for image classification: from what a convolution "
    "computes to the classic ImageNet networks, their complexity, training and inspection.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

for _name in COMMAND_MODULES:
    importlib.import_module(f"cnnlab.cli.{_name}").register(app)


def _click_exceptions(name: str) -> tuple[type[BaseException], ...]:
    """The class ``name`` from click and from the copy of click that newer typer vendors."""
    found = [getattr(click.exceptions, name)]
    try:
        from typer._click import exceptions as vendored
    except ImportError:  # typer < 0.26 uses click itself
        vendored = None
    if vendored is not None and hasattr(vendored, name):
        found.append(getattr(vendored, name))
    return tuple(found)


_USAGE_ERRORS = _click_exceptions("UsageError")
_ABORTS = _click_exceptions("Abort")
_EXITS = _click_exceptions("Exit")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        status = command.main(args=args or ["--help"], prog_name="cnnlab", standalone_mode=False)
    except _USAGE_ERRORS as err:
        path = err.ctx.command_path if err.ctx else "cnnlab"
        print(f"error: {err.format_message()} ({path} --help shows the usage)", file=sys.stderr)
        return 2
    except CnnlabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, *_ABORTS):
        print("interrupted", file=sys.stderr)
        return 130
    except _EXITS as err:
        return err.exit_code
    return status if isinstance(status, int) else 0
