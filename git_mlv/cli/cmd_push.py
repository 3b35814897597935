"""git mlv push [REMOTE] [REV...|--all]."""

from __future__ import annotations

import argparse
import sys

from .intermixed import Intermixed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "push", help="upload data the remote lacks",
        description="Upload the data of the tracked files in REV (default HEAD), or of every commit "
        "reachable from any ref with --all, that the data remote (default: the default remote) "
        "does not have yet. Local run-cache entries go too. `git push` does this by itself "
        "through the pre-push hook.",
    )
    p.__class__ = Intermixed
    p.add_argument("words", nargs="*", metavar="[REMOTE] [REV]")
    p.add_argument("--all", action="store_true", help="every commit reachable from any ref")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or summary (errors and warnings still print)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from dataclasses import asdict

    from ..errors import MlvError, UsageError
    from ..ops import setup, sync
    from ..ops.context import Workspace
    from .render import Progress, print_json, push_summary, quote_path

    with Workspace.discover() as ws:
        remote, revs = sync.split_remote_arg(ws, args.words)
        if args.all and revs:
            raise UsageError("give revisions or --all, not both")
        # an unborn HEAD: before, "'HEAD' names no commit here (a typo, or a ref not fetched yet?)"
        if not revs and not args.all and not setup.has_commits(ws):
            raise MlvError("no commit yet, so no data to push: commit first (`git commit`)")
        res = sync.push(ws, remote, revs or None, all=args.all,
                        progress=Progress("push", args.quiet or args.json))
    if args.json:
        print_json(asdict(res))
    for note in res.notes:
        print(note, file=sys.stderr)
    for path in res.missing[:10]:
        print(f"git-mlv: warning: no data for {quote_path(path)} here nor on the remote", file=sys.stderr)
    if not args.quiet:
        print(push_summary(res), file=sys.stderr)
    if res.missing:
        print(f"git-mlv: error: {len(res.missing)} file(s) could not be pushed: their data is not "
              "in the local pool (fetch it from where it is, then push again)", file=sys.stderr)
        return 1
    return 0
