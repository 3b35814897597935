"""The pointer's fixed text, importable without the parser (docs/pointer-spec.md).

Kept apart from ``core/pointer.py`` (regular expressions, dataclasses) so that a hook that only
needs to know whether a worktree file *could* be a pointer starts in a few milliseconds.
"""

from __future__ import annotations

VERSION = "https://git-mlv.dev/spec/v1"
MAX_SIZE = 1024  # a pointer is shorter than this, extra keys included
HEAD = b"version "  # every version of the spec starts with this line's key


def could_be_pointer(size: int, head: bytes) -> bool:
    """False when a file of ``size`` bytes starting with ``head`` cannot be a pointer."""
    return size < MAX_SIZE and head.startswith(HEAD)
