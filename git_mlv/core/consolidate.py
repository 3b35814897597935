"""Keeping the pile of packs small: geometric consolidation and the multi-pack index
(docs/formats.md#consolidation).

Small packs that break a factor-2 geometric progression are merged into new packs (entries copied
verbatim, headers checked, at most ``RUN`` bytes in memory), the midx is rewritten over every pack,
and only then are the merged packs deleted. ``gc`` uses the same machinery with a set of keys to
keep (ops/maintenance.py).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import CorruptObject, MlvError
from . import index as idx
from . import midx as mx
from .crashpoint import crashpoint
from .fsutil import atomic_write_pieces, try_lock, unlock
from .manifest import chunk_keys, chunk_table
from .pack import (
    ENTRY_SIZE,
    KIND_MANIFEST,
    Entry,
    PackWriter,
    check_stored,
    decode_entry_header,
    same_object,
)

if TYPE_CHECKING:
    from .pool import Pool

FACTOR = 2
# Entries are copied in reads of at most this many bytes (plus one entry): memory stays flat.
RUN = 8 << 20
# Temp files of an atomic write, and packs that died before they were named, are removed once this
# old (seconds): younger ones may belong to a live writer in another process.
STALE_TEMP = 3600


@dataclass
class ConsolidateResult:
    """What a consolidation did."""

    merged: int = 0  # packs merged into new ones (and deleted)
    written: int = 0  # new packs
    bytes_copied: int = 0
    objects_copied: int = 0
    objects_dropped: int = 0  # gc: entries not kept, or duplicates of another pack's
    midx_objects: int = 0


def geometric_split(weights: Sequence[int], factor: int = FACTOR) -> int:
    """How many of the smallest items (``weights`` ascending) to merge so that the rest, with the
    merged one, form a progression where each is at least ``factor`` times the one before
    (git's repack --geometric: first the largest violation, then roll up what the merge outgrows)."""
    n = len(weights)
    i = n - 1
    while i > 0 and weights[i] >= factor * weights[i - 1]:
        i -= 1
    split = i + 1 if i > 0 else 0
    total = sum(weights[:split])
    while split < n and weights[split] < factor * total:
        total += weights[split]
        split += 1
    return split


def plan(pool: Pool) -> list[str]:
    """The packs a geometric consolidation merges: the smallest of those not full yet."""
    sized = []
    for pack in pool.packs():
        try:
            size = os.path.getsize(pack)
        except FileNotFoundError:
            continue
        if size < pool.settings.pack_size:
            sized.append((size, pack))
    sized.sort()
    split = geometric_split([s for s, _ in sized])
    return [p for _, p in sized[:split]] if split >= 2 else []


def auto_consolidate(pool: Pool) -> ConsolidateResult | None:
    """At the end of a command that wrote packs: consolidate once ``mlv.autoPacks`` packs are not
    covered by the midx; None when there was nothing to do or another process is at it."""
    limit = pool.settings.auto_packs
    if limit <= 0:
        return None
    pool.refresh()
    if len(pool.packset.uncovered()) < limit:
        return None
    return consolidate(pool)


def consolidate(pool: Pool, merge: list[str] | None = None, keep: np.ndarray | None = None
                ) -> ConsolidateResult | None:
    """Merge ``merge`` (default: the geometric plan) into new packs, write the midx over every
    indexed pack, then delete the merged packs. With ``keep`` (a sorted ``S33`` array), only those
    keys survive the merge (gc). None when another process holds ``midx.lock``.

    The caller holds ``gc.lock`` (shared as a writer, or exclusive as gc).
    """
    lock = try_lock(os.path.join(pool.root, "midx.lock"), create=True)
    if lock is None:
        return None
    try:
        pool.packset.invalidate()
        pool.refresh()
        res = ConsolidateResult()
        merge = plan(pool) if merge is None else merge
        new = _merge(pool, merge, keep, res) if merge else []
        crashpoint("consolidate-copied")
        res.midx_objects = write_midx(pool, exclude=set(merge), extra=new)
        crashpoint("consolidate-midx")
        for n, pack in enumerate(merge):
            for path in (pack, pack[:-5] + ".idx"):  # pack first: a pack without index looks
                try:                                  # like a crash's leftover and is re-indexed
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            if n == 0:
                crashpoint("consolidate-deleting")
        res.merged = len(merge) if new or keep is not None else 0
        sweep(pool.pack_dir)
        pool.packset.invalidate()
        pool.refresh()
        return res
    finally:
        unlock(lock)


def manifest_keys(keys: np.ndarray) -> np.ndarray:
    """The manifest keys (kind byte last) among the ``S33`` array ``keys``."""
    if not len(keys):
        return keys
    kinds = keys.view(np.uint8).reshape(-1, 33)[:, 32]
    return keys[kinds == KIND_MANIFEST]


def drop_order(pool: Pool, keys: dict[str, np.ndarray], dead_manifests: dict[str, np.ndarray]
               ) -> list[str]:
    """Those of the packs ``keys`` holds (their key columns; no object kept) that gc deletes
    before it copies anything (on a full disk, the room the copies take), in an order where no
    pack goes while a dead manifest in a pack still there names one of its chunks: a `kill -9`
    between two deletions leaves no manifest whose chunks are gone (fsck would call it damage).
    The others (a cycle, a manifest in a pack the merge rewrites) are merged as before."""
    if not keys:
        return []  # nothing to order: no dead manifest is read
    # the chunk keys each pack's dead manifests name, as numpy columns, not sets of bytes objects:
    # measured (tracemalloc, 60 dead files, 24,009 chunks) 4.47 -> 1.98 MB at peak, ~100 bytes a
    # chunk less (a gc dropping 100 GB of 64 KiB chunks: ~160 MB less)
    wanted: dict[str, np.ndarray] = {}
    try:
        for pack, mkeys in dead_manifests.items():
            parts = [chunk_keys(chunk_table(pool.read_object(k[:32], KIND_MANIFEST, refresh=False))[1]["id"])
                     for k in mkeys.tolist()]
            if parts:
                wanted[pack] = np.unique(np.concatenate(parts))
    except (MlvError, CorruptObject):
        return []  # a damaged manifest: nothing goes early, the merge decides as before
    # which other packs' dead manifests name a chunk of each pack: asked once per pair (asked
    # again at every step, 60 packs holding dead manifests took 0.37 s; 392 packs, 19 s)
    named_by = {p: {q for q, w in wanted.items() if q != p and idx.search(w, keys[p])[0].any()}
                for p in keys}
    order: list[str] = []
    gone: set[str] = set()
    left = list(keys)
    while left:  # every pack no manifest still here names goes, then the next such round
        free = [p for p in left if named_by[p] <= gone]
        if not free:
            break  # a cycle: those are merged as before
        order += free
        gone.update(free)
        left = [p for p in left if p not in gone]
    return order


def drop_packs(pool: Pool, packs: list[str]) -> int | None:
    """Delete ``packs`` (gc: none of their objects is kept), ``.pack`` before ``.idx``, copying
    nothing. The midx goes first (it would name packs that are gone; the pack indexes answer
    until ``consolidate`` writes the next one). None when another process holds ``midx.lock``.
    The caller holds ``gc.lock`` exclusively."""
    if not packs:
        return 0
    lock = try_lock(os.path.join(pool.root, "midx.lock"), create=True)
    if lock is None:
        return None
    try:
        try:
            os.unlink(os.path.join(pool.pack_dir, mx.LOCAL_NAME))
        except FileNotFoundError:
            pass
        for n, pack in enumerate(packs):
            for path in (pack, pack[:-5] + ".idx"):
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
            if n == 0:
                crashpoint("gc-dropping")
        pool.let_go(packs)  # drop_order read their manifests: open, they would keep their room
        pool.packset.invalidate()
        pool.refresh()
        return len(packs)
    finally:
        unlock(lock)


def write_midx(pool: Pool, exclude: set[str] = frozenset(), extra: Sequence[str] = ()) -> int:  # type: ignore[assignment]
    """Write ``packs/pool.midx`` over every indexed pack but ``exclude``, plus ``extra`` (new packs
    not in the view yet); returns its object count. The old midx is reused only once verified."""
    ps = pool.packset
    packs = pool.packs()  # loads the view if this pool has not looked yet
    old = ps.midx
    if old is not None:
        try:
            old.verify()
        except CorruptObject:
            old = None
    covered = set()
    sources: list[mx.Source] = []
    tables: list[idx.KeyTable] = []  # where each source's rows are read from
    keep_names: set[bytes] = set()
    if old is not None:
        covered = {os.path.join(pool.pack_dir, n + ".pack") for n in old.pack_names}
        sources.append(mx.source_of(old))
        tables.append(old)
    for pack in [*packs, *extra]:
        if pack in exclude:
            continue
        keep_names.add(mx.raw_name(pack))
        if pack not in covered:
            table = pool.index_of(pack) if pack not in extra else idx.IndexFile(pack[:-5] + ".idx")
            sources.append(mx.source_of(table, pack))
            tables.append(table)
    # each mapped table's pages are handed back once copied: they count in RSS (~57 bytes an
    # object; issue 9's bar is 200 MB for any process at 600,000 files)
    count, size, pieces = mx.encode_pieces(sources, keep_names, copied=lambda i: tables[i].drop_pages())
    del sources
    tables.clear()  # the mappings this function opened (extra) are let go
    atomic_write_pieces(ps.midx_path, pieces, size)  # written as encoded, never held whole
    _fsync_dir(pool.pack_dir)  # the midx and new packs are durable before anything is deleted
    return count


class _Output:
    """New packs of at most ``pack_size``, each indexed as soon as it is full."""

    def __init__(self, pack_dir: str, pack_size: int) -> None:
        self.pack_dir, self.pack_size = pack_dir, pack_size
        self.writer: PackWriter | None = None
        self.done: list[str] = []

    def append(self, entry: Entry, data: memoryview) -> None:
        if self.writer is None:
            self.writer = PackWriter(os.path.join(self.pack_dir, f"pack-{secrets.token_hex(16)}.pack"))
        self.writer.append_encoded(entry, data)
        if self.writer.size >= self.pack_size:
            self.finish()

    def abort(self) -> None:
        if self.writer is not None:
            self.writer.abort()
            unlock(self.writer.lock_fd)
            self.writer = None

    def finish(self) -> None:
        w = self.writer
        if w is None:
            return
        w.finish()
        idx.write(w.path[:-5] + ".idx", w.entries)
        unlock(w.lock_fd)
        self.done.append(w.path)
        self.writer = None


def _merge(pool: Pool, packs: list[str], keep: np.ndarray | None, res: ConsolidateResult) -> list[str]:
    """Copy the entries of ``packs`` (each key once; only ``keep`` keys if given) into new packs."""
    indexes = [pool.index_of(p) for p in packs]
    all_keys = np.concatenate([i.keys for i in indexes]) if indexes else np.zeros(0, "S33")
    wanted = np.zeros(len(all_keys), dtype=bool)
    if len(all_keys):
        _, first = np.unique(all_keys, return_index=True)  # a key in several packs: copy it once
        wanted[first] = True
        if keep is not None:
            wanted &= idx.search(keep, all_keys)[0]
    res.objects_dropped += int(len(all_keys) - wanted.sum())
    out = _Output(pool.pack_dir, pool.settings.pack_size)
    try:
        start = 0
        for pack, index in zip(packs, indexes):
            mask = wanted[start:start + index.count]
            start += index.count
            order = np.argsort(index.records["offset"], kind="stable")  # file order: chunks stay together
            _copy(pack, index, order[mask[order]].tolist(), out, res)
    except BaseException:
        out.abort()  # packs already indexed stay: extra copies, merged next time
        raise
    out.finish()
    res.written = len(out.done)
    return out.done


def _copy(pack: str, index: idx.IndexFile, rows: list[int], out: _Output, res: ConsolidateResult) -> None:
    """Append the entries at ``rows`` of ``pack`` to ``out``, reading runs of at most ``RUN`` bytes."""
    with open(pack, "rb", buffering=0) as f:
        i = 0
        while i < len(rows):
            lo = int(index.records[rows[i]]["offset"])
            j = i + 1
            while j < len(rows) and _end(index, rows[j]) - lo <= RUN:
                j += 1
            buf = memoryview(os.pread(f.fileno(), _end(index, rows[j - 1]) - lo, lo))
            for r in rows[i:j]:
                e = index.entry(r)
                piece = buf[e.offset - lo:e.offset - lo + ENTRY_SIZE + e.stored_len]
                _check(pack, e, piece)
                out.append(e, piece)
                res.objects_copied += 1
                res.bytes_copied += len(piece)
            if out.writer is not None:
                out.writer.flush()
            crashpoint("consolidate-copying")  # a run is in the new pack, which has no index yet
            i = j


def _check(pack: str, e: Entry, piece: memoryview) -> None:
    """The entry in ``piece`` (header CRC, id, kind, codec, lengths, stored bytes' CRC) must be what
    the index says: a damaged object is never copied into a new pack under a fresh header."""
    try:
        head = decode_entry_header(piece, e.offset)
        check_stored(head, piece[ENTRY_SIZE:], pack)
    except CorruptObject:
        head = None
    if head is None or not same_object(head, e) or len(piece) != ENTRY_SIZE + e.stored_len:
        raise CorruptObject(f"{pack}: entry at {e.offset} is not what its index says; "
                            "consolidation stopped, run `git mlv fsck`")


def _end(index: idx.IndexFile, row: int) -> int:
    r = index.records[row]
    return int(r["offset"]) + ENTRY_SIZE + int(r["stored_len"])


def sweep(pack_dir: str) -> None:
    """Remove leftovers of crashes: packs that died before they were named (``*.pack.new``, old and
    unlocked), indexes whose pack was deleted, and old temp files of atomic writes."""
    import time

    try:
        names = set(os.listdir(pack_dir))
    except FileNotFoundError:
        return
    now = time.time()
    for name in names:
        path = os.path.join(pack_dir, name)
        try:
            if name.endswith(".pack.new"):
                # a writer creates it and locks it a moment later: only an old one is a leftover
                if now - os.path.getmtime(path) > STALE_TEMP and (fd := try_lock(path)) is not None:
                    os.unlink(path)
                    unlock(fd)
            elif name.endswith(".idx") and name[:-4] + ".pack" not in names:
                os.unlink(path)  # a pack is always named before its index: this one's pack is gone
            elif name.startswith(".tmp-") and now - os.path.getmtime(path) > STALE_TEMP:
                os.unlink(path)
        except FileNotFoundError:
            pass


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
