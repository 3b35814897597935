"""Rows added, removed and changed between two versions of a table, matched by a key column,
in bounded memory whatever the tables' size (a grace hash join, as databases do when a join does
not fit in memory):

1. *Partition.* Both sides are streamed batch by batch; each row goes to partition
   ``hash(key) mod P`` and is appended to that partition's spill file (Arrow IPC, uncompressed,
   in a temp folder). ``P`` is chosen so that one partition of each side is ~16 MiB of input.
   Rows with equal keys land in the same partition on both sides. A spill file bigger than
   that (Arrow's form can be 4 times the input's) is split again before its join.
2. *Join.* Partition by partition, both sides are loaded (~2 x 16 MiB), and compared with pyarrow:
   keys only in the new side were added, keys only in the old side removed; rows of common keys
   are aligned by sorting on the key and compared column by column (nulls equal nulls, NaN
   equals NaN). The ``limit`` smallest keys of each kind are kept as examples.

Peak memory: the two streaming readers (~40 MB each, ``tables.BLOCK_SIZE``) and 64 Ki-row buffers
during phase 1, two partitions during phase 2: 252 MB for the workload's 2 x 300 MB CSV, read
from the pool (bench/RESULTS.md). The key must be unique on each side; a duplicate is reported.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import MlvError
from .compare import _is_bytes, canonical_text, differs, finer_time, py_list, py_rows, py_value
from .detect import Kind
from .scan import Source, peek_schema, scan

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

PARTITION_BYTES = 16 << 20
FLUSH_ROWS = 1 << 16
#: ... or this many bytes in Arrow form, whichever comes first: 64Ki rows of 11 columns are ~6 MB,
#: of 1,000 columns 500 MB a side (an 83 MB CSV of 1,000 columns peaked at 1.4 GB)
FLUSH_BYTES = 16 << 20
MAX_PARTITIONS = 1024


class KeyColumnError(MlvError):
    """The key column cannot match rows: missing on a side, empty values, or not unique."""

    exit_code = 2


@dataclass
class RowDiff:
    """Counts and examples of rows added, removed and changed (matched by ``key``)."""

    key: str
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0
    compared_columns: list[str] = field(default_factory=list)
    added_rows: list[dict[str, Any]] = field(default_factory=list)
    removed_rows: list[dict[str, Any]] = field(default_factory=list)
    #: {"key": value, "changes": {column: [old, new]}}
    changed_rows: list[dict[str, Any]] = field(default_factory=list)


def _partitions(size: int) -> int:
    p = 1
    while p * PARTITION_BYTES < size and p < MAX_PARTITIONS:
        p *= 2
    return p


def _key_type(a: pa.DataType, b: pa.DataType, key: str = "key") -> pa.DataType:
    """One type for the key on both sides: int64 when both are integers, else string (a nested key:
    its canonical JSON text, see ``compare.canonical_text``). Bytes stay bytes (hashes as keys:
    they are not UTF-8 text), a float16 is widened to float32 (pyarrow sorts no float16); an
    interval, which has no order, is refused in one line."""
    import pyarrow as pa
    import pyarrow.types as pt

    for t in (a, b):
        if pt.is_interval(t) or pt.is_run_end_encoded(t):
            raise KeyColumnError(f"column {key!r} ({t}) cannot be a key: choose a column of numbers, "
                                 "text or times")
    if pt.is_integer(a) and pt.is_integer(b):
        return pa.int64()
    if pt.is_float16(a) and pt.is_float16(b):
        return pa.float32()
    binary = (pt.is_binary, pt.is_large_binary, pt.is_fixed_size_binary)
    if any(f(a) for f in binary) and any(f(b) for f in binary):
        return a if a == b else pa.large_binary()
    if any(f(a) or f(b) for f in binary):  # text that is not UTF-8 on one side (a Latin-1 CSV)
        return pa.large_binary()  # the other side's values as their text's bytes
    finer = finer_time(a, b)  # a timestamp written in ms, then in us: the same instants
    if finer is not None:
        return finer
    if a == b and (pt.is_string(a) or pt.is_floating(a) or pt.is_temporal(a)):
        return a
    return pa.string()


def _hash(key: pa.Array, parts: int, skip: int = 0) -> np.ndarray:
    """Partition number of each key (multiplicative hashing of integers; Python's hash of text),
    from the hash's bits after the first ``skip`` (those a partition being split again was chosen
    by: its rows all agree on them)."""
    import numpy as np
    import pyarrow.types as pt

    if parts == 1:
        return np.zeros(len(key), dtype=np.int64)
    bits = parts.bit_length() - 1
    if pt.is_integer(key.type) or pt.is_floating(key.type) or pt.is_temporal(key.type):
        raw = key.to_numpy(zero_copy_only=False)
        u = raw.view(np.uint64) if raw.dtype.itemsize == 8 else raw.astype(np.int64).view(np.uint64)
        h = (u * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(64 - skip - bits)
        return (h & np.uint64(parts - 1)).astype(np.int64)
    h = np.fromiter((hash(v) for v in key.to_pylist()), dtype=np.int64, count=len(key))
    return (h >> skip) & (parts - 1)


def _unique_names(schema: pa.Schema) -> pa.Schema:
    """``schema`` with a repeated column name made unique as pandas does (stats.unique_names: the
    second "a" is "a.1"). Both sides are renamed alike, so repeated columns are compared by
    position."""
    import pyarrow as pa

    from .stats import unique_names

    names = unique_names(schema.names)
    if names == schema.names:
        return schema
    return pa.schema([pa.field(n, f.type) for n, f in zip(names, schema)])


class _Partitioner:
    """Writes each batch's rows to the spill file of their key's partition."""

    def __init__(self, folder: str, side: str, key: str, key_type: pa.DataType, parts: int, label: str
                 ) -> None:
        self.folder, self.side, self.key, self.key_type, self.parts = folder, side, key, key_type, parts
        self.label = label
        self.writers: list[Any] = []
        self.schema: pa.Schema | None = None
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.pending_bytes = 0

    def spill(self, part: int) -> str:
        """The spill file of partition ``part``."""
        return os.path.join(self.folder, f"{self.side}-{part}.arrow")

    def _close(self) -> None:
        for w in self.writers:
            w.close()
        self.writers = []

    def __call__(self, schema: pa.Schema, batch: pa.RecordBatch | None) -> None:
        import pyarrow as pa

        if batch is None:  # (re)start: a type was widened and the file is read again
            self._close()
            schema = _unique_names(schema)
            if self.key not in schema.names:
                raise KeyColumnError(f"no column {self.key!r} in {self.label} (columns: "
                                     f"{', '.join(schema.names[:20]) or 'none'})")
            i = schema.get_field_index(self.key)
            self.schema = schema.set(i, pa.field(self.key, self.key_type))
            self.pending, self.pending_rows, self.pending_bytes = [], 0, 0
            self.writers = [pa.ipc.new_stream(self.spill(p), self.schema) for p in range(self.parts)]
            return
        size = batch.nbytes
        step = batch.num_rows if size <= FLUSH_BYTES else max(1, batch.num_rows * FLUSH_BYTES // size)
        for start in range(0, batch.num_rows, step):  # a big batch (an Arrow file written as one
            # batch) is taken a slice at a time: each flush copies FLUSH_BYTES, not the batch
            part = batch.slice(start, step) if step < batch.num_rows else batch
            self.pending.append(part)
            self.pending_rows += part.num_rows
            self.pending_bytes += part.nbytes
            if self.pending_rows >= FLUSH_ROWS or self.pending_bytes >= FLUSH_BYTES:
                self._flush()

    def _flush(self) -> None:
        """Partition the buffered batches as one: one sort and P writes per ~64k rows instead of
        per parser block (~5k rows) cut the partitioning CPU time by ~4x (measured)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.types as pt

        if not self.pending:
            return
        assert self.schema is not None
        batch = pa.Table.from_batches(self.pending).combine_chunks().to_batches()[0]
        batch = batch.rename_columns([f.name for f in self.schema])  # repeated names made unique
        self.pending, self.pending_rows, self.pending_bytes = [], 0, 0
        i = batch.schema.get_field_index(self.key)
        key = batch.column(i)
        if key.type != self.key_type:
            # a nested key (a composite key written as a JSON object): matched by its canonical JSON,
            # one Python call a row; flat keys keep pyarrow's cast
            if pt.is_nested(key.type):
                key = canonical_text(key)
            elif pt.is_large_binary(self.key_type) and not _is_bytes(key.type):
                key = key.cast(pa.string()).cast(self.key_type)  # 1 -> "1" -> b"1"
            else:
                key = key.cast(self.key_type)
            batch = batch.set_column(i, self.key, key)
        if key.null_count:
            raise KeyColumnError(f"column {self.key!r} has {key.null_count} empty values in {self.label}; "
                                 "a key must name every row")
        part = _hash(key, self.parts)
        order = np.argsort(part, kind="stable")
        counts = np.bincount(part, minlength=self.parts)
        rows = pa.RecordBatch.from_arrays(batch.take(pa.array(order)).columns, schema=self.schema)
        start = 0
        for p, n in enumerate(counts.tolist()):
            if n:
                self.writers[p].write_batch(rows.slice(start, n))
                start += n

    def finish(self) -> None:
        """Write what is buffered and close the spill files."""
        self._flush()
        self._close()


def _join_spilled(result: RowDiff, old: str, new: str, labels: tuple[str, str], limit: int, skip: int,
                  depth: int = 0) -> None:
    """Join the partition spilled to files ``old`` and ``new``; one bigger than PARTITION_BYTES (the
    partitions were counted from the files' sizes, and a CSV of one-digit values is 4 times bigger
    as int64: one partition of 64 MB a side peaked at 500 MB) is split again by the next bits of
    its keys' hash, as a grace hash join does, a batch at a time."""
    biggest = max(os.path.getsize(old), os.path.getsize(new))
    if biggest <= PARTITION_BYTES or depth == 3:
        _join(result, _load(old), _load(new), labels, limit)
        return
    parts = min(_partitions(biggest), 64)
    bits = parts.bit_length() - 1
    olds, news = _split(old, result.key, parts, skip), _split(new, result.key, parts, skip)
    for a, b in zip(olds, news):
        _join_spilled(result, a, b, labels, limit, skip + bits, depth + 1)


def _split(path: str, key: str, parts: int, skip: int) -> list[str]:
    """Split a spill file into ``parts`` by its keys' hash bits after ``skip``; it is removed."""
    import numpy as np
    import pyarrow as pa

    outs = [f"{path}.{p}" for p in range(parts)]
    with pa.memory_map(path) as f:
        reader = pa.ipc.open_stream(f)
        i = reader.schema.get_field_index(key)
        writers = [pa.ipc.new_stream(o, reader.schema) for o in outs]
        try:
            for batch in reader:
                part = _hash(batch.column(i), parts, skip)
                counts = np.bincount(part, minlength=parts)
                rows = batch.take(pa.array(np.argsort(part, kind="stable")))
                start = 0
                for p, n in enumerate(counts.tolist()):
                    if n:
                        writers[p].write_batch(rows.slice(start, n))
                        start += n
        finally:
            for w in writers:
                w.close()
    os.unlink(path)
    return outs


def _load(path: str) -> pa.Table:
    import pyarrow as pa

    with pa.memory_map(path) as f:
        return pa.ipc.open_stream(f).read_all().combine_chunks()


def _check_unique(t: pa.Table, key: str, label: str) -> None:
    """``t`` is sorted by ``key``: a duplicate sits next to its twin (cheaper than count_distinct,
    which took a third of the join's time, measured)."""
    import pyarrow.compute as pc

    k = t[key].combine_chunks()
    if len(k) < 2:
        return
    same = pc.equal(k.slice(1), k.slice(0, len(k) - 1))
    if pc.any(same).as_py():
        dup = py_value(k[pc.index(same, True).as_py()])
        raise KeyColumnError(f"column {key!r} is not unique in {label} (e.g. {dup!r} appears more than "
                             "once); choose a key that names one row")


def _smallest(rows: list[dict[str, Any]], more: list[dict[str, Any]], key: str, limit: int
              ) -> list[dict[str, Any]]:
    merged = rows + more
    merged.sort(key=lambda r: (r[key] is None, r[key]))
    return merged[:limit]


def _join(result: RowDiff, old: pa.Table, new: pa.Table, labels: tuple[str, str], limit: int) -> None:
    import pyarrow.compute as pc

    key = result.key
    # sorted once: duplicates become neighbours, and the rows both sides share come out aligned
    old, new = old.sort_by(key), new.sort_by(key)
    _check_unique(old, key, labels[0])
    _check_unique(new, key, labels[1])
    in_new = pc.is_in(old[key], value_set=new[key])
    in_old = pc.is_in(new[key], value_set=old[key])
    removed = old.filter(pc.invert(in_new))
    added = new.filter(pc.invert(in_old))
    result.removed += removed.num_rows
    result.added += added.num_rows
    if limit:
        result.removed_rows = _smallest(result.removed_rows, py_rows(removed.slice(0, limit)), key, limit)
        result.added_rows = _smallest(result.added_rows, py_rows(added.slice(0, limit)), key, limit)
    a = old.filter(in_new)
    b = new.filter(in_old)
    if not a.num_rows:
        return
    diffs = {c: differs(a[c].combine_chunks(), b[c].combine_chunks()) for c in result.compared_columns}
    changed = None
    for d in diffs.values():
        changed = d if changed is None else pc.or_(changed, d)
    n = 0 if changed is None else pc.sum(changed).as_py() or 0
    result.changed += n
    result.unchanged += a.num_rows - n
    if n and limit and changed is not None:
        idx = pc.indices_nonzero(changed).slice(0, limit)
        keys = py_list(a[key].take(idx))
        rows = []
        for j, k in enumerate(keys):
            i = idx[j].as_py()
            changes = {c: [py_value(a[c][i]), py_value(b[c][i])] for c, d in diffs.items() if d[i].as_py()}
            rows.append({key: k, "changes": changes})
        result.changed_rows = _smallest(result.changed_rows, rows, key, limit)


def row_diff(old: Source, old_kind: Kind, new: Source, new_kind: Kind, key: str, *,
             size: int, limit: int = 10, labels: tuple[str, str] = ("the old version", "the new version"),
             tmp_dir: str | None = None) -> RowDiff:
    """Rows added, removed and changed from ``old`` to ``new``, matched by column ``key``.

    ``size`` (the larger side's byte size) sets the number of partitions; ``limit`` rows of each
    kind are returned as examples (smallest keys first); spill files go under ``tmp_dir``.
    """
    return row_diff_and_shapes(old, old_kind, new, new_kind, key, size=size, limit=limit, labels=labels,
                               tmp_dir=tmp_dir)[0]


def row_diff_and_shapes(old: Source, old_kind: Kind, new: Source, new_kind: Kind, key: str, *,
                        size: int, limit: int = 10,
                        labels: tuple[str, str] = ("the old version", "the new version"),
                        tmp_dir: str | None = None) -> tuple[RowDiff, list[tuple[pa.Schema, int]]]:
    """``row_diff``, and the (schema, rows) of both sides that the same pass read."""
    from .tables import sniffed

    # a .csv's delimiter, sniffed once here rather than by each reader of the side
    old_kind, new_kind = sniffed(old, old_kind), sniffed(new, new_kind)
    schemas = []
    for src, kind, label in ((old, old_kind, labels[0]), (new, new_kind, labels[1])):
        schema = _unique_names(peek_schema(src, kind))
        if key not in schema.names:
            raise KeyColumnError(f"no column {key!r} in {label} (columns: "
                                 f"{', '.join(schema.names[:20]) or 'none'})")
        schemas.append(schema)
    key_type = _key_type(schemas[0].field(key).type, schemas[1].field(key).type, key)
    parts = _partitions(size)
    folder = tempfile.mkdtemp(prefix="mlv-rowdiff-", dir=tmp_dir)
    try:
        writers = [_Partitioner(folder, side, key, key_type, parts, label)
                   for side, label in (("old", labels[0]), ("new", labels[1]))]
        final: list[tuple[pa.Schema, int] | None] = [None, None]
        errors: list[BaseException] = []

        def run(i: int, src: Source, kind: Kind) -> None:
            try:
                final[i] = scan(src, kind, writers[i])
                writers[i].finish()
            except BaseException as e:  # re-raised in the calling thread
                errors.append(e)

        # both sides at once: each streaming reader parses on one core. Not for Parquet: pyarrow
        # decodes a column's page whole whatever the batch size, and a page of one-digit values
        # holds a row group's column (40,000 rows x 500 int64 columns: 160 MB a side decoded at
        # once), so the two sides together peaked at 400-417 MB; one after the other, 304-336 MB
        sides = [(i, s, k) for i, (s, k) in enumerate(((old, old_kind), (new, new_kind)))]
        waves = [sides[:1], sides[1:]] if "parquet" in (old_kind.name, new_kind.name) else [sides]
        for wave in waves:
            threads = [threading.Thread(target=run, args=side) for side in wave]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        if errors:
            raise errors[0]
        old_names = set(writers[0].schema.names if writers[0].schema else ())
        new_names = writers[1].schema.names if writers[1].schema else []
        result = RowDiff(key, compared_columns=[c for c in new_names if c in old_names and c != key])
        for p in range(parts):
            _join_spilled(result, writers[0].spill(p), writers[1].spill(p), labels, limit,
                          parts.bit_length() - 1)
        shapes = [f for f in final if f is not None]
        return result, shapes
    finally:
        shutil.rmtree(folder, ignore_errors=True)
