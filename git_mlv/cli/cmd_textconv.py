"""git mlv textconv: what `git diff` shows for a tracked file.

git hands textconv the smudged content of both sides (real data where it is here), so we summarise
content by its sha256 and size, the same id the pointer carries.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("textconv", help="(plumbing) a readable summary of tracked data for git diff")
    p.add_argument("file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import hashlib

    from ..core.pointer import MAX_SIZE, Pointer
    from .render import human_size

    with open(args.file, "rb") as f:
        head = f.read(MAX_SIZE)
        p = Pointer.try_parse(head) if len(head) < MAX_SIZE else None
        if p is not None:
            oid, size, note = p.oid, p.size, " (data not here: `git mlv pull`)"
        else:
            h = hashlib.sha256(head)
            size = len(head)
            while data := f.read(1 << 20):
                h.update(data)
                size += len(data)
            oid, note = h.hexdigest(), ""
    print(f"git-mlv data sha256:{oid}\nsize {size} ({human_size(size)}){note}")
    return 0
