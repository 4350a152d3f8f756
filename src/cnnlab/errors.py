"""What a command tells its user beyond its results: errors, interrupts and short notes.

``CnnlabError`` is the one exception for mistakes a user can make (bad file, unknown name, bad
option); the CLI prints its message on one line and exits non-zero; library callers can catch
it. ``Interrupted`` is a signal (Ctrl-C, SIGTERM) that stopped a command after it tidied up.
``note`` prints one line on stderr for what a user should know but need not act on.
"""

from __future__ import annotations

import sys


class CnnlabError(Exception):
    """An error caused by user input; the message names the cause."""


class PeerError(CnnlabError):
    """Raised under torchrun on the ranks other than 0 when rank 0 stopped on a CnnlabError
    (or a failed write): rank 0 printed the one line, the CLI prints nothing more."""


class Interrupted(BaseException):
    """A command stopped on a signal; the message (one line) says what was kept.

    A BaseException like KeyboardInterrupt, so that ``except Exception`` does not swallow it.
    ``exit_code`` is the shell's convention, 128 + signal number: 130 for SIGINT, 143 for
    SIGTERM.
    """

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = signum
        self.exit_code = 128 + signum


def note(message: str) -> None:
    """Print ``note: message`` as one line on stderr."""
    print(f"note: {' '.join(message.split())}", file=sys.stderr, flush=True)
