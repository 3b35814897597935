"""Reading objects for a migration: one long-lived ``git cat-file --batch-command``, and loose
objects inflated here.

A migration reads every blob it converts; one process for all of them (not one per blob), and a
blob's content is handed out as a stream of exactly its size, so a 400 MB model never sits whole
in memory. Loose objects (what ``git add`` writes) are inflated in this process, a MiB at a time:
git's own reader maps the whole compressed file, and a 400 MB model then counts 310 MB of git's
resident memory (measured on the benchmark's scale-1 repository); zlib releases the GIL, so the
inflating overlaps the chunking threads as well as a separate git process would. Packed objects go
through cat-file, with ``core.bigFileThreshold`` lowered so that big undeltified ones stream too.
The pipe is widened to 1 MiB (Linux; the unprivileged maximum) so git writes in bigger steps.
"""

from __future__ import annotations

import fcntl
import os
import re
import subprocess
import zlib
from typing import IO, BinaryIO

from .git import GitError, Repo

_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux only
_PIPE_SIZE = 1 << 20
_SHA1 = re.compile(r"[0-9a-f]{40}\Z")
_STREAM_THRESHOLD = "32m"  # packed blobs above this stream out of cat-file instead of being read whole
_INFLATE_STEP = 1 << 20


class LooseStream:
    """The content of a loose object, inflated as it is read (same interface as BlobStream)."""

    def __init__(self, f: BinaryIO) -> None:
        self._f = f
        self._z = zlib.decompressobj()
        self._buf = b""
        head = b""
        while b"\0" not in head:  # the header comes first: inflate a little to read it
            more = self._inflate(256)
            if not more:
                raise GitError(f"{f.name}: not a git object")
            head += more
        header, _, self._buf = head.partition(b"\0")
        self._pos = 0  # what of _buf was handed out (slicing it each time would copy it again and again)
        kind, _, size = header.partition(b" ")
        self.kind = kind.decode()
        self.left = int(size)

    def _inflate(self, step: int = _INFLATE_STEP) -> bytes:
        data = self._z.unconsumed_tail or self._f.read(step)
        if not data:
            return self._z.flush()
        return self._z.decompress(data, 4 * step)

    def readinto(self, b: memoryview | bytearray) -> int:
        """Fill ``b`` with up to its length of the remaining content; 0 at the end."""
        view = memoryview(b).cast("B")
        if self.left == 0 or len(view) == 0:
            return 0
        while self._pos >= len(self._buf):
            self._buf, self._pos = self._inflate(), 0
            if not self._buf:
                raise GitError(f"{self._f.name}: object ends early")
        n = min(len(view), len(self._buf) - self._pos, self.left)
        view[:n] = memoryview(self._buf)[self._pos:self._pos + n]
        self._pos += n
        self.left -= n
        return n

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left when ``n`` < 0)."""
        n = self.left if n < 0 else min(n, self.left)
        out = bytearray(n)
        got = 0
        while got < n:
            got += self.readinto(memoryview(out)[got:])
        return bytes(out)

    def drain(self) -> None:
        """Close the file (nothing else to skip)."""
        self._f.close()


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
        self._objects = os.path.join(repo.common_dir, "objects")
        self._proc = subprocess.Popen(
            ["git", "-c", f"core.bigFileThreshold={_STREAM_THRESHOLD}", "cat-file", "--batch-command"],
            cwd=repo.worktree or repo.git_dir,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )
        assert self._proc.stdin and self._proc.stdout
        self._in = self._proc.stdin
        self._out = self._proc.stdout
        try:
            fcntl.fcntl(self._out.fileno(), _F_SETPIPE_SZ, _PIPE_SIZE)
        except OSError:
            pass  # a smaller pipe is only slower
        self._open: BlobStream | LooseStream | None = None

    def _loose(self, name: str) -> LooseStream | None:
        if not _SHA1.match(name):
            return None
        try:
            f = open(os.path.join(self._objects, name[:2], name[2:]), "rb")
        except FileNotFoundError:
            return None
        try:
            return LooseStream(f)
        except (zlib.error, ValueError):
            f.close()
            return None  # let git say what is wrong with it

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
        loose = self._loose(name)
        if loose is not None:
            loose.drain()
            return loose.kind, loose.left
        return self._ask("info", name)

    def open(self, name: str) -> tuple[str, BlobStream | LooseStream] | None:
        """(type, stream of the content); valid until the next call. None when it does not exist."""
        loose = self._loose(name)
        if loose is not None:
            if self._open is not None:
                self._open.drain()
            self._open = loose
            return loose.kind, loose
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
