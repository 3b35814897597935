"""Rendering helpers for the CLI: tables, JSON, sizes, progress bars."""

from __future__ import annotations

import json
import math
import os
import sys
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any, TextIO

from ..gitio.quotepath import quote_path as quote_path  # cmd_status, cmd_fsck... import it here


def human_size(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"


def push_summary(res: Any) -> str:
    """The one line every push ends with (an ``ops.sync.PushResult``). A push that sent nothing
    says so ("pushed data of 0 file(s), 0 B ...; 0 file(s) already there" read as a failure)."""
    where = f"'{res.remote}' ({res.url})"
    base = res.verified_base[:12] if res.verified_base else None
    if not res.uploaded_files and not res.bytes_sent and not res.missing:
        if res.already_there:
            line = f"git-mlv: nothing to push: {where} already has the data of {res.already_there} file(s)"
            return line + (f"; the other files are as in {base}, whose data it holds" if base else "")
        if base:
            return f"git-mlv: nothing to push: the files are as in {base}, whose data {where} holds"
        return f"git-mlv: nothing to push: {where} already has the data of the pushed commits"
    line = (f"git-mlv: pushed data of {res.uploaded_files} file(s), {human_size(res.bytes_sent)} "
            f"to {where}; {res.already_there} file(s) already there")
    if base:
        line += f"; the other files are as in {base}, whose data it holds"
    if res.missing:
        line += f"; {len(res.missing)} file(s) with no data here nor there"
    return line


def table(rows: Sequence[Sequence[Any]], headers: Sequence[str], out: TextIO = sys.stdout) -> None:
    """A plain aligned text table (tabulate's "simple": a header, dashes, columns two spaces apart);
    cells are printed as they are (no number formatting, leading spaces kept)."""
    import tabulate  # only verbs that print a table pay its import

    tabulate.MIN_PADDING = 0  # columns as wide as their widest cell, header included
    cells = [["" if c is None else str(c) for c in r] for r in rows]
    text = tabulate.tabulate(cells, [str(h) for h in headers], tablefmt="simple", disable_numparse=True,
                             preserve_whitespace=True, stralign="left")
    lines = text.split("\n")
    lines += [""] * (len(cells) + 2 - len(lines))  # rows of empty cells at the end (tabulate drops them)
    for line in lines:
        print(line.rstrip(), file=out)


def print_json(data: Any, out: TextIO = sys.stdout) -> None:
    """Pretty JSON with sorted keys; strict JSON: a NaN or infinite number (a metric that diverged)
    is written as ``null``, since ``NaN`` and ``Infinity`` are refused by strict parsers (jq, JS)."""
    json.dump(_strict(data), out, indent=2, sort_keys=True, default=str, allow_nan=False)
    out.write("\n")


def print_json_list(items: Iterable[Any], out: TextIO | None = None) -> None:
    """``print_json`` of a list, written item by item as it comes (the same text): a listing of
    600,000 files is never held whole. ``out``: default sys.stdout (as it is then)."""
    out = sys.stdout if out is None else out
    first = True
    for item in items:
        text = json.dumps(_strict(item), indent=2, sort_keys=True, default=str, allow_nan=False)
        out.write(("[\n" if first else ",\n") + textwrap.indent(text, "  "))
        first = False
    out.write("[]\n" if first else "\n]\n")


def _strict(v: Any) -> Any:
    """``v`` with every non-finite float replaced by None."""
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _strict(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_strict(x) for x in v]
    return v


# tqdm's bar without its rate and time left: ops report in steps (a pack, a batch of files), and a
# rate from the first step on read "11 GB/s" for a push to a folder
_BAR = "{desc}: {percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} [{elapsed}]"


class Progress:
    """A one-line progress bar on stderr (tqdm), drawn only when stderr is a terminal and not quiet.

    Pass it as the ``progress`` callback of ops that accept one: ``progress(done, total)``; the
    total may grow between calls (a fetch learns of more files). tqdm is imported at the first
    call that draws, so a quiet or piped command never pays its import.
    """

    def __init__(self, label: str, quiet: bool = False, unit: str = "B") -> None:
        self.label = label
        self.unit = unit
        self.enabled = not quiet and sys.stderr.isatty()
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        bar = self._bar
        if bar is None:
            from tqdm import tqdm

            in_bytes = self.unit == "B"
            unit = self.unit if in_bytes else f" {self.unit}"  # tqdm writes "12.5 commits/s"
            try:  # a terminal of no size (a pty nobody sized): tqdm would draw nothing at all
                sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
            except (OSError, ValueError):
                sized = False
            # started at ``done``: its rate counts the work it saw, not what came before it
            bar = self._bar = tqdm(total=total, initial=done, desc=self.label, unit=unit,
                                   unit_scale=in_bytes,
                                   unit_divisor=1024, file=sys.stderr, leave=True, dynamic_ncols=sized,
                                   ncols=None if sized else 80, nrows=None if sized else 24,
                                   mininterval=0.1, bar_format=_BAR)
        if total != bar.total:
            bar.total = total
        bar.update(done - bar.n)
        if done >= total:
            bar.close()
            self._bar = None
