"""A big uncompressed CSV/TSV read on several cores (``tables.summarize`` above ``PARALLEL_MIN``).

pyarrow's streaming CSV reader parses on one core. The file is cut at line ends into one byte range
per core, each parsed by its own streaming reader with the column types inferred once from the
first block; the per-range statistics are merged (tables.py's docstring has the figures).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from .detect import Kind
from .fallback import NotThisFormat
from .stats import ColumnStats
from .tables import (
    BLOCK_SIZE,
    STATS_BYTES,
    Accumulator,
    ReadStream,
    Retry,
    _Attempts,
    _csv_options,
    head_schema,
)

if TYPE_CHECKING:
    import pyarrow as pa


class RangeFile(ReadStream):
    """Bytes ``[start, end)`` of a file as a read-only stream (for ``pyarrow.PythonFile``)."""

    def __init__(self, path: str, start: int, end: int) -> None:
        self.fd = os.open(path, os.O_RDONLY)
        self.pos = start
        self.end = end
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that is left when ``n`` < 0)."""
        if self.closed:
            return b""
        left = self.end - self.pos
        n = left if n is None or n < 0 else min(n, left)
        data = os.pread(self.fd, n, self.pos) if n > 0 else b""
        self.pos += len(data)
        return data

    def close(self) -> None:
        """Close the file descriptor."""
        if not self.closed:
            os.close(self.fd)
            self.closed = True


def line_ranges(path: str, parts: int) -> tuple[int, list[tuple[int, int]]]:
    """(end of the header line, ``parts`` byte ranges of the rest that start and end at line ends)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        f.readline()
        start = f.tell()
        bounds = [start]
        for i in range(1, parts):
            f.seek(max(bounds[-1], start + (size - start) * i // parts))
            f.readline()
            bounds.append(f.tell())
        bounds.append(size)
    return start, [(a, b) for a, b in zip(bounds, bounds[1:]) if b > a]


def _range_stats(path: str, rng: tuple[int, int], kind: Kind, schema: pa.Schema,
                 attempts: _Attempts, block_size: int) -> tuple[list[ColumnStats], int]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    types = {f.name: attempts.types.get(f.name, f.type) for f in schema}
    read, parse, convert = _csv_options(kind, types, False, schema.names, block_size)
    src = RangeFile(path, *rng)
    try:
        reader = pcsv.open_csv(pa.PythonFile(src, mode="r"), read_options=read, parse_options=parse,
                               convert_options=convert)
        acc = Accumulator(STATS_BYTES // 4)  # up to 4 workers share one budget
        acc(reader.schema, None)
        rows = 0
        for batch in reader:
            rows += batch.num_rows
            acc(reader.schema, batch)
        return acc.stats, rows
    except pa.ArrowInvalid as e:
        attempts.handle(e, reader.schema if "reader" in locals() else schema)
        raise  # pragma: no cover - handle() always raises
    finally:
        src.close()


def parallel_stats(path: str, kind: Kind, workers: int) -> tuple[pa.Schema, int, list[ColumnStats]]:
    """Statistics of an uncompressed CSV/TSV, one byte range per worker, merged."""
    import pyarrow as pa

    attempts = _Attempts(kind)
    _, ranges = line_ranges(path, workers)
    for _ in range(64):
        if attempts.multiline:  # line ends may sit inside quotes: ranges would cut rows
            raise Retry()
        schema = None
        try:
            schema = head_schema(path, kind, attempts.types)  # inferred once, from the first block
            known: pa.Schema = schema
            with ThreadPoolExecutor(len(ranges)) as ex:
                # the readers share one reader's read-ahead budget (~70 blocks each, see BLOCK_SIZE):
                # two 512 KiB readers peaked at 203 MB RSS on a 1 GB CSV under load, over the bar
                block = max(128 << 10, BLOCK_SIZE // len(ranges))
                futures = [ex.submit(_range_stats, path, r, kind, known, attempts, block) for r in ranges]
                parts = [f.result() for f in futures]
        except pa.ArrowInvalid as e:
            try:
                attempts.handle(e, schema)
            except Retry:
                continue
        except Retry:
            continue
        stats = [ColumnStats(f.name, f.type) for f in known]
        rows = 0
        for part, n in parts:
            rows += n
            for s, p in zip(stats, part):
                s.merge(p)
        if parts:
            known = pa.schema([f.with_type(s.dtype) for f, s in zip(known, parts[0][0])])
        return known, rows, stats
    raise NotThisFormat("column types keep changing")
