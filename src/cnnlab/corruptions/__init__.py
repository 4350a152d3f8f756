"""Batched image corruptions grouped under the lecture's six challenges of recognition."""

from cnnlab.corruptions.registry import (
    CHALLENGE_OF,
    CHALLENGES,
    CORRUPTIONS,
    PARAMETERS,
    check_severity,
    corrupt,
    list_corruptions,
    resolve_names,
)

__all__ = ["CHALLENGES", "CHALLENGE_OF", "CORRUPTIONS", "PARAMETERS", "check_severity", "corrupt",
           "list_corruptions", "resolve_names"]
