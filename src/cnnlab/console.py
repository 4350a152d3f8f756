"""The terminal: the one place where cnnlab's rich consoles and progress bars are configured.

On a terminal, rich wraps to the window and draws progress bars. Anywhere else (a log file, CI,
a pipe into ``grep``) rich would assume 80 columns, wrap long lines and cut tables; here such
output gets a wide console that never wraps a line (tables keep their natural width, so they
stay readable) and no progress bars, whose redraws only fill a log with noise.
"""

from __future__ import annotations

from rich.console import Console

# Wide enough for the widest table cnnlab prints (a profile with FLOPs and other ops); tables
# are not expanded, so this is only an upper bound.
PIPE_WIDTH = 1000


def make_console(stderr: bool = False) -> Console:
    """A rich Console on stdout (or stderr): the terminal's width there, else no wrapping."""
    console = Console(stderr=stderr)
    if console.is_terminal:
        return console
    return Console(stderr=stderr, width=PIPE_WIDTH, soft_wrap=True)


def progress_enabled() -> bool:
    """Whether progress bars should be drawn: only when stderr (where they go) is a terminal."""
    return Console(stderr=True).is_terminal

