"""push / fetch / pull of data, the pre-push hook's work, and "not yet on the remote" for status.

Which data: ``push``/``fetch`` with revisions take the files in those revisions' trees (default
HEAD); ``--all`` takes every commit reachable from any ref. The pre-push hook takes the commits git
is about to push that the remote-tracking refs do not already have.

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

from ..core.hashing import EMPTY_OID, is_oid
from ..core.pointer import MAX_SIZE, Pointer
from ..core.pool import Pool
from ..errors import MlvError, UsageError
from ..gitio import walk
from ..remotes.base import Remote, RemoteError
from ..remotes.cache import RemoteIndex
from ..remotes.fetch import FetchStats, fetch_files
from ..remotes.transfer import RetryPolicy, push_objects
from ..remotes.url import open_remote
from . import remote_config
from .context import Workspace
from .remote_config import default_remote_name  # noqa: F401 - part of this module's interface

ProgressFn = Callable[[int, int], None]
_ZERO = "0" * 40


@dataclass
class PushResult:
    """What a push did."""

    remote: str | None = None
    url: str = ""
    files: int = 0  # files whose data the remote has now
    objects: int = 0  # objects uploaded
    packs: int = 0
    bytes_sent: int = 0
    missing: list[str] = field(default_factory=list)  # paths (or oids) with data nowhere
    runcache_entries: int = 0


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


@dataclass
class PullResult:
    """What a pull did: the fetch, then the files written into the worktree."""

    fetch: FetchResult
    restored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)


# -- opening remotes -----------------------------------------------------------------------------
def retry_policy(ws: Workspace) -> RetryPolicy:
    """Retries from ``mlv.remoteRetries`` (attempts per request, default 5)."""
    raw = ws.repo.config.get("mlv.remoteretries", "5")
    try:
        return RetryPolicy(attempts=max(1, int(raw)))
    except ValueError:
        raise UsageError(f"git config mlv.remoteRetries = {raw!r} is not a number") from None


def open_named(ws: Workspace, name: str | None) -> tuple[remote_config.RemoteConfig, Remote, RemoteIndex]:
    """The remote ``name`` (default: the default remote) with its cached index."""
    rc = remote_config.get(ws, name)
    remote = open_remote(rc.url, rc.options, remote_config.base_dir(ws), rc.name)
    rindex = RemoteIndex(remote, remote_config.cache_dir(ws, rc.name), retry_policy(ws).run)
    return rc, remote, rindex


def split_remote_arg(ws: Workspace, words: list[str] | None) -> tuple[str | None, list[str]]:
    """``[REMOTE] [REV-or-PATH...]``: the first word is a remote when one has that name."""
    words = list(words or [])
    if words and words[0] in remote_config.remotes(ws):
        return words[0], words[1:]
    return None, words


# -- which data ----------------------------------------------------------------------------------
def _pointers_of_revs(ws: Workspace, revs: list[str] | None, all_refs: bool) -> dict[str, list[str]]:
    """oid -> paths of the tracked files in ``revs`` (default HEAD), or in all history with ``all``."""
    if all_refs:
        return {oid: [] for oid in walk.all_ref_pointers(ws.repo)}
    out: dict[str, list[str]] = {}
    for path, p in walk.iter_pointers(ws.repo, revs or ["HEAD"]):
        out.setdefault(p.oid, []).append(path)
    return out


def _pointers_in_new_objects(ws: Workspace, args: list[str]) -> set[str]:
    """Oids of pointer blobs ``git rev-list --objects ARGS`` lists (reachable from the tips, not
    from the excluded commits): the cost grows with what is new, not with the history."""
    listing = ws.repo.git("rev-list", "--objects", f"--filter=blob:limit={MAX_SIZE - 1}", *args)
    objs = [line.split(b" ", 1)[0].decode() for line in listing.splitlines() if line]
    if not objs:
        return set()
    check = walk.repo_run(ws.repo, ["cat-file", "--batch-check=%(objectname) %(objecttype) %(objectsize)"],
                          ("\n".join(objs) + "\n").encode())
    blobs = [p[0] for p in (line.split() for line in check.decode().splitlines())
             if len(p) == 3 and p[1] == "blob" and int(p[2]) < MAX_SIZE]
    found = set()
    for _, data in walk.read_blobs(ws.repo, blobs):
        ptr = Pointer.try_parse(data)
        if ptr is not None:
            found.add(ptr.oid)
    return found


def _label(oids: Iterable[str], paths: dict[str, list[str]]) -> list[str]:
    return sorted(paths[o][0] if paths.get(o) else o for o in oids)


# -- push ----------------------------------------------------------------------------------------
def push(ws: Workspace, remote: str | None = None, revs: list[str] | None = None, all: bool = False,
         progress: ProgressFn | None = None) -> PushResult:
    """Upload the data of ``revs`` (default HEAD; every commit with ``all``) the remote lacks."""
    remote = remote_config.get(ws, remote).name  # a missing remote is the first thing to report
    paths = _pointers_of_revs(ws, revs, all)
    return _push_oids(ws, remote, set(paths), paths, progress)


def pre_push(ws: Workspace, remote_name: str, url: str, lines: list[str]) -> PushResult:
    """The pre-push hook: upload the data the commits being pushed to git remote ``remote_name`` need.

    ``lines`` are git's ``<local ref> <local sha> <remote ref> <remote sha>``. Commits the
    remote-tracking refs of ``remote_name`` already have are assumed to have their data there too.
    Does nothing when no data remote is configured.
    """
    if not remote_config.remotes(ws):
        return PushResult()
    tips: list[str] = []
    exclude: list[str] = []
    for line in lines:
        parts = line.split()
        if len(parts) != 4 or parts[1] == _ZERO:  # a deletion pushes no data
            continue
        tips.append(parts[1])
        if parts[3] != _ZERO and _is_commit(ws, parts[3]):
            exclude.append("^" + parts[3])
    if not tips:
        return PushResult()
    if remote_name and not _looks_like_url(remote_name):
        exclude += ["--not", f"--remotes={remote_name}"]
    oids = _pointers_in_new_objects(ws, tips + exclude)
    result = _push_oids(ws, None, oids, {}, None)
    if result.missing:
        raise MlvError(f"{len(result.missing)} files have no data here nor on the data remote "
                       f"(e.g. {result.missing[0]}); fetch them or set mlv.pushFailOk")
    return result


def _looks_like_url(name: str) -> bool:
    return "/" in name or ":" in name


def _is_commit(ws: Workspace, sha: str) -> bool:
    return ws.repo.git_text("cat-file", "-t", sha, check=False) == "commit"


def _push_oids(ws: Workspace, remote: str | None, oids: set[str], paths: dict[str, list[str]],
               progress: ProgressFn | None) -> PushResult:
    rc, rem, rindex = open_named(ws, remote)
    retry = retry_policy(ws)
    result = PushResult(remote=rc.name, url=rem.url)
    try:
        pool = ws.pool
        rindex.refresh(workers=rem.parallelism)
        after, rc_oids = _runcache_to_push(ws, pool, rem, retry)
        stats = push_objects(pool, rem, rindex, oids | rc_oids, ws.settings.pack_size, retry,
                             progress, after)
    finally:
        rindex.close()
        rem.close()
    result.files = stats.files
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
          progress: ProgressFn | None = None) -> FetchResult:
    """Download the data of ``revs`` (default HEAD; every commit with ``all``) the pool lacks."""
    remote = remote_config.get(ws, remote).name
    paths = _pointers_of_revs(ws, revs, all)
    return _fetch_oids_into(ws, ws.pool, remote, set(paths), paths, progress, runcache_outs=all)


def pull(ws: Workspace, remote: str | None = None, paths: list[str] | None = None,
         progress: ProgressFn | None = None) -> PullResult:
    """Fetch the data of the checked-out files (under ``paths``) and write them into the worktree."""
    from . import data

    found = data.worktree_pointers(ws, paths)  # the index's files, outside a sparse checkout's none
    fres = _fetch_oids_into(ws, ws.pool, remote, set(found), found, progress, runcache_outs=False)
    ws.pool.refresh()
    co = data.checkout(ws, paths)
    return PullResult(fres, co.restored, co.missing)


def _fetch_oids_into(ws: Workspace, pool: Pool, remote: str | None, oids: set[str],
                     paths: dict[str, list[str]], progress: ProgressFn | None,
                     runcache_outs: bool) -> FetchResult:
    rc, rem, rindex = open_named(ws, remote)
    retry = retry_policy(ws)
    result = FetchResult(remote=rc.name, url=rem.url, files=len(oids))
    try:
        stats = fetch_files(pool, rem, rindex, oids, retry, progress)
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
    return result


def _fetch_runcache(ws: Workspace, pool: Pool, rem: Remote, rindex: RemoteIndex, retry: RetryPolicy,
                    with_outs: bool) -> tuple[FetchStats, int]:
    """Remote run-cache keys missing here, with their entry objects (and outputs' data)."""
    from ..core.fsutil import atomic_write
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
    os.makedirs(rcache.dir, exist_ok=True)
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


def fetch_oids(ws: Workspace, oids: Iterable[str], remote_name: str | None = None,
               progress: ProgressFn | None = None) -> set[str]:
    """Download the data of these files (those not here yet); the set of them now in the pool.

    Safe to call from a background thread while ``ws.pool`` serves reads: it writes through its
    own Pool, committed before returning (the caller refreshes ``ws.pool``). The connection and
    the remote's index are kept for the next call, so batches do not reconnect.
    """
    wanted = {o for o in oids if is_oid(o)}
    rc = remote_config.get(ws, remote_name)
    key = (ws.repo.mlv_dir, rc.name, rc.url)
    with _open_lock:
        opened = _opened.get(key)
        if opened is None:
            remote = open_remote(rc.url, rc.options, remote_config.base_dir(ws), rc.name)
            rindex = RemoteIndex(remote, remote_config.cache_dir(ws, rc.name), retry_policy(ws).run)
            opened = _opened[key] = (remote, rindex)
        remote, rindex = opened
        pool = Pool(ws.repo.mlv_dir, ws.settings)
        retry = retry_policy(ws)
        try:
            before = rindex.refreshed_at
            stats = fetch_files(pool, remote, rindex, wanted, retry, progress, max_age=30.0)
            if stats.not_on_remote and rindex.refreshed_at == before:
                # pushed since we last looked? one more listing settles it
                rindex.refreshed_at = 0.0
                more = fetch_files(pool, remote, rindex, stats.not_on_remote, retry, progress)
                stats.present |= more.present
        finally:
            pool.close()
    return stats.present | ({EMPTY_OID} & wanted)


def not_on_remote(ws: Workspace, oids: Iterable[str], refresh: bool = True,
                  max_age: float = 60.0) -> set[str]:
    """Which of these files the default remote lacks (empty when there is no remote).

    Answers from the remote's indexes cached by the last push, fetch or status; lists the remote
    first when that cache is older than ``max_age`` seconds (and ``refresh``), so `git mlv status`
    run again and again does not connect every time. Offline, the cache answers.
    """
    name = default_remote_name(ws)
    todo = {o for o in oids if o != EMPTY_OID}
    if name is None or not todo:
        return set()
    try:
        _, rem, rindex = open_named(ws, name)
    except MlvError:
        return set()
    try:
        if refresh and rindex.age() > max_age:
            try:
                rindex.refresh(workers=rem.parallelism)
            except RemoteError:
                pass  # offline: the cache says what we knew
        from ..core import index as idx
        from ..core.pack import KIND_CHUNK, KIND_MANIFEST

        order = sorted(todo)
        raws = [bytes.fromhex(o) for o in order]
        has_m = rindex.contains([idx.key(r, KIND_MANIFEST) for r in raws])
        has_c = rindex.contains([idx.key(r, KIND_CHUNK) for r in raws])
        return {o for o, m, c in zip(order, has_m, has_c) if not (m or c)}
    finally:
        rindex.close()
        rem.close()
