"""git mlv textconv: what `git diff` shows for a tracked file."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("textconv", help="(plumbing) a readable summary of a pointer for git diff")
    p.add_argument("file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..core.pointer import MAX_SIZE, Pointer
    from .render import human_size

    with open(args.file, "rb") as f:
        head = f.read(MAX_SIZE)
    p = Pointer.try_parse(head)
    if p is None:
        print(f"(data, not a pointer: {human_size(len(head))}+)")
    else:
        print(f"git-mlv object sha256:{p.oid}\nsize {p.size} ({human_size(p.size)})")
    return 0
