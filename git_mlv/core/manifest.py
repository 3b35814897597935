"""Manifests: the ordered chunk list of a file cut into more than one chunk (docs/formats.md#manifest).

Layout (little-endian)::

    magic b"MLVMANI\\0" | version u32 | reserved u32 | file size u64 | count u64     32 bytes
    count x (chunk id 32 | chunk length u32)                                         36 each
    sha256 of everything above                                                      32 bytes

A manifest is stored under the file's own oid (kind "manifest"), which can only be checked by hashing
the whole file; the trailing sha256 lets every read check the manifest itself at once.
"""

from __future__ import annotations

import hashlib
import struct
from typing import TYPE_CHECKING

from ..errors import CorruptObject
from .record import Record

if TYPE_CHECKING:
    import numpy as np

MAGIC = b"MLVMANI\0"
VERSION = 1
HEADER = struct.Struct("<8sIIQQ")
ITEM = struct.Struct("<32sI")
# one ITEM as a numpy record: ``chunk_table`` reads a manifest's chunks in place (36 bytes a chunk)
# where ``Manifest.decode`` makes a tuple of (bytes, int) per chunk (~150 bytes: 1 MB a GiB of file)
ITEM_FIELDS = [("id", "V32"), ("len", "<u4")]


class Manifest(Record):
    """A file's size and its chunks, in order, as (id, length)."""

    __slots__ = ("size", "chunks")
    size: int
    chunks: tuple[tuple[bytes, int], ...]

    def __init__(self, size: int, chunks: tuple[tuple[bytes, int], ...]) -> None:
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "chunks", chunks)

    def encode(self) -> bytes:
        """The stored bytes of this manifest."""
        body = HEADER.pack(MAGIC, VERSION, 0, self.size, len(self.chunks)) + b"".join(
            ITEM.pack(cid, n) for cid, n in self.chunks
        )
        return body + hashlib.sha256(body).digest()

    @classmethod
    def decode(cls, data: bytes) -> Manifest:
        """Parse and check stored manifest bytes."""
        size, _ = _checked(data)
        chunks = tuple(ITEM.iter_unpack(data[HEADER.size : -32]))
        if sum(n for _, n in chunks) != size:
            raise CorruptObject("damaged manifest (chunk lengths do not add up)")
        return cls(size, chunks)


def _checked(data: bytes) -> tuple[int, int]:
    """(file size, chunk count) of stored manifest bytes whose checksum, magic, version and length
    hold; CorruptObject otherwise."""
    if len(data) < HEADER.size + 32 or hashlib.sha256(data[:-32]).digest() != data[-32:]:
        raise CorruptObject("damaged manifest (checksum mismatch)")
    magic, version, _, size, count = HEADER.unpack_from(data, 0)
    if magic != MAGIC or version != VERSION:
        raise CorruptObject("not a git-mlv manifest, or an unsupported version")
    if len(data) != HEADER.size + count * ITEM.size + 32:
        raise CorruptObject("damaged manifest (length)")
    return size, count


def chunk_table(data: bytes) -> tuple[int, np.ndarray]:
    """(file size, its chunks as a numpy record array viewing ``data``: fields ``id`` (V32: take
    ``.tobytes()``; an S32 view would drop a trailing NUL) and ``len``), checked as ``decode``
    checks. For a big file's manifest: no Python object per chunk."""
    import numpy as np

    size, count = _checked(data)
    table = np.frombuffer(data, dtype=np.dtype(ITEM_FIELDS), count=count, offset=HEADER.size)
    if int(table["len"].sum(dtype=np.uint64)) != size:
        raise CorruptObject("damaged manifest (chunk lengths do not add up)")
    return size, table


def chunk_keys(ids: np.ndarray) -> np.ndarray:
    """The 33-byte index keys (an S33 array: id + KIND_CHUNK, core/index.py ``key``) of the chunk
    ids ``ids`` (V32, as ``chunk_table`` gives them), without a Python object per chunk. The kind
    byte is never NUL, so the S33 view loses nothing."""
    import numpy as np

    from .pack import KIND_CHUNK

    rows = np.empty(len(ids), dtype=np.dtype([("id", "V32"), ("kind", "u1")]))
    rows["id"] = ids
    rows["kind"] = KIND_CHUNK
    return rows.view("S33")
