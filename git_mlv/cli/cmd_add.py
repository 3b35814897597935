"""git mlv add."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("add", help="track these exact paths and git add them",
                       description="Track each path (a folder: everything under it) in "
                       ".gitattributes, then `git add` it and .gitattributes (files git already "
                       "holds whole, committed before, are added again, as data). Glob characters in a "
                       "name are escaped in .gitattributes. A symbolic link is refused (git stores "
                       "the link, not the data: add its target), and so is another git "
                       "repository's folder or a file in it.")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..gitio.attributes import quoted
    from ..ops import setup
    from ..ops.addpaths import refuse_unaddable
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        refuse_unaddable(ws, args.paths)
        res = setup.add(ws, args.paths)
    if res.note:
        print(res.note)
    for p in res.tracked:
        print(f"Tracking {quoted(p)}")
    print(f"Added {len(res.staged)} path(s); commit with `git commit`")
    if res.hint:
        print(f"Note: {res.hint}")
    return 0
