"""glibc's malloc told to give large blocks back to the system (issue 9: at most 200 MB for any
git-mlv process at 600,000 files).

glibc serves blocks of 128 KiB and more with their own mappings, but after the first such block is
freed it raises that threshold, up to 32 MiB: numpy's per-batch arrays then come from the heap,
which fragments and does not shrink. A first push of 300,000 files peaked at 188 MB, and at 130 MB
with the threshold fixed (``MALLOC_MMAP_THRESHOLD_=262144``, bench/RESULTS.md "Flat memory").
Called by the commands that handle every file at once; not at start-up (``ctypes`` costs an
import).
"""

from __future__ import annotations

import os
from typing import Any

THRESHOLD = 256 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_done = False


def return_large_blocks() -> None:
    """From now on, serve blocks of THRESHOLD bytes and more with their own mappings (returned
    to the system when freed). Best effort: without glibc, or when the user set the threshold
    (``MALLOC_MMAP_THRESHOLD_``), nothing changes."""
    global _done
    if _done or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    _done = True
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
        mallopt(ctypes.c_int(_M_MMAP_THRESHOLD), ctypes.c_int(THRESHOLD))
    except (OSError, AttributeError):
        pass  # not glibc (musl, macOS): their allocators keep no such threshold to fix


def trim() -> None:
    """Give the free memory of every malloc arena back to the system (glibc's ``malloc_trim``,
    which also hands back free pages inside an arena, not only at its top). Worker threads
    allocate in arenas of their own, and what one batch of a clone freed there stayed in RSS.
    Best effort: a no-op without glibc."""
    global _trim
    if _trim is None:
        try:
            import ctypes

            _trim = ctypes.CDLL(None).malloc_trim
        except (OSError, AttributeError):
            _trim = False
    if _trim:
        _trim(0)


_trim: Any = None
