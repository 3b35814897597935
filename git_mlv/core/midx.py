"""Multi-pack indexes: one sorted table of the objects of many packs (docs/formats.md#midx).

Layout (little-endian)::

    header   magic b"MLVMIDX\\0" | version u32 | pack count u32 | object count u64       24 bytes
    packs    pack count x 16 bytes: covered pack names (pack-<32 hex>) as raw bytes, ascending
    keys     count x (id 32 | kind u8), sorted ascending, each key once                   33 each
    records  count x (offset u64 | stored_len u32 | raw_len u32 | pack u32 | codec u8 | pad 3)
    trailer  sha256 of everything above                                                  32 bytes

The same file serves the local pool (``packs/pool.midx``, one) and remotes
(``packs/midx-<32 hex>.midx``, a few). Lookups are as in a pack index (core/index.py): one key by a
binary search in plain Python over the mmapped key column, many by numpy's ``searchsorted``.
Building one merges the sorted key columns of its sources (a stable sort of concatenated sorted
runs: 85 ms for 10^6 keys on this machine).
"""

from __future__ import annotations

import functools
import hashlib
import mmap
import os
import struct
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from ..errors import CorruptObject
from . import sortedrows
from .index import KEY_SIZE, IndexFile, KeyTable, search
from .pack import Entry
from .record import Record

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"MLVMIDX\0"
VERSION = 1
SUPPORTED_VERSIONS = (1,)
HEADER = struct.Struct("<8sIIQ")
NAME_SIZE = 16
# a record, for one lookup (struct) and as numpy's dtype (``record_dtype``): the same bytes
RECORD_STRUCT = struct.Struct("<QIIIB3x")
RECORD_SIZE = RECORD_STRUCT.size
TRAILER_SIZE = 32
LOCAL_NAME = "pool.midx"


@functools.cache
def record_dtype() -> np.dtype:
    """numpy's view of a record (offset, stored_len, raw_len, pack, codec, pad)."""
    import numpy as np

    return np.dtype([("offset", "<u8"), ("stored_len", "<u4"), ("raw_len", "<u4"), ("pack", "<u4"),
                     ("codec", "u1"), ("pad", "V3")])


class UnsupportedVersion(CorruptObject):
    """A midx written by a newer git-mlv: refused rather than guessed at."""


def pack_name(raw: bytes) -> str:
    """``pack-<32 hex>`` from the 16 bytes a midx stores."""
    return "pack-" + raw.hex()


def raw_name(name: str) -> bytes:
    """The 16 bytes a midx stores for ``pack-<32 hex>`` (a path or ``.pack``/``.idx`` name is fine)."""
    base = os.path.basename(name).split(".", 1)[0]
    if not base.startswith("pack-") or len(base) != 37:
        raise ValueError(f"not a pack name: {name!r}")
    return bytes.fromhex(base[5:])


class Source(Record):
    """What a midx is built from: a table of keys and records, and the packs its rows are in."""

    __slots__ = ("keys", "records", "packs")
    keys: np.ndarray  # S33, sorted
    records: np.ndarray  # fields offset, stored_len, raw_len, codec (pack optional)
    packs: Sequence[bytes]  # 16-byte names; one name, or the table a ``pack`` field indexes

    def __init__(self, keys: np.ndarray, records: np.ndarray, packs: Sequence[bytes]) -> None:
        object.__setattr__(self, "keys", keys)
        object.__setattr__(self, "records", records)
        object.__setattr__(self, "packs", packs)


def source_of(table: IndexFile | MidxFile, name: str | None = None) -> Source:
    """A pack index (with its pack's ``name``) or a midx, as a Source."""
    if isinstance(table, MidxFile):
        return Source(table.keys, table.records, table.raw_names)
    assert name is not None
    return Source(table.keys, table.records, [raw_name(name)])


def encode(sources: Sequence[Source], keep: set[bytes] | None = None,
           copied: Callable[[int], None] | None = None) -> bytes:
    """The bytes of a midx over ``sources`` (rows of packs not in ``keep``, when given, are left out).

    A key found in several sources keeps the row of the first. ``copied(i)`` is called once the
    rows of ``sources[i]`` are copied out (e.g. to hand back the pages of the mapping they were read
    from: that one only, or a consolidation of n packs made n x n calls, issue 9).
    """
    _, size, pieces = encode_pieces(sources, keep, copied)
    out = bytearray(size)
    at = 0
    for piece in pieces:
        out[at:at + len(piece)] = piece
        at += len(piece)
    return bytes(out)


def encode_pieces(sources: Sequence[Source], keep: set[bytes] | None = None,
                  copied: Callable[[int], None] | None = None) -> tuple[int, int, Iterator[bytes]]:
    """``encode`` as (object count, size, its bytes in pieces of ``sortedrows.BLOCK`` rows), to
    write a midx to a file without holding it whole (``fsutil.atomic_write_pieces``).

    Held meanwhile: the sources' rows copied out (57 bytes an object) and their order (8); a sorted
    copy and the file's bytes were ~2 x 57 more (73 MB more at 600,000 objects, issue 9).
    """
    import numpy as np

    record = record_dtype()
    names = sorted({n for s in sources for n in s.packs if keep is None or n in keep})
    number = {n: i for i, n in enumerate(names)}
    locals_ = [np.array([number.get(n, -1) for n in s.packs], dtype=np.int64) for s in sources]
    kept = [int((local[s.records["pack"].astype(np.int64)] >= 0).sum()) if _multi(s) else
            (len(s.keys) if len(local) and local[0] >= 0 else 0) for s, local in zip(sources, locals_)]
    # filled in place, a source at a time, each source's mapped pages handed back once copied: the
    # parts and their concatenation held ~2 x 57 bytes an object besides the sources' pages
    keys = np.empty(sum(kept), dtype=f"S{KEY_SIZE}")
    recs = np.zeros(sum(kept), dtype=record)
    at = 0
    for i, (s, local, n) in enumerate(zip(sources, locals_, kept)):
        if n:
            packs = (local[s.records["pack"].astype(np.int64)] if _multi(s)
                     else np.full(len(s.keys), local[0], dtype=np.int64))
            mask = packs >= 0
            keys[at:at + n] = s.keys[mask]
            for f in ("offset", "stored_len", "raw_len", "codec"):
                recs[f][at:at + n] = s.records[f][mask]
            recs["pack"][at:at + n] = packs[mask]
            at += n
            del packs, mask
        if copied is not None:
            copied(i)
    order = sortedrows.first_in_order(keys)  # of a key in several sources, the first one's row
    head = b"".join((HEADER.pack(MAGIC, VERSION, len(names), len(order)), *names))
    size = len(head) + len(order) * (KEY_SIZE + RECORD_SIZE) + TRAILER_SIZE
    columns = [keys, recs]  # each let go once written
    del keys, recs

    def pieces() -> Iterator[bytes]:
        h = hashlib.sha256(head)
        yield head
        for piece in sortedrows.gathered(columns, order):
            h.update(piece)
            yield piece
        yield h.digest()

    return len(order), size, pieces()


def _multi(s: Source) -> bool:
    """True when the source's records name their pack (a midx), not one pack for all."""
    return "pack" in (s.records.dtype.names or ())


def check_bytes(data: bytes | memoryview | mmap.mmap, what: str) -> None:
    """Full check of a midx's bytes (checksum, names, key order, pack numbers): for files that come
    from a remote, for fsck and before gc trusts one."""
    import numpy as np

    view = memoryview(data)
    count, packs = _check_header(view, len(view), what)
    if hashlib.sha256(view[:-TRAILER_SIZE]).digest() != bytes(view[-TRAILER_SIZE:]):
        raise CorruptObject(f"{what}: multi-pack index checksum mismatch")
    names = bytes(view[HEADER.size:HEADER.size + packs * NAME_SIZE])
    raw = [names[i:i + NAME_SIZE] for i in range(0, len(names), NAME_SIZE)]
    if any(b >= a for a, b in zip(raw[1:], raw)):
        raise CorruptObject(f"{what}: multi-pack index pack names are not sorted")
    start = HEADER.size + packs * NAME_SIZE
    keys = np.frombuffer(view, dtype=f"S{KEY_SIZE}", count=count, offset=start)
    if count > 1 and not bool(np.all(keys[1:] > keys[:-1])):
        raise CorruptObject(f"{what}: multi-pack index keys are not sorted")
    recs = np.frombuffer(view, dtype=record_dtype(), count=count, offset=start + count * KEY_SIZE)
    if count and int(recs["pack"].max()) >= packs:
        raise CorruptObject(f"{what}: multi-pack index names a pack it does not list")


def _check_header(view: memoryview | mmap.mmap, size: int, what: str) -> tuple[int, int]:
    if size < HEADER.size + TRAILER_SIZE:
        raise CorruptObject(f"{what}: truncated multi-pack index")
    magic, version, packs, count = HEADER.unpack_from(view, 0)
    if magic != MAGIC:
        raise CorruptObject(f"{what}: not a git-mlv multi-pack index")
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedVersion(f"{what}: multi-pack index version {version} is not supported; "
                                 "upgrade git-mlv")
    if size != HEADER.size + packs * NAME_SIZE + count * (KEY_SIZE + RECORD_SIZE) + TRAILER_SIZE:
        raise CorruptObject(f"{what}: multi-pack index size does not match its counts")
    return count, packs


class MidxFile(KeyTable):
    """A read-only, memory-mapped multi-pack index (structure checked; ``verify`` checks the rest)."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            self.stat = (st.st_ino, st.st_mtime_ns, st.st_size)
            if st.st_size < HEADER.size + TRAILER_SIZE:
                raise CorruptObject(f"{path}: truncated multi-pack index; run `git mlv gc`")
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self.count, packs = _check_header(self._map, st.st_size, path)
        names = self._map[HEADER.size:HEADER.size + packs * NAME_SIZE]
        self.raw_names = [names[i:i + NAME_SIZE] for i in range(0, len(names), NAME_SIZE)]
        self.pack_names = [pack_name(n) for n in self.raw_names]
        start = HEADER.size + packs * NAME_SIZE
        self._key_start = start
        self._rec_start = start + self.count * KEY_SIZE
        self._dtype = record_dtype
        self.verified = False  # set once ``verify`` passed (readers check a midx on their first miss)

    def search(self, arr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For an ``S33`` array: (found mask, row of each key; meaningless where not found)."""
        return search(self.keys, arr)

    def entry(self, i: int) -> Entry:
        """The entry at row ``i``."""
        return self.located(i)[1]

    def located(self, i: int) -> tuple[int, Entry]:
        """(pack number, entry) of row ``i`` (the pack number unchecked: see ``pack_at``)."""
        at = self._key_start + i * KEY_SIZE
        offset, stored_len, raw_len, pack, codec = RECORD_STRUCT.unpack_from(
            self._map, self._rec_start + i * RECORD_SIZE)
        return pack, Entry(self._map[at:at + 32], self._map[at + 32], codec, offset, stored_len, raw_len)

    def pack_at(self, i: int) -> str:
        """``pack-<hex>`` holding row ``i``; CorruptObject when the record names no listed pack."""
        n = self.located(i)[0]
        if n >= len(self.pack_names):
            raise CorruptObject(f"{self.path}: a record names pack {n} of {len(self.pack_names)}")
        return self.pack_names[n]

    def verify(self) -> None:
        """Check the checksum, the order of names and keys, and every pack number."""
        check_bytes(self._map, self.path)
        self.verified = True

    def close(self) -> None:
        """Release the mapping (if no numpy view of it is alive)."""
        self._keys = self._records = None
        try:
            self._map.close()
        except BufferError:
            pass  # a view is still alive somewhere; the GC will unmap it


def open_if_valid(path: str) -> MidxFile | None:
    """The midx at ``path``; None when there is none or it is damaged (readers then use the pack
    indexes). A version this git-mlv does not know raises: it must not be silently ignored."""
    try:
        return MidxFile(path)
    except FileNotFoundError:
        return None
    except UnsupportedVersion:
        raise
    except (CorruptObject, ValueError, OSError):
        return None


def check_file(path: str, pack_dir: str) -> list[str]:
    """Problems of the midx at ``path`` (none if there is no file): its checksum and order, and
    every record against the index of the pack it names (fsck)."""
    import numpy as np

    if not os.path.exists(path):
        return []
    fix = "; run `git mlv gc` to rewrite it (readers use the pack indexes meanwhile)"
    try:
        m = MidxFile(path)
    except (CorruptObject, OSError) as e:
        return [f"{e}{fix}"]
    try:
        m.verify()
        rows = m.records
        for n, name in enumerate(m.pack_names):
            pack = os.path.join(pack_dir, name + ".pack")
            if not os.path.exists(pack):
                return [f"{path}: names {name}, which is not in the pool{fix}"]
            mine = np.flatnonzero(rows["pack"] == n)
            index = IndexFile(pack[:-5] + ".idx")
            hit, at = index.search(m.keys[mine])
            theirs = index.records[at]
            ok = hit.copy()
            for f in ("offset", "stored_len", "raw_len", "codec"):
                ok &= theirs[f] == rows[f][mine]
            index.close()
            if not bool(ok.all()):
                return [f"{path}: {int((~ok).sum())} record(s) disagree with {name}.idx{fix}"]
    except CorruptObject as e:
        return [f"{e}{fix}"]
    finally:
        m.close()
    return []
