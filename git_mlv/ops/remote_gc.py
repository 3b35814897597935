"""``git mlv gc --remote NAME``: collect a data remote (docs/remotes.md "Collecting a remote")."""

from __future__ import annotations

import math

from ..errors import CorruptObject, MlvError, UsageError
from ..gitio import walk
from ..remotes import collect
from ..remotes.base import Remote
from ..remotes.cache import RemoteIndex
from ..remotes.collect import RemoteGcResult
from ..remotes.merge import MergeResult, merge_packs
from ..remotes.transfer import RetryPolicy
from . import remote_repos, sync, sync_fetch
from .context import Workspace
from .maintenance import reflog_days

DEFAULT_GRACE_HOURS = 24.0


def gc_remote(ws: Workspace, name: str, dry_run: bool = False,
              grace_hours: float | None = None) -> RemoteGcResult:
    """Delete the packs of remote ``name`` that no live file needs; repack mixed ones.

    Live: every file reachable from any ref (remote-tracking refs too), any worktree's HEAD and
    index, stashes, reflog entries of the last ``mlv.gcReflogDays`` days, and the run-cache (the
    remote's keys are fetched first). Packs younger than ``grace_hours`` are kept whole.
    """
    days = reflog_days(ws.repo.config)
    grace = _grace(ws, grace_hours)
    from .remote_gc_refs import refuse_if_not_fetched

    rc, rem, rindex = sync.open_named(ws, name)
    refuse_if_not_fetched(ws)  # a teammate's branch not fetched here would look dead
    retry = sync.retry_policy(ws)
    pool = ws.pool
    res = RemoteGcResult(dry_run=dry_run)
    try:
        infos = retry.run(lambda: rem.list_info("packs/"))  # before the refresh: see collect.plan
        # + what a folder push killed between writing and publishing left: no index names those,
        # so the plan deletes them once older than the grace period, as any unindexed upload
        infos = {**retry.run(lambda: rem.list_staged("packs/")), **infos}
        remote_repos.refuse_if_shared(ws, rc.name, rem, retry)  # before anything is decided
        rindex.refresh(workers=rem.parallelism)
        if rindex.damaged:  # its packs would look unindexed: never collect around a damaged index
            raise CorruptObject(f"{rc.name}: index file {rindex.damaged[0]} is damaged; gc --remote "
                                "stopped (repair or remove it first)")
        keys = retry.run(lambda: rem.list_info("runcache/"))  # listed once, for both uses below
        sync_fetch.fetch_runcache(ws, pool, rem, rindex, retry, with_outs=False, listing=keys)
        oids = set(walk.reachable_pointers(ws.repo, days))
        from ..pipeline import runcache

        rc_days = runcache.retention_days(ws.repo.config)
        oids |= runcache.live_oids(pool, ws.repo.mlv_dir, rc_days)
        # keys older than that go before any pack: a key never names an entry gc deleted
        res.runcache_dropped = sorted(n for n, info in keys.items()
                                      if not runcache.is_recent(info.mtime, rc_days))
        if not oids and rindex.packs():
            raise MlvError(f"no ref of this repository reaches any data, so every pack of {rc.name} "
                           "would go; refusing (delete the remote's folder yourself if that is meant)")
        live = collect.live_keys(pool, rem, rindex, retry, oids)
        res.live_files = len(oids)
        p = collect.plan(rindex, infos, live, grace * 3600, res)
        if dry_run:
            res.removed = sorted({*p.delete, *(pack for pack, _ in p.repack)})
            res.packs_deleted, res.packs_repacked = len(p.delete), len(p.repack)
        else:
            for name in res.runcache_dropped:
                retry.run(lambda n=name: rem.delete(n))  # type: ignore[misc]
            collect.collect(rem, rindex, retry, p, ws.settings.pack_size, res)
    finally:
        pool.writer().commit()
        rindex.close()
        rem.close()
    return res


def merge_after_push(ws: Workspace, rem: Remote, rindex: RemoteIndex, retry: RetryPolicy
                     ) -> MergeResult | None:
    """At the end of a push: merge the remote's small packs from local data, unless
    ``mlv.remoteMergePacks`` is false (a metered remote); docs/remotes.md "Pack merging"."""
    if ws.repo.config.get("mlv.remotemergepacks", "true").lower() in ("false", "0", "no", "off"):
        return None
    return merge_packs(ws.pool, rem, rindex, retry, ws.settings.auto_packs, ws.settings.pack_size,
                       _grace(ws, None) * 3600)


def _grace(ws: Workspace, hours: float | None) -> float:
    raw = ws.repo.config.get("mlv.remotegcgracehours")
    if hours is None and raw is not None:
        try:
            hours = float(raw)
        except ValueError:
            raise UsageError(f"git config mlv.remoteGcGraceHours = {raw!r} is not a number") from None
    hours = DEFAULT_GRACE_HOURS if hours is None else hours
    if not hours >= 0:  # (nan and inf: float() takes them, and nan compares false either way)
        raise UsageError(f"the grace period must be a number of hours, 0 or more (got {hours})")
    if math.isinf(hours):
        raise UsageError("the grace period must be a number of hours, not infinite")
    return hours
