"""``git mlv run``: define a pipeline stage and run it."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from ..errors import UsageError


def add_stage_arguments(p: argparse.ArgumentParser) -> None:
    """The options shared by ``run`` and ``stage add``."""
    p.add_argument("-n", "--name", required=True, help="stage name (letters, digits, '_', '-')")
    p.add_argument("-d", "--dep", dest="deps", action="append", default=[], metavar="PATH",
                   help="a file or directory the command reads (repeatable)")
    p.add_argument("-o", "--out", dest="outs", action="append", default=[], metavar="PATH",
                   help="an output stored in the pool and tracked by the mlv filter (repeatable)")
    p.add_argument("-O", "--out-no-cache", dest="outs_nocache", action="append", default=[],
                   metavar="PATH", help="an output the mlv filter leaves alone (a log, a plots file "
                   "committed as is); the run-cache still restores it (repeatable)")
    p.add_argument("-M", "--metric", dest="metrics", action="append", default=[], metavar="PATH",
                   help="a metrics file (JSON, YAML, TOML, CSV, TSV) kept in git as a normal file "
                        "(repeatable)")
    p.add_argument("-p", "--params", dest="params", action="append", default=[], metavar="FILE[:KEYS]",
                   help="parameters: FILE:KEY1,KEY2 (nested keys as a.b), or FILE alone for every key")
    p.add_argument("-w", "--wdir", default=None,
                   help="directory the command runs in (default: the current directory)")
    p.add_argument("-f", "--force", action="store_true", help="replace a stage of the same name")
    # DVC's spellings (`dvc stage add -n train -d x --outs y -m metrics.json`), kept out of --help:
    # a DVC user's -m and --outs were refused ("unrecognized arguments: -m"). DVC's -m is a cached
    # metric and -M one kept in git; ours is both, so both name it. DVC's plots files are outputs
    # here, as `migrate from-dvc` makes them (`git mlv plots --file` draws any file).
    for flags, dest in ((["--deps"], "deps"), (["--outs", "--plots"], "outs"),
                        (["--outs-no-cache", "--plots-no-cache"], "outs_nocache"),
                        (["-m", "--metrics", "--metrics-no-cache"], "metrics")):
        p.add_argument(*flags, dest=dest, action="append", default=[], help=argparse.SUPPRESS)
    p.add_argument("command", nargs=argparse.REMAINDER, metavar="CMD...", help="the command to run")


def stage_def(args: Any) -> Any:
    """A StageDef from parsed arguments."""
    from ..ops.pipeline import StageDef

    words = list(args.command)
    if words and words[0] == "--":
        words = words[1:]
    if not words:
        raise UsageError("no command given: git mlv run -n NAME [-d DEP]... CMD...")
    cmd = words[0] if len(words) == 1 else shlex.join(words)
    return StageDef(name=args.name, cmd=cmd, deps=args.deps, outs=args.outs,
                    outs_nocache=args.outs_nocache, metrics=args.metrics, params=args.params,
                    wdir=args.wdir)


def register(sub: Any) -> None:
    """Add the ``run`` verb."""
    p = sub.add_parser(
        "run", help="define a pipeline stage and run it",
        description="Define a stage in .gitmlv (git-config syntax) and run it. Paths are relative to "
                    "the current directory; they are stored relative to the repository root. When a "
                    "dependency is missing or the command fails, .gitmlv and .gitattributes are put "
                    "back as they were.",
    )
    add_stage_arguments(p)
    p.add_argument("--no-exec", action="store_true", help="define the stage without running it")
    p.add_argument("--no-run-cache", action="store_true",
                   help="run the command even if the run-cache has its outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.set_defaults(func=run)


def run(args: Any) -> int:
    """Define the stage, then reproduce just that stage unless --no-exec."""
    from ..ops import pipeline, setup
    from ..ops.context import Workspace
    from ..pipeline.repro import FAILED
    from .cmd_repro import print_event, print_summary

    def event(e: Any) -> None:  # a failure is said once, by the error that undoes the stage
        if e.kind != FAILED:
            print_event(e)

    with Workspace.discover() as ws, pipeline.undo_on_failure(ws):
        added = pipeline.add_stage(ws, stage_def(args), force=args.force)
        result = None
        if not args.no_exec:
            opts = pipeline.Options(targets=[added.stage.name], single=True,
                                    run_cache=not args.no_run_cache)
            result = pipeline.repro(ws, opts, None if args.quiet else event)
        tracked = pipeline.still_tracked(ws, added.tracked)
        note = setup.ensure_installed(ws) if added.tracked else None
    if not args.quiet:  # only now: a stage that fails is undone, and was never added
        verb = "Replaced" if added.replaced else "Added"
        print(f"{verb} stage {added.stage.name!r} in .gitmlv", flush=True)
        for pat in tracked:
            print(f"Tracking {pat} (in .gitattributes)", flush=True)
        if note:
            print(note, flush=True)
        for w in added.ignored:
            print(f"git-mlv: warning: {w}", file=sys.stderr, flush=True)
        if result is not None:
            print_summary(result)
    return 0
