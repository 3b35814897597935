"""Pack indexes: sorted keys -> location, memory-mapped and binary-searched (docs/formats.md#index).

Layout (little-endian)::

    header   magic b"MLVIDX\\0\\0" | version u32 | count u32                          16 bytes
    keys     count x (id 32 | kind u8), sorted ascending                           33 each
    records  count x (offset u64 | stored_len u32 | raw_len u32 | codec u8 | pad 3)  20 each
    trailer  sha256 of everything above                                             32 bytes

The key carries the kind, so a chunk and a manifest with the same id (a one-chunk file's id is its
chunk's id) are two different keys and never shadow each other. Lookups are numpy ``searchsorted``
over the mmapped key column: nothing is built in memory at start-up (shared/notes: 20k lookups in
1M ids take 32 ms).
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
from collections.abc import Iterable, Iterator

import numpy as np

from ..errors import CorruptObject
from .fsutil import atomic_write
from .pack import Entry

MAGIC = b"MLVIDX\0\0"
VERSION = 1
SUPPORTED_VERSIONS = (1,)
HEADER = struct.Struct("<8sII")
KEY_SIZE = 33
RECORD = np.dtype(
    [("offset", "<u8"), ("stored_len", "<u4"), ("raw_len", "<u4"), ("codec", "u1"), ("pad", "V3")]
)
TRAILER_SIZE = 32


def key(oid: bytes, kind: int) -> bytes:
    """The 33-byte index key of an object."""
    return oid + bytes((kind,))


def encode(entries: Iterable[Entry]) -> bytes:
    """The bytes of an index over ``entries`` (duplicates of a key keep the first)."""
    by_key: dict[bytes, Entry] = {}
    for e in entries:
        by_key.setdefault(key(e.id, e.kind), e)
    keys = sorted(by_key)
    records = np.zeros(len(keys), dtype=RECORD)
    for i, k in enumerate(keys):
        e = by_key[k]
        records[i] = (e.offset, e.stored_len, e.raw_len, e.codec, b"\0\0\0")
    body = HEADER.pack(MAGIC, VERSION, len(keys)) + b"".join(keys) + records.tobytes()
    return body + hashlib.sha256(body).digest()


def write(path: str, entries: Iterable[Entry]) -> None:
    """Write an index atomically (temp file + fsync + rename): the index is the pack's commit point."""
    atomic_write(path, encode(entries))


class IndexFile:
    """A read-only, memory-mapped pack index."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < HEADER.size + TRAILER_SIZE:
                raise CorruptObject(f"{path}: truncated index; run `git mlv fsck`")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        magic, version, count = HEADER.unpack_from(self._map, 0)
        if magic != MAGIC:
            raise CorruptObject(f"{path}: not a git-mlv index")
        if version not in SUPPORTED_VERSIONS:
            raise CorruptObject(f"{path}: index version {version} is not supported; upgrade git-mlv")
        if size != HEADER.size + count * (KEY_SIZE + RECORD.itemsize) + TRAILER_SIZE:
            raise CorruptObject(f"{path}: index size does not match its count; run `git mlv fsck`")
        self.count = count
        self.keys = np.frombuffer(self._map, dtype=f"S{KEY_SIZE}", count=count, offset=HEADER.size)
        self.records = np.frombuffer(
            self._map, dtype=RECORD, count=count, offset=HEADER.size + count * KEY_SIZE
        )

    def find(self, k: bytes) -> int:
        """Row of key ``k``, or -1."""
        i = int(self.keys.searchsorted(k))  # the method: np.searchsorted's wrapper costs ~5 us
        if i < self.count and self.keys[i] == k:
            return i
        return -1

    def contains_many(self, keys: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``keys`` (an ``S33`` array) this index holds."""
        return search(self.keys, keys)[0]

    def search(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For an ``S33`` array: (found mask, row of each key; meaningless where not found)."""
        return search(self.keys, arr)

    def entry(self, i: int) -> Entry:
        """The entry at row ``i``."""
        k = bytes(self._map[HEADER.size + i * KEY_SIZE : HEADER.size + (i + 1) * KEY_SIZE])
        r = self.records[i]
        return Entry(
            k[:32], k[32], int(r["codec"]), int(r["offset"]), int(r["stored_len"]), int(r["raw_len"])
        )

    def __iter__(self) -> Iterator[Entry]:
        for i in range(self.count):
            yield self.entry(i)

    def verify(self) -> None:
        """Check the trailer checksum and key order."""
        body = self._map[: len(self._map) - TRAILER_SIZE]
        if hashlib.sha256(body).digest() != self._map[len(self._map) - TRAILER_SIZE :]:
            raise CorruptObject(f"{self.path}: index checksum mismatch")
        if self.count > 1 and not bool(np.all(self.keys[1:] > self.keys[:-1])):
            raise CorruptObject(f"{self.path}: index keys are not sorted")

    def close(self) -> None:
        """Release the mapping."""
        self.keys = self.records = None  # type: ignore[assignment]
        try:
            self._map.close()
        except BufferError:
            pass  # a numpy view is still alive somewhere; the GC will unmap it


def search(keys: np.ndarray, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found mask, row) of each key of the ``S33`` array ``arr`` in the sorted column ``keys``."""
    n = len(keys)
    if n == 0 or len(arr) == 0:
        return np.zeros(len(arr), dtype=bool), np.zeros(len(arr), dtype=np.intp)
    pos = np.searchsorted(keys, arr)
    pos[pos >= n] = n - 1
    return keys[pos] == arr, pos
