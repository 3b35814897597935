"""git mlv hook NAME: what the hook shims in hooks/ run."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hook", help="(plumbing) run a git hook's logic")
    p.add_argument("name", choices=["pre-push", "post-checkout", "post-merge"])
    p.add_argument("hook_args", nargs="*")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import hooks
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        if args.name == "pre-push":
            remote = args.hook_args[0] if args.hook_args else ""
            url = args.hook_args[1] if len(args.hook_args) > 1 else ""
            return hooks.pre_push(ws, remote, url, sys.stdin.read().splitlines())
        hooks.after_checkout(ws, args.name, args.hook_args)
    return 0
