"""One path's entry in git's index, found without parsing the others (gitformat-index(5)).

For a racily clean file's re-clean (ops/racyclean.py): the entry's stat and blob say what the file
was when git last recorded it. The file is mapped once; a lookup is one ``find`` of ``path + NUL``
(memchr speed: a 600,000-entry index is ~60 MB, a Python walk of its entries ~0.3 s) and a check
that each hit is an entry's name: an entry start at offset 12 + a multiple of 8, the flags' name
length, the NUL padding. A hit that passed those checks inside another entry's bytes would still
have to match the file's stat to the nanosecond and its inode, and the content is then verified by
sha256 (docs/formats.md#racy-clean): a misparse costs a normal clean, never a wrong answer.

Standard library only, no ``dataclasses`` (core/record.py says why): it is imported by the filter
at its first big clean. gitio/indexfile.py, which rewrites whole indexes, shares its constants.
"""

from __future__ import annotations

import mmap
import os
import struct

from ..core.record import Record
from ..errors import MlvError

_HEADER = struct.Struct(">4sLL")
_STAT = struct.Struct(">10L")  # ctime s, ns, mtime s, ns, dev, ino, mode, uid, gid, size
_FLAG_EXTENDED = 0x4000
_FLAG_ASSUME_VALID = 0x8000
_EXT_SKIP_WORKTREE = 0x4000  # in the extended flags (version 3)


class IndexFormatError(MlvError):
    """An index this code will not read or rewrite (the caller uses git instead)."""


class IndexEntry(Record):
    """What one entry says: the ten stat words, the blob id, the flags."""

    __slots__ = ("stat", "oid", "flags", "ext_flags")
    stat: tuple[int, ...]
    oid: bytes
    flags: int
    ext_flags: int

    def __init__(self, stat: tuple[int, ...], oid: bytes, flags: int, ext_flags: int) -> None:
        object.__setattr__(self, "stat", stat)
        object.__setattr__(self, "oid", oid)
        object.__setattr__(self, "flags", flags)
        object.__setattr__(self, "ext_flags", ext_flags)

    @property
    def stage(self) -> int:
        """0, or 1-3 for the sides of a conflict."""
        return (self.flags >> 12) & 3

    @property
    def skips_worktree(self) -> bool:
        """True when git does not look at the entry's file (assume-valid or skip-worktree)."""
        return bool(self.flags & _FLAG_ASSUME_VALID or self.ext_flags & _EXT_SKIP_WORKTREE)


class EntryFinder:
    """A mapped index (version 2 or 3) in which single paths are looked up."""

    def __init__(self, path: str, hash_size: int = 20) -> None:
        with open(path, "rb") as f:
            if os.fstat(f.fileno()).st_size < _HEADER.size + hash_size:
                raise IndexFormatError("the index is truncated")
            self._data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        sig, version, _ = _HEADER.unpack_from(self._data)
        if sig != b"DIRC" or version not in (2, 3):
            self._data.close()
            raise IndexFormatError(f"index version {version} is not handled here")
        self._flags_at = 40 + hash_size  # ten stat words, then the object id, then the flags
        self._hash_size = hash_size

    def close(self) -> None:
        """Unmap the file."""
        self._data.close()

    def stage0(self, path: bytes) -> IndexEntry | None:
        """The stage-0 entry of ``path``; None when there is none, or the path is conflicted."""
        needle = path + b"\0"
        found: list[IndexEntry] = []
        pos = _HEADER.size
        while True:
            c = self._data.find(needle, pos)
            if c < 0:
                break
            pos = c + 1
            e = self._entry_named_at(c, path)
            if e is not None:
                found.append(e)
        if len(found) != 1 or found[0].stage != 0:
            return None
        return found[0]

    def _entry_named_at(self, name_at: int, path: bytes) -> IndexEntry | None:
        data = self._data
        for extended in (False, True):
            flags_pos = name_at - (4 if extended else 2)
            start = flags_pos - self._flags_at
            if start < _HEADER.size or (start - _HEADER.size) % 8:
                continue  # every entry is a multiple of 8 bytes, the first at offset 12
            (flags,) = struct.unpack_from(">H", data, flags_pos)
            if bool(flags & _FLAG_EXTENDED) != extended or flags & 0xFFF != min(len(path), 0xFFF):
                continue
            end = name_at + len(path)
            padded = start + ((end - start + 8) & ~7)
            if padded > len(data) or data[end:padded].strip(b"\0"):
                continue
            ext = struct.unpack_from(">H", data, name_at - 2)[0] if extended else 0
            oid = data[start + 40:start + 40 + self._hash_size]
            return IndexEntry(_STAT.unpack_from(data, start), oid, flags, ext)
        return None
