"""The ``cnnlab`` command line: a thin layer over the library.

``COMMANDS`` below is the one list of commands: name -> module of this package and the
one-line help ``cnnlab --help`` prints. A command's module (and through it torch, matplotlib,
...) is imported only when that command runs or shows its own ``--help``, so the list and the
light commands start quickly. Each module has a ``register(app)`` function that adds its
command to a Typer app. Errors a user can cause print one line (``error: ...``) and exit
non-zero, with no traceback; a signal that stopped a command prints its one line and exits
128 + the signal number; a library's warning becomes one ``note:`` line.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any, NamedTuple

import click
import typer
from typer.core import TyperCommand, TyperGroup

from cnnlab.errors import CnnlabError, Interrupted, PeerError, note


class CommandEntry(NamedTuple):
    """Where a command lives (a module with ``register(app)``) and its one-line help."""

    module: str
    help: str


# In the order `cnnlab --help` lists them. tests/cli checks each help against the command's own.
COMMANDS: dict[str, CommandEntry] = {
    "train": CommandEntry("cnnlab.cli.train",
        "Train a model (default: the small CNN on Fashion-MNIST) and write a run folder."),
    "evaluate": CommandEntry("cnnlab.cli.evaluate",
        "Top-1/top-5 error on the test split, per-class accuracy, confusion.png in RUN_DIR."),
    "predict": CommandEntry("cnnlab.cli.predict",
        "Print the top classes with probabilities for each IMAGE."),
    "models": CommandEntry("cnnlab.cli.models",
        "List the registered models with their papers, or describe NAME."),
    "samples": CommandEntry("cnnlab.cli.samples",
        "Write the first COUNT test images as OUT_DIR/test-NNNNN-<class>.png."),
    "kernels": CommandEntry("cnnlab.cli.kernels",
        "List the hand-crafted kernels with their matrices, or show NAME."),
    "filter": CommandEntry("cnnlab.cli.filter",
        "Cross-correlate IMAGE (each RGB channel, or gray) with a kernel and save the result."),
    "shape": CommandEntry("cnnlab.cli.shape",
        "Compute each layer's output size, parameters and activations for one image."),
    "profile": CommandEntry("cnnlab.cli.profile",
        "Parameters, MACs, activation memory and receptive fields, layer by layer and per block."),
    "tables": CommandEntry("cnnlab.cli.tables",
        "Print each published table next to cnnlab's numbers, with every difference explained."),
    "robustness": CommandEntry("cnnlab.cli.robustness",
        "Errors under the lecture's challenges per corruption and severity, robustness.json."),
    "ensemble": CommandEntry("cnnlab.cli.ensemble",
        "Each run and their ensemble: top-1 and top-5 error, best first."),
    "export": CommandEntry("cnnlab.cli.export",
        "Export MODEL to ONNX (dynamic batch), checked to agree with torch within 1e-4."),
    "trace": CommandEntry("cnnlab.cli.trace",
        "Show every step of a convolution, a pooling, or a layer's shapes."),
    "viz": CommandEntry("cnnlab.cli.viz",
        "Pictures of what a network learned: filters, activations, receptive fields, occlusion, "
        "attributions, confusion and mistakes."),
    "benchmark": CommandEntry("cnnlab.cli.benchmark",
        "Measure speed: `cnnlab benchmark infer MODEL`."),
    "studio": CommandEntry("cnnlab.cli.studio",
        "Serve the studio: interactive pages that compute with cnnlab's library, until Ctrl-C."),
    "experiment": CommandEntry("cnnlab.cli.experiment",
        "Rerun the lecture's claims: `cnnlab experiment list`, `cnnlab experiment run NAME`."),
}

HELP = ("Convolutional neural networks for image classification: from what a convolution "
        "computes to the classic ImageNet networks, their complexity, training and inspection.")


def load_command(name: str) -> TyperCommand | TyperGroup:
    """The full click command ``name``: imports its module and builds it with Typer."""
    module = importlib.import_module(COMMANDS[name].module)
    app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    module.register(app)
    return typer.main.get_group(app).commands[name]


class LazyGroup(TyperGroup):
    """The top-level group: lists ``COMMANDS`` from the table, loads one when it runs.

    The group holds a stand-in per command (name and one-line help) for listing and
    "did you mean" suggestions; ``resolve_command`` swaps it for the full command.
    """

    def __init__(self, **attrs: Any) -> None:
        stand_ins = [TyperCommand(name, help=entry.help) for name, entry in COMMANDS.items()]
        super().__init__(commands=stand_ins, **attrs)

    def resolve_command(self, ctx: click.Context,
                        args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name in COMMANDS:
            command = load_command(name)
        return name, command, rest


def build_cli() -> LazyGroup:
    """The ``cnnlab`` group, with no command module imported yet."""
    return LazyGroup(name="cnnlab", help=HELP, no_args_is_help=True,
                     context_settings={"help_option_names": ["-h", "--help"]})


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


class _WarningNotes:
    """``warnings.showwarning`` for commands: each distinct warning as one ``note:`` line (its
    first line, without the library's file and source line), instead of Python's several."""

    def __init__(self) -> None:
        self.seen: set[tuple[type, str]] = set()

    def __call__(self, message: Warning | str, category: type[Warning], filename: str,
                 lineno: int, file: Any = None, line: str | None = None) -> None:
        text = str(message).strip().splitlines()[0] if str(message).strip() else category.__name__
        if (category, text) not in self.seen:
            self.seen.add((category, text))
            note(text)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    with warnings.catch_warnings():
        warnings.showwarning = _WarningNotes()
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    command = build_cli()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        status = command.main(args=args or ["--help"], prog_name="cnnlab", standalone_mode=False)
    except Interrupted as err:
        if str(err):  # empty on the ranks of a torchrun job other than 0
            print(err, file=sys.stderr)
        return err.exit_code
    except _USAGE_ERRORS as err:
        path = err.ctx.command_path if err.ctx else "cnnlab"
        print(f"error: {err.format_message()} ({path} --help shows the usage)", file=sys.stderr)
        return 2
    except PeerError:
        return 1
    except CnnlabError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, *_ABORTS):
        print("interrupted", file=sys.stderr)
        return 130
    except _EXITS as err:
        return err.exit_code
    return status if isinstance(status, int) else 0
