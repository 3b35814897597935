"""What a reader sees of a pack folder: the midx, the indexes of packs it does not cover, and packs
a live writer is still appending to (docs/formats.md#midx, #index).

A lookup searches the midx, then the indexes of packs written since the last consolidation (at most
``mlv.autoPacks`` of them, normally), then live packs: its cost does not grow with the number of
packs. ``refresh`` re-lists the folder only when its mtime moved (one ``stat`` otherwise).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Collection
from typing import TYPE_CHECKING

from ..errors import CorruptObject, MlvError
from . import index as idx
from . import midx as mx
from .fsutil import try_lock, unlock
from .pack import TRAILER, Entry, UnsupportedPack, scan
from .record import Record

if TYPE_CHECKING:
    import numpy as np

# A listing taken this soon after the folder's mtime is not trusted: file-system timestamps are
# coarse (a jiffy, up to 10 ms; more on network file systems), so a change in the same tick would
# not move the mtime. git's "racy index" rule, with a generous margin.
_RACY_NS = 1_000_000_000
# Lookup order: a live pack that gets its index moves from the journal into the view, and a
# refresh publishes the new view before it drops those entries from the journal. A lookup on
# another thread therefore takes the journal first, then the view: whichever of the two it sees
# last, the object is in one of them (the other order could see neither).


class Location(Record):
    """A stored object: the pack it is in and its entry there."""

    __slots__ = ("pack", "entry")
    pack: str
    entry: Entry

    def __init__(self, pack: str, entry: Entry) -> None:
        object.__setattr__(self, "pack", pack)
        object.__setattr__(self, "entry", entry)


class _View(Record):
    """One consistent snapshot of the indexed packs (swapped whole, so threads never mix two)."""

    __slots__ = ("midx", "midx_packs", "indexes")
    midx: mx.MidxFile | None
    midx_packs: tuple[str, ...]  # pack paths, by midx pack number
    indexes: dict[str, idx.IndexFile]  # packs the midx does not cover

    def __init__(self, midx: mx.MidxFile | None = None, midx_packs: tuple[str, ...] = (),
                 indexes: dict[str, idx.IndexFile] | None = None) -> None:
        object.__setattr__(self, "midx", midx)
        object.__setattr__(self, "midx_packs", midx_packs)
        object.__setattr__(self, "indexes", {} if indexes is None else indexes)


class PackSet:
    """The packs of one folder, as a reader sees them; thread-safe."""

    def __init__(self, pack_dir: str) -> None:
        self.pack_dir = pack_dir
        self.midx_path = os.path.join(pack_dir, mx.LOCAL_NAME)
        self._view = _View()
        self._journal: dict[bytes, Location] = {}  # entries of live, unindexed packs
        self._scanned: dict[str, int] = {}  # live pack -> end of what we have scanned of it
        self._covered_indexes: dict[str, idx.IndexFile] = {}  # opened on demand (index_of)
        self._sig: tuple[int, int] | None = None
        self._trusted = False
        self._bad_midx: tuple[int, int, int] | None = None  # stat of a midx a read proved wrong
        self._lock = threading.RLock()
        self.relists = 0  # how many times the folder was listed (tests count them)

    # -- refreshing ----------------------------------------------------------------------------
    def refresh(self, own: Collection[str] = ()) -> None:
        """Pick up what other processes wrote; cheap when the folder did not change.

        ``own`` are the packs this process is writing or sealing (never taken for someone else's
        live packs).
        """
        with self._lock:
            try:
                st = os.stat(self.pack_dir)
            except FileNotFoundError:
                self._view, self._journal, self._scanned = _View(), {}, {}
                return
            sig = (st.st_ino, st.st_mtime_ns)
            if self._trusted and sig == self._sig:
                self._rescan_live()
                return
            started = time.time_ns()
            self._relist(own)
            self._sig = sig
            self._trusted = started - st.st_mtime_ns > _RACY_NS

    def invalidate(self) -> None:
        """Make the next refresh list the folder (after a change this process made)."""
        self._trusted = False

    def _relist(self, own: Collection[str]) -> None:
        for _ in range(4):
            try:
                self._relist_once(own)
                return
            except FileNotFoundError:  # an index we listed went away: a consolidation ran; again
                continue
        self._relist_once(own)

    def _relist_once(self, own: Collection[str]) -> None:
        self.relists += 1
        old = self._view
        names: set[str] = set()
        midx = None
        for _ in range(2):  # open the midx first: every pack it names was in place before it
            midx = self._open_midx(old.midx)
            names = set(os.listdir(self.pack_dir))
            if midx is None or all(n + ".pack" in names for n in midx.pack_names):
                break
        else:  # still names a pack that is not there: damaged or hand-edited; fsck says so
            midx = None
        midx_packs = tuple(os.path.join(self.pack_dir, n + ".pack") for n in midx.pack_names) if midx else ()
        covered = set(midx_packs)
        indexes: dict[str, idx.IndexFile] = {}
        unindexed: list[str] = []
        for name in sorted(names):
            path = os.path.join(self.pack_dir, name)
            if name.endswith(".idx"):
                pack = path[:-4] + ".pack"
                if name[:-4] + ".pack" in names and pack not in covered:
                    indexes[pack] = old.indexes.get(pack) or idx.IndexFile(path)
            elif name.endswith(".pack") and path not in covered and name[:-5] + ".idx" not in names \
                    and path not in own:
                unindexed.append(path)
        self._view = _View(midx, midx_packs, indexes)
        gone = [p for p in self._scanned if p in covered or p in indexes or os.path.basename(p) not in names]
        if gone:  # a live pack got its index (or vanished): its entries are found there now
            for p in gone:
                del self._scanned[p]
            self._journal = {k: v for k, v in self._journal.items() if v.pack in self._scanned}
        for path in unindexed:
            self._adopt_unindexed(path)
        for pack in [p for p in self._covered_indexes if p not in covered]:
            del self._covered_indexes[pack]

    def _open_midx(self, current: mx.MidxFile | None) -> mx.MidxFile | None:
        try:
            st = os.stat(self.midx_path)
        except FileNotFoundError:
            return None
        key = (st.st_ino, st.st_mtime_ns, st.st_size)
        if key == self._bad_midx:
            return None
        if current is not None and current.stat == key:
            return current
        return mx.open_if_valid(self.midx_path)

    def _rescan_live(self) -> None:
        for path, end in list(self._scanned.items()):
            try:
                size = os.path.getsize(path)
            except FileNotFoundError:
                continue  # gone or indexed: the next listing sees it (the folder changed)
            if size > end:
                self._scan_live(path)

    def _scan_live(self, path: str) -> None:
        try:
            entries, end, _ = scan(path, self._scanned.get(path, 0))
        except (CorruptObject, FileNotFoundError):
            return
        self._scanned[path] = end
        for e in entries:
            self._journal[idx.key(e.id, e.kind)] = Location(path, e)

    def _adopt_unindexed(self, path: str) -> None:
        fd = try_lock(path)
        if fd is None:  # a live writer owns it: read what it has written since we last looked
            self._scan_live(path)
            return
        self._scanned.pop(path, None)
        index_path = path[:-5] + ".idx"
        if os.path.exists(index_path):  # its writer finished after we listed the folder
            unlock(fd)
            try:
                index = idx.IndexFile(index_path)
            except FileNotFoundError:
                return  # and a consolidation merged it away since: the next listing finds it
            v = self._view
            self._view = _View(v.midx, v.midx_packs, {**v.indexes, path: index})
            return
        try:
            entries, end, _ = scan(path, verify=True)
        except UnsupportedPack:
            unlock(fd)
            return  # another version's pack: not ours to repair or delete
        except (CorruptObject, FileNotFoundError):
            entries, end = [], 0
        try:  # abandoned by a crash: repair it
            if not entries:
                os.unlink(path)
                return
            with open(path, "r+b") as f:
                f.truncate(end)
                f.seek(end)
                f.write(TRAILER.pack(b"MLVPEND\0", len(entries)))
                f.flush()
                os.fsync(f.fileno())
            idx.write(index_path, entries)
            v = self._view
            self._view = _View(v.midx, v.midx_packs, {**v.indexes, path: idx.IndexFile(index_path)})
        except (OSError, MlvError):  # a full or read-only disk: read it as it is, repair it later
            for e in entries:
                self._journal[idx.key(e.id, e.kind)] = Location(path, e)
        finally:
            unlock(fd)

    def add_index(self, pack: str, index: idx.IndexFile) -> None:
        """A pack this process has just indexed."""
        with self._lock:
            v = self._view
            self._view = _View(v.midx, v.midx_packs, {**v.indexes, pack: index})
            self._trusted = False

    def drop_midx(self) -> None:
        """A read found the midx wrong: ignore it (until it is rewritten) and use the pack indexes."""
        with self._lock:
            m = self._view.midx
            if m is not None:
                self._bad_midx = m.stat
                self._trusted = False
                self._relist(())

    def from_midx(self, loc: Location) -> bool:
        """True when the midx in use is where ``loc`` came from."""
        v = self._view
        if v.midx is None or loc.pack not in v.midx_packs:
            return False
        i = v.midx.find(idx.key(loc.entry.id, loc.entry.kind))
        return i >= 0 and v.midx.entry(i).offset == loc.entry.offset

    # -- lookups -------------------------------------------------------------------------------
    @property
    def midx(self) -> mx.MidxFile | None:
        """The midx in use, if any."""
        return self._view.midx

    def locate_key(self, k: bytes, check_miss: bool = True) -> Location | None:
        """Where the object with 33-byte key ``k`` is, or None.

        ``check_miss=False`` for a key that is often absent by design (a file's manifest key, when
        the file is one chunk): the caller calls ``midx_hid_it`` if its object turns out missing.
        """
        journal = self._journal  # before the view: see "Lookup order" above
        v = self._view
        if v.midx is not None:
            i = v.midx.find(k)
            if i >= 0:
                return self._midx_location(v, i)
        for pack, index in v.indexes.items():
            i = index.find(k)
            if i >= 0:
                return Location(pack, index.entry(i))
        loc = journal.get(k)
        if loc is None and check_miss and self.midx_hid_it():
            return self.locate_key(k)
        return loc

    def midx_hid_it(self) -> bool:
        """A lookup missed. A damaged key in the midx could hide an object (or misdirect the binary
        search), so the first miss checks the midx whole (sha256: ~2 ms for 50k objects, once per
        process); True when it was damaged and has been dropped (look again)."""
        m = self._view.midx
        if m is None or m.verified:
            return False
        with self._lock:
            if m.verified or m is not self._view.midx:
                return m is not self._view.midx
            try:
                m.verify()
                return False
            except CorruptObject:
                self.drop_midx()
                return True

    def _midx_location(self, v: _View, row: int) -> Location:
        assert v.midx is not None
        n, entry = v.midx.located(row)
        if n >= len(v.midx_packs):
            raise CorruptObject(f"{v.midx.path}: a record names pack {n} of {len(v.midx_packs)}; "
                                "run `git mlv gc`")
        return Location(v.midx_packs[n], entry)

    def locate_keys(self, arr: np.ndarray) -> list[Location | None]:
        """``locate_key`` for an ``S33`` array: one ``searchsorted`` per table."""
        import numpy as np

        journal = self._journal  # before the view: see "Lookup order" above
        v = self._view
        out: list[Location | None] = [None] * len(arr)
        todo = np.ones(len(arr), dtype=bool)
        if v.midx is not None and len(arr):
            hit, rows = v.midx.search(arr)
            for i in np.flatnonzero(hit).tolist():
                out[i] = self._midx_location(v, int(rows[i]))
            todo &= ~hit
        for pack, index in v.indexes.items():
            if not todo.any():
                break
            hit, rows = index.search(arr)
            hit &= todo
            for i in np.flatnonzero(hit).tolist():
                out[i] = Location(pack, index.entry(int(rows[i])))
            todo &= ~hit
        if journal and todo.any():
            for i in np.flatnonzero(todo).tolist():
                out[i] = journal.get(bytes(arr[i]))
        if any(loc is None for loc in out) and self.midx_hid_it():
            return self.locate_keys(arr)
        return out

    def locate_columns(self, arr: np.ndarray) -> tuple[list[str], list[list[int]]]:
        """Where the keys of an ``S33`` array are, as columns (no Python object per key): (pack
        paths, [pack number, offset, stored_len, raw_len, codec] each a list over ``arr``), pack
        number -1 where neither the midx nor a pack index has the key (the caller asks
        ``locate_key`` for those: live packs, a midx that hides an object)."""
        import numpy as np

        v = self._view
        n = len(arr)
        cols = np.zeros((5, n), dtype=np.int64)
        cols[0] = -1
        paths = list(v.midx_packs)
        if v.midx is not None and n:
            hit, rows = v.midx.search(arr)
            rec = v.midx.records[rows[hit]]
            if len(rec) and int(rec["pack"].max()) >= len(paths):
                raise CorruptObject(f"{v.midx.path}: a record names pack {int(rec['pack'].max())} of "
                                    f"{len(paths)}; run `git mlv gc`")
            for i, f in enumerate(("pack", "offset", "stored_len", "raw_len", "codec")):
                cols[i][hit] = rec[f]
        for pack, index in v.indexes.items():
            todo = cols[0] < 0
            if not todo.any():
                break
            hit, rows = index.search(arr)
            hit &= todo
            if hit.any():
                rec = index.records[rows[hit]]
                cols[0][hit] = len(paths)
                paths.append(pack)
                for i, f in enumerate(("offset", "stored_len", "raw_len", "codec"), 1):
                    cols[i][hit] = rec[f]
        return paths, cols.tolist()

    def contains(self, arr: np.ndarray) -> np.ndarray:
        """Boolean mask over an ``S33`` array: which keys are stored."""
        import numpy as np

        journal = self._journal  # before the view: see "Lookup order" above
        v = self._view
        found = np.zeros(len(arr), dtype=bool)
        if v.midx is not None:
            found |= v.midx.search(arr)[0]
        for index in v.indexes.values():
            found |= index.search(arr)[0]
        if journal:
            for i in np.flatnonzero(~found).tolist():
                if bytes(arr[i]) in journal:
                    found[i] = True
        if not found.all() and self.midx_hid_it():
            return self.contains(arr)
        return found

    # -- the packs -----------------------------------------------------------------------------
    def packs(self) -> list[str]:
        """Paths of the indexed packs: those the midx covers, then the others."""
        v = self._view
        return [*v.midx_packs, *v.indexes]

    def uncovered(self) -> list[str]:
        """Indexed packs the midx does not cover."""
        return list(self._view.indexes)

    def index_of(self, pack: str) -> idx.IndexFile:
        """The index of an indexed pack (opened on demand for packs the midx covers)."""
        v = self._view
        index = v.indexes.get(pack)
        if index is not None:
            return index
        with self._lock:
            index = self._covered_indexes.get(pack)
            if index is None:
                index = self._covered_indexes[pack] = idx.IndexFile(pack[:-5] + ".idx")
            return index

    def journal(self) -> dict[bytes, Location]:
        """Entries of packs a live writer has not indexed yet."""
        return dict(self._journal)

    def _tables(self) -> list[idx.IndexFile | mx.MidxFile]:
        """Every mapped index and midx (under the lock)."""
        v = self._view
        return [*v.indexes.values(), *self._covered_indexes.values(), *([v.midx] if v.midx else [])]

    def drop_pages(self) -> None:
        """Hand back the touched pages of every index and midx mapping (``KeyTable.drop_pages``)."""
        with self._lock:
            for t in self._tables():
                t.drop_pages()

    def close(self) -> None:
        """Release every mapping."""
        with self._lock:
            for t in self._tables():
                t.close()
            self._view, self._covered_indexes = _View(), {}
            self._journal, self._scanned = {}, {}
            self._sig, self._trusted = None, False

