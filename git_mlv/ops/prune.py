"""``git mlv prune``: delete local data the default remote is verified to hold and nothing here
needs (docs/fetch-scope.md#prune; the ``git lfs prune`` contract).

Kept: every file version of HEAD, the index, stashes, refs younger than ``keep_days`` and unpushed
commits (gitio/retain.py), and run-cache entry objects (small; their outputs are fetched again on a
hit). Deleted: every other object (chunk or manifest) of the local packs that the remote's index
files name, read after a fresh listing of the remote so a remote that lost a pack is seen. A chunk
shared with a kept file is kept, since keep and delete are decided per object.

Packs holding deleted objects are rewritten by the consolidation machinery (core/consolidate.py):
the kept entries are copied into new packs, the midx is rewritten, and only then are the old packs
deleted, so a kill at any moment leaves a readable pool and readers retry on a vanished index;
memory holds the keys, not the data. Packs holding a deleted file's manifest go first, as in gc
(ops/maintenance.manifests_first): a kill between two deletions leaves chunks nothing names, never
a manifest without its chunks. The pool's gc lock is held exclusively: no writer runs while
prune decides.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from ..core import idarray as ida
from ..core import index as idx
from ..core.consolidate import consolidate, manifest_keys
from ..core.fsutil import unlock
from ..core.pack import ENTRY_SIZE, KIND_CHUNK, KIND_MANIFEST
from ..core.pool import Pool
from ..errors import MlvError, UsageError
from ..gitio import retain, walk
from ..gitio.git import GitError
from ..remotes.base import RemoteError
from . import complete, remote_config, sharedpool
from .context import Workspace
from .lostindex import ensure_indexes
from .maintenance import PoolBusy, check_midx_or_drop, manifests_first, stored_keys

DEFAULT_KEEP_DAYS = 7.0  # git-lfs's lfs.fetchrecentrefsdays


class NoRemoteToVerify(MlvError):
    """prune deletes only what a remote is verified to hold: there is no remote to ask."""

    exit_code = 2


@dataclass
class PruneResult:
    """What prune deleted (or, with ``dry_run``, would delete)."""

    remote: str
    keep_days: float
    dry_run: bool = False
    files: int = 0  # file versions whose data leaves the pool (manifest, or a one-chunk file's chunk)
    chunks: int = 0  # chunk objects deleted
    objects: int = 0  # objects deleted (chunks and manifests)
    bytes_freed: int = 0  # pack bytes those objects took
    retained_files: int = 0  # file versions kept because HEAD, the index, a stash, a ref... needs them
    not_on_remote: int = 0  # objects not needed here, kept because the remote lacks them
    packs_rewritten: int = 0
    packs_written: int = 0
    recent_refs: list[str] = field(default_factory=list)
    stashes: int = 0
    unpushed_commits: int = 0
    clones: list[str] = field(default_factory=list)  # other clones of a shared pool whose needs were kept


def keep_days_setting(ws: Workspace, given: float | None) -> float:
    """``--keep-days``, else ``mlv.pruneKeepDays``, else 7; a clear error for a bad value."""
    raw: object = given if given is not None else ws.repo.config.get("mlv.prunekeepdays",
                                                                      DEFAULT_KEEP_DAYS)
    try:
        days = float(raw)  # type: ignore[arg-type]
    except ValueError:
        raise UsageError(f"mlv.pruneKeepDays = {raw!r} is not a number of days") from None
    if days < 0 or days != days:
        raise UsageError(f"keep-days must be 0 or more, not {raw}")
    return days


def prune(ws: Workspace, keep_days: float | None = None, dry_run: bool = False) -> PruneResult:
    """Delete local objects the default remote holds and nothing here needs; see the module."""
    name = remote_config.default_remote_name(ws)
    if name is None or name not in remote_config.remotes(ws):
        raise NoRemoteToVerify("prune deletes only data a remote is verified to hold, and there is no "
                               "default data remote; add one with `git mlv remote add NAME URL "
                               "--default` and push")
    days = keep_days_setting(ws, keep_days)
    res = PruneResult(remote=name, keep_days=days, dry_run=dry_run)
    pool = ws.pool
    lock = None if dry_run else pool.gc_lock()
    if not dry_run and lock is None:
        raise PoolBusy("another git-mlv process is writing to the pool; run prune again when it is done")
    try:
        pool.refresh()
        ensure_indexes(pool, lock)  # a pack index lost by hand: rebuilt from its whole pack
        check_midx_or_drop(pool)  # keep-or-drop decisions must not rest on a damaged table
        keep = retain.retained(ws.repo, days)
        res.recent_refs, res.stashes = keep.recent_refs, keep.stashes
        res.unpushed_commits = keep.unpushed_commits
        oids = keep.oids
        # a shared pool: this clone's mlv.pool, or another clone's mlv.pool naming this .git/mlv
        if ws.repo.config.get("mlv.pool") or os.path.isdir(os.path.join(pool.root, sharedpool.CLONES)):
            oids = ida.merge([oids, _needed_by_clones(ws, res)])
        needed, res.retained_files = _needed_keys(ws, pool, oids)
        plan, survivors, gone = _plan(ws, pool, name, needed, res)
        if dry_run or not plan:
            return res
        # the packs holding a pruned file's manifest go before those holding its chunks, as gc's:
        # killed between two deletions, a prune left a manifest without a chunk, and fsck called it
        # damage (exit 3) until `git mlv pull`
        manifests = {p: m for p, keys in gone.items() if len(m := manifest_keys(keys))}
        with complete.deleting(pool):  # data leaves: records of complete commits go stale
            done = consolidate(pool, merge=manifests_first(pool, plan, gone, manifests), keep=survivors)
        if done is None:
            raise PoolBusy("another git-mlv process is consolidating the pool; run prune again "
                           "when it is done")
        res.packs_rewritten, res.packs_written = done.merged, done.written
        return res
    finally:
        if lock is not None:
            unlock(lock)


def _needed_by_clones(ws: Workspace, res: PruneResult) -> np.ndarray:
    """The file versions every other clone recorded in this shared pool keeps by the same rules
    (its own HEAD, index, stashes, recent refs with its own mlv.pruneKeepDays, unpushed work).
    Before, prune refused where this clone had mlv.pool, and where another clone's mlv.pool named
    this .git/mlv it deleted what that clone's HEAD needed. A clone gone from this host needs
    nothing (gc forgets its record)."""
    parts: list[np.ndarray] = []
    for clone in list(sharedpool.others(ws, "prune")):
        other = sharedpool.open_other(ws, clone, "prune")
        if other is None:
            continue
        try:
            parts.append(retain.retained(other.repo, keep_days_setting(other, None)).oids)
        except GitError as e:
            raise sharedpool.cannot_read(clone, e, "prune") from None
        res.clones.append(clone.git_dir)
    return ida.merge(parts)


def _needed_keys(ws: Workspace, pool: Pool, ids: np.ndarray) -> tuple[np.ndarray, int]:
    """Sorted ``S33`` keys of every object the kept files (``ids``: sorted S32) and run-cache
    entries need here."""
    try:
        from ..pipeline.runcache import RunCache

        ids = ida.merge([ids, ida.ids_of(RunCache(pool, ws.repo.mlv_dir).entry_oids())])
    except ImportError:
        pass
    return stored_keys(pool, ids[ids != ida.EMPTY[0]])


def _plan(ws: Workspace, pool: Pool, remote: str, needed: np.ndarray, res: PruneResult
          ) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """Packs holding objects to delete, the keys of those packs that survive, and each pack's
    keys to delete; counts into ``res``. The remote is listed first: a pack it lost is not taken
    for a copy."""
    from . import sync

    _, rem, rindex = sync.open_named(ws, remote)
    try:
        try:
            rindex.refresh(workers=rem.parallelism)
        except RemoteError as e:
            raise RemoteError(f"prune could not list remote '{remote}' to verify what it holds, so "
                              f"nothing was deleted: {e}") from e
        plan: list[str] = []
        survivors: list[np.ndarray] = []
        deleted: dict[str, np.ndarray] = {}
        for pack in pool.packs():
            index = pool.index_of(pack)
            keys = np.asarray(index.keys)
            spare = ~idx.search(needed, keys)[0] if len(needed) else np.ones(len(keys), bool)
            there = np.zeros(len(keys), bool)
            if spare.any():
                there[spare] = rindex.contains(list(keys[spare]))
            res.not_on_remote += int((spare & ~there).sum())
            if not there.any():
                continue
            plan.append(pack)
            survivors.append(keys[~there])
            deleted[pack] = keys[there]
            sizes = index.records["stored_len"][there].astype(np.int64) + ENTRY_SIZE
            res.bytes_freed += int(sizes.sum())
        empty = np.zeros(0, f"S{idx.KEY_SIZE}")
        gone = np.unique(np.concatenate(list(deleted.values()))) if deleted else empty
        _count(ws, pool, gone, res)
        keep = np.unique(np.concatenate(survivors)) if survivors else empty
        return plan, keep, deleted
    finally:
        rindex.close()
        rem.close()


def _count(ws: Workspace, pool: Pool, gone: np.ndarray, res: PruneResult) -> None:
    """Objects, chunks and file versions among the deleted keys: a file version goes with its
    manifest, or (a one-chunk file, which has none) with its only chunk."""
    res.objects = len(gone)
    kinds = np.frombuffer(gone.tobytes(), np.uint8).reshape(-1, idx.KEY_SIZE)[:, 32]
    res.chunks = int((kinds == KIND_CHUNK).sum())
    manifests = int((kinds == KIND_MANIFEST).sum())
    if res.chunks == 0:
        res.files = manifests
        return
    # one-chunk files: ids of files known to history, deleted as chunks and without a manifest
    # (batch by batch: before, every pointer of history was a Python object at once)
    parts = [ida.ids_of(pb.oid for pb in b.values())
             for b in walk.reachable_pointer_batches(ws.repo, reflog_days=0)]
    known = ida.merge(parts)
    known = known[known != ida.EMPTY[0]]
    singles = []
    for b in ida.batches(known):
        mkeys, ckeys = ida.keys_of(b, KIND_MANIFEST), ida.keys_of(b, KIND_CHUNK)
        singles.append(ckeys[~pool.contains(mkeys)])
    single = np.sort(np.concatenate([np.zeros(0, ida.KEY), *singles]))
    res.files = manifests + (int(idx.search(single, gone)[0].sum()) if len(single) else 0)
