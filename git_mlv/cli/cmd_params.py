"""``git mlv params diff``: parameter values across revisions."""

from __future__ import annotations

import sys
from typing import Any

from .cmd_metrics import add_format, print_diff


def register(sub: Any) -> None:
    """Add the ``params`` verb."""
    p = sub.add_parser("params", help="compare parameters across revisions",
                       description="Parameters (-p of a stage) read from git at any revision.")
    verbs = p.add_subparsers(dest="params_verb", metavar="diff")
    d = verbs.add_parser("diff", help="old and new value per parameter",
                         description="Parameters at A (default HEAD) against B (default the work tree).")
    d.add_argument("a", nargs="?", metavar="A")
    d.add_argument("b", nargs="?", metavar="B")
    d.add_argument("--all", action="store_true", help="include parameters that did not change")
    add_format(d)
    d.set_defaults(func=run_diff)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def run_diff(args: Any) -> int:
    """Print the diff."""
    from ..ops import pipeline
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        d = pipeline.params_diff(ws, args.a, args.b, args.all)
    for w in d.warnings:
        print(f"git-mlv: warning: {w}", file=sys.stderr)
    print_diff(d.rows, args.fmt, "param")
    return 0
