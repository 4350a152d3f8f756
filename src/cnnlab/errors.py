"""The one exception type for mistakes a user can make (bad file, unknown name, bad option).

The CLI prints its message on one line and exits non-zero; library callers can catch it.
"""


class CnnlabError(Exception):
    """An error caused by user input; the message names the cause."""
