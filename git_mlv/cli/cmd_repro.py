"""``git mlv repro``: rerun the stages whose inputs changed."""

from __future__ import annotations

import sys
import threading
from typing import Any

_print_lock = threading.Lock()


def print_event(event: Any) -> None:
    """One line per stage event (stdout; failures on stderr), flushed before the command writes."""
    from ..pipeline import repro as r

    name = event.stage
    lines = {
        r.RUNNING: f"Running stage {name!r}: {event.detail}",
        r.RESTORED: f"Restored {name!r} from {event.detail}",
        r.UP_TO_DATE: f"Stage {name!r} is up to date",
        r.WOULD_RUN: f"Would run stage {name!r}: {event.detail}",
        r.FAILED: f"Stage {name!r} failed: {event.detail}",
        r.SKIPPED: f"Stage {name!r} not run: upstream {event.detail} failed",
        r.WARNING: f"git-mlv: warning: stage {name!r}: {event.detail}",
    }
    line = lines.get(event.kind)
    if line is None:
        return
    out = sys.stderr if event.kind in (r.FAILED, r.SKIPPED, r.WARNING) else sys.stdout
    with _print_lock:
        print(line, file=out, flush=True)


def print_summary(result: Any) -> None:
    """"Everything is up to date" when nothing ran, was restored or would run."""
    from ..pipeline import repro as r

    if not any(result.stages(k) for k in (r.RAN, r.RESTORED, r.WOULD_RUN)):
        print("Everything is up to date.")


def register(sub: Any) -> None:
    """Add the ``repro`` verb."""
    p = sub.add_parser(
        "repro", help="rerun pipeline stages whose inputs changed",
        description="Run the stages (all, or STAGE and what it needs) whose command, dependencies or "
                    "parameters changed, or whose outputs are missing or modified. Outputs of inputs "
                    "seen before are restored from the run-cache instead of running.",
    )
    p.add_argument("stages", nargs="*", metavar="STAGE", help="stages to bring up to date (default: all)")
    p.add_argument("-s", "--single-item", action="store_true",
                   help="only the named stages, not the stages they depend on")
    p.add_argument("-f", "--force", action="store_true", help="run even if up to date (no run-cache)")
    p.add_argument("--dry-run", action="store_true", help="say what would run, run nothing")
    p.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                   help="run up to N independent stages at once")
    p.add_argument("--no-run-cache", action="store_true",
                   help="run commands even if the run-cache has their outputs")
    p.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    p.add_argument("--json", action="store_true",
                   help="print what happened to each stage as JSON (the commands' output goes to "
                   "stderr)")
    p.set_defaults(func=run)


def run(args: Any) -> int:
    """Reproduce and print what happened."""
    from ..errors import UsageError
    from ..ops import pipeline
    from ..ops.context import Workspace

    if args.jobs < 1:
        raise UsageError("-j needs a number of at least 1")
    opts = pipeline.Options(targets=args.stages, single=args.single_item, force=args.force,
                            dry_run=args.dry_run, jobs=args.jobs, run_cache=not args.no_run_cache,
                            stdout_to_stderr=args.json)
    events: list[Any] = []
    on_event = events.append if args.json else None if args.quiet else print_event
    try:
        with Workspace.discover() as ws:
            result = pipeline.repro(ws, opts, on_event)
    finally:
        if args.json:  # also when a stage failed: what ran, what did not (then the error line)
            from .render import print_json

            print_json([{"stage": e.stage, "event": e.kind, "detail": e.detail} for e in events])
    if not args.quiet and not args.json:
        print_summary(result)
    return 0
