"""push of data, the pre-push hook's work, "not yet on the remote" for status, and what push and
fetch share: opening a data remote, and which data a command names. fetch and pull are in
ops/sync_fetch.py.

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..core import heap
from ..core import idarray as ida
from ..core.fsutil import FileSystemError
from ..core.hashing import EMPTY_OID
from ..core.pool import Pool
from ..errors import UsageError
from ..gitio import attributes, walk
from ..gitio.git import GitError
from ..remotes import pushplan
from ..remotes.base import Remote
from ..remotes.cache import RemoteIndex
from ..remotes.compact import compact_indexes
from ..remotes.transfer import RetryPolicy, push_objects
from ..remotes.url import open_remote
from . import remote_config, remote_repos, trust, verified
from .context import Workspace
from .remote_config import default_remote_name  # noqa: F401 - part of this module's interface

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
    # paths holding pointer text outside every tracked pattern whose data is nowhere: a plain file
    # whose content is pointer text (a test fixture), pushed as the file it is (``plain_pointers``)
    plain: list[str] = field(default_factory=list)
    # the commit verified on the remote that the trees were compared with: files unchanged since
    # it were not looked at (not counted in ``files``), their data being there already
    verified_base: str | None = None


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
    return (rc, *open_config(ws, rc, retry))


def open_config(ws: Workspace, rc: remote_config.RemoteConfig, retry: RetryPolicy | None = None
                ) -> tuple[Remote, RemoteIndex]:
    """``open_named`` for a remote whose configuration was read already."""
    ws.settings  # noqa: B018 - core.sharedRepository's modes, for what a folder remote creates
    remote = open_remote(rc.url, rc.options, remote_config.base_dir(ws), rc.name,
                         create_folder=False)
    remote_config.refuse_pool_as_remote(ws, rc.name, remote)
    rindex = RemoteIndex(remote, remote_config.cache_dir(ws, rc.name), (retry or retry_policy(ws)).run)
    return remote, rindex


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
def pointer_batches_of_revs(ws: Workspace, revs: list[str] | None, all_refs: bool
                            ) -> Iterator[list[tuple[str, int, str | None]]]:
    """(oid, size, path) of the tracked files in ``revs`` (default HEAD), or (oid, size, None) of
    every pointer in all history with ``all``, in batches (walk._BATCH): never all at once."""
    if all_refs:
        for found in walk.reachable_pointer_batches(ws.repo, reflog_days=0):
            yield [(pb.oid, pb.size, None) for pb in found.values()]
        return
    try:
        for batch in walk.pointer_batches(ws.repo, revs or ["HEAD"]):
            items: list[tuple[str, int, str | None]] = [(p.oid, p.size, path) for path, p in batch]
            del batch  # one copy of a batch alive while the caller works on it
            yield items
    except UsageError as e:  # `push REMOTE` with a mistyped remote reads as a revision
        known = remote_config.remotes(ws)
        url = next((r for r in revs or [] if "://" in r or os.path.isdir(r)), None)
        if url is not None:  # `git mlv push ../store`, `fetch s3://b/p`: git's habit of URLs
            named = _remote_at(ws, url, known)
            raise UsageError(
                f"'{url}' is a folder or URL, not a revision: a data remote is given by its name"
                + (f": this is data remote '{named}'" if named else
                   " (`git mlv remote add NAME URL` adds one)")) from None
        if revs and known:
            raise UsageError(f"{e}; data remotes: {', '.join(sorted(known))}") from None
        raise


def _remote_at(ws: Workspace, url: str, found: dict[str, remote_config.RemoteConfig]) -> str | None:
    """The data remote configured at ``url`` (typed relative to the current folder), if one is."""
    from ..remotes.url import parse

    try:
        want = parse(url, os.getcwd())
    except UsageError:
        return None
    for name, rc in sorted(found.items()):
        try:
            have = parse(rc.url, remote_config.base_dir(ws))
        except UsageError:
            continue
        if have.scheme == want.scheme == "folder":
            if os.path.realpath(have.path) == os.path.realpath(want.path):
                return name
        elif (have.scheme, have.host, have.path.strip("/")) == (want.scheme, want.host, want.path.strip("/")):
            return name
    return None


def label_paths(oids: Iterable[str], paths: dict[str, list[str]]) -> list[str]:
    """Each oid by its first path where it has one (sorted), for messages."""
    return sorted(paths[o][0] if paths.get(o) else o for o in oids)


# -- push ----------------------------------------------------------------------------------------
def push(ws: Workspace, remote: str | None = None, revs: list[str] | None = None, all: bool = False,
         progress: ProgressFn | None = None) -> PushResult:
    """Upload the data of ``revs`` (default HEAD; every commit with ``all``) the remote lacks.

    Trees of commits are compared with a commit verified on the remote (ops/verified.py), when
    there is one: only their files that differ from its tree are looked at."""
    rc = remote_config.get(ws, remote)  # a missing remote is the first thing to report
    wanted = revs or ["HEAD"]
    tips = [] if all else verified.commits_of(ws, wanted)
    every = None if tips and len(tips) == len(wanted) else _every_file(ws, revs, all)
    rc, rem, rindex = open_named(ws, rc.name)
    try:
        note = trust.for_push(ws, rc)
        rindex.refresh(workers=rem.parallelism)
        beyond = None if every is not None else _beyond_verified(ws, rc, rem, rindex, tips)
        if beyond is not None:
            paths, base = beyond
            result = _push_open(ws, rc, rem, rindex, ida.ids_of(paths), paths, progress)
            result.verified_base = base
        else:
            ids, paths = every if every is not None else _every_file(ws, revs, all)
            result = _push_open(ws, rc, rem, rindex, ids, paths, progress,
                                (lambda oids: verified.paths_pointing_to(ws, _ref_tips(ws), [], oids))
                                if all else None)
    finally:
        rindex.close()
        rem.close()
    result.notes += [note] if note else []
    return result


def _ref_tips(ws: Workspace) -> list[str]:
    """What every ref and HEAD point at: where ``push --all`` names the paths of missing data."""
    refs = ws.repo.git_text("for-each-ref", "--format=%(objectname)").split()
    head = ws.repo.git_text("rev-parse", "--verify", "-q", "HEAD", check=False).strip()
    return list(dict.fromkeys(refs + ([head] if head else [])))


def _every_file(ws: Workspace, revs: list[str] | None, all: bool) -> tuple[np.ndarray, dict[str, list[str]]]:
    """(sorted S32 ids of every file of ``revs`` or of all history, oid -> paths of those the pool
    lacks: the only ones a push may name), found batch by batch (ops/fetchplan.py). Before, every
    file's id and paths were Python strings at once: ~1 KB a file."""
    from . import fetchplan
    from .scope import FetchScope

    todo = fetchplan.plan(ws.pool, pointer_batches_of_revs(ws, revs, all), FetchScope())
    return todo.ids, todo.paths


def _beyond_verified(ws: Workspace, rc: remote_config.RemoteConfig, rem: Remote, rindex: RemoteIndex,
                     tips: list[str]) -> tuple[dict[str, list[str]], str] | None:
    """(oid -> paths of the pointers of ``tips``' trees that differ from the newest commit verified
    on the remote (refreshed ``rindex``), that commit); None when nothing is verified or the record
    is stale."""
    ver = verified.Verified.load(remote_config.cache_dir(ws, rc.name), rem.url)
    if not ver.commits or not ver.still_valid(rindex.packs()):
        return None
    try:
        return verified.tree_pointers_beyond(ws, tips, ver.commits[0]), ver.commits[0]
    except GitError:  # the verified commit is gone here (a deleted branch, git gc): every file
        return None


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
        result = _push_open(ws, rc, rem, rindex, new.ids, {}, None,
                            lambda oids: verified.paths_pointing_to(ws, tips, ver.commits, oids))
        del new
        result.notes += [note] if note else []
        if result.missing:
            blobs = verified.blobs_pointing_to(ws, tips, ver.commits, result.missing)
            result.missing_in = verified.commits_adding(ws, tips, ver.commits, blobs, limit=5)
            return result
        save_verified(ws, ver, tips, rindex.packs())
    finally:
        rindex.close()
        rem.close()
    return result


def save_verified(ws: Workspace, ver: verified.Verified, tips: list[str], packs: list[str]) -> None:
    """Record ``tips`` as verified on the remote: best effort, the record only saves later walks
    (a read-only ``.git``: the next push or status checks those commits again)."""
    try:
        ver.save(ws, tips, packs)
    except (OSError, FileSystemError):
        pass


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
               ids: np.ndarray, paths: dict[str, list[str]], progress: ProgressFn | None,
               find_paths: Callable[[list[str]], dict[str, list[str]]] | None = None) -> PushResult:
    """Push the files ``ids`` (sorted unique raw ids, remotes/pushplan.py) through an opened,
    refreshed remote; count what was sent and what was there already. ``paths``: oid -> paths of
    the files whose data may be missing, or ``find_paths`` to look them up when some is."""
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
    lacking = list(stats.missing_locally)
    if lacking:
        if find_paths is not None and not any(paths.get(o) for o in lacking):
            paths = find_paths(lacking)
        plain = plain_pointers(ws, {o: paths.get(o, []) for o in lacking})
        result.plain = sorted(p for o in plain for p in paths[o])
        result.notes += [f"git-mlv: warning: {attributes.quoted(p)} holds pointer text outside "
                         "every tracked pattern and its data is nowhere: pushed as the plain file it is"
                         for p in result.plain[:5]]
        if len(result.plain) > 5:
            result.notes.append(f"git-mlv: warning: {len(result.plain) - 5} more such file(s)")
        lacking = [o for o in lacking if o not in plain]
    result.missing = label_paths(lacking, paths)
    result.runcache_entries = len(after)
    remote_repos.record(ws, rc.name, rem, retry)  # which project this remote serves (gc --remote)
    return result


def plain_pointers(ws: Workspace, lacking: dict[str, list[str]]) -> set[str]:
    """The files of ``lacking`` (oid -> paths; data neither here nor on the remote) whose every path
    lies outside the tracked patterns: plain files whose content is pointer text (a fixture), which
    git stores and checks out as that text, so there is no data to push. A pointer `git mv`d out
    of the patterns whose data is here is uploaded as before: only missing data is asked about, so
    the usual push asks nothing (sync_fetch._outside_patterns decides the same for a fetch)."""
    asked = [p for ps in lacking.values() for p in ps]
    inside = attributes.filtered(ws.repo, asked) if asked else set()
    return {o for o, ps in lacking.items() if ps and not any(p in inside for p in ps)}


def _runcache_to_push(ws: Workspace, pool: Pool, rem: Remote, retry: RetryPolicy
                      ) -> tuple[list[tuple[str, bytes]], set[str]]:
    """Local run-cache entries the remote lacks: their key objects and the oids they need (not
    those older than ``mlv.gcRunCacheDays``: gc drops them, and a push would make them new there)."""
    from ..pipeline.runcache import RunCache, out_oids, retention_days

    rcache = RunCache(pool, ws.repo.mlv_dir)
    keys = rcache.split(retention_days(ws.repo.config))[0]
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
