"""One long-lived ``git cat-file --batch-command``: object sizes and contents, big blobs streamed.

A migration reads every blob it converts; one process for all of them (not one per blob), and a
blob's content is handed out as a stream of exactly its size, so a 400 MB model never sits whole
in memory. The pipe is widened to 1 MiB (Linux; the unprivileged maximum) so git inflates ahead of
us in bigger steps.
"""

from __future__ import annotations

import fcntl
import subprocess
from typing import IO

from .git import GitError, Repo

_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux only
_PIPE_SIZE = 1 << 20


class BlobStream:
    """Exactly ``size`` bytes of one object's content from cat-file's pipe (``readinto``/``read``)."""

    def __init__(self, out: IO[bytes], size: int) -> None:
        self._out = out
        self.left = size

    def readinto(self, b: memoryview | bytearray) -> int:
        """Fill ``b`` with up to its length of the remaining content; 0 at the end."""
        view = memoryview(b).cast("B")
        n = min(len(view), self.left)
        if n == 0:
            return 0
        got = self._out.readinto(view[:n])  # type: ignore[attr-defined]
        if not got:
            raise GitError("git cat-file: stream ended in the middle of an object")
        self.left -= got
        return got

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left when ``n`` < 0)."""
        n = self.left if n < 0 else min(n, self.left)
        data = self._out.read(n) if n else b""
        if len(data) != n:
            raise GitError("git cat-file: stream ended in the middle of an object")
        self.left -= n
        return data

    def drain(self) -> None:
        """Skip what was not read, and the LF after the content."""
        while self.left:
            self.read(min(self.left, 1 << 20))
        self._out.read(1)


class CatFile:
    """``info`` and ``contents`` of objects, in one git process; use as a context manager."""

    def __init__(self, repo: Repo) -> None:
        self._proc = subprocess.Popen(
            ["git", "cat-file", "--batch-command"], cwd=repo.worktree or repo.git_dir,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert self._proc.stdin and self._proc.stdout
        self._in = self._proc.stdin
        self._out = self._proc.stdout
        try:
            fcntl.fcntl(self._out.fileno(), _F_SETPIPE_SZ, _PIPE_SIZE)
        except OSError:
            pass  # a smaller pipe is only slower
        self._open: BlobStream | None = None

    def _ask(self, command: str, name: str) -> tuple[str, int] | None:
        if self._open is not None:
            self._open.drain()
            self._open = None
        self._in.write(f"{command} {name}\n".encode("utf-8", "surrogateescape"))
        self._in.flush()
        header = self._out.readline()
        if not header:
            raise GitError("git cat-file stopped unexpectedly")
        parts = header.split()
        if len(parts) != 3:  # "<name> missing" / "ambiguous"
            return None
        return parts[1].decode(), int(parts[2])

    def info(self, name: str) -> tuple[str, int] | None:
        """(type, size) of an object, or None when it does not exist."""
        return self._ask("info", name)

    def open(self, name: str) -> tuple[str, BlobStream] | None:
        """(type, stream of the content); valid until the next call. None when it does not exist."""
        got = self._ask("contents", name)
        if got is None:
            return None
        self._open = BlobStream(self._out, got[1])
        return got[0], self._open

    def read(self, name: str) -> bytes | None:
        """The whole content of a (small) object, or None when it does not exist."""
        got = self.open(name)
        if got is None:
            return None
        data = got[1].read()
        got[1].drain()
        self._open = None
        return data

    def close(self) -> None:
        """End the git process."""
        if self._open is not None:
            self._open = None
        try:
            self._in.close()
        except BrokenPipeError:
            pass
        self._out.close()
        self._proc.wait()

    def __enter__(self) -> CatFile:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self._proc.kill()
        self.close()
