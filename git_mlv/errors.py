"""The one root of every error git-mlv reports to a user.

Families live next to the code that raises them (``PointerError`` in ``core.pointer``, ``RemoteError``
in ``remotes.base``...); each subclasses :class:`MlvError`. The CLI catches ``MlvError`` and prints
its message as one line with its exit code; anything else is a bug.
"""

from __future__ import annotations


class MlvError(Exception):
    """A failure the user can act on: the message names the problem and the fix."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(MlvError):
    """The command line or an argument is wrong."""

    exit_code = 2


class NotARepository(MlvError):
    """Not inside a git repository."""

    exit_code = 128


class CorruptObject(MlvError):
    """Stored data does not match its id: a pack, index or manifest is damaged."""

    exit_code = 3


class MissingObject(MlvError):
    """Data needed for a file is not in the pool."""

    exit_code = 4
