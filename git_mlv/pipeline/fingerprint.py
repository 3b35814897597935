"""Content ids of deps and outs in the work tree: files and directories.

A file's oid is the sha256 of its content, the id its pointer carries; a file still in pointer form
(data not pulled) counts as the data it points to. A directory's oid is the sha256 of its *listing*:
one line ``<oid> <size> <relpath>\\n`` per file below it, sorted by relpath (``/`` separators),
``NOT_DATA_DIRS`` and ``NOT_DATA_FILES`` left out. The listing of a directory output is stored in the
pool, so the directory can be restored file by file.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator

from ..core.hashing import file_oid as hash_file  # the run cache counts its calls (tests)
from ..core.pointer import MAX_SIZE, Pointer
from ..errors import MlvError
from .lock import Record
from .statcache import StatCache

Listing = list[tuple[str, str, int]]  # (relpath, oid, size)

# What tools write into a folder by themselves, never data: Python's bytecode cache (a stage that
# imports a module of its dep folder wrote it there, so the folder "changed" after every first run,
# and every clone, which has none, found the stage stale), Jupyter's autosaves, macOS Finder's
# folder settings. Left out of directory listings, as deps and as outs.
NOT_DATA_DIRS = frozenset({"__pycache__", ".ipynb_checkpoints"})
NOT_DATA_FILES = frozenset({".DS_Store"})


def encode_listing(entries: Listing) -> bytes:
    """The canonical bytes of a directory listing."""
    return "".join(f"{oid} {size} {rel}\n" for rel, oid, size in sorted(entries)).encode("utf-8")


def decode_listing(data: bytes) -> Listing:
    """Entries of an encoded listing."""
    out: Listing = []
    for line in data.decode("utf-8").splitlines():
        oid, size, rel = line.split(" ", 2)
        out.append((rel, oid, int(size)))
    return out


class Fingerprinter:
    """Hashes work-tree paths, skipping files whose stat the cache already knows."""

    def __init__(self, top: str, cache: StatCache | None = None) -> None:
        self.top = top
        self.cache = cache
        # absolute paths of the files found in pointer form: a command must not read those
        self.pointers: set[str] = set()
        self._pointers_lock = threading.Lock()  # stages fingerprint in threads with -j

    def abspath(self, rel: str) -> str:
        """The absolute path of a root-relative path."""
        return os.path.join(self.top, *rel.split("/"))

    def file(self, path: str) -> tuple[str, int]:
        """(oid, size) of the file at absolute ``path``; for a pointer, those of the data it names.

        A pointer's size is its data's, not the ~130 bytes on disk: a directory still in pointer
        form listed those, so its oid never matched the lock and every stage using it ran again
        in a fresh clone. The cache keeps a pointer's entry as ``<oid> <size>``."""
        when = time.time_ns()  # before the stat: a write racing with our read stays racy
        st = os.stat(path)
        cached = self.cache.get(path, st) if self.cache else None
        if cached is not None:
            cached_oid, _, cached_size = cached.partition(" ")
            self._mark(path, bool(cached_size))
            return cached_oid, int(cached_size) if cached_size else st.st_size
        p = self._pointer(path, st.st_size)
        self._mark(path, p is not None)
        oid, value, size = (p.oid, f"{p.oid} {p.size}", p.size) if p else (hash_file(path), "", st.st_size)
        if self.cache:
            self.cache.put(path, st, value or oid, when)
        return oid, size

    @staticmethod
    def _pointer(path: str, size: int) -> Pointer | None:
        if size >= MAX_SIZE:
            return None
        with open(path, "rb") as f:
            return Pointer.try_parse(f.read())

    def _mark(self, path: str, is_pointer: bool) -> None:
        with self._pointers_lock:
            if is_pointer:
                self.pointers.add(path)
            else:
                self.pointers.discard(path)

    def pointers_in(self, rel: str) -> list[str]:
        """The files of path ``rel`` (a file, or a folder and everything below it) last found in
        pointer form, root-relative, sorted."""
        base = self.abspath(rel)
        with self._pointers_lock:
            found = [p for p in self.pointers if p == base or p.startswith(base + os.sep)]
        return sorted(os.path.relpath(p, self.top).replace(os.sep, "/") for p in found)

    def remember(self, path: str, oid: str) -> None:
        """Tell the cache the oid of a file we just stored (saves hashing it again)."""
        self._mark(path, False)
        if self.cache:
            self.cache.put(path, os.stat(path), oid)

    def walk(self, rel: str) -> Iterator[tuple[str, str]]:
        """(relpath inside the directory, absolute path) of every file below directory ``rel``."""
        base = self.abspath(rel)
        for d, dirs, files in os.walk(base):
            dirs[:] = sorted(x for x in dirs if x not in NOT_DATA_DIRS)
            if self.cache and files:
                self.cache.preload(d)  # one query for the folder, not one a file
            # one relpath a folder: per file, it took a third of a 100,000-file walk
            lead = os.path.relpath(d, base).replace(os.sep, "/") + "/"
            lead = "" if lead == "./" else lead
            for name in sorted(f for f in files if f not in NOT_DATA_FILES):
                full = os.path.join(d, name)
                sub = lead + name
                if "\n" in sub:
                    raise MlvError(f"{rel}/{sub!r}: file names with a newline are not supported")
                yield sub, full

    def listing(self, rel: str) -> Listing:
        """The listing of directory ``rel``."""
        out: Listing = []
        for sub, full in self.walk(rel):
            oid, size = self.file(full)
            out.append((sub, oid, size))
        return out

    def record(self, rel: str) -> Record | None:
        """The Record of a file or directory, None when it does not exist."""
        path = self.abspath(rel)
        if os.path.isdir(path):
            entries = self.listing(rel)
            return Record(hashlib.sha256(encode_listing(entries)).hexdigest(),
                          sum(e[2] for e in entries), True)
        try:
            oid, size = self.file(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return Record(oid, size)
