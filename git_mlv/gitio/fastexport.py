"""History as a stream: ``git fast-export --no-data`` in, ``git fast-import`` out (git-fast-import(1)).

With ``--no-data`` the export names blobs by their SHA-1 in each commit's file changes, so a
rewrite reads only the blobs it converts (through one ``cat-file``) and passes every other line
through. Refs are renamed into a scratch namespace on the way in, so fast-import never moves a
user's ref: the caller maps marks to new commits and updates refs itself, in one transaction.
Annotated tags are left out of the stream (the caller rewrites tag objects itself): fast-import
would write their refs as soon as it finishes.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from .git import GitError, Repo

SCRATCH = "refs/mlv-migrate-work/"  # fast-import's refs during a rewrite; deleted at the end

_UNESCAPE = {ord("n"): 10, ord("t"): 9, ord('"'): 34, ord("\\"): 92, ord("a"): 7, ord("b"): 8,
             ord("f"): 12, ord("r"): 13, ord("v"): 11}


def unquote(text: bytes) -> bytes:
    """A path as git prints it (C-quoted when it starts with ``"``) -> its raw bytes."""
    if not text.startswith(b'"'):
        return text
    out = bytearray()
    i, n = 1, len(text) - 1  # without the closing quote
    while i < n:
        c = text[i]
        if c == 92 and i + 1 < n:  # backslash
            nxt = text[i + 1]
            if 48 <= nxt <= 55:  # octal escape, three digits
                out.append(int(text[i + 1:i + 4], 8))
                i += 4
                continue
            out.append(_UNESCAPE.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out)


def quote(path: bytes) -> bytes:
    """A path as fast-import reads it: C-quoted only when it must be (a leading quote, LF, ``\\``)."""
    if not (path.startswith(b'"') or b"\n" in path or b"\\" in path):
        return path
    out = bytearray(b'"')
    for c in path:
        if c in (34, 92):
            out += b"\\" + bytes([c])
        elif c == 10:
            out += b"\\n"
        else:
            out.append(c)
    return bytes(out + b'"')


@dataclass
class FileChange:
    """One file line of a commit: ``M mode dataref path`` or ``D path`` (others kept verbatim)."""

    op: str  # "M", "D", or "raw" for lines we pass through untouched (deleteall, N, C, R)
    path: bytes = b""  # raw bytes, unquoted
    mode: str = ""
    dataref: str = ""  # blob SHA-1 or "inline"
    data: bytes | None = None  # content of an inline blob
    raw: bytes = b""  # the line itself, for op == "raw"

    @property
    def name(self) -> str:
        """The path as text (undecodable bytes kept as surrogates)."""
        return self.path.decode("utf-8", "surrogateescape")

    def encode(self) -> bytes:
        """The line(s) fast-import reads."""
        if self.op == "D":
            return b"D " + quote(self.path) + b"\n"
        if self.op == "M":
            head = f"M {self.mode} {self.dataref} ".encode() + quote(self.path) + b"\n"
            if self.dataref == "inline":
                assert self.data is not None
                return head + b"data %d\n" % len(self.data) + self.data + b"\n"
            return head
        return self.raw + b"\n"


@dataclass
class Commit:
    """One ``commit`` command of the stream."""

    ref: str
    mark: int
    headers: list[bytes]  # author / committer / encoding lines, verbatim
    message: bytes
    parents: list[str] = field(default_factory=list)  # ":N" marks (or SHA-1s), first parent first
    changes: list[FileChange] = field(default_factory=list)
    original: str = ""  # the id of the commit this one rewrites

    def encode(self) -> bytes:
        """The command as fast-import reads it."""
        parts = [f"commit {self.ref}\nmark :{self.mark}\n".encode()]
        parts += [h + b"\n" for h in self.headers]
        parts.append(b"data %d\n" % len(self.message) + self.message + b"\n")
        if self.parents:
            parts.append(f"from {self.parents[0]}\n".encode())
            parts += [f"merge {p}\n".encode() for p in self.parents[1:]]
        parts += [c.encode() for c in self.changes]
        parts.append(b"\n")
        return b"".join(parts)


@dataclass
class Reset:
    """A ``reset REF [from X]`` command (lightweight tags, branch starts)."""

    ref: str
    source: str | None

    def encode(self) -> bytes:
        """The command as fast-import reads it."""
        tail = f"from {self.source}\n\n" if self.source else ""
        return f"reset {self.ref}\n{tail}".encode()


def scratch_ref(ref: str) -> str:
    """Where fast-import puts the rewritten ``ref``: ``refs/heads/x`` -> ``<SCRATCH>heads/x``."""
    return SCRATCH + ref.removeprefix("refs/")


def _parse_change(line: bytes) -> FileChange:
    if line.startswith(b"M "):
        mode, dataref, path = line[2:].split(b" ", 2)
        return FileChange("M", unquote(path), mode.decode(), dataref.decode())
    if line.startswith(b"D "):
        return FileChange("D", unquote(line[2:]))
    return FileChange("raw", raw=line)


class Exporter:
    """``git fast-export --no-data`` of ``revs``, parsed into Commit and Reset objects."""

    def __init__(self, repo: Repo, revs: list[str], marks_file: str) -> None:
        self._err = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            ["git", "fast-export", "--no-data", "--reencode=no", "--signed-tags=strip", "--show-original-ids",
             "--tag-of-filtered-object=drop", "--use-done-feature", f"--export-marks={marks_file}",
             "--stdin"],
            cwd=repo.worktree or repo.git_dir, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._err,
        )
        assert self._proc.stdin and self._proc.stdout
        self._proc.stdin.write("".join(r + "\n" for r in revs).encode("utf-8", "surrogateescape"))
        self._proc.stdin.close()
        self._out: IO[bytes] = self._proc.stdout
        self._peeked: bytes | None = None

    def _line(self) -> bytes:
        if self._peeked is not None:
            line, self._peeked = self._peeked, None
            return line
        return self._out.readline()

    def _peek(self) -> bytes:
        if self._peeked is None:
            self._peeked = self._out.readline()
        return self._peeked

    def _data(self, line: bytes) -> bytes:
        if not line.startswith(b"data "):
            raise GitError(f"git fast-export: expected a data command, got {line[:60]!r}")
        n = int(line[5:])
        data = self._out.read(n)
        if self._peek() == b"\n":  # the optional LF after data
            self._line()
        return data

    def commands(self) -> Iterator[Commit | Reset]:
        """Commits and resets in stream order (annotated tags are skipped)."""
        while True:
            line = self._line()
            if not line:
                break
            line = line.rstrip(b"\n")
            if line.startswith(b"commit "):
                yield self._commit(line[7:].decode("utf-8", "surrogateescape"))
            elif line.startswith(b"reset "):
                ref = line[6:].decode("utf-8", "surrogateescape")
                source = None
                if self._peek().startswith(b"from "):
                    source = self._line()[5:].rstrip(b"\n").decode()
                yield Reset(ref, source)
            elif line.startswith(b"tag "):
                self._skip_tag()
            elif line == b"done":
                break
            # feature / progress / blank lines: nothing to do
        self._finish()

    def _commit(self, ref: str) -> Commit:
        mark = 0
        original = ""
        headers: list[bytes] = []
        while True:
            line = self._line()
            if line.startswith(b"mark :"):
                mark = int(line[6:])
            elif line.startswith(b"data "):
                message = self._data(line.rstrip(b"\n"))
                break
            elif line.startswith(b"original-oid "):
                original = line[13:].strip().decode()
            elif not line:
                raise GitError("git fast-export: stream ended inside a commit")
            else:
                headers.append(line.rstrip(b"\n"))
        c = Commit(ref, mark, headers, message, original=original)
        while True:
            line = self._line()
            if not line or line == b"\n":
                break
            line = line.rstrip(b"\n")
            if line.startswith(b"from ") or line.startswith(b"merge "):
                c.parents.append(line.split(b" ", 1)[1].decode())
            else:
                c.changes.append(_parse_change(line))
        return c

    def _skip_tag(self) -> None:
        while True:
            line = self._line()
            if not line:
                return
            if line.startswith(b"data "):
                self._data(line.rstrip(b"\n"))
                return

    def _finish(self) -> None:
        self._out.close()
        code = self._proc.wait()
        if code != 0:
            self._err.seek(0)
            msg = self._err.read().decode(errors="replace").strip().splitlines()
            raise GitError(f"git fast-export: {msg[-1] if msg else f'exited with {code}'}")
        self._err.close()

    def kill(self) -> None:
        """Stop the export early (an error on our side)."""
        self._proc.kill()
        self._proc.wait()
        self._err.close()


class Importer:
    """A ``git fast-import`` writing objects into the repository; refs only under SCRATCH."""

    def __init__(self, repo: Repo, marks_file: str) -> None:
        self._err = tempfile.TemporaryFile()
        self._proc = subprocess.Popen(
            ["git", "fast-import", "--quiet", "--force", f"--export-marks={marks_file}"],
            cwd=repo.worktree or repo.git_dir, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
            stderr=self._err,
        )
        assert self._proc.stdin
        self._in = self._proc.stdin
        self._in.write(b"feature done\n")

    def write(self, command: Commit | Reset) -> None:
        """Send one command."""
        try:
            self._in.write(command.encode())
        except BrokenPipeError:
            self._fail()

    def finish(self) -> None:
        """End the stream; fast-import writes its pack, marks and scratch refs."""
        try:
            self._in.write(b"done\n")
            self._in.close()
        except BrokenPipeError:
            pass
        if self._proc.wait() != 0:
            self._fail()
        self._err.close()

    def _fail(self) -> None:
        self._proc.wait()
        self._err.seek(0)
        msg = self._err.read().decode(errors="replace").strip().splitlines()
        raise GitError(f"git fast-import: {msg[-1] if msg else 'failed'}")

    def kill(self) -> None:
        """Abandon the import: without ``done`` fast-import updates no ref."""
        self._proc.kill()
        self._proc.wait()
        self._err.close()


def read_marks(path: str, want_marks: set[int] | None = None,
               want_oids: set[str] | None = None) -> dict[int, str]:
    """``:mark oid`` lines of a marks file, filtered (streamed: the file may be large)."""
    out: dict[int, str] = {}
    if not os.path.exists(path):
        return out
    with open(path, "rb") as f:
        for line in f:
            m, _, oid = line.rstrip(b"\n").partition(b" ")
            mark = int(m[1:])
            o = oid.decode()
            if (want_marks is not None and mark in want_marks) or (
                    want_oids is not None and o in want_oids):
                out[mark] = o
    return out
