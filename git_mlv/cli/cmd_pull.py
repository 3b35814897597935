"""git mlv pull [REMOTE] [PATH...] [-I PATTERNS] [-X PATTERNS]."""

from __future__ import annotations

import argparse
import sys

from .cmd_fetch import add_scope_options
from .intermixed import Intermixed

_NAMED = 5  # pointers outside the patterns named in the warning, then counted


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pull", help="fetch the data of HEAD's files and check them out",
        description="Download the data of the tracked files of HEAD (under PATHs) from the data "
        "remote (default: the default remote), then write them into the worktree. Files out of the "
        "fetch scope (mlv.fetchInclude / mlv.fetchExclude, or -I/-X) are not downloaded; they are "
        "written only if their data is here already. Pointers at paths no tracked pattern covers "
        "stay pointer text (git checks them out without the filter) and their data is not fetched.",
    )
    p.__class__ = Intermixed
    p.add_argument("words", nargs="*", metavar="[REMOTE] [PATH]")
    add_scope_options(p)
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or summary (errors and warnings still print)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..ops import sync, sync_fetch
    from ..ops.addpaths import refuse_pathspec_magic
    from ..ops.context import Workspace
    from ..ops.scope import fetch_scope
    from .cmd_checkout import install_first
    from .cmd_fetch import report
    from .render import Progress, print_json, quote_path

    with Workspace.discover() as ws:
        remote, paths = sync.split_remote_arg(ws, args.words)
        refuse_pathspec_magic(paths, "pull")
        install_first(ws)
        scope = fetch_scope(ws, args.include, args.exclude)
        res = sync_fetch.pull(ws, remote, paths or None,
                              progress=Progress("pull", args.quiet or args.json), scope=scope)
    if args.json:
        print_json(asdict(res))
    code = report(res.fetch, args.quiet or args.json, named=set(res.why))
    for path, why in sorted(res.why.items())[:20]:
        print(f"git-mlv: warning: {quote_path(path)} stays a pointer: {why}", file=sys.stderr)
    if not (args.quiet or args.json):
        print(f"Checked out {len(res.restored)} file(s)")
    if res.outside_patterns and not args.json:
        _say_outside(res.outside_patterns)
    if res.index_locked:
        from ..ops.data import INDEX_LOCKED

        print(f"git-mlv: warning: {INDEX_LOCKED}", file=sys.stderr)
    if res.why:
        print(f"git-mlv: {len(res.why)} file(s) stayed pointers"
              + (" (the first 20 named above)" if len(res.why) > 20 else ""), file=sys.stderr)
        code = code or 1
    return code


def _say_outside(paths: list[str]) -> None:
    """One warning for the pointers no tracked pattern covers (as status lists them): left as
    pointer text, their data not fetched."""
    from ..ops.data import outside_patterns_hint
    from .render import quote_path

    named = ", ".join(quote_path(p) for p in paths[:_NAMED]) + (
        f" and {len(paths) - _NAMED} more" if len(paths) > _NAMED else "")
    print(f"git-mlv: warning: {len(paths)} pointer(s) outside every tracked pattern left as pointer "
          f"text, their data not fetched: {named}; {outside_patterns_hint(paths)}", file=sys.stderr)
