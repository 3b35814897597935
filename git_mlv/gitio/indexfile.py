"""Editing git's index file directly, for the few entries a migration changes (gitformat-index(5)).

Why: after a migration moves the checked-out branch, thousands of index entries name new blobs
(pointers) for files whose bytes did not change. ``git update-index --index-info`` drops their stat
data, and git then re-reads every one of those files through the clean filter: at the benchmark's
scale 1 that re-read cost 17-22 s of a 50-77 s migration. Git's own invariant lets us keep the stat
data instead: an entry whose stat matches its file says "this file cleans to this blob"; the file
is unchanged and cleans, under the new attributes, to the new pointer. A new entry (a DVC output git
never tracked) gets the stat of a file whose sha256 was just checked against its pointer.

Only what this module fully understands is rewritten: index versions 2 and 3 with SHA-1 ids, whose
extensions are either optional caches (dropped: git rebuilds them) or resolve-undo (kept). Anything
else (version 4, a split or sparse index) makes ``IndexFormatError``; the caller then falls back to
``update-index``. The file is written the way git writes it: ``index.lock`` created exclusively,
fsynced, renamed over ``index``; the trailing SHA-1 covers the whole content.
"""

from __future__ import annotations

import hashlib
import os
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import MlvError
from .indexentry import _FLAG_ASSUME_VALID, _FLAG_EXTENDED, _HEADER, _STAT, IndexFormatError

_KEEP_EXTENSIONS = {b"REUC"}  # resolve-undo: state only git has; every other optional one is a cache


@dataclass
class Entry:
    """One index entry: stat fields, blob id, flags, path."""

    stat: tuple[int, ...]  # the ten 32-bit stat words
    oid: bytes  # 20 bytes
    flags: int
    ext_flags: int | None
    path: bytes

    @property
    def stage(self) -> int:
        return (self.flags >> 12) & 3

    def encode(self) -> bytes:
        flags = (self.flags & 0xF000) | min(len(self.path), 0xFFF)
        head = _STAT.pack(*self.stat) + self.oid + struct.pack(">H", flags)
        if flags & _FLAG_EXTENDED:
            head += struct.pack(">H", self.ext_flags or 0)
        body = head + self.path
        return body + b"\0" * (8 - len(body) % 8)  # 1-8 NULs: NUL-terminated, a multiple of 8


def stat_words(st: os.stat_result, mode: int, racy: bool = False) -> tuple[int, ...]:
    """The ten stat words git records for a file (size 0 when racy: git then looks at the content)."""
    m32 = 0xFFFFFFFF
    return (int(st.st_ctime) & m32, st.st_ctime_ns % 1_000_000_000, int(st.st_mtime) & m32,
            st.st_mtime_ns % 1_000_000_000, st.st_dev & m32, st.st_ino & m32, mode, st.st_uid & m32,
            st.st_gid & m32, 0 if racy else st.st_size & m32)


class Index:
    """A parsed index: entries in order, the extensions to write back, its mtime."""

    def __init__(self, path: str) -> None:
        self.path = path
        with open(path, "rb") as f:
            data = f.read()
            self.mtime_ns = os.fstat(f.fileno()).st_mtime_ns
        if len(data) < _HEADER.size + 20 or hashlib.sha1(data[:-20]).digest() != data[-20:]:
            raise IndexFormatError("the index checksum does not match")
        sig, self.version, count = _HEADER.unpack_from(data)
        if sig != b"DIRC" or self.version not in (2, 3):
            raise IndexFormatError(f"index version {self.version} is not handled here")
        pos = _HEADER.size
        self.entries: list[Entry] = []
        for _ in range(count):
            stat = _STAT.unpack_from(data, pos)
            oid = data[pos + 40:pos + 60]
            (flags,) = struct.unpack_from(">H", data, pos + 60)
            p = pos + 62
            ext = None
            if flags & _FLAG_EXTENDED:
                (ext,) = struct.unpack_from(">H", data, p)
                p += 2
            end = data.index(b"\0", p)
            self.entries.append(Entry(stat, oid, flags, ext, data[p:end]))
            pos += ((p - pos) + (end - p) + 8) & ~7  # fixed part + name + 1-8 NULs, a multiple of 8
        self.extensions: list[bytes] = []
        while pos < len(data) - 20:
            sig = data[pos:pos + 4]
            (size,) = struct.unpack_from(">L", data, pos + 4)
            if not 65 <= sig[0] <= 90:  # a lowercase first letter: required, and not ours to drop
                raise IndexFormatError(f"the index has a {sig.decode(errors='replace')!r} extension")
            if sig in _KEEP_EXTENSIONS:
                self.extensions.append(data[pos:pos + 8 + size])
            pos += 8 + size

    def encode(self) -> bytes:
        """The whole file, checksum included."""
        self.entries.sort(key=lambda e: (e.path, e.stage))
        version = 3 if any(e.flags & _FLAG_EXTENDED for e in self.entries) else 2
        body = _HEADER.pack(b"DIRC", version, len(self.entries))
        body += b"".join(e.encode() for e in self.entries) + b"".join(self.extensions)
        return body + hashlib.sha1(body).digest()

    def write(self) -> None:
        """Replace the index the way git does (``index.lock``, fsync, rename)."""
        lock = self.path + ".lock"
        try:
            fd = os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            raise MlvError(f"{lock} exists: another git process is running (remove it if not)") from None
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(self.encode())
                f.flush()
                os.fsync(f.fileno())
            os.replace(lock, self.path)
        except BaseException:
            if os.path.exists(lock):
                os.unlink(lock)
            raise


@dataclass
class Update:
    """What to do to one path's stage-0 entry: new blob and mode, and where its stat comes from."""

    path: bytes
    oid: str  # 40 hex, or "" to remove the entry
    mode: int = 0o100644
    keep_stat: bool = True  # keep the entry's stat (the file did not change); else ``stat`` below
    stat: tuple[int, ...] | None = None  # for a new entry; None: all zero, git will look at the file


def apply(path: str, updates: Iterable[Update]) -> None:
    """Apply ``updates`` to the index at ``path`` and write it back."""
    index = Index(path)
    by_path = {e.path: e for e in index.entries if e.stage == 0}
    conflicted = {e.path for e in index.entries if e.stage != 0}
    drop: set[bytes] = set()
    for u in updates:
        if u.path in conflicted:
            continue  # an unresolved conflict stays the user's
        e = by_path.get(u.path)
        if not u.oid:
            if e is not None:
                drop.add(u.path)
            continue
        racy_words = None
        if e is not None and u.keep_stat:
            words = list(e.stat)
            words[6] = u.mode
            if (words[2] * 1_000_000_000 + words[3]) >= index.mtime_ns:
                words[9] = 0  # racily clean: git checks the content again (as git itself marks it)
            racy_words = tuple(words)
        stat = racy_words or u.stat or (0, 0, 0, 0, 0, 0, u.mode, 0, 0, 0)
        if e is None:
            e = Entry(stat, bytes.fromhex(u.oid), 0, None, u.path)
            index.entries.append(e)
            by_path[u.path] = e
        else:
            e.stat, e.oid = stat, bytes.fromhex(u.oid)
            e.flags &= ~_FLAG_ASSUME_VALID  # assume-valid off: the entry changed
    index.entries = [e for e in index.entries if not (e.stage == 0 and e.path in drop)]
    index.write()
