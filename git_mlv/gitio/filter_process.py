"""git's long-running filter process, protocol version 2 (clean, smudge, delay).

Protocol only: what to do with content is the ``FilterHandler``'s business (ops/filter.py).
The one hazard that shapes this code: git writes a whole request before it reads our answer, so we
read every request through its final flush before writing a byte (shared/notes/git-filter-protocol.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import sys
from collections.abc import Iterable, Iterator
from typing import BinaryIO, Protocol

from ..core.fsutil import fs_error
from ..errors import CorruptObject, MissingObject, MlvError
from .pktline import ContentStream, PktReader, PktWriter, ProtocolError

CAPABILITIES = ("clean", "smudge", "delay")
# Smudge input above this cannot be a pointer: it is passed through, spooled to disk past 8 MiB.
_SPOOL = 8 << 20
# A smudge's first bytes are decoded before git is told "success": damage found there (a whole file
# up to this size) leaves that file a pointer and the checkout goes on; past it, the file streams,
# and damage met later can only fail the file, which stops git's checkout (the filter is required).
_PEEK = 4 << 20
# git's pipe to us is grown from the kernel's 64 KiB to 1 MiB (the unprivileged maximum,
# /proc/sys/fs/pipe-max-size): a clean's content arrives up to 1 MiB ahead of our reads. Our pipe
# to git is NOT grown (it was, to 1 MiB, until chk5): a smudge's bytes then cross the pipe while
# they are still in the CPU's cache (L2 is 512 KiB a core here), and git, which copies every byte
# out of the pipe, spent less system time (scale-1 switch pairs: ~0.5 s of ~6.5 s; one A/B CPU 0.93x,
# wall 0.78x, a second one no change: bench/RESULTS.md, chk5); see docs/design-notes.md.
_PIPE_SIZE = 1 << 20
_F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)


def _grow_pipe(fd: int) -> None:
    with contextlib.suppress(OSError):  # not a pipe, or a lower system limit: speed only
        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_SIZE)


class FilterHandler(Protocol):
    """What the filter process asks of the layer above it."""

    def clean(self, pathname: str, content: ContentStream) -> bytes:
        """Store ``content``; return what git should keep (a pointer)."""

    def smudge(self, pathname: str, blob: bytes) -> Iterable[bytes] | None:
        """The worktree content for ``blob`` (a pointer or anything else); None when its data is
        missing here and may be fetched (the caller then delays it, if git allows)."""

    def missing(self, pathname: str, blob: bytes) -> bytes:
        """What to write when the data cannot be had: the pointer itself (after warning)."""

    def damaged(self, pathname: str, blob: bytes, error: MlvError) -> bytes:
        """What to write when the data here is damaged or incomplete (found before a byte of the
        file was sent): the pointer itself (after warning)."""

    def delay(self, pathname: str, blob: bytes) -> bool:
        """Start fetching ``blob``'s data in the background, remembering ``blob`` for when git asks
        for the path again; False if that is not possible."""

    def fetch_now(self, pathname: str, blob: bytes) -> Iterable[bytes] | None:
        """The content of ``blob`` fetched before answering, for a git command that cannot wait
        for a file (no delay: ``git diff``, ``git show``, ``cat-file --filters``); None if it
        cannot be had."""

    def available(self) -> list[str]:
        """Block until some delayed paths are ready; [] when none are pending."""

    def take_delayed(self, pathname: str) -> bytes | None:
        """The blob of a path delayed and then listed available (forgotten once taken), else None.

        The handler keeps delayed blobs, not this loop: a clone delays every file before git asks
        for any again, and a dict of path -> blob here held ~300 bytes a file (600,000 files:
        the clone's filter peaked at 361 MB, issue 9)."""

    def close(self) -> None:
        """Git closed the pipe: make everything written durable."""


def serve(handler: FilterHandler, stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> None:
    """Run the protocol until git closes our stdin."""
    fin = stdin or open(sys.stdin.fileno(), "rb", buffering=1 << 20, closefd=False)  # noqa: SIM115
    fout = stdout or open(sys.stdout.fileno(), "wb", buffering=1 << 20, closefd=False)  # noqa: SIM115
    r, w = PktReader(fin), PktWriter(fout)
    if stdin is None:  # git's pipe to us: a clean's content arrives 1 MiB ahead of our reads
        _grow_pipe(fin.fileno())
    try:
        caps = _handshake(r, w)
        while True:
            try:
                headers = r.read_kv()
            except EOFError:
                break
            command = headers.get("command")
            path = headers.get("pathname", "")
            if command == "clean" and "clean" in caps:
                try:
                    _clean(handler, r, w, path)
                except EOFError:  # git went away (killed, ^C) in the middle of the file
                    break
            elif command == "smudge" and "smudge" in caps:
                can_delay = "delay" in caps and headers.get("can-delay") == "1"
                try:
                    _smudge(handler, r, w, path, can_delay)
                except EOFError:
                    break
            elif command == "list_available_blobs" and "delay" in caps:
                for p in handler.available():
                    w.text(f"pathname={p}")
                w.flush_pkt()
                w.text("status=success")
                w.flush_pkt()
            else:
                if command in ("clean", "smudge"):
                    r.content().drain()
                w.text("status=error")
                w.flush_pkt()
    finally:
        handler.close()


def _handshake(r: PktReader, w: PktWriter) -> set[str]:
    try:
        hello = r.read_text_list()
    except EOFError:
        raise ProtocolError("git closed the filter before the handshake") from None
    if hello[:1] != ["git-filter-client"] or "version=2" not in hello[1:]:
        raise ProtocolError(f"not a git filter client (got {hello!r})")
    w.text("git-filter-server")
    w.text("version=2")
    w.flush_pkt()
    offered = {line.removeprefix("capability=") for line in r.read_text_list()}
    caps = [c for c in CAPABILITIES if c in offered]
    for c in caps:
        w.text(f"capability={c}")
    w.flush_pkt()
    return set(caps)


def _answer(w: PktWriter, chunks: Iterable[bytes]) -> None:
    w.text("status=success")
    w.flush_pkt(push=False)  # the whole answer goes to git at once (big content streams anyway)
    try:
        for data in chunks:
            w.content(data)
    except MlvError as e:  # content half sent: git must discard it
        print(f"git-mlv: {e}", file=sys.stderr)
        w.flush_pkt(push=False)
        w.text("status=error")
        w.flush_pkt()
        return
    w.flush_pkt(push=False)
    w.flush_pkt()  # empty trailing status list: keep "success"


def _error(w: PktWriter, path: str, e: Exception) -> None:
    print(f"git-mlv: {path}: {e}", file=sys.stderr)
    w.text("status=error")
    w.flush_pkt()


def _clean(handler: FilterHandler, r: PktReader, w: PktWriter, path: str) -> None:
    content = r.content()
    try:
        pointer = handler.clean(path, content)
    except MlvError as e:
        content.drain()
        _error(w, path, e)
        return
    except OSError as e:  # disk full, permissions: refuse this file, keep serving
        content.drain()
        _error(w, path, fs_error(e) or e)
        return
    content.drain()
    _answer(w, [pointer])


def _read_blob(content: ContentStream) -> bytes | BinaryIO:
    head = content.read(_SPOOL)
    if content.done:
        return head
    import tempfile  # rare (content committed before tracking): not at start-up

    spool = tempfile.TemporaryFile()
    spool.write(head)
    while True:
        data = content.read(1 << 20)
        if not data:
            break
        spool.write(data)
    spool.seek(0)
    return spool


def _smudge(handler: FilterHandler, r: PktReader, w: PktWriter, path: str, can_delay: bool) -> None:
    blob = _read_blob(r.content())
    if not isinstance(blob, bytes):  # too big to be a pointer: content committed before tracking
        spool = blob
        _answer(w, iter(lambda: spool.read(1 << 20), b""))
        spool.close()
        return
    if not blob:  # git asks again for a blob we delayed (with empty content)
        blob = handler.take_delayed(path) or blob
    try:
        chunks = handler.smudge(path, blob)
        if chunks is None:
            if can_delay and handler.delay(path, blob):
                w.text("status=delayed")
                w.flush_pkt()
                return
            fetched = None if can_delay else handler.fetch_now(path, blob)
            chunks = [handler.missing(path, blob)] if fetched is None else fetched
        head, rest = _peek(chunks)
    except (CorruptObject, MissingObject) as e:  # nothing sent yet: this file stays a pointer
        head, rest = [handler.damaged(path, blob, e)], iter(())
    except MlvError as e:
        _error(w, path, e)
        return
    _answer(w, itertools.chain(head, rest))


def _peek(chunks: Iterable[bytes]) -> tuple[list[bytes], Iterator[bytes]]:
    """The first pieces of ``chunks``, up to ``_PEEK`` bytes (decoded and checked now), and the rest."""
    it = iter(chunks)
    head: list[bytes] = []
    n = 0
    while n < _PEEK:
        piece = next(it, None)
        if piece is None:
            break
        head.append(piece)
        n += len(piece)
    return head, it
