"""Pack files: many stored objects in one file, written as a stream (docs/formats.md#pack).

Layout (little-endian)::

    header   magic b"MLVPACK\\0" | version u32 = 2 | reserved u32                   16 bytes
    entry*   id 32 | kind u8 | codec u8 | reserved u16 | raw_len u32 | stored_len u32
             | crc32(stored bytes) u32 | crc32(previous 48 bytes) u32              56 bytes
             stored bytes                                                           stored_len
    trailer  magic b"MLVPEND\\0" | entry count u64                                  16 bytes

Entries are self-describing, so a pack whose index was never written (a crash mid-write) can be
scanned, cut back to its last whole entry, and indexed. The stored bytes' CRC is what a local read
checks (docs/formats.md#reading-is-verifying): bit rot and torn writes, at 3.3 GB/s against sha256's
1.4 GB/s on this machine (bench/budget.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import struct
from collections.abc import Iterator, Sequence
from typing import BinaryIO

# The CRC-32 of zlib (the same polynomial and values: the stored format is unchanged), computed by
# ISA-L with carry-less multiplies: 8 GB/s here against zlib's 2. A checkout checks every stored
# byte, on the thread that decodes ahead of git: the filter's CPU fell 0.91x (bench/RESULTS.md).
from isal.isal_zlib import crc32

from ..errors import CorruptObject
from .fsutil import fix_mode, fs_error, write_all, writing
from .fsutil import shared as _shared_modes
from .record import Record

MAGIC = b"MLVPACK\0"
END_MAGIC = b"MLVPEND\0"
VERSION = 2
SUPPORTED_VERSIONS = (2,)
HEADER = struct.Struct("<8sII")
ENTRY = struct.Struct("<32sBBHIII")
ENTRY_SIZE = ENTRY.size + 4
TRAILER = struct.Struct("<8sQ")


class UnsupportedPack(CorruptObject):
    """A pack of a version this git-mlv does not read: left alone, never repaired or deleted."""


KIND_CHUNK = 1
KIND_MANIFEST = 2


# An object ready to append: (id, kind, codec, raw length, stored bytes, its entry_header).
Encoded = tuple[bytes, int, int, int, "bytes | memoryview", bytes]


class Entry(Record):
    """Where one stored object sits in a pack."""

    __slots__ = ("id", "kind", "codec", "offset", "stored_len", "raw_len", "crc")
    id: bytes
    kind: int
    codec: int
    offset: int  # of the entry header
    stored_len: int
    raw_len: int
    crc: int  # crc32 of the stored bytes, as the pack's entry header says (0: not read yet)

    def __init__(self, id: bytes, kind: int, codec: int, offset: int, stored_len: int, raw_len: int,
                 crc: int = 0) -> None:
        put = object.__setattr__
        put(self, "id", id)
        put(self, "kind", kind)
        put(self, "codec", codec)
        put(self, "offset", offset)
        put(self, "stored_len", stored_len)
        put(self, "raw_len", raw_len)
        put(self, "crc", crc)

    @property
    def end(self) -> int:
        return self.offset + ENTRY_SIZE + self.stored_len


def entry_header(oid: bytes, kind: int, codec: int, raw_len: int, stored: bytes | memoryview) -> bytes:
    """The 56-byte header of an entry holding ``stored``."""
    head = ENTRY.pack(oid, kind, codec, 0, raw_len, len(stored), crc32(stored))
    return head + struct.pack("<I", crc32(head))


def encode_entry(oid: bytes, kind: int, codec: int, raw_len: int, stored: bytes) -> bytes:
    """Header + data of one entry, ready to append."""
    return entry_header(oid, kind, codec, raw_len, stored) + stored


def decode_entry_header(buf: bytes | memoryview, offset: int) -> Entry:
    """Parse and check a 56-byte entry header found at ``offset``."""
    if len(buf) < ENTRY_SIZE:
        raise CorruptObject(f"truncated pack entry at offset {offset}")
    head = buf[: ENTRY.size]
    (crc,) = struct.unpack_from("<I", buf, ENTRY.size)
    if crc32(head) != crc:
        raise CorruptObject(f"damaged pack entry header at offset {offset}")
    oid, kind, codec, _, raw_len, stored_len, data_crc = ENTRY.unpack(head)
    return Entry(oid, kind, codec, offset, stored_len, raw_len, data_crc)


def check_stored(head: Entry, stored: bytes | memoryview, where: str) -> None:
    """``stored`` must have the length and CRC its (already checked) header says: the local read's
    proof against bit rot and torn writes."""
    if len(stored) != head.stored_len or crc32(stored) != head.crc:
        raise CorruptObject(f"{where}: object {head.id.hex()[:12]} at {head.offset} is damaged; "
                            "run `git mlv fsck`")


def same_object(a: Entry, b: Entry) -> bool:
    """True when two entries describe the same stored object (id, kind, codec, lengths)."""
    return (a.id, a.kind, a.codec, a.stored_len, a.raw_len) == (
        b.id, b.kind, b.codec, b.stored_len, b.raw_len)


class PackWriter:
    """Appends entries to a new pack file; ``finish`` writes the trailer and fsyncs.

    The pack is created under a temporary name, locked (``lock_fd``, an flock that outlives the
    file's own descriptor until the owner releases it), and only then renamed to ``path``: another
    process never sees a ``.pack`` without an index that is not locked by a live writer, so it never
    mistakes a pack being born for a crash's leftover.

    Each entry is written whole with ``pwrite`` at once (no user-space buffer): when a write fails
    (a full disk) the file is cut back to the last whole entry and nothing is recorded, so the pack
    stays a sequence of whole entries and the writer's view matches the disk.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        tmp = path + ".new"
        with writing(path, HEADER.size):
            self._fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                if _shared_modes():
                    fix_mode(self._fd)
                self.lock_fd = os.dup(self._fd)
                fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
                write_all(self._fd, HEADER.pack(MAGIC, VERSION, 0), 0)
                os.rename(tmp, path)
            except BaseException:
                os.close(self._fd)
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        self.size = HEADER.size
        self.entries: list[Entry] = []
        self.finished = False

    def _write_at_end(self, data: bytes | memoryview, *more: bytes | memoryview) -> None:
        try:
            write_all(self._fd, data, self.size, *more)
        except OSError as e:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self.size)  # drop the partial entry (frees space, too)
            err = fs_error(e, self.path, len(data) + sum(len(m) for m in more))
            if err is None:
                raise
            raise err from None

    def append(self, oid: bytes, kind: int, codec: int, raw_len: int, stored: bytes | memoryview) -> Entry:
        """Append one object; returns where it went."""
        head = entry_header(oid, kind, codec, raw_len, stored)
        return self.append_many([(oid, kind, codec, raw_len, stored, head)])[0]

    def append_many(self, items: Sequence[Encoded]) -> list[Entry]:
        """Append objects whose headers ``entry_header`` made (perhaps on another thread) with one
        ``pwritev``; returns where they went. All or nothing: a failed write is cut back whole."""
        views: list[bytes | memoryview] = []
        entries: list[Entry] = []
        pos = self.size
        for oid, kind, codec, raw_len, stored, head in items:
            entry = Entry(oid, kind, codec, pos, len(stored), raw_len)
            views += (head, stored)
            entries.append(entry)
            pos = entry.end
        if views:
            self._write_at_end(*views)
        self.size = pos
        self.entries += entries
        return entries

    def append_encoded(self, entry: Entry, data: bytes | memoryview) -> Entry:
        """Append an entry copied verbatim from another pack (``data``: its header and stored bytes,
        already checked); returns where it went."""
        moved = Entry(entry.id, entry.kind, entry.codec, self.size, entry.stored_len, entry.raw_len)
        self._write_at_end(data)
        self.size = moved.end
        self.entries.append(moved)
        return moved

    def flush(self) -> None:
        """Nothing to do: every entry is in the OS (readable by other processes) once appended."""

    def finish(self) -> None:
        """Write the trailer and make the pack durable (again harmless: a retry after a failure)."""
        if self.finished:
            return
        self._write_at_end(TRAILER.pack(END_MAGIC, len(self.entries)))
        with writing(self.path):
            os.fsync(self._fd)
        os.close(self._fd)
        self.finished = True

    def abort(self) -> None:
        """Close and delete an unfinished pack."""
        if not self.finished:
            os.close(self._fd)
            self.finished = True
        os.unlink(self.path)


def read_header(f: BinaryIO, path: str) -> None:
    """Check a pack's magic and version."""
    head = f.read(HEADER.size)
    if len(head) < HEADER.size:
        raise CorruptObject(f"{path}: truncated pack header")
    magic, version, _ = HEADER.unpack(head)
    if magic != MAGIC:
        raise CorruptObject(f"{path}: not a git-mlv pack")
    if version not in SUPPORTED_VERSIONS:
        raise UnsupportedPack(unsupported(path, version))


def unsupported(path: str, version: int) -> str:
    """The one line that refuses a pack of another version."""
    if version < VERSION:
        return (f"{path}: pack version {version} was written by an older git-mlv, which this one no "
                f"longer reads (it reads version {VERSION}); fetch the data again into a new clone")
    return f"{path}: pack version {version} is not supported; upgrade git-mlv"


def scan(path: str, start: int = 0, verify: bool = False) -> tuple[list[Entry], int, bool]:
    """Entries of a pack read from its headers: (entries, end of the last whole entry, has trailer).

    ``start`` (an entry boundary a previous scan returned) resumes a scan of a pack still growing.
    ``verify`` also checks each entry's stored bytes against its CRC and stops at the first that
    fails (repairing a crash's leftover: a torn write may have left a header without its data).
    """
    entries: list[Entry] = []
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        read_header(f, path)
        pos = max(start, HEADER.size)
        while pos + ENTRY_SIZE <= size:
            f.seek(pos)
            buf = f.read(ENTRY_SIZE)
            if buf[:8] == END_MAGIC and pos + TRAILER.size == size:
                return entries, pos, True
            try:
                entry = decode_entry_header(buf, pos)
            except CorruptObject:
                break
            if entry.end > size:
                break
            if verify:
                try:
                    check_stored(entry, f.read(entry.stored_len), path)
                except CorruptObject:
                    break
            entries.append(entry)
            pos = entry.end
        if pos + TRAILER.size == size:
            f.seek(pos)
            if f.read(8) == END_MAGIC:
                return entries, pos, True
    return entries, pos, False


def iter_stored(path: str, entries: list[Entry]) -> Iterator[tuple[Entry, bytes]]:
    """(entry, stored bytes) for each entry, reading the pack in order."""
    with open(path, "rb") as f:
        for entry in entries:
            f.seek(entry.offset + ENTRY_SIZE)
            yield entry, f.read(entry.stored_len)
