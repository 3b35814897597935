"""Reading a big file's chunks in bulk (issue 10: checkout of large files).

Where each chunk is comes as columns from one vectorised search per table (``PackSet.locate_columns``),
not as a ``Location`` object per chunk; chunks that sit back to back in a pack (a file's chunks
were written in order) are read with one ``pread`` a run, and each entry in the run is checked
exactly as ``Pool.read_chunk`` checks one: header CRC, id, kind, codec and lengths as the index
says, stored bytes against their CRC, decoded length (docs/formats.md#reading-is-verifying).
Anything unexpected (a pack consolidated away meanwhile, a header that disagrees with the midx)
sends that run through ``Pool.read_chunk``, which knows how to look again or fail clearly.
"""

from __future__ import annotations

import os
import struct
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..errors import CorruptObject, MissingObject, MlvError
from . import index as idx
from .compress import CODEC_RAW, decompress
from .manifest import chunk_keys
from .pack import ENTRY, ENTRY_SIZE, KIND_CHUNK, Entry, crc32
from .packset import Location

if TYPE_CHECKING:
    from concurrent.futures import Future

    import numpy as np

    from .pool import Pool

# (pack number into the paths list, offset, stored_len, raw_len, codec, chunk id)
Row = tuple[int, int, int, int, int, bytes]
_CRC = struct.Struct("<I")


def locate(pool: Pool, ids: list[bytes] | np.ndarray, keys: np.ndarray | None = None
           ) -> tuple[list[str], list[Row]]:
    """(pack paths, a row per chunk id) for the chunks ``ids`` (bytes, or a V32 array such as
    ``manifest.chunk_table`` gives); MissingObject if any is not here. ``keys``: their S33 keys."""
    import numpy as np

    if keys is None:
        keys = chunk_keys(ids) if isinstance(ids, np.ndarray) else \
            np.array([idx.key(i, KIND_CHUNK) for i in ids], dtype=f"S{idx.KEY_SIZE}")
    cids = [i.tobytes() for i in ids] if isinstance(ids, np.ndarray) else ids
    paths, (pack, offset, stored, raw, codec) = pool.packset.locate_columns(keys)
    for i in [i for i, p in enumerate(pack) if p < 0]:  # live packs, the writer's own, a bad midx
        loc = pool.locate(cids[i], KIND_CHUNK)
        if loc is None:
            raise MissingObject(f"chunk {cids[i].hex()[:12]} is not in the pool; run `git mlv pull`")
        e = loc.entry
        paths.append(loc.pack)
        pack[i], offset[i], stored[i] = len(paths) - 1, e.offset, e.stored_len
        raw[i], codec[i] = e.raw_len, e.codec
    return paths, list(zip(pack, offset, stored, raw, codec, cids))


def batches(rows: list[Row], limit: int) -> Iterator[list[Row]]:
    """Consecutive runs of ``rows`` of about ``limit`` raw bytes (at least one chunk each)."""
    start, size = 0, 0
    for i, row in enumerate(rows):
        size += row[3]
        if size >= limit:
            yield rows[start:i + 1]
            start, size = i + 1, 0
    if start < len(rows):
        yield rows[start:]


def read_rows(pool: Pool, paths: list[str], rows: list[Row]) -> list[bytes]:
    """The raw bytes of each chunk of ``rows``, checked; one ``pread`` per run of adjacent entries."""
    out: list[bytes] = []
    for p, start, end, run in _runs(rows):
        try:
            out += _read_run(pool.pack_fd(paths[p]), start, end, run)
        except (OSError, MlvError):  # gone, moved or damaged: one by one, the careful way
            out += [pool.read_chunk(_location(paths[p], row)) for row in run]
    return out


_READ_BATCH = 1 << 20  # raw bytes of chunks one read-ahead task decodes
_AHEAD = 4  # tasks in flight: ~4 MiB decoded ahead of git


# chunks located at a time by ``read_ahead``: a row costs ~200 bytes (a tuple of six Python ints
# and an id), so a 20 GiB file's 330,000 rows at once held ~65 MB; a window of them ~3 MB
_LOCATE_WINDOW = 16_384


def read_ahead(pool: Pool, ids: list[bytes] | np.ndarray) -> Iterator[bytes]:
    """Verified contents of chunks ``ids`` (bytes, or a V32 array) in order, read ahead on the
    pool's ``reader`` threads.

    Each thread task reads a run of chunks up to ``_READ_BATCH`` raw bytes, not one chunk: a
    task per 64 KiB chunk spent more of the serving thread in submit/result hand-offs than in
    the pkt-line writes (bench/RESULTS.md, issue 10 "fewer hand-offs"). Locations come as
    columns and adjacent entries are read at once (``locate``, ``read_rows``), ``_LOCATE_WINDOW``
    chunks at a time; whether every chunk is here is asked first, of all at once (one byte a
    chunk), so a missing one fails before any byte is given, as when all were located at once.
    """
    import numpy as np

    keys = chunk_keys(ids) if isinstance(ids, np.ndarray) else \
        np.array([idx.key(i, KIND_CHUNK) for i in ids], dtype=f"S{idx.KEY_SIZE}")
    lacking = np.flatnonzero(~pool.contains(keys))
    if len(lacking):
        locate(pool, ids[int(lacking[0]):int(lacking[0]) + 1])  # raises MissingObject, or finds it

    def tasks() -> Iterator[tuple[list[str], list[Row]]]:
        for at in range(0, len(ids), _LOCATE_WINDOW):
            paths, rows = locate(pool, ids[at:at + _LOCATE_WINDOW], keys[at:at + _LOCATE_WINDOW])
            for batch in batches(rows, _READ_BATCH):
                yield paths, batch

    window: deque[Future[list[bytes]]] = deque()
    todo = tasks()
    for paths, batch in todo:
        window.append(pool.reader.submit(read_rows, pool, paths, batch))
        if len(window) >= _AHEAD:
            break
    while window:
        data = window.popleft().result()
        nxt = next(todo, None)
        if nxt is not None:
            window.append(pool.reader.submit(read_rows, pool, *nxt))
        yield from data


def check_rows(pool: Pool, paths: list[str], rows: list[Row]) -> None:
    """Check the stored copy of each chunk of ``rows`` as ``read_rows`` does, without decoding it
    (a racily clean file's re-clean, ops/racyclean.py); CorruptObject when one is damaged."""
    for p, start, end, run in _runs(rows):
        try:
            for _ in _checked(pool.pack_fd(paths[p]), start, end, run):
                pass
        except (OSError, MlvError):
            for row in run:
                pool.read_entry(_location(paths[p], row))  # looks again, or fails clearly


def _location(path: str, row: Row) -> Location:
    _, offset, stored, raw, codec, cid = row
    return Location(path, Entry(cid, KIND_CHUNK, codec, offset, stored, raw))


def _runs(rows: list[Row]) -> Iterator[tuple[int, int, int, list[Row]]]:
    """(pack number, start, end, rows) of each run of entries adjacent in one pack."""
    i = 0
    while i < len(rows):
        p, start = rows[i][0], rows[i][1]
        j, end = i, start
        while j < len(rows) and rows[j][0] == p and rows[j][1] == end:
            end += ENTRY_SIZE + rows[j][2]
            j += 1
        yield p, start, end, rows[i:j]
        i = j


def _checked(fd: int, start: int, end: int, run: list[Row]) -> Iterator[tuple[memoryview, Row]]:
    """The stored bytes of each entry of a run, header and CRC checked against the index's row."""
    buf = os.pread(fd, end - start, start)
    if len(buf) != end - start:
        raise CorruptObject("short read")
    view = memoryview(buf)
    pos = 0
    for row in run:
        _, _, stored_len, raw_len, codec, cid = row
        head = view[pos:pos + ENTRY.size]
        oid, kind, c, _, r, s, data_crc = ENTRY.unpack(head)
        if (crc32(head) != _CRC.unpack_from(view, pos + ENTRY.size)[0] or oid != cid
                or kind != KIND_CHUNK or c != codec or r != raw_len or s != stored_len):
            raise CorruptObject("entry header is not what the index says")
        pos += ENTRY_SIZE
        stored = view[pos:pos + stored_len]
        pos += stored_len
        if crc32(stored) != data_crc:
            raise CorruptObject("stored bytes do not match their CRC")
        yield stored, row


def _read_run(fd: int, start: int, end: int, run: list[Row]) -> list[bytes]:
    out = []
    for stored, (_, _, _, raw_len, codec, _) in _checked(fd, start, end, run):
        data = bytes(stored) if codec == CODEC_RAW else decompress(codec, stored, raw_len)  # type: ignore[arg-type]
        if len(data) != raw_len:
            raise CorruptObject("decoded length differs")
        out.append(data)
    return out
