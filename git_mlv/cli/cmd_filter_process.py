"""git mlv filter-process / clean / smudge: what git itself calls."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("filter-process", help="(plumbing) git's long-running filter, protocol v2")
    p.set_defaults(func=run_process)
    c = sub.add_parser("clean", help="(plumbing) content on stdin -> pointer on stdout")
    c.add_argument("path", nargs="?", default="")
    c.set_defaults(func=run_clean)
    s = sub.add_parser("smudge", help="(plumbing) pointer on stdin -> content on stdout")
    s.add_argument("path", nargs="?", default="")
    s.set_defaults(func=run_smudge)


def run_process(args: argparse.Namespace) -> int:
    # numpy's OpenBLAS starts a thread per core at import, and they spin a while waiting for work
    # this process never gives them (3.5 % of a checkout's filter CPU under perf, on a core git
    # needs). The filter starts no program but git, so the setting goes nowhere else.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from ..gitio.filter_process import FilterHandler, serve
    from ..gitio.shimtext import hooks_current
    from ..ops import hookquick
    from ..ops.context import Workspace
    from ..ops.filter import PoolFilter

    def has_remote() -> bool:  # asked only when a hook is missing: remotes' modules load then
        from ..errors import MlvError
        from ..ops.remote_config import remotes

        try:
            return bool(remotes(ws))
        except MlvError:  # .gitmlv unreadable (a conflict in it): the pre-push hook is the safe side
            return True

    def check_hooks() -> list[str]:  # the installer is imported only when a hook is not ours
        if ws.repo.worktree is None or hooks_current(ws.repo.config, ws.repo.common_dir):
            return []
        from ..ops.setup import ensure_hooks

        return ensure_hooks(ws.repo, has_remote)

    ws = Workspace.discover(with_config=True)
    for line in check_hooks():
        print(line, file=sys.stderr)
    handler: FilterHandler = PoolFilter(ws)
    record = hookquick.record_path(ws.repo.git_dir, ws.repo.worktree)
    process = hookquick.git_process() if record else None
    if record and process:  # lets the hooks of this git command skip Python (docs/formats.md)
        handler = hookquick.Recorder(handler, record, process)
    serve(handler)
    check_hooks()  # again, quietly: git-lfs's filter may have installed its hooks meanwhile
    return 0


def run_clean(args: argparse.Namespace) -> int:
    from ..ops.context import Workspace
    from ..ops.filter import PoolFilter

    f = PoolFilter(Workspace.discover())
    try:
        out = f.clean(args.path, sys.stdin.buffer)  # type: ignore[arg-type]
    finally:
        f.close()
    sys.stdout.buffer.write(out)
    return 0


def run_smudge(args: argparse.Namespace) -> int:
    from ..ops.context import Workspace
    from ..ops.filter import PoolFilter

    f = PoolFilter(Workspace.discover())
    try:
        blob = sys.stdin.buffer.read()
        chunks = f.smudge(args.path, blob)
        if chunks is None:
            chunks = [f.missing(args.path or "<stdin>", blob)]
        for data in chunks:
            sys.stdout.buffer.write(data)
    finally:
        f.close()
    return 0
