"""``git mlv stage add|list|remove``: edit the pipeline without running it."""

from __future__ import annotations

import sys
from typing import Any

from .cmd_run import add_stage_arguments, stage_def


def register(sub: Any) -> None:
    """Add the ``stage`` verb and its sub-verbs."""
    p = sub.add_parser("stage", help="add, list or remove pipeline stages",
                       description="Edit the [stage] sections of .gitmlv (`stage add -f` replaces a stage "
                                   "whole). Not `git config -f .gitmlv`: git writes a config file through "
                                   "FILE.lock, and .gitmlv.lock is the pipeline's lock, so once a stage "
                                   "has run git stops with 'could not lock config file .gitmlv'.")
    verbs = p.add_subparsers(dest="stage_verb", metavar="add|list|remove")
    a = verbs.add_parser("add", help="define a stage without running it (= run --no-exec)")
    add_stage_arguments(a)
    a.set_defaults(func=run_add)
    ls = verbs.add_parser("list", help="the stages, in the order they run")
    ls.add_argument("--json", action="store_true", help="print JSON")
    ls.set_defaults(func=run_list)
    rm = verbs.add_parser("remove", help="remove stages (their outputs stay)")
    rm.add_argument("names", nargs="+", metavar="STAGE")
    rm.set_defaults(func=run_remove)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def run_add(args: Any) -> int:
    """Define a stage."""
    from ..ops import pipeline, setup
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        added = pipeline.add_stage(ws, stage_def(args), force=args.force)
        note = setup.ensure_installed(ws) if added.tracked else None
    print(f"{'Replaced' if added.replaced else 'Added'} stage {added.stage.name!r} in .gitmlv")
    for pat in added.tracked:
        print(f"Tracking {pat} (in .gitattributes)")
    if note:
        print(note)
    for w in added.ignored:
        print(f"git-mlv: warning: {w}", file=sys.stderr)
    return 0


def run_list(args: Any) -> int:
    """Print the stages."""
    from ..ops import pipeline
    from ..ops.context import Workspace
    from .render import print_json, table

    with Workspace.discover() as ws:
        stages = pipeline.list_stages(ws)
    if args.json:
        print_json([{"name": s.name, "cmd": s.cmd, "wdir": s.wdir, "deps": s.deps, "params": s.params,
                     "outs": s.outs, "outs_nocache": s.outs_nocache, "metrics": s.metrics}
                    for s in stages])
        return 0
    rows = [(s.name, s.cmd, ", ".join(s.deps + s.params), ", ".join(s.all_outs)) for s in stages]
    table(rows, ["stage", "command", "deps", "outs"])
    return 0


def run_remove(args: Any) -> int:
    """Remove stages."""
    from ..ops import pipeline
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        for name in pipeline.remove_stages(ws, args.names):
            print(f"Removed stage {name!r}")
    return 0
