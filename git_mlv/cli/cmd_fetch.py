"""git mlv fetch [REMOTE] [REV...|--all] [-I PATTERNS] [-X PATTERNS]."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from .intermixed import Intermixed

if TYPE_CHECKING:
    from ..ops.sync_fetch import FetchResult


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "fetch", help="download data the local pool lacks",
        description="Download into the local pool the data of the tracked files in REV (default "
        "HEAD), or of every commit reachable from any ref with --all, from the data remote "
        "(default: the default remote). Files out of the fetch scope (mlv.fetchInclude / "
        "mlv.fetchExclude, or -I/-X) are left out, except with --all. Run-cache entries come too "
        "(their outputs with --all). "
        "The worktree is not touched: see `git mlv pull` or `git mlv checkout`.",
    )
    p.__class__ = Intermixed
    p.add_argument("words", nargs="*", metavar="[REMOTE] [REV]")
    p.add_argument("--all", action="store_true", help="every commit reachable from any ref")
    add_scope_options(p)
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or summary (errors and warnings still print)")
    p.set_defaults(func=run)


def add_scope_options(p: argparse.ArgumentParser) -> None:
    """``-I/--include`` and ``-X/--exclude``: mlv.fetchInclude/Exclude for one command."""
    p.add_argument("-I", "--include", metavar="PATTERNS",
                   help="only files matching these comma-separated patterns (replaces "
                   "mlv.fetchInclude; empty: everything)")
    p.add_argument("-X", "--exclude", metavar="PATTERNS",
                   help="not files matching these comma-separated patterns (replaces "
                   "mlv.fetchExclude; empty: none)")


def report(res: FetchResult, quiet: bool, named: set[str] | None = None) -> int:
    """Print a FetchResult's outcome; the exit code. Files in ``named`` are reported by the caller."""
    from .render import human_size, quote_path

    for note in res.notes:
        print(note, file=sys.stderr)
    for line in res.warnings:
        print(f"git-mlv: warning: {line}", file=sys.stderr)
    if not quiet:
        since = (f" (looked only at files changed since {res.since[:12]}, whose data is all here)"
                 if res.since else "")
        if res.remote:
            print(f"Fetched {res.fetched} of {res.files} file(s), {human_size(res.bytes_received)} "
                  f"from {res.remote}{since}")
        else:  # a pull with no data remote, whose files' data is all here
            print(f"Nothing to fetch: the data of all {res.files} file(s) is here")
        if res.out_of_scope:
            print(f"{res.out_of_scope} file(s) out of the fetch scope (mlv.fetchInclude/Exclude, "
                  "-I/-X) not fetched")
    unnamed = [(p, why) for p, why in sorted(res.failed.items()) if not named or p not in named]
    for path, why in unnamed[:10]:
        print(f"git-mlv: warning: {quote_path(path)}: not fetched: {why}", file=sys.stderr)
    if len(unnamed) > 10:
        print(f"git-mlv: warning: ... and {len(unnamed) - 10} more file(s) not fetched", file=sys.stderr)
    if res.not_on_remote and res.other_remotes:
        print(f"git-mlv: hint: {len(res.not_on_remote)} file(s) are not on '{res.remote}'; other data "
              f"remotes: {', '.join(res.other_remotes)} (`git mlv fetch NAME` or `pull NAME` reads from "
              "one)", file=sys.stderr)
    for msg in res.damaged[:10]:
        print(f"git-mlv: error: {msg}", file=sys.stderr)
    if res.damaged:
        print(f"git-mlv: error: {len(res.damaged)} object(s) on the remote failed verification and "
              "were not stored; repair the remote (push again from a clone that has the data)",
              file=sys.stderr)
        return 3
    return 1 if res.not_on_remote or res.failed else 0


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..errors import MlvError, UsageError
    from ..ops import setup, sync, sync_fetch
    from ..ops.context import Workspace
    from ..ops.scope import fetch_scope
    from .render import Progress, print_json

    with Workspace.discover() as ws:
        remote, revs = sync.split_remote_arg(ws, args.words)
        if args.all and revs:
            raise UsageError("give revisions or --all, not both")
        # an unborn HEAD: before, "'HEAD' names no commit here (a typo, or a ref not fetched yet?)"
        if not revs and not args.all and not setup.has_commits(ws):
            raise MlvError("no commit yet, so HEAD has no data to fetch: name a revision (`git mlv "
                           "fetch origin/main`), or `git pull` first")
        scope = fetch_scope(ws, args.include, args.exclude)
        res = sync_fetch.fetch(ws, remote, revs or None, all=args.all,
                               progress=Progress("fetch", args.quiet or args.json), scope=scope)
    if args.json:
        print_json(asdict(res))
    return report(res, args.quiet or args.json)
