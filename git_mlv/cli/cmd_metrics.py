"""``git mlv metrics show|diff``: metric values across revisions."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Sequence
from typing import Any

from .render import print_json, table


def add_format(p: argparse.ArgumentParser) -> None:
    """--json / --md / --csv."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", dest="fmt", action="store_const", const="json", help="print JSON")
    g.add_argument("--md", dest="fmt", action="store_const", const="md", help="print a Markdown table")
    g.add_argument("--csv", dest="fmt", action="store_const", const="csv", help="print CSV")
    p.set_defaults(fmt="table")


def fmt_value(v: Any) -> str:
    """A cell: '-' when missing, floats to 6 significant digits, the rest as in the files."""
    from ..pipeline.metrics import MISSING  # here: the module costs 30 ms of every git-mlv start

    if v is MISSING:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}"
    return _as_written(v)


def _as_written(v: Any) -> str:
    # booleans, lists and mappings as JSON/YAML write them: Python's str() showed `True`, `['a']`
    # and `{'k': 1}` for a params.yaml holding `true`, `[a]` and `{k: 1}`
    if v is None or isinstance(v, (bool, list, dict)):  # None: the file's null
        return json.dumps(v, ensure_ascii=False, separators=(", ", ": "), default=str)
    return str(v)


def print_rows(rows: Sequence[Sequence[Any]], headers: Sequence[str], fmt: str) -> None:
    """Rows as an aligned table, Markdown or CSV (missing cells empty in CSV)."""
    from ..pipeline.metrics import MISSING

    if fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(headers)
        w.writerows([["" if c is MISSING else c if isinstance(c, (int, float)) and not isinstance(c, bool)
                       else _as_written(c) for c in r] for r in rows])
        return
    cells = [[fmt_value(c) for c in r] for r in rows]
    if fmt == "md":
        def esc(s: str) -> str:
            return s.replace("|", "\\|")

        print("| " + " | ".join(map(esc, headers)) + " |")
        print("|" + "|".join("---" for _ in headers) + "|")
        for r in cells:
            print("| " + " | ".join(map(esc, r)) + " |")
        return
    table(cells, headers)


def print_diff(rows: list[Any], fmt: str, key_label: str, with_change: bool = True) -> None:
    """A diff: path, key, old, new (and change)."""
    if fmt == "json":
        print_json([r.to_dict() for r in rows])
        return
    if not rows and fmt == "table":
        print("No changes.")
        return
    headers = ["path", key_label, "old", "new"] + (["change"] if with_change else [])
    from ..pipeline.metrics import MISSING

    change = [[MISSING if r.change is None else r.change] if with_change else [] for r in rows]
    out = [[r.path, r.key, r.old, r.new] + c for r, c in zip(rows, change)]
    print_rows(out, headers, fmt)


def register(sub: Any) -> None:
    """Add the ``metrics`` verb."""
    p = sub.add_parser("metrics", help="show and compare metrics across revisions",
                       description="Metric files (-M of a stage) read from git at any revision.")
    verbs = p.add_subparsers(dest="metrics_verb", metavar="show|diff")
    s = verbs.add_parser("show", help="a table of revision x metric",
                         description="Metrics at each REV (default: the work tree; 'workspace' names it).")
    s.add_argument("revs", nargs="*", metavar="REV")
    s.add_argument("-T", "--all-tags", action="store_true",
                   help="every tag, oldest first, then the work tree")
    s.add_argument("-a", "--all-branches", action="store_true", help="every branch, then the work tree")
    s.add_argument("--file", dest="paths", action="append", metavar="PATH",
                   help="read this metrics file instead of those the spec names (relative to the "
                        "current directory; repeatable)")
    add_format(s)
    s.set_defaults(func=run_show)
    d = verbs.add_parser("diff", help="old, new and change per metric",
                         description="Metrics at A (default HEAD) against B (default the work tree).")
    d.add_argument("a", nargs="?", metavar="A")
    d.add_argument("b", nargs="?", metavar="B")
    d.add_argument("--all", action="store_true", help="include metrics that did not change")
    d.add_argument("--file", dest="paths", action="append", metavar="PATH",
                   help="read this metrics file instead of those the spec names (relative to the "
                        "current directory; repeatable)")
    add_format(d)
    d.set_defaults(func=run_diff)
    p.set_defaults(func=lambda args: p.print_help() or 2)


def run_show(args: Any) -> int:
    """Print the table."""
    from ..ops import pipeline
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        t = pipeline.metrics_show(ws, args.revs, args.all_tags, args.all_branches, args.paths,
                                  worktree_too=True)
    for err in t.errors:
        print(f"git-mlv: warning: {err}", file=sys.stderr)
    for path in t.missing:  # else a stage's metric deleted or not made yet showed as "No metrics found."
        hint = "" if args.paths else " (`git mlv repro` makes it)"
        print(f"git-mlv: warning: {path}: no such file in the work tree{hint}", file=sys.stderr)
    if args.fmt == "json":
        print_json({rev: t.data.get(rev, {}) for rev in t.revs})
        return 0
    if not t.columns() and args.fmt == "table":
        print("No metrics found.")
        return 0
    print_rows(t.rows(), ["rev", *t.column_names()], args.fmt)
    return 0


def run_diff(args: Any) -> int:
    """Print the diff."""
    from ..ops import pipeline
    from ..ops.context import Workspace

    with Workspace.discover() as ws:
        d = pipeline.metrics_diff(ws, args.a, args.b, args.all, args.paths)
    for w in d.warnings:
        print(f"git-mlv: warning: {w}", file=sys.stderr)
    print_diff(d.rows, args.fmt, "metric")
    return 0
