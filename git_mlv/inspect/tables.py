"""Tables in text formats (CSV, TSV, JSON Lines; any compression pyarrow reads), streamed.

pyarrow's streaming readers parse the file in blocks; each record batch updates per-column
accumulators (``stats.ColumnStats``) and is dropped, so memory stays bounded by a few blocks
whatever the file size.

pyarrow's streaming CSV reader parses on one core (measured: wall time = CPU time). An
uncompressed CSV/TSV above ``PARALLEL_MIN`` is therefore cut at line ends into one byte range per
core (csvparts.py), each parsed by its own streaming reader with the column types inferred once from the
first block; the per-range statistics are merged. The workload's 300 MB CSV: 3.6 s of CPU, about
what pyarrow's own reader spends counting its rows (bench/RESULTS.md).

Type inference happens on the first block. When a later block disagrees (an integer column that
turns out to hold "1.5", a number column with "n/a"), that column's type is widened
(int64 -> float64 -> string -> binary) and the file is read again: rare, and correct.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from . import Summary
from .detect import Kind
from .dialect import SNIFF_BYTES, decoded, foreign_header, sniff_delimiter
from .fallback import NotThisFormat
from .fmt import quoted
from .stats import ColumnStats, table_facts, type_name

if TYPE_CHECKING:
    import pyarrow as pa

# Bytes per parsed block. pyarrow's reader reads ahead up to 32 blocks in the background, so its
# memory is ~70 x BLOCK_SIZE whatever the file size (measured: 74 MB at 1 MiB, 37 MB at 512 KiB,
# 18 MB at 256 KiB) while CPU time per byte is the same from 512 KiB up.
BLOCK_SIZE = 512 << 10
# A line longer than a block stops pyarrow's readers ("straddling object straddles two block
# boundaries", "Empty CSV file or block"): a JSON Lines record holding a long text, a CSV header of
# 100,000 columns. The block then grows (x8) up to the longest line: memory follows the line.
MAX_BLOCK_SIZE = 1 << 30
_LONG_LINE = ("straddling object straddles", "Empty CSV file or block")
PARALLEL_MIN = 32 << 20  # below this, one reader: threads and a second schema pass cost more than they give
_CONVERSION = re.compile(r"column #(\d+)")


class Retry(Exception):
    """Read the table again: column types were widened, or values hold newlines."""


def _csv_options(kind: Kind, types: dict[str, pa.DataType], multiline: bool,
                 names: list[str] | None = None, block_size: int = BLOCK_SIZE) -> tuple[Any, Any, Any]:
    import pyarrow.csv as pcsv

    header = kind.header if names is None else None  # given names: a byte range with no header
    read = pcsv.ReadOptions(block_size=block_size, column_names=list(header) if header else names,
                            skip_rows=kind.header_lines if header else 0)
    delimiter = "\t" if kind.name == "tsv" else kind.delimiter or ","
    parse = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=multiline)
    # empty fields are nulls in every column, as in JSON and Parquet (pyarrow's default keeps "" for strings)
    convert = pcsv.ConvertOptions(column_types=types, strings_can_be_null=True)
    return read, parse, convert


def sniffed(source: str | Callable[[], Any], kind: Kind) -> Kind:
    """``kind`` with the field delimiter of a ``.csv`` sniffed from its first lines (dialect.py),
    and a CSV's or TSV's header when it is not UTF-8 (``Kind.header``); other kinds, and a kind
    sniffed already (its delimiter known), come back as they are. ``source`` is a path, or a
    function returning a new binary stream of the file (read up to SNIFF_BYTES, then closed)."""
    import pyarrow as pa

    if kind.name not in ("csv", "tsv") or kind.delimiter is not None:
        return kind
    try:
        with _read_from(source, kind) as stream:
            head = b""
            while len(head) < SNIFF_BYTES:
                more = stream.read(SNIFF_BYTES - len(head))
                if not more:
                    break
                head += bytes(more)
        complete = len(head) < SNIFF_BYTES
    except (pa.ArrowInvalid, OSError):  # unreadable: the reader that follows says why
        return kind
    encoding = None
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        # UTF-16 (Excel's "Unicode text", PowerShell 5's `> file.csv`): pyarrow reads only UTF-8
        # and saw one column of NUL bytes ("Expected 2 columns, got 1: \u0000")
        import codecs

        encoding = "utf-16"
        head = codecs.getincrementaldecoder(encoding)("replace").decode(head, complete).encode("utf-8")
    delimiter = sniff_delimiter(head, complete) if kind.name == "csv" else "\t"
    header = foreign_header(head, delimiter, complete)
    return kind._replace(delimiter=delimiter, header=None if header is None else header[0],
                         header_lines=0 if header is None else header[1], encoding=encoding)


@contextlib.contextmanager
def _read_from(source: str | Callable[[], Any], kind: Kind) -> Iterator[Any]:
    """``source`` (a path, or a function returning a new binary stream of the file) as a pyarrow
    stream of its decompressed bytes, closed on leaving (also when it fails half-opened)."""
    import pyarrow as pa

    if isinstance(source, str):
        raw = stream = decoded(pa.input_stream(source, compression=kind.compression), kind)
    else:
        raw = source()
        try:
            native = raw if isinstance(raw, pa.NativeFile) else pa.PythonFile(raw, mode="r")
            stream = decoded(pa.CompressedInputStream(native, kind.compression) if kind.compression
                             else native, kind)
        except BaseException:
            raw.close()
            raise
    try:
        yield stream
    finally:
        raw.close()


def open_batches(source: Any, kind: Kind, types: dict[str, pa.DataType] | None = None,
                 multiline: bool = False, names: list[str] | None = None,
                 block_size: int = BLOCK_SIZE) -> Any:
    """A pyarrow streaming reader of record batches over ``source`` (a path or a binary stream)."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    if isinstance(source, str):
        stream = pa.input_stream(source, compression=kind.compression)
    else:
        stream = pa.CompressedInputStream(source, kind.compression) if kind.compression else source
    stream = decoded(stream, kind)
    if kind.name == "jsonl":
        import pyarrow.json as pjson

        # with ``types`` (json_schema: every field of the file), later blocks may hold fields and
        # wider types the first block did not show
        parse_json = pjson.ParseOptions(explicit_schema=pa.schema(list(types.items()))) if types else None
        return pjson.open_json(stream, read_options=pjson.ReadOptions(block_size=block_size),
                               parse_options=parse_json)
    read, parse, convert = _csv_options(kind, types or {}, multiline, names, block_size)
    return pcsv.open_csv(stream, read_options=read, parse_options=parse, convert_options=convert)


def head_schema(source: Any, kind: Kind, types: dict[str, pa.DataType] | None = None,
                multiline: bool = False, block_size: int = BLOCK_SIZE) -> pa.Schema:
    """The schema pyarrow infers from the first block, read into memory and parsed there.

    A streaming reader closed early keeps its read-ahead thread; on a stream backed by Python (a
    file read from the pool) that thread could still be reading when the interpreter exits, and
    the process aborts ("terminate called without an active exception", seen once under load).
    Parsing a copy of the first block leaves nothing running.
    """
    import pyarrow as pa

    if multiline:  # row ends cannot be found by looking for newlines: let a reader read it all
        reader = open_batches(source, kind, types, multiline, block_size=block_size)
        for _ in reader:
            pass
        return reader.schema
    if isinstance(source, str):
        stream = pa.input_stream(source, compression=kind.compression)
    else:
        stream = pa.CompressedInputStream(source, kind.compression) if kind.compression else source
    stream = decoded(stream, kind)
    try:
        data = stream.read(BLOCK_SIZE)
        # a header longer than a block: read on to the end of a row after it, so that the types
        # come from values (a header alone makes every column null)
        lines = data.count(b"\n")
        while data and lines < 2 and len(data) < (64 << 20):
            more = stream.read(BLOCK_SIZE)
            if not more:
                break
            data += more
            lines += more.count(b"\n")
        if data and b"\n" not in data and b"\r" not in data and not stream.read(1):
            data += b"\n"  # one line and no line end (a header alone): pyarrow wants the end
        elif len(data) >= BLOCK_SIZE and stream.read(1):
            data = data[:data.rfind(b"\n") + 1] or data
    finally:
        stream.close()
    if _blank(bytes(data)):  # an empty file is a table of no columns, not a parse error
        return pa.schema([])
    # one block however long its first line (the header) is
    reader = open_batches(pa.BufferReader(bytes(data)), kind._replace(compression=None, encoding=None), types,
                          block_size=max(block_size, len(data) + 1))
    for _ in reader:  # a block: drained, so no thread is left behind
        pass
    return reader.schema


def _widen(dtype: pa.DataType) -> pa.DataType:
    import pyarrow as pa
    import pyarrow.types as pt

    if pt.is_null(dtype):  # empty all through the first block: numbers are likeliest, text is next
        return pa.int64()
    if pt.is_integer(dtype):
        return pa.float64()
    if pt.is_string(dtype) or pt.is_large_string(dtype):
        return pa.binary()
    return pa.string()


class _Attempts:
    """The widen-and-retry loop shared by the serial and the parallel readers."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.types: dict[str, pa.DataType] = {}
        self.multiline = False
        self.unified = False  # JSON Lines: types are json_schema's, every field of the file
        self.block_size = BLOCK_SIZE

    def handle(self, e: Exception, schema: pa.Schema | None) -> None:
        """Turn a parse error into a widened type (then Retry) or NotThisFormat."""
        msg = str(e)
        if any(k in msg for k in _LONG_LINE) and self.block_size < MAX_BLOCK_SIZE:
            # at most MAX_BLOCK_SIZE: 256 MiB x 8 overflowed pyarrow's int32 block size
            self.block_size = min(self.block_size * 8, MAX_BLOCK_SIZE)
            raise Retry() from None
        m = _CONVERSION.search(msg)
        if self.kind.name != "jsonl" and m and schema is not None and "conversion error" in msg.lower():
            field = schema.field(int(m.group(1)))
            self.types[field.name] = _widen(self.types.get(field.name, field.type))
            raise Retry() from None
        if self.kind.name != "jsonl" and not self.multiline and "Expected" in msg and "columns" in msg:
            self.multiline = True  # quoted values with newlines: slower, single-threaded parsing
            raise Retry() from None
        raise NotThisFormat(msg.splitlines()[0] if msg else type(e).__name__) from None


def _blank(data: bytes) -> bool:
    """No content: nothing, or only a UTF-8 byte-order mark and line ends/spaces (what an editor
    or Excel leaves in an emptied file)."""
    return not data.removeprefix(b"\xef\xbb\xbf").strip()


def _is_empty(source: str | Callable[[], Any], kind: Kind) -> bool:
    """True when the (decompressed) content is blank (``_blank``): an empty table, not a broken
    one (pyarrow's readers refuse it, "Empty CSV file")."""
    import pyarrow as pa

    try:
        if isinstance(source, str) and kind.compression is None and os.path.getsize(source) > (64 << 10):
            return False  # only a tiny file can be blank; a big one is not read twice
        with _read_from(source, kind) as stream:
            head = bytes(stream.read(64 << 10))
            return _blank(head) and not stream.read(1)
    except (pa.ArrowInvalid, OSError):  # unreadable: the reader that follows says why
        return False


def _header_alone(source: str | Callable[[], Any], kind: Kind) -> pa.Schema | None:
    """The columns of a CSV/TSV that is one line with no line end (a header alone, as a script or
    an export of no rows writes it), else None. pyarrow refuses such a file ("Empty CSV file or
    block"), as it does a line longer than a block, so it was read again with ever larger blocks
    until the block size overflowed: git diff stopped on an internal error."""
    import pyarrow as pa

    if kind.name not in ("csv", "tsv"):
        return None
    try:
        if isinstance(source, str) and kind.compression is None and os.path.getsize(source) > (64 << 10):
            return None
        with _read_from(source, kind) as stream:
            head = bytes(stream.read(64 << 10))
            if stream.read(1) or b"\n" in head or b"\r" in head:
                return None
    except (pa.ArrowInvalid, OSError):
        return None
    reader = open_batches(pa.BufferReader(head + b"\n"), kind._replace(compression=None, encoding=None))
    for _ in reader:  # drained: no thread left behind
        pass
    return reader.schema


def json_schema(source: str | Callable[[], Any], kind: Kind) -> dict[str, pa.DataType]:
    """Every field of a JSON Lines file, with a type that holds all its values: the schemas
    pyarrow infers for each block (cut at a line end), unified (null -> any type, int64 ->
    double). pyarrow's streaming reader fixes the schema at its first block, so a field that
    appears later ("unexpected field"), a null column that gets values, or integers that turn
    into decimals stopped it; real logs do all three. NotThisFormat when a field holds values no
    one type can (numbers and text), or a block is not JSON."""
    import pyarrow as pa
    import pyarrow.json as pjson

    schemas = []
    try:
        with _read_from(source, kind) as stream:
            rest = b""
            while True:
                data = bytes(stream.read(BLOCK_SIZE))
                piece, rest = rest + data, b""
                if data:
                    cut = piece.rfind(b"\n") + 1
                    piece, rest = piece[:cut], piece[cut:]
                if piece.strip():  # one block, however long its lines are
                    opts = pjson.ReadOptions(block_size=max(BLOCK_SIZE, len(piece) + 1))
                    schemas.append(pjson.read_json(pa.BufferReader(piece), read_options=opts).schema)
                if not data:
                    break
        merged = pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        msg = str(e).strip()
        raise NotThisFormat(msg.splitlines()[0] if msg else type(e).__name__) from None
    return {f.name: f.type for f in merged}


def stream_table(source: str | Callable[[], Any], kind: Kind, consume: Any) -> tuple[pa.Schema, int]:
    """Feed every record batch of a table to ``consume(schema, batch)``, in file order.

    ``source`` is a path, or a function returning a new binary stream of the file each time it is
    called. Before the first batch, and again whenever a column type had to be widened and the
    file is read anew, ``consume(schema, None)`` tells the consumer to start over. Returns
    (schema, rows).
    """
    import pyarrow as pa

    if _is_empty(source, kind):
        empty = pa.schema([])
        consume(empty, None)
        return empty, 0
    header = _header_alone(source, kind)
    if header is not None:
        consume(header, None)
        return header, 0
    attempts = _Attempts(kind)
    for _ in range(64):
        schema = None
        src: Any = None
        try:
            if kind.name != "jsonl" and not attempts.types:
                # name every column's type: pyarrow parses ~1.5x faster with explicit types than
                # with the types it inferred itself from the first block (CPU time, measured)
                first = head_schema(source if isinstance(source, str) else source(), kind,
                                    multiline=attempts.multiline, block_size=attempts.block_size)
                attempts.types = {f.name: f.type for f in first}
            src = source if isinstance(source, str) else source()
            reader = open_batches(src, kind, attempts.types, attempts.multiline,
                                  block_size=attempts.block_size)
            schema = reader.schema
            rows = 0
            consume(schema, None)
            for batch in reader:
                rows += batch.num_rows
                consume(schema, batch)
            return schema, rows
        except pa.ArrowInvalid as e:
            if kind.name == "jsonl" and not attempts.unified:  # once: read with every field's type
                attempts.unified = True
                attempts.types = json_schema(source, kind)
                continue
            if schema is None and attempts.types:  # the error came with the reader's first block
                schema = pa.schema(list(attempts.types.items()))
            try:
                attempts.handle(e, schema)
            except Retry:
                continue
        finally:
            # a reader left behind (an error, a retry) keeps reading ahead: end its stream, so that
            # no thread is still reading a Python-backed stream when the interpreter exits
            if src is not None and not isinstance(src, str):
                src.close()
    raise NotThisFormat("column types keep changing")


class ReadStream:
    """A forward-only binary stream for ``pyarrow.PythonFile``: subclasses define ``read``."""

    closed = False

    def read(self, n: int = -1) -> bytes:  # pragma: no cover - overridden
        """Up to ``n`` bytes."""
        raise NotImplementedError

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def writable(self) -> bool:
        return False

    def close(self) -> None:
        """Stop reading."""
        self.closed = True


#: batches are folded into the statistics once this many bytes (Arrow form) of them are here: one
#: pyarrow call a column a batch cost 4.5 s for a 27 MB CSV of 2,000 columns (90 rows a block)
STATS_BYTES = 8 << 20


class Accumulator:
    """Per-column ``ColumnStats`` over a stream of batches (starts over on ``batch=None``). Batches
    are held until ``flush_bytes`` of them are here and then folded in as one chunked column each:
    the statistics' cost is per call, and a wide table's blocks hold few rows."""

    def __init__(self, flush_bytes: int = STATS_BYTES) -> None:
        self._stats: list[ColumnStats] = []
        self._pending: list[pa.RecordBatch] = []
        self._bytes = 0
        self.flush_bytes = flush_bytes

    @property
    def stats(self) -> list[ColumnStats]:
        """The statistics of every batch seen since the last start."""
        self._flush()
        return self._stats

    def __call__(self, schema: pa.Schema, batch: pa.RecordBatch | None) -> None:
        if batch is None:
            self._stats = [ColumnStats(f.name, f.type) for f in schema]
            self._pending, self._bytes = [], 0
            return
        self._pending.append(batch)
        self._bytes += batch.nbytes
        if self._bytes >= self.flush_bytes:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if not self._pending:
            return
        batches, self._pending, self._bytes = self._pending, [], 0
        for i, s in enumerate(self._stats):
            s.update(pa.chunked_array([b.column(i) for b in batches], type=batches[0].schema.field(i).type))


def summarize(path: str, kind: Kind) -> Summary:
    """Schema, rows and per-column statistics of a CSV/TSV/JSONL file, streamed."""
    kind = sniffed(path, kind)
    size = os.path.getsize(path)
    workers = min(4, os.cpu_count() or 1)
    result = None
    if (kind.name in ("csv", "tsv") and kind.compression is None and kind.encoding is None
            and size >= PARALLEL_MIN and workers > 1):  # byte ranges cut at b"\n": UTF-8 only
        try:
            from .csvparts import parallel_stats  # big CSVs only

            result = parallel_stats(path, kind, workers)
        except Retry:  # values with newlines: only a serial reader can tell rows apart
            result = None
    if result is None:
        acc = Accumulator()
        schema, rows = stream_table(path, kind, acc)
        result = (schema, rows, acc.stats)
    schema, rows, stats = result
    # only where it is not the comma: summaries of comma files stay as they were
    sep = kind.delimiter if kind.name == "csv" else None
    extra = [f"delimiter {quoted(sep)}"] if sep not in (None, ",") else []
    extra += [f"encoding {kind.encoding}"] if kind.encoding else []
    return Summary(kind.label, size, table_facts(schema, rows, stats, extra),
                   schema=[(f.name, type_name(f.type)) for f in schema], rows=rows)
