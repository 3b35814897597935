"""What a remote holds, known locally: copies of its index files under ``<pool>/remotes/<name>/``.

A remote's ``packs/`` holds pack indexes (one pack each) and multi-pack indexes (several packs
each, written by index consolidation: docs/remotes.md). Index files never change once written, so
the cache is refreshed by one listing: files not seen before are downloaded and checked — new
midxes first, then the indexes of packs no midx covers — and files gone from the remote are
dropped. A listed pack is committed when its index or a listed midx names it. Lookups are numpy
``searchsorted`` over the mmapped key columns of the few cached files (core/index.py, core/midx.py).

Files::

    url                       the URL the cache belongs to (a changed URL empties the cache and
                              forgets the files below, which describe the old place)
    packs/pack-<hex>.idx      verified copies of the remote's pack indexes
    packs/midx-<hex>.midx     verified copies of the remote's multi-pack indexes
    pending                   names of packs this clone started uploading and has not indexed yet
    superseded                packs this clone merged away, with when (remotes/merge.py)
    listed                    empty; its mtime says when the remote was last listed

The cache is an optimisation, written best effort (remotes/cachedir.py): a cache folder that
refuses a write (a read-only ``.git``) moves to a scratch folder for the command.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..core import index as idx
from ..core import midx as mx
from ..core.pack import Entry
from ..errors import CorruptObject
from .base import Remote, RemoteNotFound, is_pack_name
from .cachedir import CacheFolder
from .pending import PendingUploads

PACKS = "packs/"
# A listing that names an index file gone by the time we download it means a consolidation
# replaced it in between; listing again finds what replaced it. More rounds than this: give up.
_LIST_ROUNDS = 3


@dataclass(frozen=True)
class Unit:
    """One index file of the remote and what it covers (for consolidation and gc)."""

    name: str  # packs/pack-<hex>.idx or packs/midx-<hex>.midx
    packs: tuple[str, ...]  # packs/pack-<hex>.pack names it covers
    objects: int


@dataclass(frozen=True)
class _View:
    """One consistent snapshot of the cached tables (swapped whole under the lock)."""

    # (name, midx, its packs by number, which of them the listing has)
    midxes: tuple[tuple[str, mx.MidxFile, tuple[str, ...], np.ndarray], ...] = ()
    indexes: tuple[tuple[str, idx.IndexFile], ...] = ()  # pack name, index
    committed: frozenset[str] = frozenset()  # packs an index file names (and the listing has)


class RemoteIndex:
    """The cached index files of one remote; thread-safe."""

    def __init__(self, remote: Remote, cache_dir: str, retry: Callable[..., object] | None = None) -> None:
        self.remote = remote
        self._indexes: dict[str, idx.IndexFile] = {}  # remote pack name -> its index
        self._midxes: dict[str, mx.MidxFile] = {}  # remote midx name -> it
        self._lock = threading.RLock()
        self._view = _View()
        self.listing: dict[str, int] = {}
        self._listed = False
        self.damaged: list[str] = []
        self.skipped: list[str] = []  # names in packs/ that are not pack names
        self.refreshed_at = 0.0
        self.downloads = 0  # index files downloaded by this object (tests and benchmarks count)
        self._retry = retry
        self.folder = CacheFolder(cache_dir, remote.url)
        self.uploads = PendingUploads(self.folder, cache_dir)  # ``pending``, push.lock (pending.py)
        self._load(self.folder.cached)  # index files already cached are read where they are

    @property
    def dir(self) -> str:
        """The cache folder (a scratch folder once ``<pool>/remotes/<name>`` refused a write)."""
        return self.folder.dir

    @property
    def pack_dir(self) -> str:
        """Where downloaded index files go."""
        return self.folder.pack_dir

    def write_state(self, name: str, data: bytes) -> None:
        """Write a small state file of the cache folder, best effort (remotes/cachedir.py)."""
        self.folder.write_state(name, data)

    def _load(self, pack_dir: str) -> None:
        try:
            names = sorted(os.listdir(pack_dir))
        except OSError:  # a cache folder we may not even read (another user's clone)
            names = []
        for name in names:
            path = os.path.join(pack_dir, name)
            try:
                if name.startswith("pack-") and name.endswith(".idx"):
                    self._indexes.setdefault(PACKS + name[:-4] + ".pack", idx.IndexFile(path))
                elif name.startswith("midx-") and name.endswith(".midx"):
                    self._midxes.setdefault(PACKS + name, mx.MidxFile(path))
            except CorruptObject:
                _unlink(path)  # fetched again on refresh
            except OSError:
                pass  # unreadable: fetched again on refresh
        self._rebuild()

    # -- refresh -------------------------------------------------------------------------------
    def refresh(self, max_age: float = 0.0, workers: int = 4) -> None:
        """List the remote's packs; fetch index files we lack, forget those it no longer has.

        With ``max_age`` > 0, skip when the last refresh is more recent than that many seconds.
        """
        if max_age and time.monotonic() - self.refreshed_at < max_age:
            return
        with self._lock:
            self.damaged = []
            for _ in range(_LIST_ROUNDS):
                listing = self._call(lambda: self.remote.list(PACKS))
                # a stray name (not a pack, index or midx name) is skipped, reported by fetch, never fatal
                self.skipped = sorted(n for n in listing if not is_pack_name(n))
                listing = {n: size for n, size in listing.items() if is_pack_name(n)}
                vanished = self._fetch_new(listing, workers)
                if not vanished:
                    break
            self._forget_unlisted(listing)
            self.listing = listing
            self._listed = True
            self._rebuild()
            self.refreshed_at = time.monotonic()
            self.write_state("listed", b"")  # its mtime: see age()

    def _fetch_new(self, listing: dict[str, int], workers: int) -> bool:
        """Download new midxes, then indexes of packs none covers; True if one vanished meanwhile."""
        vanished = False
        new_m = [n for n in listing if n.endswith(".midx") and n not in self._midxes]
        for name, data in zip(new_m, self._download_all(new_m, workers)):
            if data is None:
                vanished = True
            elif data:
                self._store(name, data)
        covered = self._covered(listing)
        new_i = [n for n in listing if n.endswith(".idx") and n[:-4] + ".pack" in listing
                 and n[:-4] + ".pack" not in covered and n[:-4] + ".pack" not in self._indexes]
        for name, data in zip(new_i, self._download_all(new_i, workers)):
            if data is None:
                vanished = True
            elif data:
                self._store(name, data)
        return vanished

    def _covered(self, listing: dict[str, int]) -> set[str]:
        return {PACKS + p + ".pack" for name, m in self._midxes.items() if name in listing
                for p in m.pack_names}

    def _download_all(self, names: list[str], workers: int) -> list[bytes | None]:
        if not names:
            return []
        with ThreadPoolExecutor(max(1, min(workers, len(names)))) as ex:
            return list(ex.map(self._download, names))

    def _forget_unlisted(self, listing: dict[str, int]) -> None:
        covered = self._covered(listing)
        for name in [n for n in self._midxes if n not in listing]:
            table = self._midxes.pop(name)
            table.close()
            _unlink(table.path)
        for pack in [p for p in self._indexes if p[:-5] + ".idx" not in listing or p in covered]:
            index = self._indexes.pop(pack)
            index.close()
            _unlink(index.path)

    def age(self) -> float:
        """Seconds since any process last refreshed this cache (infinite if never)."""
        try:
            return max(0.0, time.time() - os.path.getmtime(os.path.join(self.dir, "listed")))
        except OSError:
            return float("inf")

    def _call(self, fn):  # type: ignore[no-untyped-def]
        return self._retry(fn) if callable(self._retry) else fn()

    def _download(self, name: str) -> bytes | None:
        """The checked bytes of an index file; None if it vanished, b"" if it is damaged."""
        try:
            data = self._call(lambda: self.remote.get(name))
        except RemoteNotFound:  # deleted between the listing and now
            return None
        self.downloads += 1
        try:
            if name.endswith(".midx"):
                mx.check_bytes(data, f"remote {name}")
            else:
                _check_index(data, name)
        except CorruptObject:
            self.damaged.append(name)
            return b""
        return data

    def _store(self, name: str, data: bytes) -> None:
        """Keep a checked copy of a remote index file (``packs/pack-X.idx`` or ``packs/midx-Y.midx``)."""
        path = self.folder.store(os.path.basename(name), data)
        with self._lock:
            if name.endswith(".midx"):
                old_m = self._midxes.pop(name, None)
                if old_m is not None:
                    old_m.close()
                self._midxes[name] = mx.MidxFile(path)
            else:
                pack = name[:-4] + ".pack"
                old = self._indexes.pop(pack, None)
                if old is not None:
                    old.close()
                self._indexes[pack] = idx.IndexFile(path)

    def _rebuild(self) -> None:
        """Swap in a new lookup snapshot; packs not in the listing (gone) are not answered."""
        with self._lock:
            listed = self._listed
            midxes = []
            for name, m in sorted(self._midxes.items(), key=lambda kv: -kv[1].count):
                if listed and name not in self.listing:
                    continue
                packs = tuple(PACKS + p + ".pack" for p in m.pack_names)
                present = np.array([not listed or p in self.listing for p in packs], dtype=bool)
                midxes.append((name, m, packs, present))
            indexes = tuple((p, i) for p, i in self._indexes.items() if not listed or p in self.listing)
            committed = {p for _, _, packs, present in midxes for p, ok in zip(packs, present) if ok}
            committed.update(p for p, _ in indexes)
            self._view = _View(tuple(midxes), indexes, frozenset(committed))

    def add(self, pack: str, index_bytes: bytes) -> None:
        """Record a pack we just uploaded (its index is already on the remote)."""
        with self._lock:
            self.listing[pack] = -1
            self.listing[pack[:-5] + ".idx"] = len(index_bytes)
            self._store(pack[:-5] + ".idx", index_bytes)
            self._rebuild()

    def add_midx(self, name: str, data: bytes) -> None:
        """Record a midx we just uploaded."""
        with self._lock:
            self.listing[name] = len(data)
            self._store(name, data)
            self._rebuild()

    def forget(self, names: Iterable[str]) -> None:
        """Index files we have just deleted on the remote."""
        with self._lock:
            for name in names:
                self.listing.pop(name, None)
            self._forget_unlisted(self.listing)
            self._rebuild()

    # -- what is there -------------------------------------------------------------------------
    def packs(self) -> list[str]:
        """Names of the committed remote packs we know of."""
        return sorted(self._view.committed)

    def committed(self, pack: str) -> bool:
        """True when an index or a midx we know names ``pack`` (and the remote still lists it)."""
        return pack in self._view.committed

    def units(self) -> list[Unit]:
        """Each listed index file with what it covers: every midx, and each pack index of a pack
        no midx covers (what a consolidation weighs)."""
        v = self._view
        out = [Unit(name, tuple(p for p, ok in zip(packs, present) if ok), m.count)
               for name, m, packs, present in v.midxes]
        out += [Unit(p[:-5] + ".idx", (p,), i.count) for p, i in v.indexes]
        return out

    def redundant(self) -> list[str]:
        """Listed pack indexes whose pack a listed midx covers too (a consolidation killed before it
        deleted them, or two at once): safe to delete."""
        with self._lock:
            covered = self._covered(self.listing)
            return sorted(n for n in self.listing if n.endswith(".idx") and n[:-4] + ".pack" in covered)

    def drop_pages(self) -> None:
        """Hand back the touched pages of every cached index and midx (``KeyTable.drop_pages``)."""
        with self._lock:
            for t in [*self._indexes.values(), *self._midxes.values()]:
                t.drop_pages()

    def drop_unit_pages(self, unit: Unit) -> None:
        """``drop_pages`` for one unit's table only (once its rows are copied into a new midx)."""
        with self._lock:
            t = self._unit_table(unit)
            if t is not None:
                t.drop_pages()

    def table(self, unit: Unit) -> mx.Source:
        """The keys and records of a unit, for building a midx from it."""
        with self._lock:
            t = self._unit_table(unit)
            if t is None:
                raise KeyError(unit.name)
            return mx.source_of(t, None if isinstance(t, mx.MidxFile) else unit.packs[0])

    def _unit_table(self, unit: Unit) -> idx.IndexFile | mx.MidxFile | None:
        """The cached table a unit's rows are read from: its midx, or its one pack's index."""
        if unit.name.endswith(".midx"):
            return self._midxes.get(unit.name)
        return self._indexes.get(unit.packs[0])

    def rows_by_pack(self, only: Collection[str] | None = None) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """For every committed pack (of ``only``, when given): the keys (``S33``, sorted, each once)
        and records (offset, stored_len, raw_len, codec) the known index files give for it (one
        pass over each file; with ``only``, files naming none of those packs are skipped)."""
        fields = ["offset", "stored_len", "raw_len", "codec"]
        parts: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
        v = self._view
        for p, index in v.indexes:
            if only is None or p in only:
                parts.setdefault(p, []).append((np.asarray(index.keys), _plain(index.records[fields])))
        for _, m, packs, present in v.midxes:
            if only is not None and not any(p in only for p in packs):
                continue
            order = np.argsort(m.records["pack"], kind="stable")
            nums = m.records["pack"][order]
            bounds = np.searchsorted(nums, np.arange(len(packs) + 1))
            for n, pack in enumerate(packs):
                rows = order[bounds[n]:bounds[n + 1]]
                if present[n] and len(rows) and (only is None or pack in only):
                    got = (np.asarray(m.keys[rows]), _plain(m.records[rows][fields]))
                    parts.setdefault(pack, []).append(got)
        out = {}
        for pack, tables in parts.items():
            keys = np.concatenate([k for k, _ in tables])
            recs = np.concatenate([r for _, r in tables])
            _, first = np.unique(keys, return_index=True)
            out[pack] = (keys[first], recs[first])
        return out

    # -- lookups -------------------------------------------------------------------------------
    def contains(self, keys: Sequence[bytes] | np.ndarray) -> np.ndarray:
        """Boolean mask: which 33-byte keys (a list, or an ``S33`` array) some committed remote
        pack holds."""
        arr = _keys(keys)
        found = np.zeros(len(arr), dtype=bool)
        v = self._view
        for _, m, _, present in v.midxes:
            hit, rows = m.search(arr)
            at = np.flatnonzero(hit)
            if len(at):
                nums = m.records["pack"][rows[at]].astype(np.int64)
                ok = nums < len(present)
                ok[ok] = present[nums[ok]]
                hit[at] = ok
            found |= hit
        for _, index in v.indexes:
            found |= index.search(arr)[0]
        return found

    def lookup(self, keys: Sequence[bytes] | np.ndarray) -> list[tuple[str, Entry] | None]:
        """For each key, (remote pack, entry) of one copy, or None."""
        arr = _keys(keys)
        out: list[tuple[str, Entry] | None] = [None] * len(arr)
        todo = np.ones(len(arr), dtype=bool)
        v = self._view
        for _, m, packs, present in v.midxes:
            if not todo.any():
                break
            hit, rows = m.search(arr)
            hit &= todo
            for i in np.flatnonzero(hit).tolist():
                n = int(m.records[int(rows[i])]["pack"])
                if n < len(packs) and present[n]:
                    out[i] = (packs[n], m.entry(int(rows[i])))
                    todo[i] = False
        for pack, index in v.indexes:
            if not todo.any():
                break
            hit, rows = index.search(arr)
            hit &= todo
            for i in np.flatnonzero(hit).tolist():
                out[i] = (pack, index.entry(int(rows[i])))
            todo &= ~hit
        return out

    # -- our unfinished uploads ----------------------------------------------------------------
    def pending(self) -> set[str]:
        """Packs this pool's pushes started uploading without indexing them (a crash, an error,
        or a push of another process under way: remotes/pending.py)."""
        return self.uploads.read()

    def set_pending(self, names: Iterable[str]) -> None:
        """Replace the list of unfinished uploads (a collector holding push.lock exclusively)."""
        self.uploads.replace(names)

    def close(self) -> None:
        """Release the mapped index files."""
        self.uploads.close()
        with self._lock:
            for index in self._indexes.values():
                index.close()
            for m in self._midxes.values():
                m.close()
            self._indexes.clear()
            self._midxes.clear()
            self._view = _View()
            self.folder.close()


def _keys(keys: Sequence[bytes] | np.ndarray) -> np.ndarray:
    """An ``S33`` array of these keys (an array is taken as it is: no Python object per key)."""
    if isinstance(keys, np.ndarray) and keys.dtype == np.dtype(f"S{idx.KEY_SIZE}"):
        return keys
    return np.array(list(keys), dtype=f"S{idx.KEY_SIZE}")


def _plain(records: np.ndarray) -> np.ndarray:
    """A copy of selected record fields in one packed layout, whichever file they came from."""
    out = np.zeros(len(records), dtype=[("offset", "<u8"), ("stored_len", "<u4"), ("raw_len", "<u4"),
                                        ("codec", "u1")])
    for f in out.dtype.names or ():
        out[f] = records[f]
    return out


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:  # gone already, or the cache folder is read-only: its scratch copy answers
        pass


def _check_index(data: bytes, name: str) -> None:
    """Check a downloaded index: magic, version, size, trailing checksum and key order."""
    import hashlib

    if len(data) < idx.HEADER.size + idx.TRAILER_SIZE:
        raise CorruptObject(f"remote index {name} is truncated")
    magic, version, count = idx.HEADER.unpack_from(data, 0)
    if magic != idx.MAGIC or version not in idx.SUPPORTED_VERSIONS:
        raise CorruptObject(f"remote index {name} is not a git-mlv index (or a newer version)")
    if len(data) != idx.HEADER.size + count * (idx.KEY_SIZE + idx.RECORD_SIZE) + idx.TRAILER_SIZE:
        raise CorruptObject(f"remote index {name} has the wrong size")
    if hashlib.sha256(data[: -idx.TRAILER_SIZE]).digest() != data[-idx.TRAILER_SIZE:]:
        raise CorruptObject(f"remote index {name} is damaged (checksum mismatch)")
    keys = np.frombuffer(data, dtype=f"S{idx.KEY_SIZE}", count=count, offset=idx.HEADER.size)
    if count > 1 and not bool(np.all(keys[1:] > keys[:-1])):
        raise CorruptObject(f"remote index {name} is damaged (keys out of order)")
