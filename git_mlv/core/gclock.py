"""The pool's ``gc.lock``: writers hold it shared for their life; gc, prune and fsck --repair take it
exclusively, so they never delete what a writer found present and did not store again.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable

# Called once, before a writer waits for the lock (gc, prune or fsck --repair holds it, for minutes
# on a big pool). The commands set it to say so on stderr (core prints nothing): without a word,
# a `git add` that met a gc looked hung.
on_lock_wait: Callable[[], None] | None = None


def lock_shared(fd: int) -> None:
    """Take ``gc.lock`` (open at ``fd``) shared, waiting if need be, after ``on_lock_wait``."""
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        if on_lock_wait is not None:
            on_lock_wait()
        fcntl.flock(fd, fcntl.LOCK_SH)
