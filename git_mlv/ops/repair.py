"""``git mlv fsck --repair``: drop what is damaged in the pool, keep every good object, and fetch the
damaged files again from the default data remote (docs/formats.md#repair).

1. Read the whole pool as fsck does (maintenance.check_pool): the damaged objects, and the files
   they break (a damaged or unreadable manifest, a manifest naming a damaged or missing chunk, a
   damaged chunk that is a one-chunk file).
2. Write ``repair-pending`` (those files' oids) in the pool, then rewrite every pack holding a
   damaged object or an affected file's manifest with the consolidation machinery and a ``keep``
   set of all its other keys: the good objects are copied (each CRC-checked) into new indexed packs,
   the midx is rewritten, and only then are the old packs deleted. Dropping the manifests matters:
   a file counts as present while its manifest is, so a fetch would skip it.
3. Store again those whose worktree copy (at a HEAD path) hashes to their oid: the pool lost them,
   the checkout did not. Fetch the rest from the default data remote, verified as every fetch is,
   and remove ``repair-pending``. A run killed after step 2 leaves the files absent but named there: the next
   run (or plain fsck, which says so) fetches them.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field

import numpy as np

from ..core import index as idx
from ..core.consolidate import consolidate
from ..core.crashpoint import crashpoint
from ..core.fsutil import atomic_write, unlock
from ..core.hashing import file_oid
from ..core.pack import KIND_MANIFEST
from ..core.pool import Pool
from ..errors import UsageError
from ..remotes.fetch import fetch_files
from . import complete, remote_config, sync, trust
from . import maintenance as mt
from .context import Workspace
from .maintenance import Damage, FsckResult, PoolBusy


@dataclass
class RepairResult:
    """What ``fsck --repair`` found, dropped and brought back."""

    fsck: FsckResult
    dropped_objects: int = 0  # damaged objects and affected files' manifests dropped from the pool
    packs_rewritten: int = 0  # packs holding them, rewritten without them (and deleted)
    remote: str | None = None  # the data remote the files were fetched from
    url: str = ""
    repaired: list[str] = field(default_factory=list)  # files whose data is whole here again
    from_worktree: list[str] = field(default_factory=list)  # of those, stored from the worktree copy
    lost: dict[str, str] = field(default_factory=dict)  # file -> why it did not come back
    unrepaired: list[str] = field(default_factory=list)  # damage repair cannot drop (a whole pack)
    notes: list[str] = field(default_factory=list)  # for the user: which (untrusted) URL was read
    remote_damaged: list[str] = field(default_factory=list)  # remote objects that failed verification

    @property
    def clean(self) -> bool:
        """True when nothing damaged is left unrepaired."""
        return not self.lost and not self.unrepaired


def repair(ws: Workspace) -> RepairResult:
    """Find the damage, drop it (keeping every good object), and fetch the affected files again."""
    pool = ws.pool
    found, damage = mt.check_pool(pool)
    res = RepairResult(found)
    pending = mt.read_pending(pool)
    if not (damage.objects or damage.files or damage.chunks or damage.midx or damage.packs or pending):
        return res
    sizes: dict[str, int] = {}
    paths = mt.head_paths(ws, sizes)
    files = mt.affected_files(damage, paths)
    files.update((o, paths.get(o, [])) for o in pending if o not in files)
    found.affected = mt.label_files(files)
    res.unrepaired = [f"{os.path.basename(p)}: cannot be read; its objects were left as they are"
                      for p in damage.packs]
    if files and sorted(files) != sorted(pending):
        atomic_write(os.path.join(pool.root, mt.PENDING), "".join(f"{o}\n" for o in sorted(files)).encode())
    _drop(pool, damage, files, res)
    crashpoint("repair-dropped")
    pool.refresh()
    todo = {o: p for o, p in files.items() if not pool.has_file(o)}
    res.repaired = mt.label_files({o: p for o, p in files.items() if o not in todo})
    _from_worktree(ws, pool, todo, sizes, res)
    if todo:
        _fetch(ws, pool, todo, sizes, res)
    res.unrepaired += mt.check_midx(pool)
    try:
        os.unlink(os.path.join(pool.root, mt.PENDING))
    except FileNotFoundError:
        pass
    return res


def _drop(pool: Pool, damage: Damage, files: dict[str, list[str]], res: RepairResult) -> None:
    """Rewrite the packs holding damaged objects or affected files' manifests without them."""
    drop = set(damage.objects) | {idx.key(bytes.fromhex(o), KIND_MANIFEST) for o in files}
    drop_keys = np.array(sorted(drop), dtype="S33")
    lock = pool.gc_lock()
    if lock is None:
        raise PoolBusy("another git-mlv process is writing to the pool; run `git mlv fsck --repair` "
                       "again when it is done")
    try:
        pool.refresh()
        if damage.midx:
            mt.check_midx_or_drop(pool)
        merge: list[str] = []
        keeps: list[np.ndarray] = []
        for pack in pool.packs():  # looked up again: a consolidation may have moved a manifest
            if pack in damage.packs:
                continue
            keys = pool.index_of(pack).keys
            hit = idx.search(drop_keys, keys)[0]
            if hit.any():
                merge.append(pack)
                keeps.append(keys[~hit])
        if not merge and not damage.midx:
            return
        keep = np.unique(np.concatenate(keeps)) if keeps else np.zeros(0, "S33")
        with complete.deleting(pool):  # data leaves: records of complete commits go stale
            done = consolidate(pool, merge=merge, keep=keep)
        if done is None:
            raise PoolBusy("another git-mlv process is consolidating the pool; run "
                           "`git mlv fsck --repair` again when it is done")
        res.dropped_objects, res.packs_rewritten = done.objects_dropped, done.merged
    finally:
        unlock(lock)


def _from_worktree(ws: Workspace, pool: Pool, todo: dict[str, list[str]], sizes: dict[str, int],
                   res: RepairResult) -> None:
    """Store again each file of ``todo`` whose worktree copy at one of its HEAD paths is its data
    (same size, same sha256), and take it out of ``todo``: nothing to fetch, and a file the remote
    never had (committed, not pushed) is not lost."""
    top = ws.repo.worktree
    if top is None:
        return
    for oid, paths in sorted(todo.items()):
        for path in paths:
            full = os.path.join(top, path)
            try:
                st = os.lstat(full)
                if not stat.S_ISREG(st.st_mode) or st.st_size != sizes.get(oid, -1):
                    continue
                if file_oid(full) != oid:
                    continue
                if pool.writer().add_path(full).oid != oid:  # changed since it was hashed
                    continue
            except OSError:
                continue
            del todo[oid]
            res.from_worktree += paths
            break
    if res.from_worktree:
        pool.writer().commit()
        res.repaired = sorted(res.repaired + res.from_worktree)


def _fetch(ws: Workspace, pool: Pool, todo: dict[str, list[str]], sizes: dict[str, int],
           res: RepairResult) -> None:
    """Fetch ``todo`` (oid -> HEAD paths) from the default data remote; what does not come back is
    named in ``res.lost`` with the reason."""
    try:
        rc = remote_config.get(ws, None)
    except UsageError as e:
        res.lost = {label: f"no data remote to fetch it from ({e})" for label in mt.label_files(todo)}
        return
    rc, rem, rindex = sync.open_named(ws, rc.name)
    res.remote, res.url = rc.name, rem.url
    note = trust.for_fetch(ws, rc)
    res.notes += [note] if note else []
    try:
        stats = fetch_files(pool, rem, rindex, list(todo), sync.retry_policy(ws),
                            sizes={o: sizes[o] for o in todo if o in sizes})
    finally:
        pool.writer().commit()
        rindex.close()
        rem.close()
    res.remote_damaged = stats.damaged
    not_there = set(stats.not_on_remote)
    for oid, paths in sorted(todo.items()):
        if oid in stats.present:
            res.repaired += paths or [oid]
            continue
        why = stats.failed.get(oid) or ("the remote does not have it" if oid in not_there
                                        else "it did not arrive whole")
        res.lost.update((label, why) for label in paths or [oid])
    res.repaired.sort()
