"""push / fetch / pull of data, the pre-push hook's work, and "not yet on the remote" for status.

Which data: ``push``/``fetch`` with revisions take the files in those revisions' trees (default
HEAD); ``--all`` takes every commit reachable from any ref. The pre-push hook takes every pointer
reachable from the pushed commits that is not reachable from a commit already verified complete on
the data remote (ops/verified.py): a commit on the remote-tracking ref proves nothing about the data.

Run-cache (pipeline/runcache.py): every push uploads local entries the remote lacks, with the data
of the entry and of its outputs, and then the key object ``runcache/<key>``. Every fetch downloads
the remote keys missing here and their entry objects (small); the outputs' data is fetched by
``fetch --all`` only, otherwise when a run-cache hit restores them (``fetch_oids``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from ..core import heap
from ..core import idarray as ida
from ..core.hashing import EMPTY_OID, is_oid
from ..core.pool import Pool
from ..errors import UsageError
from ..gitio import walk
from ..remotes import pushplan
from ..remotes.base import Remote
from ..remotes.cache import RemoteIndex
from ..remotes.compact import compact_indexes
from ..remotes.fetch import FetchStats, fetch_files
from ..remotes.transfer import RetryPolicy, push_objects
from ..remotes.url import open_remote
from . import remote_config, trust, verified
from .context import Workspace
from .remote_config import default_remote_name  # noqa: F401 - part of this module's interface
from .scope import FetchScope, fetch_scope, filter_oids

ProgressFn = Callable[[int, int], None]


@dataclass
class PushResult:
    """What a push did."""

    remote: str | None = None
    url: str = ""
    files: int = 0  # files whose data the remote has now
    uploaded_files: int = 0  # files whose data this push sent (some of it at least)
    already_there: int = 0  # files the remote had before
    objects: int = 0  # objects uploaded
    packs: int = 0
    bytes_sent: int = 0
    missing: list[str] = field(default_factory=list)  # paths (or oids) with data nowhere
    runcache_entries: int = 0
    notes: list[str] = field(default_factory=list)  # for the user: a remote trusted on first use
    missing_in: list[tuple[str, str]] = field(default_factory=list)  # (commit, subject) adding them


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


@dataclass
class PullResult:
    """What a pull did: the fetch, then the files written into the worktree."""

    fetch: FetchResult
    restored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    why: dict[str, str] = field(default_factory=dict)  # missing path -> why it stayed a pointer
    # pointers at paths no tracked pattern covers: left as git's pointer text, their data not fetched
    outside_patterns: list[str] = field(default_factory=list)


# -- opening remotes -----------------------------------------------------------------------------
def retry_policy(ws: Workspace) -> RetryPolicy:
    """Retries from ``mlv.remoteRetries`` (attempts per request, default 5)."""
    raw = ws.repo.config.get("mlv.remoteretries", "5")
    try:
        return RetryPolicy(attempts=max(1, int(raw)))
    except ValueError:
        raise UsageError(f"git config mlv.remoteRetries = {raw!r} is not a number") from None


def open_named(ws: Workspace, name: str | None, retry: RetryPolicy | None = None
               ) -> tuple[remote_config.RemoteConfig, Remote, RemoteIndex]:
    """The remote ``name`` (default: the default remote) with its cached index, whose requests
    are retried by ``retry`` (default: ``retry_policy``)."""
    rc = remote_config.get(ws, name)
    remote = open_remote(rc.url, rc.options, remote_config.base_dir(ws), rc.name,
                         create_folder=False)
    rindex = RemoteIndex(remote, remote_config.cache_dir(ws, rc.name), (retry or retry_policy(ws)).run)
    return rc, remote, rindex


def split_remote_arg(ws: Workspace, words: list[str] | None) -> tuple[str | None, list[str]]:
    """``[REMOTE] [REV-or-PATH...]``: the first word is a remote when one has that name."""
    words = list(words or [])
    if not words:
        return None, words
    found = remote_config.remotes(ws)
    if words[0] in found:
        return words[0], words[1:]
    if not os.path.lexists(words[0]) and words[0] in ws.repo.git_text("remote").split():
        # `git mlv push origin` took the git remote's name for the revision origin/HEAD and
        # pushed (or pulled) the data of that commit, not HEAD's, saying all was there
        names = ", ".join(sorted(found)) or "none yet"
        raise UsageError(f"'{words[0]}' is a git remote, not a data remote (data remotes: {names}); "
                         "leave it out to use the default data remote, or name a data remote")
    return None, words


# -- which data ----------------------------------------------------------------------------------
def _pointers_of_revs(ws: Workspace, revs: list[str] | None, all_refs: bool,
                      sizes: dict[str, int] | None = None) -> dict[str, list[str]]:
    """oid -> paths of the tracked files in ``revs`` (default HEAD), or in all history with ``all``;
    their sizes (from the pointers) go into ``sizes`` when given."""
    sizes = {} if sizes is None else sizes
    if all_refs:
        found = walk.all_ref_pointers(ws.repo)
        sizes.update((oid, p.size) for oid, p in found.items())
        return {oid: [] for oid in found}
    out: dict[str, list[str]] = {}
    try:
        for path, p in walk.iter_pointers(ws.repo, revs or ["HEAD"]):
            out.setdefault(p.oid, []).append(path)
            sizes[p.oid] = p.size
    except UsageError as e:  # `push REMOTE` with a mistyped remote reads as a revision
        names = sorted(remote_config.remotes(ws))
        if revs and names:
            raise UsageError(f"{e}; data remotes: {', '.join(names)}") from None
        raise
    return out


def _label(oids: Iterable[str], paths: dict[str, list[str]]) -> list[str]:
    return sorted(paths[o][0] if paths.get(o) else o for o in oids)


# -- push ----------------------------------------------------------------------------------------
def push(ws: Workspace, remote: str | None = None, revs: list[str] | None = None, all: bool = False,
         progress: ProgressFn | None = None) -> PushResult:
    """Upload the data of ``revs`` (default HEAD; every commit with ``all``) the remote lacks."""
    rc = remote_config.get(ws, remote)  # a missing remote is the first thing to report
    paths = _pointers_of_revs(ws, revs, all)
    rc, rem, rindex = open_named(ws, rc.name)
    try:
        note = trust.for_push(ws, rc)
        rindex.refresh(workers=rem.parallelism)
        result = _push_open(ws, rc, rem, rindex, ida.ids_of(paths), paths, progress)
    finally:
        rindex.close()
        rem.close()
    result.notes += [note] if note else []
    return result


def pushed_tips(lines: list[str]) -> list[str]:
    """The commit ids a pre-push hook's ``<local ref> <local sha> <remote ref> <remote sha>``
    lines push, distinct, in order; deletions (an all-zero id, SHA-1 or SHA-256) left out."""
    tips: list[str] = []
    for p in (line.split() for line in lines):
        if len(p) == 4 and p[1].strip("0") and p[1] not in tips:
            tips.append(p[1])
    return tips


def pre_push(ws: Workspace, remote_name: str, url: str, lines: list[str]) -> PushResult | None:
    """The pre-push hook: make sure the default data remote holds the data of every pushed commit.

    ``lines`` are git's ``<local ref> <local sha> <remote ref> <remote sha>``. Every pointer
    reachable from the pushed commits is checked, except those reachable from commits already
    verified on the data remote (ops/verified.py); what the remote lacks is uploaded. None when
    there is no data remote or nothing pushed carries data.
    """
    if not remote_config.remotes(ws):
        return None
    tips = pushed_tips(lines)
    if not tips:  # deletions only
        return None
    heap.return_large_blocks()  # before the walk: how many files it finds is not known yet
    rc, rem, rindex = open_named(ws, None)
    try:
        note = trust.for_push(ws, rc)
        rindex.refresh(workers=rem.parallelism)
        ver = verified.Verified.load(remote_config.cache_dir(ws, rc.name), rem.url)
        if not ver.still_valid(rindex.packs()):
            ver.reset()  # a pack we counted on is gone: check everything once more
        new = verified.pointers_since(ws, tips, ver.commits)
        result = _push_open(ws, rc, rem, rindex, new.ids, {}, None)
        del new
        result.notes += [note] if note else []
        if result.missing:
            blobs = verified.blobs_pointing_to(ws, tips, ver.commits, result.missing)
            result.missing_in = verified.commits_adding(ws, tips, ver.commits, blobs, limit=5)
            return result
        ver.save(ws, tips, rindex.packs())
    finally:
        rindex.close()
        rem.close()
    return result


def data_without_remote(ws: Workspace, git_remote: str, lines: list[str]) -> int:
    """How many files' data the pushed commits bring that are new to git's remote ``git_remote``,
    when no data remote is configured (0 when one is): a clone of them would get pointers only.
    The walk is ``rev-list --objects TIPS --not`` what that remote already has."""
    tips = pushed_tips(lines)
    if not tips or remote_config.remotes(ws):
        return 0
    known = [p[3] for p in (line.split() for line in lines) if len(p) == 4 and p[3].strip("0")]
    if git_remote and "/" not in git_remote and ":" not in git_remote:  # a name, not a URL
        refs = ws.repo.git("for-each-ref", "--format=%(objectname)", f"refs/remotes/{git_remote}/",
                           check=False)
        known += refs.decode().split()
    return int((verified.pointers_since(ws, tips, known).ids != ida.EMPTY).sum())


def on_remote(rindex: RemoteIndex, oids: Iterable[str]) -> set[str]:
    """Which of these files the remote's cached indexes hold (manifest, or the one chunk)."""
    ids = ida.ids_of(o for o in oids if o != EMPTY_OID)
    return set(ida.hexes(ids[pushplan.on_remote_mask(rindex, ids)]))


def _push_open(ws: Workspace, rc: remote_config.RemoteConfig, rem: Remote, rindex: RemoteIndex,
               ids: np.ndarray, paths: dict[str, list[str]], progress: ProgressFn | None) -> PushResult:
    """Push the files ``ids`` (sorted unique raw ids, remotes/pushplan.py) through an opened,
    refreshed remote; count what was sent and what was there already."""
    if len(ids) >= ida.BATCH:
        heap.return_large_blocks()  # a push of many files: batches of arrays come and go
    retry = retry_policy(ws)
    result = PushResult(remote=rc.name, url=rem.url)
    there = pushplan.on_remote_mask(rindex, ids)
    there[ids == ida.EMPTY] = False
    after, rc_oids = _runcache_to_push(ws, ws.pool, rem, retry)
    send = np.union1d(ids, ida.ids_of(rc_oids)) if rc_oids else ids
    stats = push_objects(ws.pool, rem, rindex, send, ws.settings.pack_size, retry, progress, after)
    from .remote_gc import merge_after_push  # (remote_gc imports this module)

    merge_after_push(ws, rem, rindex, retry)  # docs/remotes.md "Pack merging"
    # the consolidation holds a midx of every object on the remote while it builds it: first give
    # back the pool's index pages the plan touched (33 MB at 600,000 files, issue 9's 200 MB bar)
    ws.pool.drop_pages()
    compact_indexes(rem, rindex, retry, ws.settings.auto_packs)  # docs/remotes.md
    lost = np.isin(ids, ida.ids_of(stats.missing_locally))
    result.files = int((~lost).sum())
    result.already_there = int(there.sum())
    result.uploaded_files = int((~there & ~lost & (ids != ida.EMPTY)).sum())
    result.objects, result.packs, result.bytes_sent = stats.objects, stats.packs, stats.bytes_sent
    result.missing = _label(stats.missing_locally, paths)
    result.runcache_entries = len(after)
    return result


def _runcache_to_push(ws: Workspace, pool: Pool, rem: Remote, retry: RetryPolicy
                      ) -> tuple[list[tuple[str, bytes]], set[str]]:
    """Local run-cache entries the remote lacks: their key objects and the oids they need."""
    from ..pipeline.runcache import RunCache, out_oids

    rcache = RunCache(pool, ws.repo.mlv_dir)
    keys = rcache.keys()
    if not keys:
        return [], set()
    there = retry.run(lambda: rem.list("runcache/"))
    after: list[tuple[str, bytes]] = []
    oids: set[str] = set()
    for key in keys:
        name = f"runcache/{key}"
        entry_oid = rcache._entry_oid(key)
        if name in there or entry_oid is None:
            continue
        entry = rcache.lookup(key)
        if entry is None:
            continue  # its data is gone locally: nothing useful to share
        need = {entry_oid} | out_oids(pool, entry)
        if not all(pool.has_file(o) for o in need):
            continue
        oids |= need
        after.append((name, f"{entry_oid}\n".encode()))
    return after, oids


# -- fetch ---------------------------------------------------------------------------------------
def fetch(ws: Workspace, remote: str | None = None, revs: list[str] | None = None, all: bool = False,
          progress: ProgressFn | None = None, scope: FetchScope | None = None) -> FetchResult:
    """Download the data of ``revs`` (default HEAD; every commit with ``all``) the pool lacks;
    files out of ``scope`` (default: mlv.fetchInclude/Exclude) are left out, except with ``all``."""
    remote = remote_config.get(ws, remote).name
    sizes: dict[str, int] = {}
    paths = _pointers_of_revs(ws, revs, all, sizes)
    paths, left_out = filter_oids(fetch_scope(ws) if scope is None else scope, paths)
    res = _fetch_oids_into(ws, ws.pool, remote, set(paths), paths, progress, runcache_outs=all,
                           sizes=sizes)
    res.out_of_scope = left_out
    return res


def pull(ws: Workspace, remote: str | None = None, paths: list[str] | None = None,
         progress: ProgressFn | None = None, scope: FetchScope | None = None) -> PullResult:
    """Fetch the data of the checked-out files (under ``paths``, in ``scope``: default
    mlv.fetchInclude/Exclude) and write them into the worktree; data already here is written
    whatever the scope."""
    from . import data

    scope = fetch_scope(ws) if scope is None else scope
    found, sizes = data.worktree_pointers(ws, paths)  # the index's files; a sparse checkout's only
    found = _drop_outside_patterns(ws, found)
    wanted, left_out = filter_oids(scope, found)
    fres = _fetch_oids_into(ws, ws.pool, remote, set(wanted), wanted, progress, runcache_outs=False,
                            sizes=sizes)
    fres.out_of_scope = left_out
    ws.pool.refresh()
    co = data.checkout(ws, paths)
    missing = [p for p in co.missing if scope(p)]  # out of scope: a pointer on purpose
    return PullResult(fres, co.restored, missing, stayed_pointers(missing, fres),
                      sorted(co.outside_patterns))


def _drop_outside_patterns(ws: Workspace, found: dict[str, list[str]]) -> dict[str, list[str]]:
    """``found`` without the files whose every path lies outside the tracked patterns: checkout
    leaves those as the pointer text git wrote (data.checkout), so their data would be fetched for
    nothing. Only paths of data the pool lacks are asked about (one check-attr for them), so the
    cost follows what is to fetch, not the number of tracked files."""
    from ..gitio import attributes
    from .data import present_oids

    lacking = set(found) - present_oids(ws.pool, found)
    asked = [p for o in lacking for p in found[o]]
    inside = attributes.filtered(ws.repo, asked) if asked else set()
    gone = {o for o in lacking if found[o] and not any(p in inside for p in found[o])}
    return {o: ps for o, ps in found.items() if o not in gone} if gone else found


def stayed_pointers(missing: list[str], fres: FetchResult) -> dict[str, str]:
    """Why each of these worktree files is still a pointer (the fetch's reason, if it had one)."""
    return {p: fres.failed.get(p, "its data is neither here nor on the remote") for p in missing}


def _fetch_oids_into(ws: Workspace, pool: Pool, remote: str | None, oids: set[str],
                     paths: dict[str, list[str]], progress: ProgressFn | None,
                     runcache_outs: bool, sizes: dict[str, int] | None = None) -> FetchResult:
    rc, rem, rindex = open_named(ws, remote)
    retry = retry_policy(ws)
    result = FetchResult(remote=rc.name, url=rem.url, files=len(oids))
    note = trust.for_fetch(ws, rc)
    result.notes += [note] if note else []
    try:
        stats = fetch_files(pool, rem, rindex, oids, retry, progress, sizes=sizes)
        rc_stats, entries = _fetch_runcache(ws, pool, rem, rindex, retry, runcache_outs)
        result.runcache_entries = entries
        stats.damaged += rc_stats.damaged
        stats.bytes_received += rc_stats.bytes_received
    finally:
        pool.writer().commit()
        rindex.close()
        rem.close()
    result.fetched = len(stats.fetched & oids)
    result.bytes_received = stats.bytes_received
    result.not_on_remote = _label(stats.not_on_remote, paths)
    result.damaged = stats.damaged
    result.warnings = stats.warnings
    result.failed = {label: why for oid, why in stats.failed.items() if oid in oids
                     for label in (paths.get(oid) or [oid])}
    return result


def _fetch_runcache(ws: Workspace, pool: Pool, rem: Remote, rindex: RemoteIndex, retry: RetryPolicy,
                    with_outs: bool) -> tuple[FetchStats, int]:
    """Remote run-cache keys missing here, with their entry objects (and outputs' data)."""
    from ..core.fsutil import atomic_write
    from ..core.fsutil import makedirs as fsutil_makedirs
    from ..pipeline.runcache import RunCache

    rcache = RunCache(pool, ws.repo.mlv_dir)
    local = set(rcache.keys())
    there = [n for n in retry.run(lambda: rem.list("runcache/")) if n.split("/", 1)[1] not in local]
    if not there and not with_outs:
        return FetchStats(), 0
    keys: dict[str, str] = {}
    for name in there:
        text = retry.run(lambda n=name: rem.get(n)).decode("ascii", errors="replace").strip()  # type: ignore[misc]
        if is_oid(text):
            keys[name.split("/", 1)[1]] = text
    stats = fetch_files(pool, rem, rindex, set(keys.values()), retry, max_age=60)
    pool.writer().flush()
    added = 0
    fsutil_makedirs(rcache.dir)
    for key, oid in keys.items():
        if oid in stats.present:  # only keys whose entry arrived: a key without entry is useless
            atomic_write(os.path.join(rcache.dir, key), f"{oid}\n".encode())
            added += 1
    if with_outs:
        # two rounds: a directory output's listing names its files only once the listing is here
        asked: set[str] = set()
        for _ in range(2):
            need = _runcache_outs(pool, rcache) - asked
            more = fetch_files(pool, rem, rindex, need, retry, max_age=60)
            pool.writer().flush()
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
            remote = open_remote(rc.url, rc.options, remote_config.base_dir(ws), rc.name,
                                 create_folder=False)
            rindex = RemoteIndex(remote, remote_config.cache_dir(ws, rc.name), retry_policy(ws).run)
            opened = _opened[key] = (remote, rindex)
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
