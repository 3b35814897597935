"""git mlv hook NAME: what the hook shims in hooks/ run."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

HOOKS = ("pre-push", "post-checkout", "post-merge")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hook", help="(plumbing) run a git hook's logic",
                       description="Run git-mlv's part of hook NAME, then the hook it is chained "
                       "with (NAME.mlv-chained in the hooks folder), with the same arguments and "
                       "the same stdin.")
    p.add_argument("name", choices=HOOKS)
    p.add_argument("hook_args", nargs="*")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import hookquick

    if os.environ.get(hookquick.CHAINED_ENV):
        return 0  # our shim chained behind another copy of itself: that copy did the work
    if args.name != "pre-push":
        examined = hookquick.nothing_to_do(args.name, args.hook_args)
        if examined is not None:  # the common case, decided without the heavy imports below
            hookquick.trace(hookquick.settled_record(args.name, examined))
            return hookquick.run_chained(None, args.name, args.hook_args, b"")
    from ..ops import hooks
    from ..ops.context import Workspace
    from .render import push_summary

    stdin = sys.stdin.buffer.read() if args.name == "pre-push" else b""
    with Workspace.discover() as ws:
        out = hooks.run_ours(ws, args.name, args.hook_args, stdin)
        for note in out.push.notes if out.push else []:
            print(note, file=sys.stderr)
        for line in out.warnings:
            print(f"git-mlv: warning: {line}", file=sys.stderr)
        for line in out.errors:
            print(f"git-mlv: error: {line}", file=sys.stderr)
        if out.push is not None:
            print(push_summary(out.push), file=sys.stderr)
        if out.code:
            return out.code
        return hooks.run_chained(ws, args.name, args.hook_args, stdin)
