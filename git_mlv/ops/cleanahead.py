"""Small files stored ahead of git's clean requests, on the filter's second core (issue 10; the
rule is docs/design-notes.md, "Clean ahead").

git cleans one file at a time and waits for each answer: for a commit of thousands of small files
the filter and git take turns on one core. Once git has asked for a few files of one folder in
name order (what ``git add`` and a refresh do: index order), a worker thread reads the next files
of that folder from the worktree and stores them, a window ahead of git. When git then asks for
one, the filter answers with the stored file's pointer only if the content git sent is, byte for
byte, what the worker stored: a guess that is wrong, late or stale costs a normal clean, never a
wrong pointer, and a pointer is only ever given for data already in the pool. (A comparison, not a
hash: it never lets go of the GIL, so the answer does not wait for the worker to hand it back.)
"""

from __future__ import annotations

import bisect
import itertools
import os
import stat
import threading
from collections.abc import Callable

from ..core.pointer import Pointer

Stored = tuple[Pointer, bytes]  # a file stored ahead: its pointer and the bytes stored

START_AFTER = 3  # requests in name order in one folder before the first guess: no single-file add guesses
WINDOW = 32  # files stored ahead of git's last request, at most ...
WINDOW_BYTES = 16 << 20  # ... and this many bytes of them
MAX_FILE = 1 << 20  # bigger files are cleaned by git's request alone (their clean uses both cores)
# A folder of more entries is not listed: 250,000 names are ~20 MB of the filter's memory (a
# 600,000-file add must stay under 200 MB) and a listing of a second or so.
_LIST_MAX = 250_000


class CleanAhead:
    """Per filter process: follows git's clean requests, stores the next files on a thread."""

    def __init__(self, root: str, store: Callable[[bytes], Pointer]) -> None:
        self._root = root
        self._store = store  # stores a file's bytes; their pointer (PoolWriter.add_bytes)
        self._cond = threading.Condition()
        self._dir: str | None = None  # the folder git is asking for, relative to the worktree
        self._last = ""  # the name git asked for last in it
        self._run = 0  # requests in name order in _dir so far
        self._names: list[str] | None = None  # _dir's files in name order, once listed
        self._next = 0  # index in _names of the next file to store
        self._busy: str | None = None  # the name being stored now (in _dir)
        self._done: dict[str, Stored] = {}  # names of _dir stored ahead, not yet asked for
        self._unused = 0  # ... and those git passed over in _dir: guessing stops when they pile up
        self._stopped = False
        self._waiting = False  # the worker waits for git to move on
        self._thread: threading.Thread | None = None

    def note(self, pathname: str) -> None:
        """git asks to clean ``pathname``: follow it, and start guessing once git goes in order."""
        folder, _, name = pathname.rpartition("/")
        with self._cond:
            if folder == self._dir and name > self._last:
                self._run += 1
                passed = [n for n in self._done if n < name]
                for n in passed:  # git went past them: not asked for (changed files among many)
                    del self._done[n]
                self._unused += len(passed)
            else:
                self._dir, self._run, self._names, self._next, self._unused = folder, 1, None, 0, 0
                self._done.clear()
            self._last = name
            if self._run >= START_AFTER:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._work, name="mlv-clean-ahead", daemon=True)
                    self._thread.start()
                if self._waiting and len(self._done) <= WINDOW // 2:
                    self._cond.notify_all()  # wake it for half a window at once, not for each file

    def take(self, pathname: str) -> Stored | None:
        """``pathname`` as stored ahead (waiting if it is being stored now), or None. The caller
        must compare the content git sent with the bytes stored."""
        folder, _, name = pathname.rpartition("/")
        with self._cond:
            if folder != self._dir:
                return None
            while self._busy == name:
                self._cond.wait()
            return self._done.pop(name, None)

    def close(self) -> None:
        """Stop guessing; wait for the file being stored (at most ``MAX_FILE`` bytes)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()

    # -- the worker thread -------------------------------------------------------------------
    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    if self._stopped:
                        return
                    folder = self._dir
                    if folder is not None and self._run >= START_AFTER and self._names is None:
                        job = None
                        break  # list the folder first (outside the lock: a big one takes a while)
                    job = self._next_job()
                    if job is not None:
                        self._busy = job
                        break
                    self._waiting = True
                    self._cond.wait()
                    self._waiting = False
            if job is None:
                names = _list(os.path.join(self._root, folder or "."))
                with self._cond:
                    if self._dir == folder and self._names is None:
                        self._names, self._next = names, 0
                continue
            stored = None
            try:
                stored = self._store_one(folder or ".", job)
            finally:
                with self._cond:
                    self._busy = None
                    if stored is not None and folder == self._dir and job > self._last:
                        self._done[job] = stored
                    self._cond.notify_all()

    def _next_job(self) -> str | None:
        """The name of the next file to store, or None when the window is full (lock held)."""
        names = self._names
        if self._run < START_AFTER or not names or self._unused > WINDOW + self._run:
            return None  # (the last: git asks for few of the folder's files; the guesses are waste)
        pos = bisect.bisect_right(names, self._last)  # the first name after git's last request
        self._next = max(self._next, pos)
        end = min(len(names), pos + WINDOW)
        if sum(p.size for p, _ in self._done.values()) >= WINDOW_BYTES:
            return None
        suffix = os.path.splitext(self._last)[1]  # a folder's other kinds of files are likely not tracked
        while self._next < end:
            name = names[self._next]
            self._next += 1
            if os.path.splitext(name)[1] == suffix:
                return name
        return None

    def _store_one(self, folder: str, name: str) -> Stored | None:
        path = os.path.join(self._root, folder, name)
        try:
            st = os.lstat(path)
            if not stat.S_ISREG(st.st_mode) or not 0 < st.st_size <= MAX_FILE:
                return None
            with open(path, "rb", buffering=0) as f:
                data = f.read(st.st_size + 1)  # not MAX_FILE: that much would be allocated each time
            if len(data) != st.st_size:
                return None  # being written to: git's request cleans it
            return self._store(data), data
        except Exception:  # noqa: BLE001 - vanished, unreadable, a full disk: no guess; git's own
            return None  # request then cleans it normally, and that reports what is wrong


def _list(path: str) -> list[str]:
    """The names in folder ``path`` in git's order (by name); none for a huge or unreadable one."""
    try:
        with os.scandir(path) as it:
            names = [e.name for e in itertools.islice(it, _LIST_MAX + 1)]
    except OSError:
        return []
    if len(names) > _LIST_MAX:
        return []
    names.sort()
    return names
