"""Checking that a stream is a stored file, chunk by chunk, without cutting it again
(docs/formats.md#racy-clean).

A racily clean file re-read by git is almost always the file its index entry names. Instead of a
clean (FastCDC, a sha256 per chunk and one of the whole file, lookups), the stream is split at the
stored file's chunk lengths and each piece hashed against the id at its position, on the pool's
threads; the stored copies are checked as every local read checks them, without decoding. At the
first difference the caller gets a stream of exactly the bytes it gave, for the normal clean:
the chunks consumed so far come back from the pool (checked, then hashed against their ids once
more), then the bytes in hand, then the rest. Memory is the window of pieces in flight.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING

from ..errors import CorruptObject, MissingObject
from . import chunkread
from .chunker import Readable
from .hashing import digest
from .pack import KIND_CHUNK

if TYPE_CHECKING:
    from .pool import Pool

# From this many chunks on (~80 MB), where they are comes from one vectorised search (numpy: ~0.1-0.2 s
# to import here, then ~15 ms for the CSV's 4,173 chunks); below, from one scalar lookup each (~46 us
# a chunk against 12 packs, what the normal clean pays for its own lookups). Measured with
# bench/racy_clean.py on the scale-1 CSV (bench/RESULTS.md, racy6).
_VECTOR_FROM = 1024
# Raw bytes of chunks one thread task hashes and checks, in the largest chunks (1 MiB at the default
# 256 KiB, ~13 chunks of the CSV): a task per 64 KiB chunk spent more in hand-offs than in the work on
# the checkout side (bench/RESULTS.md, issue 10 read-ahead). In chunks so that the suite's tiny
# chunks make several tasks of a small file (and the fall-back's read-back from the pool runs).
_TASK_CHUNKS = 4


def _locate(pool: Pool, ids: list[bytes]) -> tuple[list[str], list[chunkread.Row]]:
    """Where each chunk is, as chunkread's rows; MissingObject if one is not here."""
    if len(ids) >= _VECTOR_FROM or "numpy" in sys.modules:
        return chunkread.locate(pool, ids)
    paths: list[str] = []
    numbers: dict[str, int] = {}
    rows: list[chunkread.Row] = []
    for cid in ids:
        loc = pool.locate(cid, KIND_CHUNK)
        if loc is None:
            raise MissingObject(f"chunk {cid.hex()[:12]} is not in the pool")
        p = numbers.get(loc.pack)
        if p is None:
            p = numbers[loc.pack] = len(paths)
            paths.append(loc.pack)
        e = loc.entry
        rows.append((p, e.offset, e.stored_len, e.raw_len, e.codec, cid))
    return paths, rows


def _check_piece(pool: Pool, paths: list[str], rows: list[chunkread.Row], view: memoryview) -> int:
    """How many chunks of ``rows``, from the first, ``view`` holds exactly; when that is all of them,
    their stored copies are checked too (CorruptObject when one is damaged)."""
    pos = 0
    for i, row in enumerate(rows):
        n = row[3]
        if pos + n > len(view) or digest(view[pos:pos + n]) != row[5]:
            return i
        pos += n
    chunkread.check_rows(pool, paths, rows)
    return len(rows)


def _read_full(stream: Readable, view: memoryview) -> memoryview:
    """``view`` filled from ``stream`` as far as it goes: all of it, or less at the stream's end."""
    got = 0
    while got < len(view):
        k = stream.readinto(view[got:])
        if not k:
            break
        got += k
    return view[:got]


class _Replay:
    """A stream of: the first ``count`` chunks of a file read back from the pool (each hashed
    against its id), then ``held`` buffers, then the rest of ``tail``."""

    def __init__(self, pool: Pool, ids: list[bytes], held: list[memoryview], tail: Readable) -> None:
        self._pieces = self._iter(pool, ids, held)
        self._cur = memoryview(b"")
        self._tail = tail

    @staticmethod
    def _iter(pool: Pool, ids: list[bytes], held: list[memoryview]) -> Iterator[bytes | memoryview]:
        if ids:
            chunks = [(cid, 0) for cid in ids]  # lengths are not used by iter_file
            for cid, data in zip(ids, pool.iter_file("", chunks)):
                if digest(data) != cid:  # the CRC passed: only a broken decoder gets here
                    raise CorruptObject(f"chunk {cid.hex()[:12]} does not hash to its id; "
                                        "run `git mlv fsck`")
                yield data
        yield from held

    def readinto(self, b: memoryview | bytearray) -> int:
        """Fill ``b`` as far as the stream allows; 0 at the end."""
        view = memoryview(b).cast("B")
        n = 0
        while n < len(view):
            if not self._cur:
                piece = next(self._pieces, None)
                if piece is None:
                    return n + (self._tail.readinto(view[n:]) or 0)
                self._cur = memoryview(piece)
            k = min(len(view) - n, len(self._cur))
            view[n:n + k] = self._cur[:k]
            self._cur = self._cur[k:]
            n += k
        return n


def same_file(pool: Pool, chunks: list[tuple[bytes, int]], stream: Readable) -> Readable | None:
    """None when ``stream`` is exactly the file of ``chunks`` (every chunk hashed against its id
    at its position, stored intact, and nothing after); else a stream that gives exactly the bytes
    ``stream`` had. MissingObject (nothing read yet) when a chunk is not in the pool; CorruptObject
    when a chunk the content matches is damaged in the pool."""
    ids = [cid for cid, _ in chunks]
    paths, rows = _locate(pool, ids)
    depth = 2 * max(1, pool.settings.threads)  # ~1 MiB a task: a few MiB in memory
    limit = _TASK_CHUNKS * pool.settings.chunk_max
    # first chunk, buffer, the bytes read into it, verdict
    window: deque[tuple[int, bytearray, memoryview, Future[int]]] = deque()
    # buffers whose task is done, filled again: a new 1 MiB bytearray is zeroed and faulted in
    # each time (memset and page faults were ~5 % of a racy `git status`'s samples)
    spare: list[bytearray] = []
    done = 0  # chunks proven equal and no longer held
    batches = chunkread.batches(rows, limit)
    first = 0
    ended = False
    while True:
        while not ended and len(window) < depth:
            piece = next(batches, None)
            if piece is None:
                break
            want = sum(r[3] for r in piece)  # at most limit + chunk_max
            buf = spare.pop() if spare else bytearray(limit + pool.settings.chunk_max)
            got = _read_full(stream, memoryview(buf)[:want])
            ended = len(got) < want
            window.append((first, buf, got, pool.executor.submit(_check_piece, pool, paths, piece, got)))
            first += len(piece)
        if not window:
            break
        start, buf, got, verdict = window[0]
        try:
            good = verdict.result()
        except BaseException:
            for *_, f in window:
                f.cancel()
            raise
        end = window[1][0] if len(window) > 1 else first
        if start + good < end:  # a difference: replay what was consumed, then hand it all over
            for *_, f in window:
                f.cancel()
            return _Replay(pool, ids[:done], [v for _, _, v, _ in window], stream)
        window.popleft()
        spare.append(buf)
        done = end
    extra = _read_full(stream, memoryview(bytearray(1)))
    if extra:  # longer than the stored file
        return _Replay(pool, ids, [extra], stream)
    return None
