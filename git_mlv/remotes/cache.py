"""What a remote holds, known locally: copies of its pack indexes under ``<pool>/remotes/<name>/``.

Indexes never change once written (a pack and its index are immutable), so the cache is refreshed
by one listing of ``packs/``: indexes not seen before are downloaded (and checked), indexes gone
from the remote are dropped. Lookups are numpy ``searchsorted`` over the mmapped key columns, as in
the local pool (core/index.py).

Files::

    url                 the URL the cache belongs to (a changed URL empties the cache)
    packs/<pack>.idx    verified copies of the remote's indexes
    pending             names of packs this clone started uploading and has not indexed yet
    listed              empty; its mtime says when the remote was last listed
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..core import index as idx
from ..core.fsutil import atomic_write
from ..core.pack import Entry
from ..errors import CorruptObject
from .base import Remote, RemoteNotFound, is_pack_name

PACKS = "packs/"


class RemoteIndex:
    """The cached indexes of one remote; thread-safe."""

    def __init__(self, remote: Remote, cache_dir: str, retry: object | None = None) -> None:
        self.remote = remote
        self.dir = cache_dir
        self.pack_dir = os.path.join(cache_dir, "packs")
        self._indexes: dict[str, idx.IndexFile] = {}  # remote pack name -> index
        self._lock = threading.RLock()
        self.listing: dict[str, int] = {}
        self.damaged: list[str] = []
        self.skipped: list[str] = []  # names in packs/ that are not pack names
        self.refreshed_at = 0.0
        self._retry = retry
        os.makedirs(self.pack_dir, exist_ok=True)
        self._check_url()
        self._load()

    def _check_url(self) -> None:
        path = os.path.join(self.dir, "url")
        try:
            with open(path, encoding="utf-8") as f:
                same = f.read().strip() == self.remote.url
        except FileNotFoundError:
            same = False
        if not same:  # another place now: nothing we knew holds
            for name in os.listdir(self.pack_dir):
                os.unlink(os.path.join(self.pack_dir, name))
            for name in ("pending",):
                if os.path.exists(os.path.join(self.dir, name)):
                    os.unlink(os.path.join(self.dir, name))
            atomic_write(path, self.remote.url.encode() + b"\n")

    def _load(self) -> None:
        for name in sorted(os.listdir(self.pack_dir)):
            if name.endswith(".idx") and not name.startswith("."):
                pack = PACKS + name[:-4] + ".pack"
                if pack not in self._indexes:
                    try:
                        self._indexes[pack] = idx.IndexFile(os.path.join(self.pack_dir, name))
                    except CorruptObject:
                        os.unlink(os.path.join(self.pack_dir, name))  # fetched again on refresh

    # -- refresh -------------------------------------------------------------------------------
    def refresh(self, max_age: float = 0.0, workers: int = 4) -> None:
        """List the remote's packs; fetch indexes we lack, forget those it no longer has.

        With ``max_age`` > 0, skip when the last refresh is more recent than that many seconds.
        """
        if max_age and time.monotonic() - self.refreshed_at < max_age:
            return
        with self._lock:
            listing = self._call(lambda: self.remote.list(PACKS))
            # a stray name (not packs/pack-<hex>.pack|idx) is skipped, reported by fetch, never fatal
            self.skipped = sorted(n for n in listing if not is_pack_name(n))
            listing = {n: size for n, size in listing.items() if is_pack_name(n)}
            wanted = [n for n in listing if n.endswith(".idx")
                      and n[:-4] + ".pack" not in self._indexes and n[:-4] + ".pack" in listing]
            self.damaged = []
            if wanted:
                with ThreadPoolExecutor(max(1, workers)) as ex:
                    for name, data in zip(wanted, ex.map(self._download, wanted)):
                        if data is not None:
                            self._store(name[:-4] + ".pack", data)
            for pack in [p for p in self._indexes if p[:-5] + ".idx" not in listing]:
                self._drop(pack)
            self.listing = listing
            self.refreshed_at = time.monotonic()
            atomic_write(os.path.join(self.dir, "listed"), b"")  # its mtime: see age()

    def age(self) -> float:
        """Seconds since any process last refreshed this cache (infinite if never)."""
        try:
            return max(0.0, time.time() - os.path.getmtime(os.path.join(self.dir, "listed")))
        except OSError:
            return float("inf")

    def _call(self, fn):  # type: ignore[no-untyped-def]
        return self._retry(fn) if callable(self._retry) else fn()

    def _download(self, name: str) -> bytes | None:
        try:
            data = self._call(lambda: self.remote.get(name))
        except RemoteNotFound:  # deleted between the listing and now
            return None
        try:
            _check_index(data, name)
        except CorruptObject:
            self.damaged.append(name)
            return None
        return data

    def _store(self, pack: str, data: bytes) -> None:
        path = os.path.join(self.pack_dir, os.path.basename(pack)[:-5] + ".idx")
        atomic_write(path, data)
        with self._lock:
            old = self._indexes.pop(pack, None)
            if old is not None:
                old.close()
            self._indexes[pack] = idx.IndexFile(path)

    def _drop(self, pack: str) -> None:
        self._indexes.pop(pack).close()
        try:
            os.unlink(os.path.join(self.pack_dir, os.path.basename(pack)[:-5] + ".idx"))
        except FileNotFoundError:
            pass

    def add(self, pack: str, index_bytes: bytes) -> None:
        """Record a pack we just uploaded (its index is already on the remote)."""
        self._store(pack, index_bytes)
        self.listing[pack] = -1
        self.listing[pack[:-5] + ".idx"] = len(index_bytes)

    # -- lookups -------------------------------------------------------------------------------
    def packs(self) -> list[str]:
        """Names of the indexed remote packs we know of."""
        with self._lock:
            return list(self._indexes)

    def contains(self, keys: Sequence[bytes]) -> np.ndarray:
        """Boolean mask: which 33-byte keys some remote pack holds."""
        arr = np.array(list(keys), dtype=f"S{idx.KEY_SIZE}")
        found = np.zeros(len(arr), dtype=bool)
        with self._lock:
            for index in self._indexes.values():
                found |= index.contains_many(arr)
        return found

    def lookup(self, keys: Sequence[bytes]) -> list[tuple[str, Entry] | None]:
        """For each key, (remote pack, entry) of one copy, or None."""
        arr = np.array(list(keys), dtype=f"S{idx.KEY_SIZE}")
        out: list[tuple[str, Entry] | None] = [None] * len(arr)
        found = np.zeros(len(arr), dtype=bool)
        with self._lock:
            for pack, index in self._indexes.items():
                if index.count == 0 or found.all():
                    continue
                pos = np.searchsorted(index.keys, arr)
                pos[pos >= index.count] = index.count - 1
                hit = (index.keys[pos] == arr) & ~found
                for i in np.nonzero(hit)[0].tolist():
                    out[i] = (pack, index.entry(int(pos[i])))
                found |= hit
        return out

    # -- our unfinished uploads ----------------------------------------------------------------
    def pending(self) -> set[str]:
        """Packs this clone started uploading without indexing them (a crash or an error)."""
        try:
            with open(os.path.join(self.dir, "pending"), encoding="utf-8") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    def set_pending(self, names: Iterable[str]) -> None:
        """Replace the list of unfinished uploads."""
        text = "".join(f"{n}\n" for n in sorted(set(names)))
        atomic_write(os.path.join(self.dir, "pending"), text.encode())

    def close(self) -> None:
        """Release the mapped indexes."""
        with self._lock:
            for index in self._indexes.values():
                index.close()
            self._indexes.clear()


def _check_index(data: bytes, name: str) -> None:
    """Check a downloaded index: magic, version, size and trailing checksum."""
    import hashlib

    if len(data) < idx.HEADER.size + idx.TRAILER_SIZE:
        raise CorruptObject(f"remote index {name} is truncated")
    magic, version, count = idx.HEADER.unpack_from(data, 0)
    if magic != idx.MAGIC or version not in idx.SUPPORTED_VERSIONS:
        raise CorruptObject(f"remote index {name} is not a git-mlv index (or a newer version)")
    if len(data) != idx.HEADER.size + count * (idx.KEY_SIZE + idx.RECORD.itemsize) + idx.TRAILER_SIZE:
        raise CorruptObject(f"remote index {name} has the wrong size")
    if hashlib.sha256(data[: -idx.TRAILER_SIZE]).digest() != data[-idx.TRAILER_SIZE:]:
        raise CorruptObject(f"remote index {name} is damaged (checksum mismatch)")
