"""git mlv merge-driver: what git runs when both sides of a merge changed a tracked file.

Data cannot be merged line by line; like git's ``binary`` driver we keep our side and report a
conflict, and say how to take theirs. (Without a driver git would merge the pointer texts and leave
conflict markers inside a pointer.)
"""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("merge-driver", help="(plumbing) git's merge driver for tracked data")
    p.add_argument("base")
    p.add_argument("ours")
    p.add_argument("theirs")
    p.add_argument("path", nargs="?", default="")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open(args.ours, "rb") as f:
        ours = f.read()
    with open(args.theirs, "rb") as f:
        theirs = f.read()
    if ours == theirs:
        return 0
    with open(args.base, "rb") as f:
        base = f.read()
    if base == ours:  # only they changed it (git usually settles this before asking)
        with open(args.ours, "wb") as f:
            f.write(theirs)
        return 0
    if base == theirs:
        return 0
    print(f"git-mlv: both sides changed data file '{args.path}'; kept ours. Take theirs with "
          f"`git checkout --theirs -- '{args.path}'`, then `git add` it", file=sys.stderr)
    return 1
