"""Verifying fetched files as their chunks arrive (remotes/fetch.py): the whole-file sha256 fed
in file order, chunks that come early held within a budget, the rest read back from the pool.

A file's chunks are a ``core.manifest.chunk_table``: columns viewing the manifest's bytes, 36
bytes a chunk, no Python object per chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

import numpy as np

from ..core.compress import decompress
from ..core.pack import KIND_CHUNK
from ..core.pool import Pool
from ..errors import CorruptObject
from .ranges import Range


class FileHash:
    """The whole-file sha256 of a multi-chunk file, fed chunk by chunk as they arrive in order.
    ``table`` is its manifest's ``chunk_table``: ids and lengths as columns viewing the manifest's
    bytes (a tuple per chunk cost ~150 bytes: a 20 GiB model's 330,000 chunks, 50 MB)."""

    def __init__(self, oid: str, table: np.ndarray) -> None:
        self.oid, self.ids, self.lens, self.pos, self.hash = oid, table["id"], table["len"], 0, \
            hashlib.sha256()
        self.count = len(table)

    def cid(self, pos: int) -> bytes:
        """The id of chunk ``pos``."""
        return self.ids[pos].tobytes()  # type: ignore[no-any-return]


class StreamingVerifier:
    """Hashes files while their chunks arrive, so most files are verified without reading their
    chunks back from the pool (``finish_hash``).

    Ranges are downloaded in the order the files need them (``in_file_order``), but a range holds
    a run of one pack: a file whose chunks sit in two packs (a new version sharing most chunks with
    the old) gets a few chunks before their turn. Those are held (``ahead``, at most ``budget``
    bytes) until the file reaches them; past the budget the file is finished from the pool.
    """

    def __init__(self, files: list[FileHash], budget: int) -> None:
        self.files = files
        self.waiting: dict[bytes, list[FileHash]] = {}
        self.ahead: dict[bytes, bytes] = {}
        self.ahead_bytes, self.budget = 0, budget
        for f in files:
            if f.count:
                self.waiting.setdefault(f.cid(0), []).append(f)

    def feed(self, cid: bytes, raw: bytes) -> None:
        """A chunk arrived: advance the files waiting for it, or hold it for later."""
        files = self.waiting.pop(cid, None)
        if files is None:
            if cid not in self.ahead and self.ahead_bytes + len(raw) <= self.budget:
                self.ahead[cid] = raw
                self.ahead_bytes += len(raw)
            return
        for f in files:
            self._advance(f, cid, raw)

    def _advance(self, f: FileHash, cid: bytes, raw: bytes) -> None:
        while True:
            while f.pos < f.count and f.cid(f.pos) == cid:
                f.hash.update(raw)
                f.pos += 1
            if f.pos >= f.count:
                return
            cid = f.cid(f.pos)
            held = self.ahead.pop(cid, None)
            if held is None:
                self.waiting.setdefault(cid, []).append(f)
                return
            self.ahead_bytes -= len(held)
            raw = held


def in_file_order(ranges: list[Range], rank: Mapping[bytes, int]) -> list[Range]:
    """``ranges`` sorted by the first place a file needs one of their chunks (``rank``: chunk id
    -> its place in the files' order, file by file, then by position, for the chunks of files with
    a manifest), so that ``StreamingVerifier`` sees chunks nearly in order; ranges of single-chunk
    files keep their pack order, after the others. ``rank`` covers one window's chunks: before, a
    map of every chunk of every file was built for each window (a tuple and a dict slot per chunk)."""
    last = len(rank)
    return sorted(ranges, key=lambda r: min((rank.get(e.id, last) for e in r.entries), default=last))


def finish_hash(pool: Pool, f: FileHash, damaged: list[str]) -> bool:
    """Complete a file's hash from the pool where streaming stopped (chunks that were here before,
    or arrived out of order); record a problem when the file does not hash to its oid.

    Each chunk was checked against its own id when it entered the pool; only the whole-file hash
    is new, so chunks are decompressed without hashing them a second time.
    """
    try:
        for pos in range(f.pos, f.count):
            cid, n = f.cid(pos), int(f.lens[pos])
            loc = pool.locate(cid, KIND_CHUNK)
            if loc is None:
                return False  # missing or damaged on the remote: already reported
            data = decompress(loc.entry.codec, pool.read_stored(loc), loc.entry.raw_len)
            if len(data) != n:
                raise CorruptObject("a chunk has the wrong length")
            f.hash.update(data)
    except CorruptObject as err:
        damaged.append(f"file {f.oid[:12]}: {err}")
        return False
    if f.hash.hexdigest() != f.oid:
        damaged.append(f"file {f.oid[:12]}: its chunks on the remote do not hash to its id")
        return False
    return True
