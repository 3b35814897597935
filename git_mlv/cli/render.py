"""Rendering helpers for the CLI: tables, JSON, sizes, progress bars."""

from __future__ import annotations

import json
import math
import sys
import textwrap
import time
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
    """A plain aligned text table."""
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=out)


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


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal and not quiet.

    Pass it as the ``progress`` callback of ops that accept one: ``progress(done, total)``.
    """

    def __init__(self, label: str, quiet: bool = False, unit: str = "B") -> None:
        self.label = label
        self.unit = unit
        self.enabled = not quiet and sys.stderr.isatty()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        frac = done / total if total else 1.0
        bar = "#" * int(frac * 30)
        fmt = human_size if self.unit == "B" else str
        sys.stderr.write(f"\r{self.label} [{bar:<30}] {frac:4.0%} {fmt(done)}/{fmt(total)}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()
