"""git mlv ls-files."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Iterable


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ls-files", help="tracked files with oid, size and local presence",
        description="Tracked files (of the index, or of the commit REV) with their oid, size and "
        "whether their data is in the local pool (*). The first word is REV when it names a "
        "commit and no file or folder; the rest are paths (files or folders, or a quoted glob) to "
        "list under. As `git ls-files` does, it lists the files under the current folder, named "
        "relative to it (--full-name: from the top; --json: always from the top, as "
        "`git status --porcelain` names them). In a bare repository REV is needed (there is no "
        "index) and PATHs are from its root.")
    p.add_argument("words", nargs="*", metavar="[REV] [PATH]")
    p.add_argument("--full-name", action="store_true",
                   help="name files from the top of the repository, not from the current folder")
    p.add_argument("--json", action="store_true", help="the result as JSON on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import posixpath

    from ..ops import ls_files
    from ..ops.addpaths import refuse_pathspec_magic
    from ..ops.context import Workspace
    from ..ops.data import cwd_prefix
    from .render import human_size, print_json_list, quote_path

    with Workspace.discover() as ws:
        rev, paths = ls_files.split_rev_arg(ws, args.words)
        refuse_pathspec_magic(paths, "ls-files")
        if paths:  # a path that names no tracked file is an error before anything is printed
            batches: Iterable[list[ls_files.FileInfo]] = [ls_files.ls_files(ws, rev, paths)]
        else:  # printed batch by batch: memory stays flat at any number of files
            batches = ls_files.ls_files_batches(ws, rev, full_tree=False)
        files = (f for batch in batches for f in batch)
        if args.json:
            print_json_list(dataclasses.asdict(f) for f in files)
            return 0
        prefix = "" if args.full_name else cwd_prefix(ws)
        for f in files:
            mark = "*" if f.present else "-"
            name = posixpath.relpath(f.path, prefix) if prefix else f.path
            print(f"{f.oid[:12]} {mark} {human_size(f.size):>10}  {quote_path(name)}")
    return 0
