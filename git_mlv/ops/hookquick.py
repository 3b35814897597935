"""The hooks' fast path: a checkout whose filter wrote every changed file needs nothing from us.

After ``git checkout`` or a fast-forward ``git pull``, post-checkout / post-merge replace pointers the
checkout left in the worktree (data the filter could not get). Almost always the filter wrote every
file, and the hook's answer is "nothing to do" — which cost ~0.19 s, ~0.12 s of it importing what
the slow path needs (50,000-file repository, bench/RESULTS.md). This module finds that answer with
the standard library only: one ``git diff-tree`` for the changed paths, an ``lstat`` per path and a
read of the few bytes of a file small enough to be a pointer. Anything unusual — a clone, a squash
merge, a changed path missing from the worktree (sparse checkout, or a file git could not write), a
file that could be a pointer, git failing — takes the full path (``ops/hooks.py``), which decides.

Cheaper still, the hook shims for post-checkout and post-merge skip Python altogether when the
filter of the very git process that runs them left a record saying that every smudge it was asked
for gave git the file's data (the *smudge record*, docs/formats.md#smudge-record): written here
(``Recorder``), read by the shim's shell (gitio/hooks.py).
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from ..core.pointer_text import HEAD, MAX_SIZE, could_be_pointer
from ..gitio import quickgit

if TYPE_CHECKING:
    from ..errors import MlvError
    from ..gitio.filter_process import FilterHandler
    from ..gitio.pktline import ContentStream

CHAINED_ENV = "MLV_HOOK_CHAINED"  # set while a chained hook runs: a chained copy of us is a no-op
RECORD = "mlv-smudged"  # the smudge record, in a main worktree's .git folder
OK, LEFT = "ok", "left"  # its states: every smudge gave data / one may have left a pointer
FAILED = "failed"  # ... and "failed <remote>": a pointer was left after a fetch from it failed
# git runs a filter command with arguments through `sh -c` (dash does not exec the last command):
# then our parent is that shell and the git process is its parent
_SHELLS = (b"sh", b"dash", b"bash")


def nothing_to_do(hook: str, args: list[str]) -> int | None:
    """The number of changed paths looked at when the checkout left no pointer among them; None
    when the full hook must decide (it also runs in a worktree's top folder only, where git runs
    hooks)."""
    if hook == "post-checkout":
        if len(args) < 3 or args[2] != "1" or args[0] == args[1] or args[0].strip("0") == "":
            return None  # file checkouts and no-op switches are quick anyway; clones are not ours
        old, new = args[0], args[1]
    elif hook == "post-merge":
        if not args or args[0] != "0":
            return None  # a squash merge changed the index only
        old, new = "ORIG_HEAD", "HEAD"
    else:
        return None
    if not os.path.exists(".git"):
        return None  # not the top of a worktree: let the full path find it
    paths = quickgit.changed_files(old, new)
    if paths is None or ".gitmlv" in paths:  # a data remote may have come: ops/hooks.py decides
        return None
    for path in paths:
        try:
            st = os.lstat(path)
        except OSError:
            return None  # sparse, or a file git did not write: the full path knows which
        if not stat.S_ISREG(st.st_mode) or st.st_size >= MAX_SIZE:
            continue
        try:
            with open(path, "rb") as f:
                head = f.read(len(HEAD))
        except OSError:
            return None
        if could_be_pointer(st.st_size, head):
            return None
    return len(paths)


def settled_record(hook: str, examined: int) -> dict[str, object]:
    """The trace record of a hook that looked at ``examined`` changed paths and had nothing to do
    (the fields of ``ops.hooks.AfterCheckout``)."""
    return {"hook": hook, "scope": "changed", "examined": examined, "restored": 0, "fetched": 0,
            "missing": 0, "out_of_scope": 0, "not_retried": False}


def run_chained(hooks_dir: str | None, name: str, args: list[str], stdin: bytes) -> int:
    """Run ``NAME.mlv-chained`` (if executable, as git would) with the same arguments and stdin."""
    if hooks_dir is None:
        found = quickgit.hook_path(name + quickgit.CHAINED)
        if found is None:
            return 0
        path = found
    else:
        path = os.path.join(hooks_dir, name + quickgit.CHAINED)
    if not os.access(path, os.X_OK) or os.environ.get(CHAINED_ENV):
        return 0
    env = {**os.environ, CHAINED_ENV: "1"}
    try:
        return subprocess.run([path, *args], input=stdin, env=env).returncode
    except OSError as e:
        print(f"git-mlv: error: could not run {path}: {e.strerror or e}", file=sys.stderr)
        return 1


def trace(record: dict[str, object]) -> None:
    """With MLV_HOOK_TRACE=FILE, append what the hook did as one JSON line (tests count the work)."""
    path = os.environ.get("MLV_HOOK_TRACE")
    if path:
        import json

        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")


def _proc(pid: int) -> tuple[bytes, int, int] | None:
    """(command name, parent pid, start time in clock ticks since boot) of process ``pid``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return None
    end = stat.rfind(b")")
    comm, fields = stat[stat.find(b"(") + 1:end], stat[end + 2:].split()
    if len(fields) < 20:
        return None
    return comm, int(fields[1]), int(fields[19])


def git_process(pid: int | None = None) -> str | None:
    """``"<pid> <start time>"`` of the git process that started the filter: its id and its start
    in clock ticks since boot (field 22 of ``/proc/PID/stat``; the pair never names two processes
    of one boot). None without /proc: no record, the hooks run Python as before."""
    pid = os.getppid() if pid is None else pid
    for _ in range(2):
        info = _proc(pid)
        if info is None:
            return None
        if info[0] not in _SHELLS:
            return f"{pid} {info[2]}"
        pid = info[1]
    return None


def _ancestors(limit: int = 6) -> set[str]:
    """``"<pid> <start time>"`` of this process's ancestors, nearest first, up to ``limit``: a
    hook runs as git -> sh (the shim) -> git (``git mlv``) -> us."""
    out: set[str] = set()
    pid = os.getppid()
    for _ in range(limit):
        info = _proc(pid)
        if info is None or pid <= 1:
            break
        out.add(f"{pid} {info[2]}")
        pid = info[1]
    return out


def failed_remote(git_dir: str, worktree: str | None) -> str | None:
    """The data remote the filter of the git command running this hook failed to fetch from (its
    smudge record says ``failed <remote>``, docs/formats.md#smudge-record); None when it did not,
    or when the record is another git command's."""
    path = record_path(git_dir, worktree)
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            line = f.readline().rstrip("\n")
    except (OSError, UnicodeDecodeError):
        return None
    words = line.split(" ", 3)
    if len(words) < 4 or words[2] != FAILED or f"{words[0]} {words[1]}" not in _ancestors():
        return None
    return words[3]


def record_path(git_dir: str, worktree: str | None) -> str | None:
    """Where the filter writes its smudge record: ``.git/mlv-smudged`` of a main worktree (the
    only place the shims look); a linked worktree or a submodule keeps it in its own git folder,
    where only ``git mlv hook`` reads it (``failed <remote>``: without it, a checkout there asked
    a failing remote a second time and said so twice). None in a bare repository."""
    if worktree is None:
        return None
    return os.path.join(git_dir, RECORD)


def write_record(path: str, process: str, state: str) -> None:
    """Replace the record by ``<process> <state>``; best effort (the shims then run Python)."""
    tmp = f"{path}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, f"{process} {state}\n".encode())
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(path)  # a stale "ok" must not outlive a "left" we could not write
        except OSError:
            pass


class Recorder:
    """Wraps the filter's handler and keeps the smudge record of this git process: "ok" from the
    start, "left" from the first smudge that gave git anything but the file's data (data missing,
    out of the fetch scope, an error)."""

    def __init__(self, handler: FilterHandler, path: str, process: str) -> None:
        self._h = handler
        self._path, self._process = path, process
        self._state = OK
        write_record(path, process, OK)

    def left(self) -> None:
        """A smudge may have left a pointer in the worktree: the hooks must look (once is enough,
        and once more when the filter's fetch failed meanwhile: they need not try it again)."""
        from .delayed import fetch_failed

        remote = fetch_failed()
        state = LEFT if remote is None else f"{FAILED} {remote}"
        if state != self._state and self._state[:len(FAILED)] != FAILED:
            self._state = state
            write_record(self._path, self._process, state)

    def smudge(self, pathname: str, blob: bytes) -> Iterable[bytes] | None:
        """The handler's smudge; an error on the way marks the record."""
        try:
            chunks = self._h.smudge(pathname, blob)
        except Exception:
            self.left()
            raise
        return None if chunks is None else self._watched(chunks)

    def _watched(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        try:
            yield from chunks
        except Exception:
            self.left()
            raise

    def missing(self, pathname: str, blob: bytes) -> bytes:
        """The handler's answer when the data cannot be had: a pointer stays."""
        self.left()
        return self._h.missing(pathname, blob)

    def damaged(self, pathname: str, blob: bytes, error: MlvError) -> bytes:
        """The handler's answer when the data here is damaged: a pointer stays."""
        self.left()
        return self._h.damaged(pathname, blob, error)

    def clean(self, pathname: str, content: ContentStream) -> bytes:
        """The handler's clean."""
        return self._h.clean(pathname, content)

    def delay(self, pathname: str, blob: bytes) -> bool:
        """The handler's delay (what it fetches comes back through ``smudge`` or ``missing``)."""
        return self._h.delay(pathname, blob)

    def fetch_now(self, pathname: str, blob: bytes) -> Iterable[bytes] | None:
        """The handler's fetch while git waits (None: ``missing`` follows and marks the record)."""
        chunks = self._h.fetch_now(pathname, blob)
        return None if chunks is None else self._watched(chunks)

    def available(self) -> list[str]:
        """The handler's delayed paths now ready."""
        return self._h.available()

    def take_delayed(self, pathname: str) -> bytes | None:
        """The handler's delayed blob for ``pathname``."""
        return self._h.take_delayed(pathname)

    def close(self) -> None:
        """The handler's close."""
        self._h.close()
