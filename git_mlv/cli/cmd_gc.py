"""git mlv gc."""

from __future__ import annotations

import argparse
import dataclasses


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gc", help="remove data nothing refers to any more",
                       description="Keep everything reachable from any ref, any worktree's index and "
                       "HEAD, stashes, reflog entries of the last mlv.gcReflogDays days (90) and the "
                       "run-cache; repack or delete the rest.")
    p.add_argument("-n", "--dry-run", action="store_true", help="say what would go, remove nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import maintenance
    from ..ops.context import Workspace
    from .render import human_size, print_json

    with Workspace.discover() as ws:
        r = maintenance.gc(ws, dry_run=args.dry_run)
    if args.json:
        print_json(dataclasses.asdict(r))
        return 0
    verb = "would free" if r.dry_run else "freed"
    print(f"{r.live_files} live file version(s), {r.kept_objects} object(s) kept, "
          f"{r.dead_objects} unreachable; {verb} {human_size(r.freed_bytes)}")
    if not r.dry_run and r.packs_merged:
        print(f"{r.packs_merged} pack(s) consolidated into {r.packs_written}; "
              f"{r.packs_after} pack(s) now")
    return 0
