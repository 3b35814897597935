"""fsck / du / gc: checking, measuring and pruning the pool."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

from ..core import index as idx
from ..core.compress import decompress
from ..core.fsutil import try_lock, unlock
from ..core.hashing import digest
from ..core.pack import KIND_CHUNK, KIND_MANIFEST, scan
from ..core.pool import Location, Pool
from ..errors import CorruptObject, MlvError
from ..gitio import walk
from .context import Workspace


@dataclass
class FsckResult:
    """What ``fsck`` checked and what it found wrong."""

    packs: int = 0
    objects: int = 0
    files: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)


def fsck(ws: Workspace) -> FsckResult:
    """Re-hash every object in every pack; check indexes against packs and files against manifests."""
    pool = ws.pool
    pool.refresh()
    res = FsckResult()
    manifests: list[bytes] = []
    for pack in pool.packs():
        res.packs += 1
        index = pool.index_of(pack)
        try:
            index.verify()
            entries, _, _ = scan(pack)
        except CorruptObject as e:
            res.errors.append(str(e))
            continue
        in_pack = {idx.key(e.id, e.kind): e for e in entries}
        for entry in index:
            k = idx.key(entry.id, entry.kind)
            if k not in in_pack or in_pack[k].offset != entry.offset:
                res.errors.append(f"{pack}: index names {entry.id.hex()} at {entry.offset}, pack disagrees")
                continue
            res.objects += 1
            try:
                raw = pool.read_object(entry.id, entry.kind, refresh=False)
            except CorruptObject as e:
                res.errors.append(f"{os.path.basename(pack)}: {e}")
                continue
            res.bytes += len(raw)
            if entry.kind == KIND_MANIFEST:
                manifests.append(entry.id)
    for oid in manifests:
        res.files += 1
        whole = hashlib.sha256()
        try:
            for data in pool.iter_file(oid.hex(), verify=False):
                whole.update(data)
        except MlvError as e:
            res.errors.append(f"file {oid.hex()[:12]}: {e}")
            continue
        if whole.digest() != oid:
            res.errors.append(f"file {oid.hex()[:12]}: chunks do not hash to the file id")
    return res


@dataclass
class DuResult:
    """Sizes of the data reachable in this repository."""

    files: int = 0  # distinct file versions whose data is here
    missing: int = 0  # distinct versions referenced but not here
    logical: int = 0  # what storing every version whole would take (git-lfs's way)
    unique: int = 0  # after deduplication (distinct chunk bytes)
    stored: int = 0  # after compression (bytes of those chunks in packs)
    on_disk: int = 0  # every pack and index file

    @property
    def dedup_ratio(self) -> float:
        return self.logical / self.unique if self.unique else 1.0

    @property
    def compression_ratio(self) -> float:
        return self.unique / self.stored if self.stored else 1.0

    @property
    def total_ratio(self) -> float:
        return self.logical / self.stored if self.stored else 1.0


def du(ws: Workspace) -> DuResult:
    """Logical vs stored size of every file version reachable from any ref or the index."""
    pool = ws.pool
    res = DuResult()
    chunks: dict[bytes, int] = {}
    for oid, p in walk.reachable_pointers(ws.repo, reflog_days=0).items():
        if not pool.has_file(oid):
            res.missing += 1
            continue
        res.files += 1
        res.logical += p.size
        for cid, _ in pool.file_chunks(oid):
            if cid not in chunks:
                loc = pool.locate(cid, KIND_CHUNK)
                chunks[cid] = loc.entry.raw_len if loc else 0
                res.stored += loc.entry.stored_len if loc else 0
    res.unique = sum(chunks.values())
    for name in os.listdir(pool.pack_dir) if os.path.isdir(pool.pack_dir) else []:
        res.on_disk += os.path.getsize(os.path.join(pool.pack_dir, name))
    return res


class PoolBusy(MlvError):
    """Another git-mlv process is writing to the pool."""


@dataclass
class GcResult:
    """What ``gc`` removed (or would remove, with dry_run)."""

    live_files: int = 0
    kept_objects: int = 0
    dead_objects: int = 0
    freed_bytes: int = 0
    packs_removed: int = 0
    packs_rewritten: int = 0
    dry_run: bool = False


def live_keys(ws: Workspace, reflog_days: float) -> tuple[set[bytes], int]:
    """Index keys of every object gc must keep, and the number of live files."""
    pool = ws.pool
    oids = set(walk.reachable_pointers(ws.repo, reflog_days))
    try:
        from ..pipeline import runcache

        oids |= runcache.live_oids(pool, ws.repo.mlv_dir)
    except ImportError:
        pass
    keys: set[bytes] = set()
    for oid in oids:
        if not pool.has_file(oid):
            continue
        raw = bytes.fromhex(oid)
        if pool.locate(raw, KIND_MANIFEST) is not None:
            keys.add(idx.key(raw, KIND_MANIFEST))
        for cid, _ in pool.file_chunks(oid):
            keys.add(idx.key(cid, KIND_CHUNK))
    return keys, len(oids)


def gc(ws: Workspace, dry_run: bool = False) -> GcResult:
    """Remove objects no ref, index, stash, recent reflog entry or run-cache entry needs."""
    days = float(ws.repo.config.get("mlv.gcreflogdays", "90"))
    pool = ws.pool
    res = GcResult(dry_run=dry_run)
    lock = None if dry_run else pool.gc_lock()
    if not dry_run and lock is None:
        raise PoolBusy("another git-mlv process is writing to the pool; run gc again when it is done")
    try:
        pool.refresh()
        keep, res.live_files = live_keys(ws, days)
        plan = []
        for pack in pool.packs():
            entries = list(pool.index_of(pack))
            live = [e for e in entries if idx.key(e.id, e.kind) in keep]
            dead = [e for e in entries if idx.key(e.id, e.kind) not in keep]
            res.kept_objects += len(live)
            res.dead_objects += len(dead)
            if dead:
                res.freed_bytes += sum(e.stored_len + 48 for e in dead)
                plan.append((pack, live))
        if dry_run:
            return res
        writer = pool.writer(gc_shared_lock=False)
        for pack, live in plan:
            for e in live:
                stored = pool.read_stored(Location(pack, e))
                if e.kind == KIND_CHUNK and digest(decompress(e.codec, stored, e.raw_len)) != e.id:
                    raise CorruptObject(f"{pack}: chunk {e.id.hex()} is damaged; gc stopped, run fsck")
                writer.add_object(e.id, e.kind, e.codec, e.raw_len, stored, force=True)
            if live:
                res.packs_rewritten += 1
            else:
                res.packs_removed += 1
        writer.commit()  # new packs are durable and indexed before any old one goes
        for pack, _ in plan:
            _remove_pack(pool, pack)
        writer.close()
        _remove_stillborn(pool.pack_dir)
        return res
    finally:
        if lock is not None:
            unlock(lock)


def _remove_stillborn(pack_dir: str) -> None:
    """Packs whose writer died between creating and naming them (``*.pack.new``, unlocked)."""
    for name in os.listdir(pack_dir):
        if name.endswith(".pack.new"):
            path = os.path.join(pack_dir, name)
            fd = try_lock(path)
            if fd is not None:
                os.unlink(path)
                unlock(fd)


def _remove_pack(pool: Pool, pack: str) -> None:
    for path in (pack[:-5] + ".idx", pack):  # index first: a pack without index is ignored
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    pool.refresh()
