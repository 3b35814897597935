"""git mlv get URL PATH [-o OUT] [--rev REV] [--force]."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .render import human_size

if TYPE_CHECKING:
    from ..ops.imports import Imported


def add_source_args(p: argparse.ArgumentParser) -> None:
    """URL, PATH, -o, --rev, --force, --json, -q: shared by get and import."""
    p.add_argument("url", metavar="URL", help="any git URL: a local path, file://, ssh://, host:path, https://")
    p.add_argument("path", metavar="PATH", help="a file or folder in that repository, from its root")
    p.add_argument("-o", "--out", metavar="OUT", help="where to write it (default: PATH's last part, here)")
    p.add_argument("--rev", default="", metavar="REV",
                   help="branch, tag or full commit id in the source (default: its HEAD)")
    p.add_argument("-f", "--force", action="store_true", help="replace OUT if it exists")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or summary (errors and warnings still print)")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "get", help="download a file or folder from another git-mlv repository (not tracked)",
        description="Download PATH of the git repository at URL (at REV) into OUT: only that revision's "
        "tree and PATH's pointers are fetched, the data comes from the source's default data remote, "
        "verified. Nothing is tracked or recorded; use `git mlv import` for that. Works outside a "
        "repository too. See docs/imports.md.",
    )
    add_source_args(p)
    p.set_defaults(func=run)


def summary(verb: str, r: Imported) -> str:
    """One line: what was written where, from which commit."""
    return (f"{verb} {r.out}: {r.files} file(s), {human_size(r.size)} from {r.url} {r.path} at "
            f"{r.commit[:10]} ({r.written} written, {human_size(r.bytes_received)} downloaded)")


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..ops import imports
    from .render import Progress, print_json

    res = imports.get(args.url, args.path, args.out, args.rev, args.force,
                      progress=Progress("get", args.quiet or args.json))
    if args.json:
        print_json(asdict(res))
    elif not args.quiet:
        print(summary("Downloaded", res))
    if res.pointer_text and not args.json:
        import sys

        shown = ", ".join(res.pointer_text[:5]) + (f" and {len(res.pointer_text) - 5} more"
                                                   if len(res.pointer_text) > 5 else "")
        print(f"git-mlv: warning: {len(res.pointer_text)} file(s) hold git-mlv pointer text outside the "
              f"filter=mlv lines of the source's committed .gitattributes, written as that text (as a "
              f"clone checks them out): {shown}", file=sys.stderr)
    return 0
