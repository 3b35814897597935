"""What each git object holds, as far as git-mlv cares: a pointer, or not (docs/formats.md#pointer-cache).

``git mlv status`` on 50,000 tracked files must not read 50,000 pointer blobs from git each time
(measured here: 0.39 s in process with libgit2, 0.53 s with ``git cat-file --batch``, against a
budget of 0.75 s for the whole command). A git object never changes, so what its content parses
to never changes either: this cache maps a git object id to the pointer it holds (or to "not a
pointer") and is never invalidated, only added to. The filter adds the pointers it writes, and the
walks add what they had to read.

Files ``<pool>/pointer-cache/pc-<16 hex>.mpc``, each sorted and immutable; new entries go into a new
file, and small files are merged geometrically (like ``git repack --geometric``), so there are
O(log n) files and each entry is rewritten O(log n) times. Every file is checked against its
checksum when opened: a damaged entry must never name the wrong data. The cache is only an
optimisation: any file that cannot be read or written is ignored, and a miss reads the blob.
"""

from __future__ import annotations

import hashlib
import itertools
import mmap
import os
import struct
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import TYPE_CHECKING, NamedTuple

from ..core.fsutil import FileSystemError, atomic_write_pieces, makedirs, try_lock, unlock
from ..core.pointer import Pointer

if TYPE_CHECKING:
    import numpy as np


MAGIC = b"MLVPTRC\0"
VERSION = 1
SUPPORTED_VERSIONS = (1,)
HEADER = struct.Struct("<8sII")  # magic, version, count
KEY_SIZE = 20  # git object ids; a sha256 repository's ids are cut to their first 20 bytes
VALUE = struct.Struct("<32sQI")  # oid 32 | size u64 | length u32
VALUE_SIZE = VALUE.size
TRAILER_SIZE = 32
NOT_POINTER = 2**64 - 1  # the size of an entry whose object is not a pointer
_GEOMETRIC = 2  # keep a file only if it holds at least twice the entries of all smaller ones together
SUFFIX = ".mpc"


@cache
def _value_dtype() -> np.dtype:
    # numpy is imported on first use: a hook that reads a few blobs never opens the cache, and
    # importing numpy costs ~0.1 s (docs/design-notes.md, start-up)
    import numpy as np

    return np.dtype([("oid", "u1", (32,)), ("size", "<u8"), ("length", "<u4")])


class PointerBlob(NamedTuple):
    """A git blob that is a pointer: the pointer's oid and size, and the blob's own length in bytes.

    Flat fields, not a Pointer inside: status makes one per tracked file, and a frozen dataclass
    costs twice a tuple to build (measured: 50,000 in ~80 ms against ~35 ms).
    """

    oid: str
    size: int
    length: int

    @property
    def pointer(self) -> Pointer:
        """The pointer (without extra keys: the cache does not keep them)."""
        return Pointer(self.oid, self.size)


def key_of(object_id: str) -> bytes:
    """The cache key of a git object id (hex): its first 20 bytes."""
    return bytes.fromhex(object_id[: 2 * KEY_SIZE])


def _row(key: bytes, pb: PointerBlob | None) -> bytes:
    """One entry as a file holds it: key, then value."""
    if pb is None:
        return key + VALUE.pack(bytes(32), NOT_POINTER, 0)
    return key + VALUE.pack(bytes.fromhex(pb.oid), pb.size, pb.length)


# Rows per piece of a file written from Python rows (``_file_pieces``).
_ROWS_PER_PIECE = 4096


def _file_pieces(rows: list[bytes]) -> tuple[int, Iterator[bytes]]:
    """A cache file over ``rows`` (key then value bytes each, in any order; of equal keys one is
    kept) as (its size, its bytes in pieces).

    With ``struct``, not numpy: the filter of a one-file checkout writes one entry, and importing
    numpy for it cost more than the rest of that filter's life (issue 9; 50,000 entries take ~30 ms).
    Rows, not a dict of ids to tuples: the filter of a clone writes 50,000 at a time, and that dict
    with its copies held ~36 MB (the clone's peak, issue 9); rows are ~100 bytes each.
    """
    rows.sort()  # by key first; equal keys hold equal values
    if len(rows) > 1:
        rows[:] = [r for i, r in enumerate(rows) if i == 0 or r[:KEY_SIZE] != rows[i - 1][:KEY_SIZE]]
    head = HEADER.pack(MAGIC, VERSION, len(rows))

    def body() -> Iterator[bytes]:
        yield head
        for part in (slice(None, KEY_SIZE), slice(KEY_SIZE, None)):
            for i in range(0, len(rows), _ROWS_PER_PIECE):
                yield b"".join(r[part] for r in rows[i:i + _ROWS_PER_PIECE])

    return _with_trailer(len(head) + len(rows) * (KEY_SIZE + VALUE_SIZE), body())


def _with_trailer(size: int, body: Iterator[bytes]) -> tuple[int, Iterator[bytes]]:
    """(size, pieces) of a file: ``body`` (``size`` bytes) and then its sha256."""

    def pieces() -> Iterator[bytes]:
        h = hashlib.sha256()
        for piece in body:
            h.update(piece)
            yield piece
        yield h.digest()

    return size + TRAILER_SIZE, pieces()


class _File:
    """One checked, memory-mapped cache file."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size < HEADER.size + TRAILER_SIZE:
                raise ValueError("truncated")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        magic, version, count = HEADER.unpack_from(self._map, 0)
        if magic != MAGIC:
            raise ValueError("not a pointer cache file")
        if version not in SUPPORTED_VERSIONS:
            raise LookupError(f"version {version}")
        if size != HEADER.size + count * (KEY_SIZE + VALUE_SIZE) + TRAILER_SIZE:
            raise ValueError("size does not match the count")
        with memoryview(self._map) as view:  # not a slice of the map: that copied the whole file
            digest = hashlib.sha256(view[: size - TRAILER_SIZE]).digest()
        if digest != self._map[size - TRAILER_SIZE:]:
            raise ValueError("checksum mismatch")
        self.count = count
        self._keys: np.ndarray | None = None
        self._values: np.ndarray | None = None
        self._prefixes: np.ndarray | None = None

    @property
    def keys(self) -> np.ndarray:
        """The sorted key column (``S20``; imports numpy on first use)."""
        if self._keys is None:
            import numpy as np

            self._keys = np.frombuffer(self._map, dtype=f"S{KEY_SIZE}", count=self.count, offset=HEADER.size)
        return self._keys

    @property
    def prefixes(self) -> np.ndarray:
        """The keys' first 8 bytes as big-endian integers (sorted as the keys are)."""
        if self._prefixes is None:
            import numpy as np

            prefix = np.dtype({"names": ["p"], "formats": [">u8"], "offsets": [0], "itemsize": KEY_SIZE})
            self._prefixes = np.frombuffer(self._map, dtype=prefix, count=self.count,
                                           offset=HEADER.size)["p"].astype(np.uint64)
        return self._prefixes

    @property
    def values(self) -> np.ndarray:
        """The value column (imports numpy on first use)."""
        if self._values is None:
            import numpy as np

            self._values = np.frombuffer(self._map, dtype=_value_dtype(), count=self.count,
                                         offset=HEADER.size + self.count * KEY_SIZE)
        return self._values

    def close(self) -> None:
        """Release the mapping (its touched pages count in RSS until then)."""
        self._keys = self._values = self._prefixes = None
        try:
            self._map.close()
        except BufferError:
            pass  # a view of it is still alive: the GC unmaps it

    def rows(self) -> Iterator[tuple[bytes, bytes]]:
        """(key, value bytes) of every entry, in order, without numpy (small merges)."""
        m, n = self._map, self.count
        vals = HEADER.size + n * KEY_SIZE
        for i in range(n):
            at = HEADER.size + i * KEY_SIZE
            yield m[at:at + KEY_SIZE], m[vals + i * VALUE_SIZE:vals + (i + 1) * VALUE_SIZE]


def _rows_of(files: list[_File], query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the file of each key of ``query`` (``S20``) among ``files``, -1 where none holds it; its
    row there). Searched by the keys' first 8 bytes as integers, then checked whole: a search
    of ``S20`` strings cost ~0.1 s for 200,000 keys, this ~0.03 s."""
    import numpy as np

    prefix = np.dtype({"names": ["p"], "formats": [">u8"], "offsets": [0], "itemsize": KEY_SIZE})
    q = np.frombuffer(np.ascontiguousarray(query).tobytes(), dtype=prefix)["p"].astype(np.uint64)
    row = np.full(len(query), -1, dtype=np.int64)
    which = np.full(len(query), -1, dtype=np.int64)
    for n, f in enumerate(files):
        if f.count == 0:
            continue
        todo = np.flatnonzero(which < 0)
        if len(todo) == 0:
            break
        starts = f.prefixes.searchsorted(q[todo])
        starts[starts >= f.count] = f.count - 1
        hit = f.keys[starts] == query[todo]
        # two keys sharing their first 8 bytes (1 in 2^64 a pair): the slow search settles it
        odd = np.flatnonzero(~hit & (f.prefixes[starts] == q[todo]))
        if len(odd):
            again = f.keys.searchsorted(query[todo[odd]])
            again[again >= f.count] = f.count - 1
            starts[odd] = again
            hit[odd] = f.keys[again] == query[todo[odd]]
        row[todo[hit]] = starts[hit]
        which[todo[hit]] = n
    return which, row


class KeyLookup:
    """What the cache knows of many keys: masks over them, and the pointer of any one."""

    def __init__(self, files: list[_File], which: np.ndarray, row: np.ndarray) -> None:
        import numpy as np

        self._files, self._which, self._row = files, which, row
        self.known = which >= 0  # the cache knows the object: a pointer or not
        self.pointer = np.zeros(len(which), dtype=bool)
        # the pointer blob's length in bytes (0 where not a pointer or not known): a worktree
        # file of another size does not hold its text (indexstat.IndexTable.suspects)
        self.length = np.zeros(len(which), dtype=np.uint32)
        for n, f in enumerate(files):
            sel = np.flatnonzero(which == n)
            if len(sel):
                vals = f.values[row[sel]]
                is_pointer = vals["size"] != NOT_POINTER
                self.pointer[sel] = is_pointer
                self.length[sel] = np.where(is_pointer, vals["length"], 0)

    def blob(self, i: int) -> PointerBlob | None:
        """The pointer blob of key ``i`` (None: not a pointer, or not known)."""
        if not self.pointer[i]:
            return None
        v = self._files[int(self._which[i])].values[int(self._row[i])]
        return PointerBlob(v["oid"].tobytes().hex(), int(v["size"]), int(v["length"]))


class PointerCache:
    """The pointer cache in folder ``root`` (created on first write)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._files: list[_File] | None = None
        self.damaged: list[str] = []  # files found damaged (and removed) while loading

    def _load(self) -> list[_File]:
        if self._files is None:
            self._files = []
            try:
                names = sorted(n for n in os.listdir(self.root) if n.endswith(SUFFIX))
            except OSError:
                names = []
            for name in names:
                path = os.path.join(self.root, name)
                try:
                    self._files.append(_File(path))
                except FileNotFoundError:
                    pass  # merged away by another process since we listed the folder
                except LookupError:
                    pass  # written by a newer git-mlv sharing this pool: not ours to judge
                except (ValueError, OSError):
                    self.damaged.append(path)
                    try:
                        os.unlink(path)
                    except OSError:
                        pass
        return self._files

    def lookup(self, object_ids: Sequence[str]) -> tuple[dict[str, PointerBlob | None], list[str]]:
        """(what the cache knows: id -> pointer blob or None for "not a pointer", ids it does not know)."""
        import numpy as np

        files = self._load()
        ids = list(dict.fromkeys(object_ids))
        if not files or not ids:
            return {}, ids
        query = np.frombuffer(bytes.fromhex("".join(i[: 2 * KEY_SIZE] for i in ids)), dtype=f"S{KEY_SIZE}")
        which, row = _rows_of(files, query)
        known: dict[str, PointerBlob | None] = {}
        for n, f in enumerate(files):
            sel = np.flatnonzero(which == n)
            if len(sel) == 0:
                continue
            vals = f.values[row[sel]]
            hexes = vals["oid"].tobytes().hex()  # one conversion, then slices: 50k oids in ~10 ms
            oids = [hexes[k:k + 64] for k in range(0, len(hexes), 64)]
            new = tuple.__new__  # what PointerBlob() calls, without its Python frame: 50k a status
            known.update(zip([ids[i] for i in sel.tolist()],
                             [None if size == NOT_POINTER else new(PointerBlob, (oid, size, length))
                              for oid, size, length in zip(oids, vals["size"].tolist(),
                                                           vals["length"].tolist())]))
        missing = [ids[i] for i in np.flatnonzero(which < 0).tolist()]
        return known, missing

    def lookup_keys(self, keys: np.ndarray) -> KeyLookup:
        """``lookup`` for many keys (``S20``, ``key_of``) at once, without a Python object per key
        (status asks this of every file of the index)."""
        files = self._load()
        return KeyLookup(files, *_rows_of(files, keys))

    def add(self, found: Mapping[str, PointerBlob | None], merge_limit: int | None = None) -> None:
        """Remember these objects (id -> pointer blob, or None: not a pointer); best effort.

        ``merge_limit``: merge no more entries than this at once (the filter, whose memory must
        stay flat, leaves bigger merges to the next command that adds).
        """
        self.add_rows([_row(key_of(i), v) for i, v in found.items()], merge_limit)

    def add_rows(self, rows: list[bytes], merge_limit: int | None = None) -> None:
        """``add`` of entries given as their bytes in a file (key, then value; ``_row``)."""
        if not rows:
            return
        try:
            makedirs(self.root)
            path = os.path.join(self.root, f"pc-{os.urandom(8).hex()}{SUFFIX}")  # no `secrets`: its
            # import (random, hmac, base64) was most of this module's at the filter's exit
            size, pieces = _file_pieces(rows)
            atomic_write_pieces(path, pieces, size, durable=False)  # checksummed: a torn file is dropped
            self._files = None  # the next lookup lists the folder again
            self._merge(merge_limit)
        except (OSError, ValueError, FileSystemError):  # FileSystemError: fsutil's words for an OSError
            pass  # read-only or full: the cache is an optimisation, the answer is the same without it

    def _merge(self, limit: int | None = None) -> None:
        """Merge the smallest files while they are not much smaller than the next one up."""
        lock = try_lock(os.path.join(self.root, "merge.lock"), create=True)
        if lock is None:
            return  # another process is merging
        try:
            counts = []  # (count, path) from the headers alone: deciding costs no checksum
            for name in os.listdir(self.root):
                if name.endswith(SUFFIX):
                    path = os.path.join(self.root, name)
                    try:
                        with open(path, "rb") as fh:
                            magic, version, count = HEADER.unpack(fh.read(HEADER.size))
                    except (OSError, struct.error):
                        continue
                    if magic == MAGIC and version == VERSION:
                        counts.append((count, path))
            counts.sort(reverse=True)
            merge_from, smaller = len(counts), 0
            for i in range(len(counts) - 1, -1, -1):
                if i < len(counts) - 1 and counts[i][0] >= _GEOMETRIC * smaller:
                    break
                smaller += counts[i][0]
                merge_from = i
            if limit is not None and sum(c for c, _ in counts[merge_from:]) > limit:
                return
            group = []
            for _, path in counts[merge_from:]:
                try:
                    group.append(_File(path))
                except (ValueError, LookupError, OSError):
                    continue  # damaged or gone: left for the next reader to judge
            if len(group) < 2:
                return
            size, pieces = _merged(group)
            atomic_write_pieces(os.path.join(self.root, f"pc-{os.urandom(8).hex()}{SUFFIX}"), pieces, size,
                                durable=False)
            for f in group:  # the merged file is in place first: a reader always finds every entry
                try:
                    os.unlink(f.path)
                except FileNotFoundError:
                    pass
            self._files = None
        finally:
            unlock(lock)

    def files(self) -> list[str]:
        """Paths of the cache files (for tests and ``du``)."""
        return [f.path for f in self._load()]


# Merges of up to this many entries are done in plain Python: the filter of a one-file checkout
# merges a few entries, and numpy's import (~0.1 s) would be most of its life (issue 9).
_SMALL_MERGE = 4096


def _merged(group: list[_File]) -> tuple[int, Iterator[bytes]]:
    """(size, pieces) of one file holding every entry of ``group`` once, sorted."""
    if sum(f.count for f in group) <= _SMALL_MERGE:
        return _file_pieces([bytes(k) + bytes(v) for f in group for k, v in f.rows()])
    import numpy as np

    from ..core import sortedrows

    keys = np.concatenate([f.keys for f in group])
    values = np.concatenate([f.values for f in group])
    for f in group:
        f.close()  # copied: the mapped pages need not count in RSS while the merge is written
    order = sortedrows.first_in_order(keys)  # equal keys hold equal values
    head = HEADER.pack(MAGIC, VERSION, len(order))
    size = len(head) + len(order) * (KEY_SIZE + VALUE_SIZE)
    return _with_trailer(size, itertools.chain([head], sortedrows.gathered([keys, values], order)))


def folder(mlv_dir: str) -> str:
    """The pointer cache's folder in the pool at ``mlv_dir``."""
    return os.path.join(mlv_dir, "pointer-cache")
