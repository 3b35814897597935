"""How facts are written: numbers that read well and compare stably between two summaries."""

from __future__ import annotations

import json
import math
from typing import Any


def human_size(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"  # pragma: no cover - the loop returns


def size_line(size: int) -> str:
    """``size 6000 (5.9 KiB)``."""
    return f"size {size} ({human_size(size)})"


def number(v: Any) -> str:
    """A value as a fact: integers exactly, floats by their shortest exact repr, others as text.

    Means and standard deviations go through ``stat`` instead: they are sums of many floats, and
    8 significant digits show any real change without printing summation noise.
    """
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return str(v)
    if hasattr(v, "dtype") and v.dtype.kind == "f":  # a numpy float: shortest repr at its own precision
        f = float(v)
        return number(f) if math.isnan(f) or math.isinf(f) else str(v)
    if hasattr(v, "dtype"):
        return number(v.item())
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, bytes):
        return v.hex() if not v.isascii() else text(v.decode("ascii"))
    return text(str(v))


def temporal(v: int | None, dtype: Any) -> str:
    """A date, time, timestamp or duration given as its integer count of ``dtype``'s units, as
    Python writes the value (``2024-01-01 08:00:00+00:00``, ``0:00:01.5``). Nanoseconds, which
    Python's datetime cannot hold, are written as the microsecond value with the last three digits
    appended (``2023-11-14 22:13:20.123456789``). A value Python's datetime cannot hold at all
    (before year 1 or after 9999: a sentinel, a damaged file) is written as the count and its type
    (``253402300800000000 timestamp[us]``)."""
    if v is None:
        return "-"
    try:
        return _temporal(v, dtype)
    except (OverflowError, ValueError):
        return f"{v} ({dtype})"


def _temporal(v: int, dtype: Any) -> str:
    import pyarrow as pa
    import pyarrow.types as pt

    if getattr(dtype, "unit", None) != "ns":
        return number(pa.scalar(v, type=dtype).as_py())
    whole, rem = divmod(v, 1000)
    if pt.is_timestamp(dtype):
        ts = pa.scalar(whole, type=pa.timestamp("us", tz=dtype.tz)).as_py()
        if not rem:
            return number(ts)
        naive = ts.replace(tzinfo=None).isoformat(" ", "microseconds")
        return text(naive + f"{rem:03d}" + ts.isoformat(" ", "microseconds")[len(naive):])
    if pt.is_time(dtype):
        t = pa.scalar(whole, type=pa.time64("us")).as_py()
        return number(t) if not rem else text(t.isoformat("microseconds") + f"{rem:03d}")
    td = pa.scalar(whole, type=pa.duration("us")).as_py()  # a duration
    if not rem:
        return number(td)
    return text(str(td) + ("" if td.microseconds else ".000000") + f"{rem:03d}")


def stat(v: float | None) -> str:
    """A derived statistic (mean, std) to 8 significant digits."""
    if v is None:
        return "-"
    if math.isnan(v) or math.isinf(v):
        return number(v)
    return f"{v:.8g}"


def _escape(s: str, quote: bool) -> str:
    """``s`` with JSON's escapes for backslash, control characters and (when ``quote``) the double
    quote; other characters Python does not print (a zero-width space, a lone surrogate...) as
    ``\\uXXXX``, so that nothing invisible hides in a fact. Everything else, non-ASCII included,
    stays as it is: one level of escaping, which a JSON reader undoes."""
    body = json.dumps(s, ensure_ascii=False)[1:-1]
    if not quote:
        body = body.replace('\\"', '"')
    if body.isprintable():
        return body
    out = []
    for c in body:
        if c.isprintable():
            out.append(c)
        else:  # astral characters as a UTF-16 pair, as JSON spells them
            units = c.encode("utf-16-be", "surrogatepass")
            out += [f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)]
    return "".join(out)


def _cut(s: str, limit: int) -> tuple[str, str]:
    return (s, "") if len(s) <= limit else (s[:limit], "...")


def text(s: str, limit: int = 60) -> str:
    """A string value on one line, unquoted: escaped as inside a JSON string (``\\n``, ``\\t``,
    ``\\\\``), cut at ``limit`` characters of the value (before escaping, so an escape is never cut
    in half) with '...'."""
    value, more = _cut(s, limit)
    return _escape(value, quote=False) + more


def quoted(s: str, limit: int = 60) -> str:
    """A string value as a JSON string (``"multi\\nline"``), cut at ``limit`` characters of the value
    with '...' inside the quotes."""
    value, more = _cut(s, limit)
    return '"' + _escape(value, quote=True) + more + '"'


def plain(v: Any) -> str:
    """A plain Python value (a hyperparameter read from a pickle) as a fact's value: strings
    JSON-quoted, booleans ``true``/``false``, numbers as Python writes them, 200 characters at most."""
    if isinstance(v, str):
        return quoted(v, 200)
    if isinstance(v, bool):
        return "true" if v else "false"
    return text(repr(v), 200)
