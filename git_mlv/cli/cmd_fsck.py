"""git mlv fsck."""

from __future__ import annotations

import argparse
import dataclasses
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fsck", help="re-hash every object in the pool")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import maintenance
    from ..ops.context import Workspace
    from .render import human_size, print_json

    with Workspace.discover() as ws:
        res = maintenance.fsck(ws)
    if args.json:
        print_json(dataclasses.asdict(res))
    else:
        print(f"checked {res.packs} pack(s), {res.objects} object(s), {res.files} multi-chunk file(s), "
              f"{human_size(res.bytes)}")
        for e in res.errors:
            print(f"error: {e}", file=sys.stderr)
        print("pool is healthy" if not res.errors else f"{len(res.errors)} problem(s) found")
    return 0 if not res.errors else 3
