"""git mlv update [OUT...] [--rev REV] [--force]."""

from __future__ import annotations

import argparse

from .cmd_get import summary


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "update", help="move imports to their source's new commit (or to --rev)",
        description="Fetch each import's source again (every import without OUT), at the recorded "
        "rev or at --rev (then recorded), write what changed, update its record in .gitmlv and "
        "stage the result. Refuses an OUT with local changes unless --force. See docs/imports.md.",
    )
    p.add_argument("outs", nargs="*", metavar="OUT", help="imported paths (default: every import)")
    p.add_argument("--rev", default=None, metavar="REV",
                   help="branch, tag or full commit id to move to (recorded as the new rev)")
    p.add_argument("-f", "--force", action="store_true", help="overwrite local changes")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or summary (errors and warnings still print)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..ops import imports
    from ..ops.context import Workspace
    from .render import Progress, print_json

    with Workspace.discover() as ws:
        results = imports.update(ws, args.outs or None, args.rev, args.force,
                                 progress=Progress("update", args.quiet or args.json))
    if args.json:
        print_json([asdict(r) for r in results])
        return 0
    if args.quiet:
        return 0
    for r in results:
        if r.up_to_date:
            print(f"{r.out} is up to date ({r.url} {r.rev or 'HEAD'} at {r.commit[:10]})")
        else:
            print(summary("Updated", r) + f", {r.removed} removed; was {(r.old_commit or '')[:10]}")
    if any(not r.up_to_date for r in results):
        print("Staged the changes; commit with `git commit`")
    return 0
