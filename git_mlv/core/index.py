"""Pack indexes: sorted keys -> location, memory-mapped and binary-searched (docs/formats.md#index).

Layout (little-endian)::

    header   magic b"MLVIDX\\0\\0" | version u32 | count u32                          16 bytes
    keys     count x (id 32 | kind u8), sorted ascending                           33 each
    records  count x (offset u64 | stored_len u32 | raw_len u32 | codec u8 | pad 3)  20 each
    trailer  sha256 of everything above                                             32 bytes

The key carries the kind, so a chunk and a manifest with the same id (a one-chunk file's id is its
chunk's id) are two different keys and never shadow each other. Nothing is built in memory when an
index is opened. One key is found by a binary search over the mmapped key column in plain Python
(``find``, ``entry``: no numpy, whose import is most of a one-file smudge's start-up, issue 9); many
keys at once by numpy's ``searchsorted`` over the same column (``keys``, ``search``: numpy is
imported on first use; shared/notes: 20k lookups in 1M ids take 32 ms).
"""

from __future__ import annotations

import bisect
import contextlib
import functools
import hashlib
import mmap
import os
import struct
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from ..errors import CorruptObject
from .fsutil import atomic_write
from .pack import Entry

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"MLVIDX\0\0"
VERSION = 1
SUPPORTED_VERSIONS = (1,)
HEADER = struct.Struct("<8sII")
KEY_SIZE = 33
# a record, for ``find``/``entry`` (struct) and as numpy's dtype (``record_dtype``): the same bytes
RECORD_STRUCT = struct.Struct("<QIIB3x")
RECORD_SIZE = RECORD_STRUCT.size
TRAILER_SIZE = 32


@functools.cache
def record_dtype() -> np.dtype:
    """numpy's view of a record (offset, stored_len, raw_len, codec, pad)."""
    import numpy as np

    return np.dtype(
        [("offset", "<u8"), ("stored_len", "<u4"), ("raw_len", "<u4"), ("codec", "u1"), ("pad", "V3")]
    )


def key(oid: bytes, kind: int) -> bytes:
    """The 33-byte index key of an object."""
    return oid + bytes((kind,))


def encode(entries: Iterable[Entry]) -> bytes:
    """The bytes of an index over ``entries`` (duplicates of a key keep the first)."""
    by_key: dict[bytes, Entry] = {}
    for e in entries:
        by_key.setdefault(key(e.id, e.kind), e)
    keys = sorted(by_key)
    pack = RECORD_STRUCT.pack
    records = b"".join(pack(e.offset, e.stored_len, e.raw_len, e.codec)
                       for e in map(by_key.__getitem__, keys))
    body = HEADER.pack(MAGIC, VERSION, len(keys)) + b"".join(keys) + records
    return body + hashlib.sha256(body).digest()


def write(path: str, entries: Iterable[Entry]) -> None:
    """Write an index atomically (temp file + fsync + rename): the index is the pack's commit point."""
    atomic_write(path, encode(entries))


class KeyTable:
    """A sorted key column and its record column in a mapping (a pack index, a midx): one key found
    by a binary search without numpy, the columns as numpy views on demand."""

    _map: mmap.mmap
    count: int
    _key_start: int
    _rec_start: int
    _dtype: Callable[[], np.dtype]
    _keys: np.ndarray | None = None
    _records: np.ndarray | None = None

    @property
    def keys(self) -> np.ndarray:
        """The sorted key column as an ``S33`` array (a view of the mapping; imports numpy)."""
        if self._keys is None:
            import numpy as np

            self._keys = np.frombuffer(self._map, dtype=f"S{KEY_SIZE}", count=self.count,
                                       offset=self._key_start)
        return self._keys

    @property
    def records(self) -> np.ndarray:
        """The record column as a numpy structured array (a view of the mapping; imports numpy)."""
        if self._records is None:
            import numpy as np

            self._records = np.frombuffer(self._map, dtype=self._dtype(), count=self.count,
                                          offset=self._rec_start)
        return self._records

    def find(self, k: bytes) -> int:
        """Row of key ``k``, or -1: a binary search over the mapping, by numpy's ``searchsorted``
        once numpy is loaded anyway (the pool writer's codec choice loads it): ~2 us a table
        against ~8 for the plain-Python search, and a commit's new chunks miss every table
        (bench/RESULTS.md, commit5). Without numpy loaded, no numpy (a smudge's start-up)."""
        if self._keys is None and "numpy" not in sys.modules:
            return find_key(self._map, self._key_start, self.count, k)
        keys = self.keys
        i = int(keys.searchsorted(k))
        return i if i < self.count and keys[i] == k else -1

    def drop_pages(self) -> None:
        """Hand back the pages of the mapping that reads touched: they count in the process's RSS
        until then (a 600,000-object midx: 33 MB). Later reads fault them in again from the page
        cache; numpy views stay valid (same addresses)."""
        with contextlib.suppress(AttributeError, OSError, ValueError):  # no madvise, or closed
            self._map.madvise(mmap.MADV_DONTNEED)


class IndexFile(KeyTable):
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
        if size != HEADER.size + count * (KEY_SIZE + RECORD_SIZE) + TRAILER_SIZE:
            raise CorruptObject(f"{path}: index size does not match its count; run `git mlv fsck`")
        self.count = count
        self._key_start = HEADER.size
        self._rec_start = HEADER.size + count * KEY_SIZE
        self._dtype = record_dtype

    def contains_many(self, keys: np.ndarray) -> np.ndarray:
        """Boolean mask: which of ``keys`` (an ``S33`` array) this index holds."""
        return search(self.keys, keys)[0]

    def search(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For an ``S33`` array: (found mask, row of each key; meaningless where not found)."""
        return search(self.keys, arr)

    def entry(self, i: int) -> Entry:
        """The entry at row ``i``."""
        at = HEADER.size + i * KEY_SIZE
        offset, stored_len, raw_len, codec = RECORD_STRUCT.unpack_from(
            self._map, self._rec_start + i * RECORD_SIZE)
        return Entry(self._map[at:at + 32], self._map[at + 32], codec, offset, stored_len, raw_len)

    def __iter__(self) -> Iterator[Entry]:
        for i in range(self.count):
            yield self.entry(i)

    def verify(self) -> None:
        """Check the trailer checksum and key order."""
        body = self._map[: len(self._map) - TRAILER_SIZE]
        if hashlib.sha256(body).digest() != self._map[len(self._map) - TRAILER_SIZE :]:
            raise CorruptObject(f"{self.path}: index checksum mismatch")
        if self.count > 1 and not bool((self.keys[1:] > self.keys[:-1]).all()):
            raise CorruptObject(f"{self.path}: index keys are not sorted")

    def close(self) -> None:
        """Release the mapping."""
        self._keys = self._records = None
        try:
            self._map.close()
        except BufferError:
            pass  # a numpy view is still alive somewhere; the GC will unmap it


_INTERPOLATIONS = 4  # guesses before the binary search takes over (log2 log2 10^6 ~ 4.3)
_NARROW = 16  # rows left for the binary search to finish


def find_key(buf: mmap.mmap, start: int, count: int, k: bytes) -> int:
    """Row of the 33-byte key ``k`` in the sorted column of ``count`` keys at ``start`` of ``buf``,
    or -1.

    Keys begin with a sha256 digest, so they are spread evenly: a key's row is about where its first
    8 bytes fall between the first 8 bytes of the range's ends. A few such guesses narrow the range
    to ~16 rows (interpolation search: ~log2 log2 n steps), then a binary search finishes it. Each
    guess only narrows [lo, hi) by a comparison, as a binary search step does, so keys that are not
    spread evenly (tests' made-up ids) cost at most ``_INTERPOLATIONS`` more slices, never a wrong
    answer. The 2,000 small files of the scale-1 switch, 13 packs: 12.8 key slices a lookup before,
    6.3 after (bench/RESULTS.md, chk5).
    """
    lo, hi = 0, count
    t = int.from_bytes(k[:8], "big")
    v_lo, v_hi = 0, 1 << 64  # v_lo <= t < v_hi: bounds of the prefixes of rows lo .. hi-1
    for _ in range(_INTERPOLATIONS):
        n = hi - lo
        if n <= _NARROW:
            break
        i = lo + (t - v_lo) * n // (v_hi - v_lo)
        at = start + i * KEY_SIZE
        row = buf[at:at + KEY_SIZE]
        if row < k:
            lo, v_lo = i + 1, int.from_bytes(row[:8], "big")
        elif row > k:
            hi, v_hi = i, int.from_bytes(row[:8], "big") + 1
        else:
            return i
    i = bisect.bisect_left(range(count), k, lo, hi,
                           key=lambda r: buf[start + r * KEY_SIZE:start + (r + 1) * KEY_SIZE])
    if i < count and buf[start + i * KEY_SIZE:start + (i + 1) * KEY_SIZE] == k:
        return i
    return -1


def search(keys: np.ndarray, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(found mask, row) of each key of the ``S33`` array ``arr`` in the sorted column ``keys``."""
    import numpy as np

    n = len(keys)
    if n == 0 or len(arr) == 0:
        return np.zeros(len(arr), dtype=bool), np.zeros(len(arr), dtype=np.intp)
    pos = np.searchsorted(keys, arr)
    pos[pos >= n] = n - 1
    return keys[pos] == arr, pos
