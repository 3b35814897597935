"""Stat cache: remember the sha256 of files by (path, size, mtime_ns, inode) so that an unchanged big
file is not read again by every ``git mlv repro``.

Kept in ``<mlv_dir>/statcache`` (sqlite3: atomic, safe with several processes; it is only a cache, so
a damaged file is deleted and rebuilt). Racy entries are not trusted: a file modified within
``RACY_NS`` of the moment it was hashed could change again without its mtime moving (coarse
file-system clocks), so such an entry is hashed again next time, as git does with its index.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time

from ..core.fsutil import makedirs

_FOLDERS = 8  # folders whose rows ``preload`` keeps
RACY_NS = 2_000_000_000  # 2 s: covers file systems with 1-2 s timestamps (FAT, HFS+, ext3)


class StatCache:
    """Path -> oid (``<oid> <size>`` for a pointer), valid while (size, mtime_ns, inode) are
    unchanged."""

    def __init__(self, mlv_dir: str) -> None:
        self.path = os.path.join(mlv_dir, "statcache")
        self._db: sqlite3.Connection | None = None
        self._pending: dict[str, tuple[int, int, int, str, int]] = {}
        # folder -> its files' rows, read by ``preload`` (the last few folders: stages checked on
        # other threads walk their own)
        self._known: dict[str, dict[str, tuple[int, int, int, str, int]]] = {}
        self._lock = threading.Lock()
        self._mlv_dir = mlv_dir

    def _conn(self) -> sqlite3.Connection | None:
        if self._db is None:
            if not os.path.isdir(self._mlv_dir):
                return None
            try:
                self._db = self._open()
            except sqlite3.DatabaseError:  # damaged: it is only a cache
                os.unlink(self.path)
                self._db = self._open()
        return self._db

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10, check_same_thread=False, isolation_level=None)
        db.execute(
            # files2: a pointer's entry is "<oid> <size>" since the size is its data's; the entries
            # of table files took the pointer file's own size, and are left unread
            "CREATE TABLE IF NOT EXISTS files2 (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
            " ino INTEGER, oid TEXT, checked_ns INTEGER)"
        )
        return db

    def get(self, path: str, st: os.stat_result) -> str | None:
        """The cached oid of ``path`` if its stat still matches and the entry is not racy."""
        with self._lock:
            row = self._pending.get(path)
            known = self._known.get(os.path.dirname(path)) if row is None else None
            if known is not None:
                row = known.get(path)
            elif row is None:
                db = self._conn()
                if db is None:
                    return None
                try:
                    row = db.execute(
                        "SELECT size, mtime_ns, ino, oid, checked_ns FROM files2 WHERE path = ?", (path,)
                    ).fetchone()
                except sqlite3.DatabaseError:
                    return None
        if row is None:
            return None
        size, mtime_ns, ino, oid, checked_ns = row
        if (size, mtime_ns, ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
            return None
        if st.st_mtime_ns + RACY_NS > checked_ns:
            return None
        return str(oid)

    def preload(self, folder: str) -> None:
        """Read the entries of the files directly in ``folder`` (absolute) with one query; ``get``
        answers for them from memory. A directory dependency's walk asks about every file: one
        query each made `git mlv repro` of a stage depending on 100,000 unchanged files take ~8 s.
        Memory holds the last _FOLDERS folders' rows only."""
        with self._lock:
            db = self._conn()
            if db is None:
                return
            prefix = folder.rstrip(os.sep) + os.sep
            try:
                rows = db.execute(
                    "SELECT path, size, mtime_ns, ino, oid, checked_ns FROM files2 WHERE path >= ? AND "
                    "path < ? AND instr(substr(path, ?), ?) = 0",
                    (prefix, prefix[:-1] + chr(ord(os.sep) + 1), len(prefix) + 1, os.sep)).fetchall()
            except sqlite3.DatabaseError:
                return
            if len(self._known) >= _FOLDERS:
                del self._known[next(iter(self._known))]
            self._known[prefix[:-1]] = {r[0]: r[1:] for r in rows}

    def put(self, path: str, st: os.stat_result, oid: str, checked_ns: int | None = None) -> None:
        """Remember that ``path`` with stat ``st`` hashed to ``oid`` (written on ``flush``);
        ``checked_ns`` is when ``st`` was taken (default: now)."""
        when = time.time_ns() if checked_ns is None else checked_ns
        with self._lock:
            self._pending[path] = (st.st_size, st.st_mtime_ns, st.st_ino, oid, when)

    def flush(self) -> None:
        """Write remembered entries in one transaction."""
        with self._lock:
            if not self._pending:
                return
            db = self._conn()
            if db is None:
                makedirs(self._mlv_dir)
                db = self._conn()
            assert db is not None
            rows = [(p, *v) for p, v in self._pending.items()]
            try:
                db.execute("BEGIN IMMEDIATE")
                db.executemany("INSERT OR REPLACE INTO files2 VALUES (?, ?, ?, ?, ?, ?)", rows)
                db.execute("COMMIT")
            except sqlite3.DatabaseError:  # a cache: losing entries costs a re-hash, nothing else
                try:
                    db.execute("ROLLBACK")
                except sqlite3.DatabaseError:
                    pass
            self._pending.clear()
            self._known.clear()  # older than what was just written

    def close(self) -> None:
        """Flush and close."""
        self.flush()
        if self._db is not None:
            self._db.close()
            self._db = None
