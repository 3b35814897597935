"""Small files stored ahead of git's clean requests, by a worker process on the filter's second
core (issue 10; the rule is docs/design-notes.md, "Clean ahead").

git cleans one file at a time and waits for each answer: for a commit of thousands of small files
the filter and git take turns on one core. Once git has asked for a few files of one folder in
name order (what ``git add`` and a refresh do: index order), the filter sends the names of the
next files of that folder to a worker process (ops/cleanworker.py), a window ahead of git; it reads
them from the worktree and stores them with a pool writer of its own, and answers each with its
pointer. When git then asks for such a file, the filter answers with that pointer only if the
content git sent hashes to the pointer's id: a guess that is wrong, late or stale costs a normal
clean, never a wrong pointer, and a pointer is only ever given for data already in the pool.

Everything here runs on the filter's main thread, between git's requests: the process's answers
are read when there are some (without waiting), or when git asks for a file being stored. (A
worker *thread* held the GIL for the Python part of each store while the main thread answered
git, and the two threads and git took turns on about one core: bench/RESULTS.md, cleanproc.)
"""

from __future__ import annotations

import bisect
import itertools
import os
import select
import sys
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.pointer import Pointer

if TYPE_CHECKING:
    import subprocess

    from ..core.settings import Settings

START_AFTER = 3  # requests in name order in one folder before the first guess: no single-file add guesses
WINDOW = 32  # names sent to the worker ahead of git's last request, at most
# The worker is started once git's requests show a commit worth its start (~0.15 s of a core,
# while the filter cleans ~250 files of 60 KB itself): this many files of the folder still after
# git's request, or this many requests in all (a dataset of many small folders). Until it is
# ready, git's requests are cleaned as they come (MLV_CLEAN_AHEAD_WAIT=1: the filter waits for it
# instead; for tests, which need guesses to be used whatever the machine's speed).
PROCESS_MIN = 500
PROCESS_AFTER = 1000
# A folder of more entries is not listed: 250,000 names are ~20 MB of the filter's memory (a
# 600,000-file add must stay under 200 MB) and a listing of a second or so.
_LIST_MAX = 250_000


def spawn(worktree: str, pool_root: str, settings: Settings, shared: str) -> subprocess.Popen[bytes]:
    """Start the worker process (ops/cleanworker.py) on a pool, in the worktree's root."""
    import subprocess  # ~5 ms: only for a commit of many files

    # the git_mlv this filter runs, wherever it was found (its folder first on the worker's path)
    top = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (top, env.get("PYTHONPATH")) if p)
    return subprocess.Popen(
        [sys.executable, "-m", "git_mlv.ops.cleanworker", pool_root, shared,
         *(str(getattr(settings, name)) for name in settings.__slots__)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=worktree, env=env)


class CleanAhead:
    """Per filter process: follows git's clean requests; a worker process stores the next files."""

    def __init__(self, root: str, start: Callable[[], subprocess.Popen[bytes]]) -> None:
        self._root = root
        self._start = start  # starts the worker process (``spawn`` on the filter's pool)
        self._dir: str | None = None  # the folder git is asking for, relative to the worktree
        self._last = ""  # the name git asked for last in it
        self._run = 0  # requests in name order in _dir so far
        self._requests = 0  # clean requests followed in all
        self._names: list[str] | None = None  # _dir's files in name order, once listed
        self._next = 0  # index in _names of the next name to send
        self._done: dict[str, Pointer] = {}  # names of _dir stored ahead, not yet asked for
        self._unused = 0  # ... and those git passed over in _dir: guessing stops when they pile up
        self._proc: subprocess.Popen[bytes] | None = None
        self._out = -1  # the process's answers (a non-blocking pipe)
        self._ready = False  # the process said it is ready, and has not ended
        self._failed = False  # it could not be started, or ended before its input did
        self._answered = False  # it stored a file: its exit status matters
        self._sent: deque[tuple[str | None, str]] = deque()  # (folder, name) sent, not yet answered
        self._pending: set[tuple[str | None, str]] = set()  # ... the same, to look up
        self._partial = b""  # the start of an answer line not yet read whole
        self.sent = 0  # names sent in all (tests)

    def note(self, pathname: str) -> None:
        """git asks to clean ``pathname``: follow it, and send the next names once git goes in order."""
        folder, _, name = pathname.rpartition("/")
        self._requests += 1
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
        if self._run < START_AFTER or self._failed:
            return
        if self._names is None:
            self._names = _list(os.path.join(self._root, folder or "."))
        if self._proc is None:
            ahead = len(self._names) - bisect.bisect_right(self._names, name)
            if ahead < PROCESS_MIN and self._requests < PROCESS_AFTER:
                return
            self._begin()
        self._read(wait=False)
        if self._ready:
            self._send_next()

    def take(self, pathname: str) -> Pointer | None:
        """The pointer of ``pathname`` as stored ahead (waiting if it is being stored now), or None.
        The caller must check that the content git sent hashes to its id."""
        folder, _, name = pathname.rpartition("/")
        if folder != self._dir or self._proc is None:
            return None
        while self._ready and (folder, name) in self._pending:
            self._read(wait=True)
        return self._done.pop(name, None)

    def close(self) -> bool:
        """Let the worker process finish the files sent and commit its pack. True if it ended
        otherwise after storing files git may have been given pointers to: their data is written
        in its pack, which the pool's next refresh indexes, as after a crash."""
        proc = self._proc
        if proc is None:
            return False
        assert proc.stdin is not None
        if not self._ready and not self._answered:  # nothing sent: not worth waiting for its start
            proc.kill()
            proc.wait()
            return False
        try:
            proc.stdin.close()
        except OSError:
            pass
        while self._read(wait=True):  # to its end: its answers are no longer needed
            pass
        return proc.wait() != 0 and self._answered

    # -- the worker process ------------------------------------------------------------------
    def _begin(self) -> None:
        try:
            proc = self._start()
        except OSError:  # a limit on processes: git's requests are cleaned as they come
            self._failed = True
            return
        assert proc.stdout is not None
        self._proc, self._out = proc, proc.stdout.fileno()
        os.set_blocking(self._out, False)
        if os.environ.get("MLV_CLEAN_AHEAD_WAIT") == "1":
            while not self._ready and self._read(wait=True):
                pass

    def _send_next(self) -> None:
        """Send the names of the folder's next files, up to ``WINDOW`` after git's last request."""
        names = self._names
        if not names or self._unused > WINDOW + self._run:
            return  # (the last: git asks for few of the folder's files; the guesses are waste)
        pos = bisect.bisect_right(names, self._last)  # the first name after git's last request
        self._next = max(self._next, pos)
        end = min(len(names), pos + WINDOW)
        suffix = os.path.splitext(self._last)[1]  # a folder's other kinds of files are likely not tracked
        batch: list[bytes] = []
        while self._next < end:
            name = names[self._next]
            self._next += 1
            if os.path.splitext(name)[1] == suffix:
                key = (self._dir, name)
                self._sent.append(key)
                self._pending.add(key)
                batch.append(os.fsencode(os.path.join(self._dir or ".", name)) + b"\0")
        if not batch:
            return
        proc = self._proc
        assert proc is not None and proc.stdin is not None
        try:
            proc.stdin.write(b"".join(batch))
            proc.stdin.flush()
        except (OSError, ValueError):  # it ended (killed): _read finds out and forgets what was sent
            return
        self.sent += len(batch)

    def _read(self, wait: bool) -> bool:
        """Take in the process's answers, in the order the names were sent (``wait``: at least
        one read, waiting for it); False once it has ended."""
        if self._out < 0:
            return False
        if wait:
            select.select([self._out], [], [])
        try:
            data = os.read(self._out, 1 << 16)
        except BlockingIOError:
            return True
        if not data:  # it ended: what was sent and not answered is cleaned by git's requests
            self._ready = False
            self._failed = True
            self._out = -1
            self._sent.clear()
            self._pending.clear()
            return False
        *lines, self._partial = (self._partial + data).split(b"\n")
        for line in lines:
            if not self._ready:
                self._ready = line == b"ready"
                continue
            key = self._sent.popleft()
            self._pending.discard(key)
            parts = line.split()
            if len(parts) == 2:
                self._answered = True
                folder, name = key
                if folder != self._dir:
                    continue
                if name >= self._last:  # (=: the one git waits for)
                    self._done[name] = Pointer(parts[0].decode(), int(parts[1]))
                else:  # answered after git went past it
                    self._unused += 1
        return True


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
