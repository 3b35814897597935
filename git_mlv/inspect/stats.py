"""Per-column statistics of tables, fed one record batch at a time (bounded memory).

Numbers: nulls, min, max, mean. Booleans: true/false counts. Strings: distinct values and the
most frequent ones, counted exactly up to ``DISTINCT_CAP`` distinct values and then given up
("distinct >10000"): a column of unique ids must not grow a dict as large as the file.
Timestamps and dates: min and max.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .fmt import number, quoted, stat, temporal

if TYPE_CHECKING:
    import pyarrow as pa

#: distinct values tracked exactly per string column; past this, "distinct >10000" and no top values
#: (bounded memory: a column of unique ids must not grow a dict as large as the file)
DISTINCT_CAP = 10_000
TOP_VALUES = 3


class ColumnStats:
    """Statistics of one column, fed one chunk at a time."""

    def __init__(self, name: str, dtype: pa.DataType) -> None:
        import pyarrow.types as pt

        self.name = name
        self.dtype = dtype
        self.nulls = 0
        self.count = 0  # non-null values
        self.min: Any = None
        self.max: Any = None
        self.total = 0.0
        self.numeric = pt.is_integer(dtype) or pt.is_floating(dtype) or pt.is_decimal(dtype)
        # an interval (months, days, nanoseconds) has no order
        self.temporal = pt.is_temporal(dtype) and not pt.is_interval(dtype)
        self.ordered = self.numeric or self.temporal
        self.narrow_float = pt.is_float32(dtype) or pt.is_float16(dtype)
        self.boolean = pt.is_boolean(dtype)
        self.trues = 0
        # bytes too: a CSV column that is not UTF-8 (Latin-1, Windows-1252 exports) reads as binary
        self.stringy = (pt.is_string(dtype) or pt.is_large_string(dtype) or pt.is_dictionary(dtype)
                        or pt.is_binary(dtype) or pt.is_large_binary(dtype) or pt.is_fixed_size_binary(dtype))
        self.values: dict[Any, int] | None = {} if self.stringy else None

    def update(self, col: pa.Array | pa.ChunkedArray) -> None:
        """Fold ``col`` into the statistics."""
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(col)
        nulls = col.null_count
        self.nulls += nulls
        self.count += n - nulls
        if n == nulls:
            return
        if self.ordered:
            mm = pc.min_max(_orderable(col, self.dtype))
            lo, hi = mm["min"].as_py(), mm["max"].as_py()
            if self.narrow_float and lo is not None:  # print 0.1f as 0.1, not 0.10000000149011612
                import numpy as np

                lo, hi = np.float32(lo), np.float32(hi)
            if lo is not None:
                self.min = lo if self.min is None else min(self.min, lo)
                self.max = hi if self.max is None else max(self.max, hi)
            if self.numeric:
                # unsafe: an int64 past 2**53 (a snowflake id) is a float near it, not an error
                f64 = col if self.dtype == pa.float64() else pc.cast(col, pa.float64(), safe=False)
                s = pc.sum(f64).as_py()
                self.total += s or 0.0
        elif self.boolean:
            self.trues += pc.sum(pc.cast(col, pa.int64())).as_py() or 0
        elif self.values is not None:
            counts = pc.value_counts(col)
            vals = counts.field("values").to_pylist()
            cnts = counts.field("counts").to_pylist()
            for v, c in zip(vals, cnts):
                if v is not None:
                    v = _short(v)
                    self.values[v] = self.values.get(v, 0) + c
            if len(self.values) > DISTINCT_CAP:
                self.values = None  # too many to count exactly: stop tracking

    def merge(self, other: ColumnStats) -> None:
        """Fold in the statistics of another part of the same column."""
        self.nulls += other.nulls
        self.count += other.count
        if other.min is not None:
            self.min = other.min if self.min is None else min(self.min, other.min)
            self.max = other.max if self.max is None else max(self.max, other.max)
        self.total += other.total
        self.trues += other.trues
        if self.values is not None and other.values is not None:
            for v, c in other.values.items():
                self.values[v] = self.values.get(v, 0) + c
            if len(self.values) > DISTINCT_CAP:
                self.values = None
        else:
            self.values = None if self.stringy else self.values

    def facts(self) -> list[str]:
        """``<name> nulls N``, ``<name> min ...`` lines, in a fixed order."""
        label = _label(self.name)
        out = [f"{label} nulls {self.nulls}"]
        if self.ordered and self.count:
            show = (lambda v: temporal(v, self.dtype)) if self.temporal else number
            out.append(f"{label} min {show(self.min)}")
            out.append(f"{label} max {show(self.max)}")
            if self.numeric:
                out.append(f"{label} mean {stat(self.total / self.count)}")
        elif self.boolean and self.count:
            out.append(f"{label} true {self.trues}")
            out.append(f"{label} false {self.count - self.trues}")
        elif self.stringy:
            if self.values is None:
                out.append(f"{label} distinct >{DISTINCT_CAP}")
            else:
                out.append(f"{label} distinct {len(self.values)}")
                top = sorted(self.values.items(), key=lambda kv: (-kv[1], str(kv[0])))[:TOP_VALUES]
                for v, c in top:
                    out.append(f"{label} top {quoted(_shown(v))} {c}")
        return out


#: a string value longer than this is counted by its first characters and a digest of the rest
LONG_VALUE = 64


def _short(v: Any) -> Any:
    """The key a value is counted by: itself, or for a long string or bytes (a document of a text
    corpus, an image in a binary column) its first 61 characters as shown (more than a fact
    shows: ``fmt.quoted`` cuts at 60 and adds "...") and a digest of the whole, so that 10,000
    distinct documents do not stay in memory whole (a 200 MB JSON Lines corpus held 1.35 GB).
    Never equal to a short value: it is a tuple."""
    if not isinstance(v, (str, bytes)) or len(v) <= LONG_VALUE:
        return v
    import hashlib

    raw = v.encode("utf-8", "surrogatepass") if isinstance(v, str) else v
    head = v[:61] if isinstance(v, str) else _shown(v[:61 * 4])[:61]
    return (head, hashlib.blake2b(raw, digest_size=16).hexdigest())


def _shown(v: Any) -> str:
    """A counted value as text: bytes as UTF-8 with the bytes that are not written ``\\xe9``."""
    if isinstance(v, tuple):
        return str(v[0])
    if isinstance(v, bytes):
        return v.decode("utf-8", "backslashreplace")
    return str(v)


def _orderable(col: pa.Array | pa.ChunkedArray, dtype: pa.DataType) -> pa.Array | pa.ChunkedArray:
    """``col`` in a type pyarrow's min_max has a kernel for, with the same order: a float16 as
    float32 (exact), a date, time, timestamp or duration as its integer count of units (the
    statistics keep that integer; ``fmt.temporal`` writes it back as the type's text)."""
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_float16(dtype):
        return col.cast(pa.float32())
    if pt.is_temporal(dtype):
        return col.cast(pa.int32() if dtype.bit_width == 32 else pa.int64())
    return col


def _label(name: str) -> str:
    """A column name as the first word of a fact: quoted when it has spaces or is empty."""
    if name and not any(c.isspace() for c in name) and name.isprintable():
        return name
    return json.dumps(name, ensure_ascii=False)


def type_name(dtype: pa.DataType) -> str:
    """Arrow's name for a type (``int64``, ``string``, ``timestamp[s]``...)."""
    return str(dtype)


def unique_names(names: list[str]) -> list[str]:
    """``names`` with a repeated one (a spreadsheet's CSV export: two columns headed "a") made
    unique as pandas does: the second "a" is "a.1", the third "a.2" (a name already taken is
    skipped). `git mlv diff --key` and summaries name such columns alike."""
    if len(set(names)) == len(names):
        return list(names)
    taken = set(names)
    seen: dict[str, int] = {}
    out = []
    for original in names:
        k = seen.get(original, 0)
        seen[original] = k + 1
        name = original
        while k and name in taken:
            name = f"{original}.{k}"
            k += 1
        if name != original:
            taken.add(name)
            seen[original] = k
        out.append(name)
    return out


def table_facts(schema: pa.Schema, rows: int, stats: Iterable[ColumnStats], extra: Iterable[str] = ()
                ) -> list[str]:
    """rows, columns, schema lines, any format-specific lines, then per-column statistics; a
    repeated column name is made unique (``unique_names``): two columns headed "a" gave two
    blocks of "a nulls", "a min"... that no reader could tell apart."""
    names = unique_names(schema.names)
    out = [f"rows {rows}", f"columns {len(schema)}"]
    out += [f"column {_label(n)} {type_name(f.type)}" for n, f in zip(names, schema)]
    out += list(extra)
    for s, n in zip(stats, names):
        s.name = n
        out += s.facts()
    return out
