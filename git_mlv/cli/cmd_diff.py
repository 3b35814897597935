"""``git mlv diff [REV1 [REV2]] [PATH...] [--key COL] [--rows N] [--json|--md]``: data-level diff."""

from __future__ import annotations

import argparse
import dataclasses
import json
from collections import Counter
from typing import Any

from ..inspect import fmt
from .intermixed import Intermixed
from .render import human_size, print_json, quote_path, table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "diff", help="what changed in the data: files, table schemas and rows",
        description="Tracked data files added, deleted, modified and renamed between REV1 (default HEAD) "
                    "and REV2 (default the work tree), with their sizes; for tables (CSV, TSV, JSON Lines, "
                    "Parquet, Arrow/Feather) the schema changes and row counts; with --key, the rows added, "
                    "removed and changed. Data of a revision is read from the local pool; tables whose "
                    "data is not here are fetched from the default data remote first. Arguments that "
                    "name commits come first; the rest are paths.")
    p.add_argument("args", nargs="*", metavar="REV1 [REV2] [PATH]")
    p.add_argument("--key", metavar="COL", help="match table rows by this (unique) column and report "
                                                "rows added, removed and changed")
    p.add_argument("--rows", type=int, default=5, metavar="N",
                   help="show up to N rows of each kind with --key (default 5; 0: counts only)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--json", dest="fmt", action="store_const", const="json", help="print JSON")
    g.add_argument("--md", dest="fmt", action="store_const", const="md",
                   help="print Markdown (for a pull-request comment)")
    p.set_defaults(func=run, fmt="table")
    p.__class__ = Intermixed


def run(args: argparse.Namespace) -> int:
    from ..errors import UsageError
    from ..ops import diff
    from ..ops.context import Workspace

    if args.rows < 0:
        raise UsageError("--rows must be 0 or more")
    with Workspace.discover() as ws:
        result = diff.diff(ws, args.args, key=args.key, limit=args.rows)
    if args.fmt == "json":
        print_json(dataclasses.asdict(result))
    else:
        render(result, md=args.fmt == "md")
    return 0


# -- rendering ---------------------------------------------------------------------------------------
def _path(fc: Any) -> str:
    """The path column: C-quoted as `git mlv ls-files` and git's listings quote it (a newline or a
    tab in a name broke the table's line, an ESC reached the terminal raw)."""
    if fc.status == "renamed":
        return f"{quote_path(fc.old.path)} -> {quote_path(fc.path)}"
    return quote_path(fc.path)


def _rows(fc: Any) -> str:
    t = fc.table
    if t is None:
        return ""
    if t.error:
        return "unreadable"
    if t.old_rows is not None and t.new_rows is not None:
        if t.old_rows == t.new_rows:
            return str(t.new_rows)
        return f"{t.old_rows} -> {t.new_rows} ({t.new_rows - t.old_rows:+d})"
    return str(t.new_rows if t.new_rows is not None else t.old_rows)


def _value(v: Any) -> str:
    """A cell on one line: nested values as JSON; escaped as the summaries escape (a newline or an
    ESC in a value must not reach the terminal raw); cut at 40 characters."""
    if v is None:
        s = "null"
    elif isinstance(v, (dict, list)):
        s = json.dumps(v, ensure_ascii=False, sort_keys=True, default=str)
    else:
        s = str(v)
    return fmt.text(s) if len(s) <= 40 else fmt.text(s[:37]) + "..."


def _row_text(row: dict[str, Any]) -> str:
    return " ".join(f"{k}={_value(v)}" for k, v in row.items())


def _details(fc: Any) -> list[str]:
    """Lines under the table for one file: schema changes, notes, row changes."""
    out: list[str] = []
    t = fc.table
    path = quote_path(fc.path)
    if fc.note:
        out.append(f"{path}: {fc.note}")
    if t is not None:
        if t.error:
            out.append(f"{path}: not readable as a table: {t.error}")
        changes = ([f"+ {n} ({ty})" for n, ty in t.added_columns]
                   + [f"- {n} ({ty})" for n, ty in t.removed_columns]
                   + [f"~ {n} ({a} -> {b})" for n, a, b in t.retyped_columns])
        if changes:
            out.append(f"{path}: columns " + ", ".join(changes))
    r = fc.rows
    if r is not None:
        out.append(f"{path} by {r.key}: {r.added} added, {r.removed} removed, {r.changed} changed, "
                   f"{r.unchanged} unchanged")
        for label, rows in (("added", r.added_rows), ("removed", r.removed_rows)):
            out += [f"  {label:<8} {_row_text(row)}" for row in rows]
        for row in r.changed_rows:
            what = ", ".join(f"{c} {_value(o)} -> {_value(n)}" for c, (o, n) in row["changes"].items())
            out.append(f"  changed  {r.key}={_value(row[r.key])}: {what}")
    return out


def render(result: Any, md: bool = False) -> None:
    """The diff as an aligned table (or Markdown), then per-file details."""
    title = f"Data changes from {result.old_rev} to {result.new_rev}"
    if not result.files:
        print(f"No data changes from {result.old_rev} to {result.new_rev}.")
        return
    headers = ["status", "path", "old size", "new size", "rows"]
    rows = [[fc.status, _path(fc), human_size(fc.old.size) if fc.old else "-",
             human_size(fc.new.size) if fc.new else "-", _rows(fc)] for fc in result.files]
    counts = Counter(fc.status for fc in result.files)
    total = ", ".join(f"{counts[s]} {s}" for s in ("added", "deleted", "modified", "renamed") if counts[s])
    details = [line for fc in result.files for line in _details(fc)]
    if md:
        def esc(s: str) -> str:
            return s.replace("|", "\\|")

        print(f"### {title}\n")
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---" for _ in headers) + "|")
        for r in rows:
            print("| " + " | ".join(esc(c) if i != 1 else f"`{esc(c)}`" for i, c in enumerate(r)) + " |")
        print(f"\n{total}")
        if details:
            print("\n```\n" + "\n".join(details) + "\n```")
        return
    print(f"{title}:\n")
    table(rows, headers)
    print(f"\n{total}")
    if details:
        print()
        for line in details:
            print(line)
