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
               "fetches the affected files again from the default data remote")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fsck", help="re-hash every object in the pool; --repair fetches damaged files again",
        description="Re-hash every object in the pool with sha256 against its id and every "
        "multi-chunk file against its oid; check pack indexes and the multi-pack index. Names the "
        "files whose data is damaged (their paths in HEAD, else their oids). Exit 3 on damage.")
    p.add_argument("--repair", action="store_true",
                   help="drop the damaged objects and the manifests of the files they break, "
                   "rewriting only the packs that hold them (every good object is kept), then fetch "
                   "those files again from the default data remote, verified as every fetch is. "
                   "Files the remote does not have are named: their data is gone here and they stay "
                   "pointers in checkouts. Exit 0 when everything was repaired, 3 when damage remains")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops.context import Workspace
    from .render import print_json

    with Workspace.discover() as ws:
        if args.repair:
            from ..ops import repair

            rep = repair.repair(ws)
            if args.json:
                print_json(dataclasses.asdict(rep))
            else:
                _render_repair(rep)
            return 0 if rep.clean else 3
        from ..ops import maintenance

        res = maintenance.fsck(ws)
    if args.json:
        print_json(dataclasses.asdict(res))
    else:
        _render_check(res)
        if res.errors:
            print(f"{len(res.errors)} problem(s) found; {REPAIR_HINT}")
        else:
            print("pool is healthy")
    return 0 if not res.errors else 3


def _render_check(res: FsckResult, prefix: str = "error") -> None:
    from .render import human_size

    print(f"checked {res.packs} pack(s), {res.objects} object(s), {res.files} multi-chunk file(s), "
          f"{human_size(res.bytes)}")
    for e in res.errors:
        print(f"{prefix}: {e}", file=sys.stderr)
    if res.affected:
        print(f"{len(res.affected)} file(s) with damaged data:")
        for label in res.affected:
            print(f"  {label}")


def _render_repair(rep: RepairResult) -> None:
    _render_check(rep.fsck, "found")
    if not rep.fsck.errors and not rep.fsck.affected:
        print("pool is healthy; nothing to repair")
        return
    for note in rep.notes:
        print(note, file=sys.stderr)
    if rep.packs_rewritten:
        print(f"dropped {rep.dropped_objects} object(s) (damaged, or manifests of damaged files); "
              f"{rep.packs_rewritten} pack(s) rewritten, every good object kept")
    if rep.repaired:
        where = f" from {rep.remote}" if rep.remote else ""
        print(f"repaired {len(rep.repaired)} file(s){where}")
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
