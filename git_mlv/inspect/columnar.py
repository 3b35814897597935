"""Columnar files: Parquet from its footer alone, Arrow IPC (Feather v2) memory-mapped.

Parquet's footer holds the schema, the row count, and per row group and column chunk the
compression and min/max/null statistics: reading it costs the same for 1 MB and 100 GB, and no
data page is touched (tests/unit/test_inspect.py zeroes them all and gets the same summary).
Means are not in the footer, so a Parquet summary has none. Arrow IPC files are memory-mapped:
record batches are views of the page cache, and statistics are computed over them batch by batch.
"""

from __future__ import annotations

import os
from typing import Any

from . import Summary
from .detect import Kind
from .fallback import NotThisFormat
from .fmt import number, temporal
from .stats import ColumnStats, _label, table_facts, type_name


def summarize(path: str, kind: Kind) -> Summary:
    """Dispatch on ``kind.name``: parquet, arrow (IPC file) or arrow-stream."""
    import pyarrow as pa

    try:
        if kind.name == "parquet":
            return parquet(path)
        if kind.name == "feather-v1":
            return feather_v1(path)
        return arrow_ipc(path, kind)
    except MemoryError as e:  # a damaged length asks for exabytes: "malloc of size ... failed"
        raise NotThisFormat(f"a length in the file asks for more memory than there is ({e})") from None
    except (pa.ArrowException, OSError) as e:  # any of pyarrow's errors: the file's bytes
        raise NotThisFormat(str(e).splitlines()[0]) from None


def parquet(path: str) -> Summary:
    """Schema, rows, row groups, codecs and per-column footer statistics."""
    import numpy as np
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as pf:
        meta = pf.metadata
        schema = pf.schema_arrow
        codecs: set[str] = set()
        ncols = meta.num_columns
        nulls: list[int | None] = [0] * ncols
        lows: list[Any] = [None] * ncols
        highs: list[Any] = [None] * ncols
        exact = [True] * ncols  # min/max known for every row group
        zones = {f.name: f.type.tz for f in schema if getattr(f.type, "tz", None)}
        ns_type = [_zoned(_time_type(meta.schema.column(c).logical_type),
                          zones.get(meta.schema.column(c).path)) for c in range(ncols)]
        physical = [meta.schema.column(c).physical_type for c in range(ncols)]
        half = ['"Float16"' in meta.schema.column(c).logical_type.to_json() for c in range(ncols)]
        for g in range(meta.num_row_groups):
            rg = meta.row_group(g)
            for c in range(ncols):
                cc = rg.column(c)
                if cc.physical_type != physical[c]:
                    # pyarrow aborts the process (a C++ exception no one catches) on reading the
                    # statistics of such a chunk: a damaged footer
                    raise NotThisFormat(f"column {meta.schema.column(c).path}: a {cc.physical_type} chunk in "
                                        f"row group {g}, where the schema says {physical[c]}")
                codecs.add(cc.compression.lower())
                st = cc.statistics
                if st is None:
                    nulls[c] = None
                    exact[c] = False
                    continue
                if st.has_null_count and nulls[c] is not None:
                    nulls[c] = (nulls[c] or 0) + st.null_count
                elif not st.has_null_count:
                    nulls[c] = None
                if st.has_min_max:
                    # a zero's sign in footer statistics is the writer's: the format has writers
                    # store a zero minimum as -0.0 and a zero maximum as +0.0 (PARQUET-1222)
                    if ns_type[c] is not None:  # dates and times: as stored, written by fmt.temporal
                        lo, hi = st.min_raw, st.max_raw
                    elif half[c]:  # a float16 is stored as its 2 bytes, and pyarrow hands them over
                        lo, hi = (np.frombuffer(v, "<f2")[0] for v in (st.min, st.max))
                        lo, hi = (0.0 if v == 0 else v for v in (lo, hi))
                    else:
                        try:
                            lo, hi = (0.0 if isinstance(v, float) and v == 0 else v for v in (st.min, st.max))
                        except (OverflowError, ValueError):  # a value pyarrow cannot make Python
                            exact[c] = False
                            continue
                    lows[c] = lo if lows[c] is None else min(lows[c], lo)
                    highs[c] = hi if highs[c] is None else max(highs[c], hi)
                elif rg.num_rows:
                    exact[c] = False
        extra = [f"row groups {meta.num_row_groups}", f"compression {','.join(sorted(codecs)) or 'none'}"]
        if meta.created_by:
            extra.append(f"created by {meta.created_by}")
        stats: list[str] = []
        # footer statistics are per leaf column: name them by their dotted path
        for c in range(ncols):
            label = _label(meta.schema.column(c).path)
            stats.append(f"{label} nulls {'-' if nulls[c] is None else nulls[c]}")
            if lows[c] is not None and exact[c]:
                t = ns_type[c]
                lo, hi = (number(v) if t is None else temporal(v, t) for v in (lows[c], highs[c]))
                stats.append(f"{label} min {lo}")
                stats.append(f"{label} max {hi}")
        facts = table_facts(schema, meta.num_rows, (), extra) + stats
        return Summary("parquet", os.path.getsize(path), facts,
                       schema=[(f.name, type_name(f.type)) for f in schema], rows=meta.num_rows)


def _time_type(logical: Any) -> Any:
    """The Arrow type of a Parquet leaf column of dates, times or timestamps, else None: its
    footer values are then read as integers and written by ``fmt.temporal``, which writes the
    nanoseconds pandas stores (Python's datetime cannot hold them) and values outside Python's
    years 1 to 9999 (pyarrow's ``min`` raised OverflowError: 'date value out of range')."""
    import json

    import pyarrow as pa

    t = json.loads(logical.to_json())
    unit = {"milliseconds": "ms", "microseconds": "us", "nanoseconds": "ns"}.get(t.get("timeUnit", ""))
    if t.get("Type") == "Date":
        return pa.date32()
    if t.get("Type") == "Timestamp" and unit:
        return pa.timestamp(unit, tz="UTC" if t.get("isAdjustedToUTC") else None)
    if t.get("Type") == "Time" and unit:
        return pa.time32(unit) if unit == "ms" else pa.time64(unit)
    return None


def _zoned(dtype: Any, zone: str | None) -> Any:
    """A timestamp type adjusted to UTC in the Parquet schema, in the time zone of its Arrow column
    (the writer's, kept in the file's Arrow schema): a column typed ``timestamp[us,
    tz=Europe/Paris]`` showed its min and max in UTC, while the same table as Feather showed them
    in Paris time, so a dataset moved from Feather to Parquet showed changed values. A zone this
    Python does not know keeps UTC (a readable time rather than a count)."""
    import pyarrow as pa

    if zone is None or getattr(dtype, "tz", None) != "UTC" or zone == "UTC":
        return dtype
    zoned = pa.timestamp(dtype.unit, tz=zone)
    try:
        pa.scalar(0, type=zoned).as_py()
    except Exception:  # noqa: BLE001 - pyarrow's or zoneinfo's words for an unknown zone
        return dtype
    return zoned


def feather_v1(path: str) -> Summary:
    """Schema, rows and per-column statistics of a Feather V1 file (``FEA1`` at both ends: what
    pandas' ``to_feather`` wrote before pyarrow 0.17), memory-mapped. Such a file was a bare
    sha256. pyarrow still reads V1 (deprecated since pyarrow 25; when it no longer does, the
    file is a note again)."""
    import warnings

    import pyarrow.feather as feather

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Feather V1 files are deprecated": the user's file, not ours
        table = feather.read_table(path, memory_map=True)
    stats = [ColumnStats(f.name, f.type) for f in table.schema]
    for s, col in zip(stats, table.columns):
        s.update(col)
    facts = table_facts(table.schema, table.num_rows, stats)
    return Summary("feather-v1", os.path.getsize(path), facts,
                   schema=[(f.name, type_name(f.type)) for f in table.schema], rows=table.num_rows)


def arrow_ipc(path: str, kind: Kind) -> Summary:
    """Schema, rows, record batches and per-column statistics of an Arrow IPC file or stream."""
    import pyarrow as pa

    with pa.memory_map(path) as source:
        if kind.name == "arrow":
            reader: Any = pa.ipc.open_file(source)
            batches = (reader.get_batch(i) for i in range(reader.num_record_batches))
            nbatches = reader.num_record_batches
        else:
            reader = pa.ipc.open_stream(source)
            batches = iter(reader)
            nbatches = None
        schema = reader.schema
        stats = [ColumnStats(f.name, f.type) for f in schema]
        rows = 0
        count = 0
        for batch in batches:
            # the file's bytes are trusted by nothing else: a damaged offset makes pyarrow's kernels
            # read outside the map (a segmentation fault in value_counts, found by fuzzing)
            batch.validate(full=True)
            rows += batch.num_rows
            count += 1
            for s, col in zip(stats, batch.columns):
                s.update(col)
        extra = [f"record batches {nbatches if nbatches is not None else count}"]
        facts = table_facts(schema, rows, stats, extra)
    return Summary(kind.name, os.path.getsize(path), facts,
                   schema=[(f.name, type_name(f.type)) for f in schema], rows=rows)
