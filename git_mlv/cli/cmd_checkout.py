"""git mlv checkout."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("checkout", help="replace pointer files in the worktree by their data",
                       description="Write the data of tracked files that are still pointers in the "
                       "worktree, from the local pool (use `git mlv pull` to fetch first). Exit 1 "
                       "when the data of one is not here, or when a PATH names a file left unmerged "
                       "by a merge conflict (named, with git's way to resolve it) or a file where a "
                       "folder now is (left as it is).")
    p.add_argument("paths", nargs="*", metavar="PATH",
                   help="files or folders to write (all without PATH), or a quoted glob ('data/*.csv', "
                   "as git takes it)")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bar or summary (errors and warnings still print)")
    p.set_defaults(func=run)


_NAMED = 10  # files without data named one a line, then counted


def run(args: argparse.Namespace) -> int:
    from ..ops import data
    from ..ops.addpaths import refuse_pathspec_magic
    from ..ops.context import Workspace
    from ..ops.scope import fetch_scope
    from .cmd_status import relative_to_cwd
    from .render import Progress, human_size, quote_path

    refuse_pathspec_magic(args.paths, "checkout")
    with Workspace.discover() as ws:
        ws.repo.top  # noqa: B018 (a bare repository: "needs a work tree", not git diff-files' fatal)
        install_first(ws)
        res = data.checkout(ws, args.paths or None, progress=Progress("checkout", args.quiet))
        fetch = "run `git mlv pull`"
        unscoped: dict[str, str] = {}
        if res.missing:
            from ..errors import MlvError
            from ..ops import remote_config

            try:
                if not remote_config.remotes(ws):  # before: "run `git mlv pull`", which could not
                    fetch = ("not here, and no data remote to fetch it from: `git mlv remote add "
                             "NAME URL --default`, then `git mlv pull`")
            except MlvError:
                pass  # .gitmlv unreadable: pull says why
            scope = fetch_scope(ws)
            # `git mlv pull` leaves out a file outside mlv.fetchInclude/Exclude: name what fetches it
            unscoped = {p: f"outside the fetch scope: `git mlv pull -I {shlex.quote('/' + p)} -X ''`"
                        for p in res.missing[:_NAMED] if scope.limited and not scope(p)
                        and not any(c in p for c in ",*?[\\")}
        named = res.missing or res.outside_patterns or res.unmerged or res.folders
        relative = relative_to_cwd(ws) if named else None
    why = [unscoped.get(p, fetch) for p in res.missing[:_NAMED]] if res.missing else []
    if relative is not None:  # paths as git names them, from the current folder (cmd_status.py)
        res.missing = [relative(p) for p in res.missing]
        res.outside_patterns = [relative(p) for p in res.outside_patterns]
        res.unmerged = {relative(p): how for p, how in res.unmerged.items()}
        res.folders = [relative(p) for p in res.folders]
    if not args.quiet:
        print(f"Checked out {len(res.restored)} file(s), {human_size(res.bytes)}")
    # before: one line per file, 10,000 lines in a clone without its data, paths unquoted
    for p, because in zip(res.missing[:_NAMED], why):
        print(f"missing data: {quote_path(p)} ({because})")
    if len(res.missing) > _NAMED:
        print(f"missing data: {len(res.missing) - _NAMED} more file(s) ({fetch}; "
              "`git mlv status --json` names them all)")
    for p in res.outside_patterns[:5]:
        print(f"left as a pointer: {quote_path(p)} (outside every tracked pattern)")
    if len(res.outside_patterns) > 5:
        print(f"left as pointers: {len(res.outside_patterns) - 5} more outside every tracked pattern")
    if res.outside_patterns:
        print(data.outside_patterns_hint(res.outside_patterns))
    for p, how in res.unmerged.items():
        print(f"not written: {data.unmerged_line(p, how)}")
    for p in res.folders:
        q = shlex.quote(p)
        print(f"not written: {quote_path(p)}: a folder is there (`git checkout -- {q}` replaces it, and "
              "everything in it, with the file)")
    if res.index_locked:
        print(f"git-mlv: warning: {data.INDEX_LOCKED}", file=sys.stderr)
    # exit 1 when data asked for (a conflicted file named: git's `checkout FILE` says "path is
    # unmerged" and fails too) could not be written (README: 1, e.g. data missing), as pull does:
    # a script's `git mlv checkout && train.py` read pointer text before; files outside the
    # patterns are pointers by design, not a failure
    return 1 if res.missing or res.folders or (res.unmerged and args.paths) else 0


def install_first(ws: Any) -> None:
    """Install git-mlv for the repository when git does not know the filter (a clone made before
    `git mlv install`), saying so on stderr. Before, `checkout` and `pull` wrote the data there and
    git, refreshing its index without the filter, staged every file whole: the next commit put the
    data itself into git."""
    from ..ops import setup

    note = setup.ensure_installed(ws)
    if note:
        print(f"git-mlv: {note}", file=sys.stderr)
