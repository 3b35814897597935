"""git mlv fsck [--repair] [--json]."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..ops.maintenance import FsckResult
    from ..ops.repair import RepairResult

REPAIR_HINT = ("run `git mlv fsck --repair`: it drops the damaged objects (keeping every good one) and "
               "takes the affected files again from their worktree copies or the default data remote")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fsck", help="re-hash every object in the pool; --repair restores damaged files",
        description="Re-hash every object in the pool with sha256 against its id and every "
        "multi-chunk file against its oid; check pack indexes and the multi-pack index. Names the "
        "files whose data is damaged (their paths in HEAD, else their oids), and the files of the "
        "index (HEAD and what is staged) whose data is not in the pool, as `git mlv status` does "
        "(files out of the fetch scope or the sparse checkout excepted; the data remote is not "
        "asked). Exit 3 on damage, else 4 when data is missing.")
    p.add_argument("--repair", action="store_true",
                   help="drop the damaged objects and the manifests of the files they break, "
                   "rewriting only the packs that hold them (every good object is kept), then store "
                   "again those whose worktree copy is their data (same sha256) and fetch the others "
                   "from the default data remote, verified as every fetch is. "
                   "Files the remote does not have are named: their data is gone here and they stay "
                   "pointers in checkouts. Exit 0 when everything was repaired, 3 when damage remains, "
                   "else 4 when files of the index have no data here (named as fsck names them)")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops.context import Workspace
    from .render import print_json

    with Workspace.discover() as ws:
        if args.repair:
            from ..ops import repair

            rep = repair.repair(ws)
            # files of the index without data here: before, --repair said "pool is healthy;
            # nothing to repair" (exit 0) where fsck named them (exit 4)
            from ..ops import maintenance

            maintenance.missing_data(ws, rep.fsck)
            if args.json:
                print_json(dataclasses.asdict(rep))
            else:
                _render_repair(rep)
                _render_missing(rep.fsck)
            return 3 if not rep.clean else 4 if rep.fsck.missing else 0
        from ..ops import maintenance

        res = maintenance.fsck(ws)
    if args.json:
        print_json(dataclasses.asdict(res))
    else:
        _render_check(res)
        _render_missing(res)
        if res.errors:
            print(f"{len(res.errors)} problem(s) found; {REPAIR_HINT}")
        elif res.missing:
            print(f"pool is readable, but {len(res.missing)} file(s) of the index have no data here")
        else:
            print("pool is healthy")
    return 3 if res.errors else 4 if res.missing else 0


_NAMED = 20  # files without data named one a line, then counted


def _render_missing(res: FsckResult) -> None:
    """The files of the index whose data is not here, and how each kind comes back."""
    from .render import quote_path

    if not res.missing:
        return
    kept = set(res.in_worktree)
    print(f"error: {len(res.missing)} file(s) of the index (HEAD and what is staged) have no data in "
          "the pool:", file=sys.stderr)
    for p in res.missing[:_NAMED]:
        print(f"  {quote_path(p)}" + (" (its data is in the worktree)" if p in kept else ""),
              file=sys.stderr)
    if len(res.missing) > _NAMED:
        print(f"  ... and {len(res.missing) - _NAMED} more", file=sys.stderr)
    if kept:
        print(f"{len(kept)} of them are unmodified in the worktree: `git add --renormalize -- PATH...` "
              "stores their data in the pool again", file=sys.stderr)
    rest = len(res.missing) - len(kept)
    if rest and res.remote:
        print(f"`git mlv pull` fetches {'the others' if kept else 'them'} from data remote "
              f"'{res.remote}' (and says which it does not hold)", file=sys.stderr)
    elif rest:
        print(f"no data remote is configured: the data of {rest} file(s) is not here; add the "
              "remote that holds it (`git mlv remote add NAME URL --default`), then `git mlv pull`",
              file=sys.stderr)


def _render_check(res: FsckResult, prefix: str = "error") -> None:
    from .render import human_size

    print(f"checked {res.packs} pack(s), {res.objects} object(s), {res.files} multi-chunk file(s), "
          f"{human_size(res.bytes)}")
    for name in res.rebuilt:
        print(f"rebuilt the missing index of {name} from the pack")
    for e in res.errors:
        print(f"{prefix}: {e}", file=sys.stderr)
    if res.affected:
        print(f"{len(res.affected)} file(s) with damaged data:")
        for label in res.affected:
            print(f"  {label}")


def _render_repair(rep: RepairResult) -> None:
    _render_check(rep.fsck, "found")
    if not rep.fsck.errors and not rep.fsck.affected:
        print("pool is healthy; nothing to repair" if not rep.fsck.missing else
              f"pool is readable; nothing to repair, but {len(rep.fsck.missing)} file(s) of the index "
              "have no data here")
        return
    for note in rep.notes:
        print(note, file=sys.stderr)
    if rep.packs_rewritten:
        print(f"dropped {rep.dropped_objects} object(s) (damaged, or manifests of damaged files); "
              f"{rep.packs_rewritten} pack(s) rewritten, every good object kept")
    if rep.from_worktree:
        print(f"repaired {len(rep.from_worktree)} file(s) from their worktree copies")
    if len(rep.repaired) > len(rep.from_worktree):
        where = f" from {rep.remote}" if rep.remote else ""
        print(f"repaired {len(rep.repaired) - len(rep.from_worktree)} file(s){where}")
    for msg in rep.remote_damaged[:10]:
        print(f"error: {msg}", file=sys.stderr)
    if rep.lost:
        print(f"error: {len(rep.lost)} file(s) not repaired: their data is gone from this pool, and "
              "they stay pointers in checkouts until it is fetched from a remote that has it "
              "(`git mlv pull`)", file=sys.stderr)
        for label, why in sorted(rep.lost.items()):
            print(f"  {label}: {why}", file=sys.stderr)
    for problem in rep.unrepaired:
        print(f"error: not repaired: {problem}", file=sys.stderr)
    print("repair complete" if rep.clean else "damage remains")
