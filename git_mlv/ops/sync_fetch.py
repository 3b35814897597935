"""The fetch half of ops/sync.py: fetch and pull of data, run-cache entries from the remote, and
``fetch_oids``, which the filter, the hooks and diff call for the files they need now.

Which data and the run-cache's rules: ops/sync.py's docstring. A fetch checks every object against
its id before it enters the pool (remotes/fetch.py).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..core import heap
from ..core.hashing import EMPTY_OID, is_oid
from ..core.pool import Pool
from ..errors import MlvError
from ..gitio import walk
from ..gitio.git import GitError
from ..gitio.pointer_cache import PointerBlob
from ..remotes.base import ObjectInfo, Remote
from ..remotes.cache import RemoteIndex
from ..remotes.fetch import FetchStats, fetch_files
from ..remotes.transfer import RetryPolicy
from . import complete, fetchplan, remote_config, sync, trust, verified
from .context import Workspace
from .scope import FetchScope, fetch_scope
from .sync import ProgressFn, label_paths, open_config, open_named, retry_policy

if TYPE_CHECKING:
    from .data import CheckoutResult


@dataclass
class FetchResult:
    """What a fetch did."""

    remote: str = ""
    url: str = ""
    files: int = 0  # files asked for
    fetched: int = 0  # files downloaded
    bytes_received: int = 0
    not_on_remote: list[str] = field(default_factory=list)  # paths (or oids)
    damaged: list[str] = field(default_factory=list)  # one message per object that failed checks
    runcache_entries: int = 0
    notes: list[str] = field(default_factory=list)  # for the user: which (untrusted) URL was read
    failed: dict[str, str] = field(default_factory=dict)  # path (or oid) -> why it was not fetched
    warnings: list[str] = field(default_factory=list)  # e.g. stray names on the remote, skipped
    out_of_scope: int = 0  # files not asked for: outside mlv.fetchInclude/Exclude (or -I/-X)
    # a commit whose data was all here (ops/complete.py): only the files changed since were looked
    # at, and ``files`` counts those
    since: str = ""
    # the other data remotes, when some files were not on this one (pushed to another?)
    other_remotes: list[str] = field(default_factory=list)


@dataclass
class PullResult:
    """What a pull did: the fetch, then the files written into the worktree."""

    fetch: FetchResult
    restored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)  # missing path -> why it stayed a pointer
    # pointers at paths no tracked pattern covers: left as git's pointer text, their data not fetched
    outside_patterns: list[str] = field(default_factory=list)
    index_locked: bool = False  # data.CheckoutResult's: git re-reads the files written later


# -- fetch ---------------------------------------------------------------------------------------
def fetch(ws: Workspace, remote: str | None = None, revs: list[str] | None = None, all: bool = False,
          progress: ProgressFn | None = None, scope: FetchScope | None = None) -> FetchResult:
    """Download the data of ``revs`` (default HEAD; every commit with ``all``) the pool lacks;
    files out of ``scope`` (default: mlv.fetchInclude/Exclude) are left out, except with ``all``.

    When a commit's data is recorded as all here (ops/complete.py), only the files of ``revs``
    that differ from its tree are looked at; a fetch that leaves every file of ``revs`` here
    records them."""
    remote = remote_config.get(ws, remote).name
    scope = fetch_scope(ws) if scope is None else scope
    started = complete.start(ws.pool)  # before the pool is looked at: a gc meanwhile shows
    wanted = revs or ["HEAD"]
    tips = [] if all else verified.commits_of(ws, wanted)
    tips = tips if len(tips) == len(wanted) else []
    batches, since = _changed_since(ws, started, tips) if tips else (None, "")
    todo = fetchplan.plan(ws.pool, batches if batches is not None
                          else sync.pointer_batches_of_revs(ws, revs, all),
                          FetchScope() if all else scope)
    res = _fetch_oids_into(ws, ws.pool, remote, set(todo.paths), todo.paths, progress,
                           runcache_outs=all, sizes=todo.sizes, files=todo.files)
    res.out_of_scope, res.since = todo.out_of_scope, since
    if tips and _all_here(ws, todo):
        complete.Complete.load(ws).save(started, tips)
    return res


def _changed_since(ws: Workspace, started: str, tips: list[str]
                   ) -> tuple[list[list[fetchplan.Item]] | None, str]:
    """(the pointers of ``tips``' trees that differ from a recorded complete commit's, that
    commit), or (None, "") when no record is true now or git cannot compare with it."""
    rec = complete.Complete.load(ws)
    base = rec.base(started, ws.pool)
    if base is None:
        return None, ""
    try:
        items: list[fetchplan.Item] = list(verified.tree_pointer_items_beyond(ws, tips, base))
    except GitError:  # the recorded commit is gone (a deleted branch, git gc, a shallow clone)
        return None, ""
    return [items], base


def _all_here(ws: Workspace, todo: fetchplan.Plan) -> bool:
    """True when every file the plan saw has its data in the pool now: nothing left out by the
    scope that is not here, and every file it asked for arrived."""
    from .data import present_oids

    if todo.left_lacking:
        return False
    if not todo.paths:
        return True
    ws.pool.refresh()
    return len(present_oids(ws.pool, todo.paths)) == len(todo.paths)


def pull(ws: Workspace, remote: str | None = None, paths: list[str] | None = None,
         progress: ProgressFn | None = None, scope: FetchScope | None = None,
         trust_record: bool = True) -> PullResult:
    """Fetch the data of the checked-out files (under ``paths``, in ``scope``: default
    mlv.fetchInclude/Exclude) and write them into the worktree; data already here is written
    whatever the scope.

    Without ``paths``, when a commit's data is recorded as all here (ops/complete.py), only the
    index entries that differ from its tree are looked at for the fetch; a pull that leaves every
    file of the index here and in the worktree, the index being HEAD's tree, records HEAD.
    The worktree has the last word (without ``paths``, of its files only those git's stat data
    says may be pointers are looked at: gitio/indexstat.py): when files stay pointers for want
    of data the record said was here (gone from the pool without gc, prune or repair: packs
    deleted by hand, a damaged disk), every record is dropped and the pull reads the whole index
    (``trust_record`` False)."""
    from . import data

    scope = fetch_scope(ws) if scope is None else scope
    started = complete.start(ws.pool)
    sparse = [0]  # skip-worktree entries seen: their data is not fetched, so nothing is recorded
    since_base, since = (_index_since(ws, started, sparse) if paths is None and trust_record
                         else (None, ""))
    batches: Iterable[Sequence[fetchplan.Item]] = (
        since_base if since_base is not None
        else data.worktree_pointer_batches(ws, paths) if paths is not None
        else _index_items(walk.index_pointer_batches(ws.repo), sparse))
    # the index's files; a sparse checkout's only. Those no tracked pattern covers are dropped
    todo = fetchplan.plan(ws.pool, batches, scope, drop=lambda lacking: _outside_patterns(ws, lacking))
    if not todo.paths and remote is None and remote_config.default_remote_name(ws) is None:
        # every file's data is here (a pool shared with `mlv.pool`, a clone that fetched before
        # its remote was removed) and there is no data remote to read run-cache entries from:
        # the pull writes the files. Before, it stopped at "no default data remote" first.
        fres = FetchResult(files=todo.files)
    else:
        fres = _fetch_oids_into(ws, ws.pool, remote, set(todo.paths), todo.paths, progress,
                                runcache_outs=False, sizes=todo.sizes, files=todo.files)
    fres.out_of_scope, fres.since = todo.out_of_scope, since
    ws.pool.refresh()
    # the worktree pass: of the whole index, only the files that may be pointers, by git's stat
    # data (gitio/indexstat.py); every file when the index is not read here
    co = data.checkout(ws, paths)
    if co.incomplete:  # in scope or not: their data was meant to be here
        _complete(ws, remote, co, fres)
    if since and co.missing and _beyond(co.missing, todo):  # the record was wrong: none is
        # trusted now, and the whole index is read
        try:
            complete.bump(ws.pool)
        except (OSError, MlvError):
            pass
        again = pull(ws, remote, paths, progress, scope, trust_record=False)
        again.restored = co.restored + again.restored
        again.index_locked |= co.index_locked
        return again
    missing = [p for p in co.missing if scope(p)]  # out of scope: a pointer on purpose
    if paths is None and not (sparse[0] or co.missing or co.outside_patterns) and _all_here(ws, todo):
        head = complete.index_is_head(ws)
        if head is not None:
            complete.Complete.load(ws).save(started, [head])
    return PullResult(fres, co.restored, missing, stayed_pointers(missing, fres),
                      sorted(co.outside_patterns), co.index_locked)


def _beyond(missing: list[str], todo: fetchplan.Plan) -> bool:
    """True when a file stayed a pointer that the plan did not ask for: its data was taken for
    here. (One it asked for and the remote lacked stays a pointer whatever a full read finds.)"""
    asked = {p for ps in todo.paths.values() for p in ps}
    return any(p not in asked for p in missing)


def _index_since(ws: Workspace, started: str, sparse: list[int]
                 ) -> tuple[Iterable[list[fetchplan.Item]] | None, str]:
    """(the index's pointers that differ from a recorded complete commit's tree, that commit), or
    (None, "") when no record is true now or git cannot compare with it."""
    base = complete.Complete.load(ws).base(started, ws.pool)
    changed = complete.index_changed_paths(ws, base) if base is not None else None
    if base is None or changed is None:
        return None, ""
    return _index_items(walk.index_pointer_batches(ws.repo, changed), sparse), base


def _index_items(batches: Iterable[list[tuple[walk.IndexEntry, PointerBlob]]], sparse: list[int]
                 ) -> Iterator[list[fetchplan.Item]]:
    """(oid, size, path) of these index pointers that belong in the worktree; the skip-worktree
    ones (outside a sparse checkout) counted in ``sparse[0]``."""
    for batch in batches:
        items: list[fetchplan.Item] = [(pb.oid, pb.size, e.path) for e, pb in batch if not e.skip_worktree]
        sparse[0] += len(batch) - len(items)
        del batch  # one copy of a batch alive while the caller works on it
        yield items


def _complete(ws: Workspace, remote: str | None, co: CheckoutResult, fres: FetchResult) -> None:
    """Fetch the chunks the pool lacks of files whose manifest is here (a `git mlv prune` killed
    between deleting two packs left some), then write those files; ``co`` and ``fres`` updated.
    Before, the pull stopped at the first with "chunk ... is not in the pool; run `git mlv pull`"."""
    from . import data

    todo = co.incomplete
    again = _fetch_oids_into(ws, ws.pool, remote, set(todo), todo, None, runcache_outs=False,
                             sizes={o: co.missing_sizes[o] for o in todo},
                             incomplete=frozenset(todo))
    fres.files += again.files
    fres.fetched += again.fetched
    fres.bytes_received += again.bytes_received
    fres.not_on_remote += again.not_on_remote
    fres.damaged += again.damaged
    fres.failed.update(again.failed)
    ws.pool.refresh()
    res = data.checkout_paths(ws, [p for ps in todo.values() for p in ps])
    done = set(res.restored)
    co.restored += res.restored
    co.missing = [p for p in co.missing if p not in done]
    co.index_locked |= res.index_locked


def _outside_patterns(ws: Workspace, lacking: dict[str, list[str]]) -> set[str]:
    """The files of ``lacking`` (oid -> paths, data the pool lacks) whose every path lies outside
    the tracked patterns: checkout leaves those as the pointer text git wrote (data.checkout), so
    their data would be fetched for nothing. One check-attr for their paths: the cost follows
    what is to fetch, not the number of tracked files."""
    from ..gitio import attributes

    asked = [p for ps in lacking.values() for p in ps]
    inside = attributes.filtered(ws.repo, asked) if asked else set()
    return {o for o, ps in lacking.items() if ps and not any(p in inside for p in ps)}


def stayed_pointers(missing: list[str], fres: FetchResult) -> dict[str, str]:
    """Why each of these worktree files is still a pointer (the fetch's reason, if it had one)."""
    return {p: fres.failed.get(p, "its data is neither here nor on the remote") for p in missing}


def _fetch_oids_into(ws: Workspace, pool: Pool, remote: str | None, oids: set[str],
                     paths: dict[str, list[str]], progress: ProgressFn | None,
                     runcache_outs: bool, sizes: dict[str, int] | None = None,
                     incomplete: frozenset[str] = frozenset(), files: int | None = None) -> FetchResult:
    """Fetch ``oids`` (``paths``: their paths, for messages); ``files``: the number of files to
    report as asked for (default: ``len(oids)``; fetch and pull count those already here too)."""
    rc, rem, rindex = open_named(ws, remote)
    retry = retry_policy(ws)
    result = FetchResult(remote=rc.name, url=rem.url, files=len(oids) if files is None else files)
    note = trust.for_fetch(ws, rc)
    result.notes += [note] if note else []
    try:
        stats = fetch_files(pool, rem, rindex, oids, retry, progress, sizes=sizes, incomplete=incomplete)
        rc_stats, entries = fetch_runcache(ws, pool, rem, rindex, retry, runcache_outs)
        result.runcache_entries = entries
        stats.damaged += rc_stats.damaged
        stats.bytes_received += rc_stats.bytes_received
    finally:
        try:
            pool.commit_written()  # nothing arrived: nothing to commit, no writer opened
        finally:  # a pool that refuses the commit (read-only) must not keep the remote open
            rindex.close()
            rem.close()
    result.fetched = len(stats.fetched & oids)
    result.bytes_received = stats.bytes_received
    result.not_on_remote = label_paths(stats.not_on_remote, paths)
    if result.not_on_remote:  # two remotes, data pushed to the other: say where else to look
        result.other_remotes = sorted(n for n in remote_config.remotes(ws) if n != rc.name)
    result.damaged = stats.damaged
    result.warnings = stats.warnings
    result.failed = {label: why for oid, why in stats.failed.items() if oid in oids
                     for label in (paths.get(oid) or [oid])}
    return result


def fetch_runcache(ws: Workspace, pool: Pool, rem: Remote, rindex: RemoteIndex, retry: RetryPolicy,
                    with_outs: bool, listing: dict[str, ObjectInfo] | None = None) -> tuple[FetchStats, int]:
    """Remote run-cache keys missing here, with their entry objects (and outputs' data): those of
    the last ``mlv.gcRunCacheDays`` days, each keeping its remote time (docs/pipelines.md).
    ``listing``: the remote's ``runcache/`` as the caller listed it already (gc --remote)."""
    from ..core.fsutil import atomic_write
    from ..core.fsutil import makedirs as fsutil_makedirs
    from ..pipeline.runcache import RunCache, is_recent, retention_days

    rcache = RunCache(pool, ws.repo.mlv_dir)
    local = set(rcache.keys())
    days = retention_days(ws.repo.config)
    infos = retry.run(lambda: rem.list_info("runcache/")) if listing is None else listing
    there = [n for n, info in infos.items()
             if n.split("/", 1)[1] not in local and is_recent(info.mtime, days)]
    if not there and not with_outs:
        return FetchStats(), 0
    keys: dict[str, str] = {}
    for name in there:
        text = retry.run(lambda n=name: rem.get(n)).decode("ascii", errors="replace").strip()  # type: ignore[misc]
        if is_oid(text):
            keys[name.split("/", 1)[1]] = text
    stats = fetch_files(pool, rem, rindex, set(keys.values()), retry, max_age=60)
    pool.flush_written()
    added = 0
    if keys:
        fsutil_makedirs(rcache.dir)
    for key, oid in keys.items():
        if oid in stats.present:  # only keys whose entry arrived: a key without entry is useless
            path = os.path.join(rcache.dir, key)
            atomic_write(path, f"{oid}\n".encode())
            mtime = min(infos[f"runcache/{key}"].mtime, time.time())
            os.utime(path, (mtime, mtime))  # as old as the push that sent it, not new here
            added += 1
    if with_outs:
        # two rounds: a directory output's listing names its files only once the listing is here
        asked: set[str] = set()
        for _ in range(2):
            need = _runcache_outs(pool, rcache) - asked
            more = fetch_files(pool, rem, rindex, need, retry, max_age=60)
            pool.flush_written()
            asked |= need
            stats.damaged += more.damaged
            stats.bytes_received += more.bytes_received
    return stats, added


def _runcache_outs(pool: Pool, rcache: object) -> set[str]:
    from ..pipeline.runcache import out_oids

    need: set[str] = set()
    for key in list(rcache.keys()):  # type: ignore[attr-defined]
        entry = rcache.lookup(key)  # type: ignore[attr-defined]
        if entry is not None:
            need |= out_oids(pool, entry)
    return need


# -- for the filter, hooks and status -------------------------------------------------------------
_open_lock = threading.Lock()
_opened: dict[tuple[str, str, str], tuple[Remote, RemoteIndex]] = {}
_configs: dict[tuple[str, str | None], remote_config.RemoteConfig] = {}


def fetch_oids(ws: Workspace, oids: Iterable[str], remote_name: str | None = None,
               progress: ProgressFn | None = None, sizes: dict[str, int] | None = None,
               upcoming: dict[str, int] | None = None) -> set[str]:
    """Download the data of these files (those not here yet); the set of them now in the pool.

    Safe to call from a background thread while ``ws.pool`` serves reads: it writes into
    ``ws.pool`` (its writer is thread-safe), flushed before returning, so reads see every object
    at once; the pack is indexed when it reaches ``mlv.packSize`` or when the workspace closes, so
    a clone writes one pack per 64 MiB, not one per batch. The connection and the remote's index
    are kept for the next call, so batches neither reconnect nor list the remote again (for 30 s).
    ``upcoming`` (oid -> size): files the next calls will ask for (``fetch_files``).
    """
    wanted = {o for o in oids if is_oid(o)}
    with _open_lock:
        rc = _configs.get((ws.repo.mlv_dir, remote_name))
        if rc is None:  # read once per process: it runs `git config`, and a clone has ~200 batches
            rc = _configs[(ws.repo.mlv_dir, remote_name)] = remote_config.get(ws, remote_name)
            trust.announce(trust.for_fetch(ws, rc))  # a clone says which data remote it reads
        key = (ws.repo.mlv_dir, rc.name, rc.url)
        opened = _opened.get(key)
        if opened is None:
            opened = _opened[key] = open_config(ws, rc)
        remote, rindex = opened
        pool = ws.pool
        retry = retry_policy(ws)
        try:
            before = rindex.refreshed_at
            stats = fetch_files(pool, remote, rindex, wanted, retry, progress, max_age=30.0,
                                sizes=sizes, upcoming=upcoming)
            if stats.not_on_remote and rindex.refreshed_at == before:
                # pushed since we last looked? one more listing settles it
                rindex.refreshed_at = 0.0
                more = fetch_files(pool, remote, rindex, stats.not_on_remote, retry, progress,
                                   sizes=sizes)
                stats.present |= more.present
        finally:
            pool.writer().flush()
    return stats.present | ({EMPTY_OID} & wanted)


def drop_fetch_pages(ws: Workspace) -> None:
    """Hand back the pages of the index files ``fetch_oids`` searched (the remotes' cached indexes
    and the pool's): touched pages count in RSS, ~57 bytes an object each side, and a clone's
    lookups touch all of them (600,000 files: ~70 MB, issue 9). The next lookup faults in from
    the page cache what it needs."""
    with _open_lock:
        for (mlv_dir, _, _), (_, rindex) in _opened.items():
            if mlv_dir == ws.repo.mlv_dir:
                rindex.drop_pages()
    ws.pool.drop_pages()
    heap.trim()  # and what the batch's threads freed in their malloc arenas


def close_fetch(ws: Workspace) -> None:
    """Close the connections and remote indexes ``fetch_oids`` kept open for ``ws``."""
    with _open_lock:
        for key in [k for k in _opened if k[0] == ws.repo.mlv_dir]:
            remote, rindex = _opened.pop(key)
            rindex.close()
            remote.close()
