"""git mlv prune [--dry-run] [--keep-days N]."""

from __future__ import annotations

import argparse
import dataclasses


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "prune", help="delete local data the default remote holds and nothing here needs",
        description="Delete from the local pool the data that the default data remote is verified to "
        "hold (its indexes are listed again first) and that none of these needs: HEAD (every "
        "worktree's), the index, stashes, refs whose tip commit is younger than --keep-days, and "
        "commits of local branches no remote-tracking ref contains (unpushed). Data the remote "
        "lacks is never deleted. A chunk shared with a kept file is kept. Packs are rewritten "
        "without the deleted entries; a checkout of an old commit fetches them back. On a pool "
        "shared by clones (mlv.pool), what every other clone needs by the same rules is kept too.",
    )
    p.add_argument("-n", "--dry-run", action="store_true", help="say what would be deleted, delete nothing")
    p.add_argument("--keep-days", type=float, metavar="N",
                   help="keep the files of refs whose tip commit is younger than N days "
                   "(default mlv.pruneKeepDays, 7)")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops.context import Workspace
    from ..ops.prune import prune
    from .render import human_size, print_json

    with Workspace.discover() as ws:
        r = prune(ws, keep_days=args.keep_days, dry_run=args.dry_run)
    if args.json:
        print_json(dataclasses.asdict(r))
        return 0
    verb = "Would delete" if r.dry_run else "Deleted"
    print(f"{verb} {r.files} file version(s), {r.chunks} chunk(s), {human_size(r.bytes_freed)} "
          f"(all held by remote '{r.remote}')")
    print(f"Kept {r.retained_files} file version(s) that HEAD, the index, {r.stashes} stash "
          f"commit(s), {len(r.recent_refs)} ref(s) younger than {r.keep_days:g} day(s) or "
          f"{r.unpushed_commits} unpushed commit(s) need")
    if r.clones:
        print(f"Kept what {len(r.clones)} other clone(s) sharing the pool need: {', '.join(r.clones)}")
    if r.not_on_remote:
        print(f"Kept {r.not_on_remote} object(s) nothing here needs, because remote '{r.remote}' "
              "does not hold them")
    return 0
