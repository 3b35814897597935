"""git mlv gc [--remote NAME]."""

from __future__ import annotations

import argparse
import dataclasses
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..remotes.collect import RemoteGcResult


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gc", help="remove data nothing refers to any more (here, or on a remote)",
                       description="Keep everything reachable from any ref, any worktree's index and "
                       "HEAD, stashes, reflog entries of the last mlv.gcReflogDays days (90), commits "
                       "git itself still holds though nothing reaches them (committed after "
                       "gc.pruneExpire, two weeks: a dropped stash's, a removed worktree's; `git -c "
                       "gc.pruneExpire=now mlv gc` lets them go) and the "
                       "run-cache entries recorded or used in the last mlv.gcRunCacheDays days (90; "
                       "older ones are dropped; with a pool shared by clones, mlv.pool: of every "
                       "clone that has used it); repack or delete the rest, and consolidate the "
                       "pool's packs; drop textconv's cached summaries of data no longer kept. With "
                       "--remote, do the same to a data remote's packs (run `git fetch --all` first: "
                       "refs this clone has not seen are not kept; a remote another repository pushes to as "
                       "well is refused).")
    p.add_argument("-n", "--dry-run", action="store_true", help="say what would go, remove nothing")
    p.add_argument("--remote", metavar="NAME", help="collect this data remote instead of the local pool")
    p.add_argument("--grace-hours", type=float, metavar="H",
                   help="with --remote: keep packs younger than this (default mlv.remoteGcGraceHours, "
                   "24): they may belong to a push in progress")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..ops.context import Workspace

    if args.grace_hours is not None and not args.remote:
        raise UsageError("--grace-hours goes with --remote NAME")
    with Workspace.discover() as ws:
        if args.remote:
            from ..ops.remote_gc import gc_remote

            return _render_remote(gc_remote(ws, args.remote, args.dry_run, args.grace_hours), args.json)
        from ..ops import maintenance

        r = maintenance.gc(ws, dry_run=args.dry_run)
    from .render import human_size, print_json

    if args.json:
        print_json(dataclasses.asdict(r))
        return 0
    verb = "would free" if r.dry_run else "freed"
    print(f"{r.live_files} live file version(s), {r.kept_objects} object(s) kept, "
          f"{r.dead_objects} unreachable; {verb} {human_size(r.freed_bytes)}")
    if not r.dry_run and r.packs_merged:
        print(f"{r.packs_merged} pack(s) consolidated into {r.packs_written}; "
              f"{r.packs_after} pack(s) now")
    if r.reflog_files:
        kept = "would keep" if r.dry_run else "kept"
        print(f"{kept} {r.reflog_files} file version(s), {human_size(r.reflog_bytes)}, that only reflog "
              f"entries of the last {r.reflog_days:g} day(s) need (deleted branches, amended or reset "
              "commits): `git -c mlv.gcReflogDays=0 mlv gc` lets them go (stashes stay)")
    if r.runcache_kept:
        kept = "would keep" if r.dry_run else "kept"
        print(f"{kept} {r.runcache_kept} run-cache entr{'y' if r.runcache_kept == 1 else 'ies'} recorded or "
              f"used in the last {r.runcache_days:g} day(s), outputs {human_size(r.runcache_bytes)}: "
              "`git -c mlv.gcRunCacheDays=0 mlv gc` lets them go (their runs then run again)")
    if r.runcache_dropped:
        why = (f"not used in the last {r.runcache_days:g} day(s) (mlv.gcRunCacheDays)" if r.runcache_days
               else "(mlv.gcRunCacheDays=0)")
        print(f"{'would drop' if r.dry_run else 'dropped'} {r.runcache_dropped} run-cache "
              f"entr{'y' if r.runcache_dropped == 1 else 'ies'} {why}")
    if r.clones:
        print(f"kept what {len(r.clones)} other clone(s) sharing the pool need: " + ", ".join(r.clones))
    if r.clones_forgotten:
        print(("would forget" if r.dry_run else "forgot") + " clone(s) gone from this host: "
              + ", ".join(r.clones_forgotten))
    if r.summaries_removed:
        print(f"summary cache (git diff of tables): {r.summaries_removed} file(s) of data no longer "
              f"kept; {verb} {human_size(r.summaries_freed)}")
    return 0


def _render_remote(r: RemoteGcResult, as_json: bool) -> int:
    from .render import human_size, print_json

    if as_json:
        print_json(dataclasses.asdict(r))
        return 0
    print(f"{r.live_files} live file version(s); {r.live_objects} object(s) live, "
          f"{r.dead_objects} dead on the remote")
    # before: "did delete 0 pack(s), repack 0 (into 0), free 0 B" after a real run
    done = ("would delete", "repack", "free") if r.dry_run else ("deleted", "repacked", "freed")
    print(f"{done[0]} {r.packs_deleted} pack(s), {done[1]} {r.packs_repacked} "
          f"(into {r.packs_written}), {done[2]} {human_size(r.freed_bytes)}; "
          f"{r.packs_recent} pack(s) younger than the grace period kept")
    if r.runcache_dropped:
        print(f"{done[0]} {len(r.runcache_dropped)} run-cache key(s) pushed before the last "
              "mlv.gcRunCacheDays days; their outputs go unless something else needs them")
    return 0
