"""The clean-ahead worker process: stores files of the worktree that git is about to clean, on the
second core, with a pool writer of its own (ops/cleanahead.py; docs/design-notes.md, "Clean
ahead").

Run as ``python -m git_mlv.ops.cleanworker POOL_ROOT SHARED S1 .. S7`` in the worktree's root
(SHARED: git's ``core.sharedRepository``; S1..S7: the pool's Settings in their order). It writes
``ready\\n`` once started, then reads paths relative to the worktree, each ended by a NUL byte,
and answers each, in order, with one line: ``OID SIZE`` once the file's data is written to its
pack (flushed to the OS, as every writer does before git may record a pointer), or ``-`` when it
did not store it (not a regular file, empty, too big, changing, unreadable). At the end of its
input it commits its pack (trailer, fsync, index) and exits 0; when it cannot (a full disk), it
says why and exits 1, and the filter's refresh of the pool indexes the pack (as after a crash).

A thread of the filter held the GIL for the Python part of each store while the filter's main
thread answered git, so git and both threads took turns on about one core (bench/RESULTS.md,
"Where commit v1 goes now"): in a process of its own the store runs beside them.
"""

from __future__ import annotations

import os
import signal
import stat
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.pool import Pool

MAX_FILE = 1 << 20  # bigger files are cleaned by git's request alone (ops/cleanahead.py)


def _store(pool: Pool, path: str) -> bytes:
    """Store the file at ``path``; the answer line for it."""
    from ..core.hashing import digest

    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or not 0 < st.st_size <= MAX_FILE:
            return b"-\n"
        with open(path, "rb", buffering=0) as f:
            data = f.read(st.st_size + 1)
        if len(data) != st.st_size:
            return b"-\n"  # being written to: git's request cleans it
        oid = digest(data)
        if not pool.has_file(oid.hex()):
            pool.writer().add_bytes(data, oid)
        return b"%s %d\n" % (oid.hex().encode(), len(data))
    except Exception:  # noqa: BLE001 - vanished, unreadable, a full disk: no guess; git's own
        return b"-\n"  # request then cleans it in the filter, which reports what is wrong


def main(argv: list[str]) -> int:
    from ..core.fsutil import fs_error, set_shared
    from ..core.pool import Pool
    from ..core.settings import Settings
    from ..errors import MlvError

    # ^C reaches the whole process group: git and the filter stop, and the filter ends this
    # worker's input; it then commits what it stored, which git may have been given pointers to
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    root, shared, *values = argv
    try:
        set_shared(shared or None)
        pool = Pool(root, Settings(*(int(v) for v in values)))
        pool.writer()  # holds gc.lock shared from now on: what has_file finds stays (core/poolwriter.py)
    except Exception:  # noqa: BLE001 - a pool it cannot write (read-only): the filter stores the
        return 3  # files itself, and says what is wrong if it cannot either
    fin, fout = sys.stdin.buffer, sys.stdout.buffer
    fout.write(b"ready\n")
    fout.flush()
    pending = b""
    try:
        while True:
            block = os.read(fin.fileno(), 1 << 16)
            if not block:
                break
            pending += block
            *paths, pending = pending.split(b"\0")
            for p in paths:
                fout.write(_store(pool, os.fsdecode(p)))
                fout.flush()
    except BrokenPipeError:  # the filter was killed: commit what was stored all the same
        pass
    try:
        pool.close()  # commits the pack: every pointer answered above is then indexed
    except (OSError, MlvError) as e:  # a full disk: the filter's refresh indexes the pack later
        print(f"git-mlv: {(fs_error(e) if isinstance(e, OSError) else None) or e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
