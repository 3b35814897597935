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
        "commit and no file or folder; the rest are paths (files or folders) to list under. In a "
        "bare repository REV is needed (there is no index) and PATHs are from its root.")
    p.add_argument("words", nargs="*", metavar="[REV] [PATH]")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..ops import data
    from ..ops.context import Workspace
    from .render import human_size, print_json_list, quote_path

    with Workspace.discover() as ws:
        rev, paths = data.split_rev_arg(ws, args.words)
        if paths:  # a path that names no tracked file is an error before anything is printed
            batches: Iterable[list[data.FileInfo]] = [data.ls_files(ws, rev, paths)]
        else:  # printed batch by batch: memory stays flat at any number of files
            batches = data.ls_files_batches(ws, rev)
        files = (f for batch in batches for f in batch)
        if args.json:
            print_json_list(dataclasses.asdict(f) for f in files)
            return 0
        for f in files:
            mark = "*" if f.present else "-"
            print(f"{f.oid[:12]} {mark} {human_size(f.size):>10}  {quote_path(f.path)}")
    return 0
