"""The run-cache: (command, dep oids, param values) -> the outputs a successful run produced.

Format (a contract with the remotes code, which pushes and fetches it with the data):

- **key**: sha256 hex of the canonical JSON (sorted keys, no spaces, UTF-8) of
  ``{"cmd": CMD, "deps": {PATH: OID}, "params": {"FILE:KEY": VALUE}}`` plus ``"wdir": DIR`` when the
  stage has one. Paths are root-relative with ``/``; a directory dep's oid is its listing's oid.
- **local entry file**: ``<mlv_dir>/runcache/<key>``, content ``<entry oid hex>\\n``, written atomically.
  One key keeps its latest entry.
- **entry**: a pool file (stored like any data) whose content is the canonical JSON
  ``{"cmd": ..., "deps": {...}, "params": {...}, "outs": {PATH: {"oid": HEX, "size": N}}}``; an output
  that is a directory has ``"dir": true`` and its oid is the pool file of its listing
  (``fingerprint.encode_listing``), whose lines name the oid of every file inside.

- **time**: the key file's modification time (recorded, last restored from, or for a key fetched from
  a remote the remote object's time); gc, fetch and push keep only keys of the last
  ``mlv.gcRunCacheDays`` days (docs/pipelines.md "Retention").

A hit restores the outputs from the pool instead of running the command. An output that is not
cached (``outnocache``: not routed through the filter) is stored in the pool all the same, for this:
its entry restores it with the rest, as DVC's run-cache restores its ``cache: false`` outputs.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core import settings
from ..core.fsutil import atomic_write, makedirs
from ..core.hashing import is_oid
from ..errors import MlvError
from .fingerprint import decode_listing
from .lock import canonical_json

if TYPE_CHECKING:
    from ..core.pool import Pool

_KEY = re.compile(r"[0-9a-f]{64}\Z")
DAY = 86400.0


def retention_days(config: Mapping[str, str]) -> float:
    """``mlv.gcRunCacheDays`` (default 90): entries recorded or used this recently are kept."""
    return settings.days(config, "mlv.gcRunCacheDays", 90)


def is_recent(mtime: float, days: float, now: float | None = None) -> bool:
    """Whether a key of time ``mtime`` is within ``days`` of ``now``."""
    return mtime >= (time.time() if now is None else now) - days * DAY


def make_key(cmd: str, deps: dict[str, str], params: dict[str, Any], wdir: str = "") -> str:
    """The run-cache key of a run."""
    doc: dict[str, Any] = {"cmd": cmd, "deps": deps, "params": params}
    if wdir:
        doc["wdir"] = wdir
    return hashlib.sha256(canonical_json(doc).encode("utf-8")).hexdigest()


class RunCache:
    """Run-cache entries of one pool: key files under ``<mlv_dir>/runcache``, entries in the pool."""

    def __init__(self, pool: Pool, mlv_dir: str) -> None:
        self.pool = pool
        self.dir = os.path.join(mlv_dir, "runcache")

    def entry_oid(self, key: str) -> str | None:
        """The pool oid of the entry recorded for ``key`` (None when there is none)."""
        try:
            with open(os.path.join(self.dir, key), encoding="ascii") as f:
                oid = f.read().strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return oid if is_oid(oid) else None

    _entry_oid = entry_oid  # the name ops/sync.py first used

    def lookup(self, key: str) -> dict[str, Any] | None:
        """The entry recorded for ``key``, or None (also when its data is not in the pool)."""
        oid = self.entry_oid(key)
        if oid is None or not self.pool.has_file(oid, refresh=True):
            return None
        try:
            entry = json.loads(b"".join(self.pool.iter_file(oid)))
        except (ValueError, MlvError):
            return None
        return entry if isinstance(entry, dict) and isinstance(entry.get("outs"), dict) else None

    def record(self, key: str, entry: dict[str, Any]) -> str:
        """Store ``entry`` in the pool and point ``key`` at it; returns the entry's oid."""
        if not _KEY.match(key):
            raise ValueError(f"bad run-cache key {key!r}")
        ptr = self.pool.writer().add_bytes(canonical_json(entry).encode("utf-8"))
        makedirs(self.dir)
        atomic_write(os.path.join(self.dir, key), f"{ptr.oid}\n".encode("ascii"))
        return ptr.oid

    def touch(self, key: str) -> None:
        """Mark ``key`` used now (a restore from it): gc keeps entries in use."""
        try:
            os.utime(os.path.join(self.dir, key))
        except OSError:
            pass  # gone meanwhile, or a pool we may only read: it keeps its older time

    def split(self, days: float, now: float | None = None) -> tuple[list[str], list[str]]:
        """The keys of the last ``days`` days and the older ones, each sorted."""
        recent: list[str] = []
        old: list[str] = []
        for key in self.keys():
            try:
                mtime = os.stat(os.path.join(self.dir, key)).st_mtime
            except FileNotFoundError:
                continue
            (recent if is_recent(mtime, days, now) else old).append(key)
        return recent, old

    def drop(self, keys: list[str]) -> None:
        """Delete the key files ``keys`` (their entries stay in the pool until gc finds them dead)."""
        for key in keys:
            try:
                os.unlink(os.path.join(self.dir, key))
            except FileNotFoundError:
                pass

    def keys(self) -> list[str]:
        """Every local key, sorted."""
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return []
        return sorted(n for n in names if _KEY.match(n))

    def entry_oids(self) -> set[str]:
        """The pool oids of every local entry."""
        return {oid for k in self.keys() if (oid := self.entry_oid(k))}


def out_oids(pool: Pool, entry: dict[str, Any]) -> set[str]:
    """Oids an entry's outputs need: each file, and for a directory its listing and every file in it
    (when the listing is in the pool)."""
    oids: set[str] = set()
    for out in entry.get("outs", {}).values():
        oid = out.get("oid") if isinstance(out, dict) else None
        if not isinstance(oid, str) or not is_oid(oid):
            continue
        oids.add(oid)
        if out.get("dir") and pool.has_file(oid):
            oids |= {o for _, o, _ in decode_listing(b"".join(pool.iter_file(oid)))}
    return oids


def live_oids(pool: Pool, mlv_dir: str, days: float = math.inf) -> set[str]:
    """Every pool file the local run-cache keeps alive: the entries of the last ``days`` days and
    their outputs (for gc)."""
    rc = RunCache(pool, mlv_dir)
    live: set[str] = set()
    for key in rc.split(days)[0]:
        oid = rc.entry_oid(key)
        if oid is None:
            continue
        live.add(oid)
        entry = rc.lookup(key)
        if entry is not None:
            live |= out_oids(pool, entry)
    return live


def outputs_size(rc: RunCache, keys: list[str]) -> int:
    """The bytes of the outputs of the entries ``keys`` whose entry is here (as recorded)."""
    total = 0
    for key in keys:
        entry = rc.lookup(key)
        for out in (entry or {}).get("outs", {}).values():
            size = out.get("size") if isinstance(out, dict) else None
            total += size if isinstance(size, int) else 0
    return total
