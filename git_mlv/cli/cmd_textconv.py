"""git mlv textconv: what `git diff` and `git log -p` show for a tracked file.

git hands textconv a temporary file with the smudged content of each side (the real data when it
is here, the pointer when not) and diffs what we print: a summary of the data, one fact per line
(git_mlv/inspect, docs/inspect.md). Summaries of tables, arrays and JSON documents are kept by
content in the repository's summary cache (ops/summarycache.py, docs/formats.md#summary-cache).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # not at run time: a summary read back from the cache needs no argparse
    import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "textconv", help="(plumbing) a readable summary of tracked data for git diff",
        description="Print a summary of FILE, one fact per line: tables (CSV, TSV, JSON Lines, Parquet, "
                    "Arrow/Feather): schema, rows, per-column statistics; arrays and weights (npy, npz, "
                    "safetensors): dtypes, shapes, statistics; images (TIFF too): dimensions; JSON "
                    "documents: structure, and the values of small ones; anything else: size and sha256. "
                    "git runs it as the diff driver `diff.mlv.textconv`.")
    p.add_argument("file")
    p.add_argument("--name", help="the file's name in the repository, when FILE is a temporary copy")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..ops.summarycache import summary_text

    try:
        text = summary_text(args.file, args.name)
    except FileNotFoundError:
        raise UsageError(f"{args.file}: no such file") from None
    except IsADirectoryError:
        raise UsageError(f"{args.file}: is a folder, not a file") from None
    sys.stdout.write(text)
    return 0
