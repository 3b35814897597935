"""fsck / gc: checking and pruning the pool (du, measuring it: ops/du.py)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..core import heap, settings
from ..core import idarray as ida
from ..core import index as idx
from ..core import midx as mx
from ..core.compress import decompress
from ..core.consolidate import STALE_TEMP, consolidate, drop_order, drop_packs, manifest_keys, sweep
from ..core.crashpoint import pausepoint
from ..core.fsutil import NO_SPACE_TODO, FileSystemError, sweep_temp, unlock
from ..core.hashing import digest, is_oid
from ..core.pack import ENTRY_SIZE, KIND_CHUNK, KIND_MANIFEST, scan
from ..core.pool import Location, Pool
from ..errors import CorruptObject, MlvError
from ..gitio import walk
from ..gitio.git import GitError
from . import complete, lostindex, reflog_kept, sharedpool, summarycache
from .context import Workspace


@dataclass
class FsckResult:
    """What ``fsck`` checked and what it found wrong."""

    packs: int = 0
    objects: int = 0
    files: int = 0
    bytes: int = 0
    errors: list[str] = field(default_factory=list)
    affected: list[str] = field(default_factory=list)  # files whose data is damaged: paths, else oids
    # files of the index (HEAD's, and what is staged) whose data is not in the pool, as `git mlv
    # status` finds them: files out of the fetch scope or the sparse checkout are not here on
    # purpose and are not counted (docs/formats.md#fsck-missing)
    missing: list[str] = field(default_factory=list)
    in_worktree: list[str] = field(default_factory=list)  # of those, unmodified data in the worktree
    remote: str | None = None  # the default data remote, which `git mlv pull` fetches them from
    rebuilt: list[str] = field(default_factory=list)  # packs whose lost index was rebuilt


@dataclass
class Damage:
    """What fsck found damaged, as ``fsck --repair`` needs it (ops/repair.py)."""

    objects: set[bytes] = field(default_factory=set)  # index keys (id + kind) of damaged entries
    files: set[str] = field(default_factory=set)  # oids of files whose data is damaged or missing
    chunks: set[str] = field(default_factory=set)  # ids of damaged chunks named by those files
    packs: list[str] = field(default_factory=list)  # packs not read at all (index or pack unreadable)
    midx: bool = False


def fsck(ws: Workspace) -> FsckResult:
    """Re-hash every object in every pack; check indexes and the midx against packs, and files
    against manifests. Affected files are named by their paths in HEAD where they have one."""
    res, damage = check_pool(ws.pool)
    dropped = [o for o in read_pending(ws.pool) if not ws.pool.has_file(o)]
    if dropped:
        res.errors.append(f"an interrupted `git mlv fsck --repair` dropped {len(dropped)} damaged "
                          "file(s) and has not fetched them back yet")
    if damage.files or damage.chunks or dropped:
        paths = head_paths(ws)
        files = affected_files(damage, paths)
        files.update((o, paths.get(o, [])) for o in dropped)
        res.affected = label_files(files)
    missing_data(ws, res)
    return res


def missing_data(ws: Workspace, res: FsckResult) -> None:
    """Fill ``res.missing`` (and what the worktree still holds, and the default remote) from
    `git mlv status`'s own pass over the index: one pointer-cache read and one pool lookup per
    batch, one ``lstat`` per file; the remote is not asked (fsck's answer does not depend on the
    network)."""
    if ws.repo.worktree is None:
        return  # a bare repository has no checkout whose data could be missing
    from . import status
    from .remote_config import default_remote_name

    st, dirty = status.status_read_only(ws)  # git's clean filter would write: a full disk
    res.missing = st.missing_data
    if not res.missing:
        return
    pointers = set(st.not_checked_out)
    held = [p for p in res.missing if p not in pointers]
    # of those git's stat says may have changed, the worktree copy is their data when it hashes
    # to their pointer's oid (read only; usually none or few)
    maybe = set(held) & set(dirty)
    if maybe:
        from ..core.hashing import file_oid
        from ..gitio import walk

        top = ws.repo.top + os.sep
        for e, pb in walk.index_pointers(ws.repo, sorted(maybe)):
            try:
                if file_oid(top + e.path) == pb.oid:
                    maybe.discard(e.path)
            except OSError:
                pass  # a folder there, unreadable: not its data
    res.in_worktree = [p for p in held if p not in maybe]
    try:
        res.remote = default_remote_name(ws)
    except MlvError:
        res.remote = None


PENDING = "repair-pending"


def read_pending(pool: Pool) -> list[str]:
    """Oids of the files an unfinished ``fsck --repair`` dropped to fetch them again (ops/repair.py):
    written before anything is dropped, removed once the fetch is done."""
    try:
        with open(os.path.join(pool.root, PENDING), encoding="ascii", errors="replace") as f:
            return [w for w in f.read().split() if is_oid(w)]
    except FileNotFoundError:
        return []


def check_pool(pool: Pool) -> tuple[FsckResult, Damage]:
    """fsck's reading of the whole pool: the counts and messages, and the damage by object and file."""
    pool.refresh()
    res, damage = FsckResult(), Damage()
    res.rebuilt = lostindex.ensure_indexes(pool)
    manifests: list[bytes] = []
    for pack in pool.packs():
        res.packs += 1
        try:
            index = pool.index_of(pack)
            index.verify()
            entries, _, _ = scan(pack)
        except (CorruptObject, FileNotFoundError) as e:
            res.errors.append(f"{os.path.basename(pack)}: {_said(e)}")
            damage.packs.append(pack)
            continue
        in_pack = {idx.key(e.id, e.kind): e for e in entries}
        scanned_to = entries[-1].end if entries else 0
        for entry in index:
            k = idx.key(entry.id, entry.kind)
            # the scan stops at a damaged header: entries after it are checked by their own read
            if (k not in in_pack and entry.offset < scanned_to) or (
                    k in in_pack and in_pack[k].offset != entry.offset):
                res.errors.append(f"{pack}: index names {entry.id.hex()} at {entry.offset}, pack disagrees")
                damage.objects.add(k)
                continue
            res.objects += 1
            try:
                head, stored = pool.read_entry(Location(pack, entry))
                raw = decompress(head.codec, stored, head.raw_len)
                if entry.kind == KIND_CHUNK and digest(raw) != entry.id:
                    raise CorruptObject(f"chunk {entry.id.hex()} is damaged")
            except MlvError as e:
                res.errors.append(f"{os.path.basename(pack)}: {_said(e)}")
                damage.objects.add(k)
                if entry.kind == KIND_MANIFEST:
                    damage.files.add(entry.id.hex())
                continue
            res.bytes += len(raw)
            if entry.kind == KIND_MANIFEST:
                manifests.append(entry.id)
    midx_errors = check_midx(pool)
    res.errors.extend(midx_errors)
    damage.midx = bool(midx_errors)
    for oid in manifests:
        res.files += 1
        whole = hashlib.sha256()
        try:
            for data in pool.iter_file(oid.hex(), verify=False):
                whole.update(data)
        except MlvError as e:
            res.errors.append(f"file {oid.hex()[:12]}: {_said(e)}")
            damage.files.add(oid.hex())
            continue
        if whole.digest() != oid:
            res.errors.append(f"file {oid.hex()[:12]}: chunks do not hash to the file id")
            damage.files.add(oid.hex())
    _damaged_chunks(pool, damage)
    return res, damage


def _damaged_chunks(pool: Pool, damage: Damage) -> None:
    """Sort the damaged chunks: those a damaged file's manifest names come back with that file;
    any other is taken for a one-chunk file of its own (its oid is the chunk's id)."""
    chunks = {k[:32].hex() for k in damage.objects if k[32] == KIND_CHUNK}
    named: set[str] = set()
    for oid in list(damage.files):
        if bytes.fromhex(oid) + bytes((KIND_MANIFEST,)) in damage.objects:
            continue
        try:
            named.update(cid.hex() for cid, _ in pool.resolve(oid) or [])
        except MlvError:
            continue
    damage.chunks = chunks & named
    damage.files |= chunks - named


def head_paths(ws: Workspace, sizes: dict[str, int] | None = None) -> dict[str, list[str]]:
    """oid -> paths of the tracked files in HEAD (empty without a commit); their sizes (from the
    pointers) go into ``sizes`` when given."""
    out: dict[str, list[str]] = {}
    try:
        for path, p in walk.iter_pointers(ws.repo, ["HEAD"]):
            out.setdefault(p.oid, []).append(path)
            if sizes is not None:
                sizes[p.oid] = p.size
    except MlvError:
        return {}
    return out


def affected_files(damage: Damage, paths: dict[str, list[str]]) -> dict[str, list[str]]:
    """oid -> HEAD paths (maybe none) of every file whose data is damaged: ``damage.files``, and a
    damaged chunk that HEAD also has as a one-chunk file."""
    oids = damage.files | {c for c in damage.chunks if c in paths}
    return {o: paths.get(o, []) for o in oids}


def label_files(files: dict[str, list[str]]) -> list[str]:
    """Sorted labels of ``files`` (oid -> HEAD paths): each path, or the oid when it has none."""
    return sorted(label for oid, paths in files.items() for label in (paths or [oid]))


def _said(e: Exception) -> str:
    """A read error's text for fsck's own report: without its advice to run fsck."""
    text = str(e)
    for tail in ("; run `git mlv fsck`", ", run `git mlv fsck`", " run `git mlv fsck`"):
        text = text.removesuffix(tail)
    return text


def check_midx(pool: Pool) -> list[str]:
    """Problems of ``packs/pool.midx`` (core/midx.py ``check_file``). A pack index it compares
    with that cannot be opened is a problem to name, not an internal error."""
    try:
        return mx.check_file(pool.packset.midx_path, pool.pack_dir)
    except OSError as e:
        return [f"{pool.packset.midx_path}: cannot compare with a pack index: {e}"]


class PoolBusy(MlvError):
    """Another git-mlv process is writing to the pool."""


@dataclass
class GcResult:
    """What ``gc`` removed (or would remove, with dry_run)."""

    live_files: int = 0
    kept_objects: int = 0
    dead_objects: int = 0
    freed_bytes: int = 0
    packs_merged: int = 0  # old packs rewritten into new ones (and deleted)
    packs_written: int = 0
    packs_after: int = 0
    dry_run: bool = False
    summaries_removed: int = 0  # textconv summary cache files removed (docs/formats.md#summary-cache)
    summaries_freed: int = 0  # ... and their bytes
    # a shared pool (mlv.pool): the other clones whose needs were kept, and those gone (forgotten)
    clones: list[str] = field(default_factory=list)
    clones_forgotten: list[str] = field(default_factory=list)
    # kept only for reflog entries of the last reflog_days days (ops/reflog_kept.py)
    reflog_days: float = 0
    reflog_files: int = 0
    reflog_bytes: int = 0
    # run-cache entries kept (the last runcache_days days; their outputs' bytes) and dropped
    runcache_days: float = 0
    runcache_kept: int = 0
    runcache_bytes: int = 0
    runcache_dropped: int = 0


def live_keys(ws: Workspace, reflog_days: float, pool: Pool | None = None) -> tuple[np.ndarray, int]:
    """Sorted ``S33`` index keys of every object gc must keep, and the number of live files
    (``pool``: the one to look in, when ``ws`` is another clone of a shared pool).

    Packed arrays, built batch by batch: a set of Python bytes per live key peaked at 423 MB in
    `git mlv gc` of 600,000 files (bench/RESULTS.md); the arrays take ~100 bytes a file.
    """
    pool = ws.pool if pool is None else pool
    parts = [ida.ids_of(pb.oid for pb in batch.values())
             for batch in walk.reachable_pointer_batches(ws.repo, reflog_days, here_only=True)]
    try:
        from ..pipeline import runcache

        rc_days = runcache.retention_days(ws.repo.config)
        parts.append(ida.ids_of(runcache.live_oids(pool, ws.repo.mlv_dir, rc_days)))
    except ImportError:
        pass
    ids = ida.merge(parts)
    n, live = len(ids), ids[ids != ida.EMPTY]
    del ids
    return stored_keys(pool, live)[0], n


def stored_keys(pool: Pool, ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Sorted ``S33`` keys of every object the files ``ids`` (``S32``, no empty file) have in the
    pool — the manifest and its chunks, or a one-chunk file's chunk — built batch by batch; and how
    many of those files are here (gc and prune decide what to keep from these)."""
    keys, here = [], 0
    for b in ida.batches(ids):
        man, chunk = ida.keys_of(b, KIND_MANIFEST), ida.keys_of(b, KIND_CHUNK)
        has_m = pool.contains(man)
        has_c = ~has_m & pool.contains(chunk)  # a file without a manifest is its one chunk
        here += int((has_m | has_c).sum())
        keys.append(np.unique(np.concatenate([man[has_m], chunk[has_c], ida.chunk_keys_of(pool, b[has_m])])))
    return ida.merge(keys, ida.KEY), here


def reflog_days(config: dict[str, str]) -> float:
    """``mlv.gcReflogDays`` (default 90): gc keeps the data of reflog entries this recent."""
    return settings.days(config, "mlv.gcReflogDays", 90)


def gc(ws: Workspace, dry_run: bool = False) -> GcResult:
    """Remove objects no ref, index, stash, recent reflog entry or run-cache entry needs, and
    consolidate fully: every pack holding dead objects is rewritten, with the packs not full yet
    unless one alone would be, leaving full packs and at most one partial one, all covered by a
    fresh midx (docs/formats.md#consolidation). The summary cache is pruned by the same live set.
    """
    heap.return_large_blocks()  # every live file's key, built batch by batch
    days = reflog_days(ws.repo.config)
    pool = ws.pool
    res = GcResult(dry_run=dry_run)
    lock = None if dry_run else pool.gc_lock()
    if not dry_run and lock is None:
        raise PoolBusy("another git-mlv process is writing to the pool; run gc again when it is done")
    try:
        pausepoint("gc-locked")  # (tests: a command meeting a gc under way)
        pool.refresh()
        lostindex.ensure_indexes(pool, lock)
        check_midx_or_drop(pool)  # keep-or-drop decisions must not rest on a damaged table
        keep_arr, res.live_files = live_keys(ws, days)
        _runcache_retention(ws, pool, res)
        # a shared pool: this clone's mlv.pool, or another clone's mlv.pool naming this .git/mlv
        if os.path.isdir(os.path.join(pool.root, sharedpool.CLONES)):
            keep_arr = _keep_for_clones(ws, keep_arr, res)
        plan, partial, all_dead = [], [], []
        dead_manifests: dict[str, np.ndarray] = {}  # keys of the dead manifests of each pack
        dead_keys: dict[str, np.ndarray] = {}  # of the packs holding a dead manifest, every dead key
        for pack in pool.packs():
            index = lostindex.index_or_say(pool, pack)
            live = idx.search(keep_arr, index.keys)[0] if len(keep_arr) else np.zeros(index.count, bool)
            if int(live.sum()) < index.count and len(m := manifest_keys(index.keys[~live])):
                dead_manifests[pack] = m
                dead_keys[pack] = index.keys[~live]
            dead = int(index.count - live.sum())
            res.kept_objects += int(live.sum())
            res.dead_objects += dead
            if dead:
                sizes = index.records["stored_len"][~live].astype(np.int64) + ENTRY_SIZE
                res.freed_bytes += int(sizes.sum())
            if dead == index.count:
                all_dead.append(pack)
            elif dead:
                plan.append(pack)
            elif os.path.getsize(pack) < pool.settings.pack_size:
                partial.append(pack)
        # a lone partial pack with nothing to drop stays: rewriting it gained nothing and cost up
        # to mlv.packSize at every gc (docs/formats.md#consolidation)
        if plan or all_dead or len(partial) > 1:
            plan += partial
        settled = not plan and not all_dead and pool.packset.midx is not None \
            and not pool.packset.uncovered()
        if not dry_run and not settled:  # settled: nothing to merge, and the midx covers it all
            with complete.deleting(pool):  # data leaves: records of complete commits go stale
                try:
                    done = consolidate(pool, merge=manifests_first(pool, [*plan, *all_dead], dead_keys,
                                                                   dead_manifests), keep=keep_arr)
                except FileSystemError as e:
                    # a full disk: the packs with nothing to keep go first, copying nothing, and
                    # the copies of the others take the room they free (docs/formats.md), in an
                    # order read from the dead manifests, as manifests_first does
                    early = drop_order(pool, {p: lostindex.index_or_say(pool, p).keys
                                              for p in all_dead}, dead_manifests)
                    if not early:
                        raise _no_room(e) from None
                    if drop_packs(pool, early) is None:
                        raise PoolBusy("another git-mlv process is consolidating the pool; run gc "
                                       "again when it is done") from None
                    rest = [*plan, *(p for p in all_dead if p not in early)]
                    try:
                        done = consolidate(pool, merge=manifests_first(pool, rest, dead_keys,
                                                                       dead_manifests), keep=keep_arr)
                    except FileSystemError as again:
                        raise _no_room(again) from None
            if done is None:
                raise PoolBusy("another git-mlv process is consolidating the pool; run gc again when it "
                               "is done")
            res.packs_merged, res.packs_written = done.merged, done.written
        elif not dry_run:
            sweep(pool.pack_dir)  # crash leftovers go even when no pack is rewritten
        if not dry_run:  # files a killed restore or diff left in the pool's tmp/
            sweep_temp(pool.tmp_dir, STALE_TEMP)
        if not dry_run:
            res.packs_after = len(pool.packs())
        kept = reflog_kept.reflog_only(ws.repo, pool, days)
        res.reflog_days, res.reflog_files, res.reflog_bytes = days, kept.files, kept.bytes
        pruned = summarycache.prune(ws.repo.common_dir, _live_files(keep_arr), dry_run)
        res.summaries_removed, res.summaries_freed = pruned.entries, pruned.bytes
        return res
    finally:
        if lock is not None:
            unlock(lock)


def _runcache_retention(ws: Workspace, pool: Pool, res: GcResult) -> None:
    """Count the run-cache entries gc keeps, and delete the key files of older ones (not with
    dry_run), before any pack: a key never names an entry gc deleted (docs/pipelines.md)."""
    try:
        from ..pipeline import runcache
    except ImportError:
        return
    res.runcache_days = runcache.retention_days(ws.repo.config)
    rc = runcache.RunCache(pool, ws.repo.mlv_dir)
    recent, old = rc.split(res.runcache_days)
    res.runcache_kept, res.runcache_bytes = len(recent), runcache.outputs_size(rc, recent)
    res.runcache_dropped = len(old)
    if not res.dry_run:
        rc.drop(old)


def _keep_for_clones(ws: Workspace, keep: np.ndarray, res: GcResult) -> np.ndarray:
    """``keep`` and what every other clone recorded in this shared pool needs (ops/sharedpool.py);
    the records of clones gone from this host are forgotten (not with --dry-run)."""
    parts = [keep]
    for clone in list(sharedpool.others(ws)):
        other = sharedpool.open_other(ws, clone)
        if other is None:
            res.clones_forgotten.append(clone.git_dir)
            if not res.dry_run:
                sharedpool.forget(clone)
            continue
        days = reflog_days(other.repo.config)
        try:
            keys, files = live_keys(other, days, ws.pool)
        except GitError as e:
            raise sharedpool.cannot_read(clone, e) from None
        parts.append(keys)
        res.live_files += files
        res.clones.append(clone.git_dir)
    return ida.merge(parts, ida.KEY)


def _live_files(keep: np.ndarray) -> Callable[[list[str]], list[bool]]:
    """oids -> whether gc keeps that file (its manifest, or a one-chunk file's chunk, is in the
    sorted keys ``keep``), for pruning the summary cache by the same answer as the pool."""
    def live(oids: list[str]) -> list[bool]:
        ids = np.frombuffer(bytes.fromhex("".join(oids)), dtype=ida.ID)
        found = (idx.search(keep, ida.keys_of(ids, KIND_MANIFEST))[0]
                 | idx.search(keep, ida.keys_of(ids, KIND_CHUNK))[0])
        return [bool(f) for f in found]
    return live


def check_midx_or_drop(pool: Pool) -> None:
    """Verify the midx whole before gc or prune decide from it; a damaged one is dropped (the pack
    indexes answer instead)."""
    m = pool.packset.midx
    if m is None:
        return
    try:
        m.verify()
    except CorruptObject:
        pool.packset.drop_midx()


def manifests_first(pool: Pool, packs: list[str], dead_keys: dict[str, np.ndarray],
                    dead_manifests: dict[str, np.ndarray]) -> list[str]:
    """``packs`` in an order consolidation may delete them in: no pack before those holding a
    dead manifest that names one of its dead chunks (core/consolidate.drop_order). In any other
    order, a gc killed between two deletions left a dead file's manifest without its chunks, and
    fsck called it damage (exit 3, "chunk ... is not in the pool; run `git mlv pull`") until the
    next gc. The packs holding a dead manifest go first, ordered among themselves (their dead
    manifests are read: only when two or more hold one); a cycle, never made by one writer (a
    manifest follows its chunks), keeps the rest of them as they were."""
    holding = [p for p in packs if p in dead_manifests]
    if not holding or len(packs) < 2:
        return packs
    # the others go after all of these: no dead manifest is left by then
    first = drop_order(pool, {p: dead_keys[p] for p in holding},
                       {p: dead_manifests[p] for p in holding}) if len(holding) > 1 else holding
    return [*first, *(p for p in holding if p not in first), *(p for p in packs if p not in holding)]


def _no_room(e: FileSystemError) -> FileSystemError:
    """gc's own full disk: its line said to free space with `git mlv gc`, the command that failed."""
    return FileSystemError(str(e).replace(
        NO_SPACE_TODO, "gc copies the data it keeps before it deletes the old packs and needs that "
        "room: free some space on that file system (or set `mlv.pool` to a folder on a larger "
        "one), then run gc again"))
