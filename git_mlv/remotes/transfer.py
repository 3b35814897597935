"""Moving objects between the local pool and a remote: retries, parallelism, and push (fetch is in
remotes/fetch.py).

Push: the objects the remote lacks (known from its cached indexes, remotes/cache.py) are copied into
new packs of ``pack_size`` bytes, reusing the stored (compressed) bytes of the local packs verbatim:
a run of adjacent local entries is one read, nothing is recompressed. Each pack is uploaded, then
its index: the index is the commit point, so an interrupted push leaves at worst packs without an
index, which readers ignore and the next push from this clone deletes. Manifests go into the last
pack, uploaded after every other pack is indexed: a manifest on the remote implies its chunks are.

Retries live here, not in backends: a ``RemoteError`` with ``retryable`` set is retried with
exponential backoff and jitter; anything else fails at once.
"""

from __future__ import annotations

import os
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np

from ..core import idarray as ida
from ..core import index as idx
from ..core.pack import (
    END_MAGIC,
    ENTRY_SIZE,
    HEADER,
    MAGIC,
    TRAILER,
    VERSION,
    Entry,
    decode_entry_header,
)
from ..core.pool import Location, Pool
from ..errors import CorruptObject
from . import pushplan
from .base import FileSlice, Part, Remote, RemoteError, size_of
from .cache import RemoteIndex

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int], None]

# Packs being assembled or uploaded at once are held in memory: cap that total.
MAX_IN_FLIGHT = 256 * 1024 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry a retryable remote error."""

    attempts: int = 5
    base_delay: float = 0.25
    max_delay: float = 8.0

    def run(self, fn: Callable[[], T]) -> T:
        """Call ``fn``, retrying retryable ``RemoteError``s with exponential backoff and jitter."""
        for attempt in range(1, max(1, self.attempts) + 1):
            try:
                return fn()
            except RemoteError as e:
                if not e.retryable or attempt >= self.attempts:
                    raise
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                time.sleep(delay * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")


def parallel(fn: Callable[[T], R], items: Iterable[T], workers: int) -> Iterator[R]:
    """``fn`` over ``items`` on ``workers`` threads, results in order, at most 2 x workers ahead."""
    if workers <= 1:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(workers) as ex:
        window: deque[Future[R]] = deque()
        try:
            for item in items:
                window.append(ex.submit(fn, item))
                if len(window) >= 2 * workers:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for fut in window:
                fut.cancel()


class ProgressCounter:
    """A thread-safe (done, total) that feeds a progress callback."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self.progress = 0, total, progress
        self._lock = threading.Lock()

    def add(self, n: int) -> None:
        with self._lock:
            self.done += n
            if self.progress is not None:
                self.progress(self.done, self.total)


# ------------------------------------------------------------------------------------------------
# push
# ------------------------------------------------------------------------------------------------
@dataclass
class PushStats:
    """What a push did."""

    files: int = 0  # files whose data the remote now has
    objects: int = 0  # objects uploaded
    packs: int = 0
    bytes_sent: int = 0  # pack and index bytes uploaded
    missing_locally: list[str] = field(default_factory=list)  # file oids neither here nor there


def _plan_packs(locs: list[Location], pack_size: int) -> list[list[Location]]:
    """Cut chunk locations (sorted by local pack and offset) into remote packs of ~pack_size
    (remotes/merge.py: a merge of small packs; a push plans with remotes/pushplan.py)."""
    packs: list[list[Location]] = []
    cur: list[Location] = []
    size = HEADER.size
    for loc in locs:
        n = ENTRY_SIZE + loc.entry.stored_len
        if cur and size + n > pack_size:
            packs.append(cur)
            cur, size = [], HEADER.size
        cur.append(loc)
        size += n
    if cur:
        packs.append(cur)
    return packs


def _assemble(locs: list[Location]) -> tuple[list[Part], list[Entry]]:
    """A pack of these objects as parts: header, runs of adjacent local entries as file slices
    (their entry headers checked here; the bytes are read only when sent), trailer."""
    parts: list[Part] = [HEADER.pack(MAGIC, VERSION, 0)]
    size = HEADER.size
    entries: list[Entry] = []
    fds: dict[str, int] = {}
    try:
        i = 0
        while i < len(locs):
            j = i + 1
            while (j < len(locs) and locs[j].pack == locs[i].pack
                   and locs[j].entry.offset == locs[j - 1].entry.end):
                j += 1
            first, last = locs[i].entry, locs[j - 1].entry
            fd = fds.get(locs[i].pack)
            if fd is None:
                fd = fds[locs[i].pack] = os.open(locs[i].pack, os.O_RDONLY)
            for loc in locs[i:j]:
                e = loc.entry
                head = decode_entry_header(os.pread(fd, ENTRY_SIZE, e.offset), e.offset)
                if head.id != e.id or head.kind != e.kind or head.stored_len != e.stored_len:
                    raise CorruptObject(f"{loc.pack}: entry at {e.offset} is damaged; run `git mlv fsck`")
                entries.append(Entry(e.id, e.kind, e.codec, size + e.offset - first.offset,
                                     e.stored_len, e.raw_len))
            parts.append(FileSlice(locs[i].pack, first.offset, last.end - first.offset))
            size += last.end - first.offset
            i = j
    finally:
        for fd in fds.values():
            os.close(fd)
    parts.append(TRAILER.pack(END_MAGIC, len(entries)))
    return parts, entries


def push_objects(pool: Pool, remote: Remote, rindex: RemoteIndex, oids: Iterable[str] | np.ndarray,
                 pack_size: int, retry: RetryPolicy, progress: Progress | None = None,
                 after: Iterable[tuple[str, bytes]] = ()) -> PushStats:
    """Upload what the remote lacks of files ``oids`` (hex ids, or an ``S32`` array of raw ids),
    then the small objects ``after`` (run-cache). Memory follows a pack, not the push
    (remotes/pushplan.py)."""
    ids = ida.ids_of(oids)
    _collect_orphans(remote, rindex, retry)
    keys, missing = pushplan.needed_keys(pool, rindex, ids)
    stats = PushStats(files=len(ids) - len(missing), missing_locally=ida.hexes(missing))
    plan = pushplan.plan_packs(pool, keys, pack_size)
    del keys
    counter = ProgressCounter(plan.total, progress)
    lock = threading.Lock()
    started = rindex.pending()

    def upload(i: int) -> None:
        data, entries = _assemble(plan.locations(pool, i))
        name = f"packs/pack-{secrets.token_hex(16)}"
        with lock:
            started.add(name + ".pack")
            rindex.set_pending(started)
        index_bytes = idx.encode(entries)
        retry.run(lambda: remote.put(name + ".pack", data))
        retry.run(lambda: remote.put(name + ".idx", index_bytes))  # the commit point
        rindex.add(name + ".pack", index_bytes)
        with lock:
            started.discard(name + ".pack")
            rindex.set_pending(started)
            stats.packs += 1
            stats.objects += len(entries)
            stats.bytes_sent += size_of(data) + len(index_bytes)
        counter.add(sum(ENTRY_SIZE + e.stored_len for e in entries))

    workers = max(1, min(remote.parallelism, MAX_IN_FLIGHT // max(pack_size, 1)))
    for _ in parallel(upload, range(len(plan) - 1), workers):
        pass
    if len(plan):
        upload(len(plan) - 1)
    for name, data in after:
        retry.run(lambda n=name, d=data: remote.put(n, d))  # type: ignore[misc]
        stats.bytes_sent += len(data)
    return stats


def _collect_orphans(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy) -> None:
    """Delete packs an earlier push from this clone uploaded but never indexed."""
    pending = rindex.pending()
    if not pending:
        return
    rindex.refresh()
    left = set()
    for name in pending:
        if rindex.committed(name):
            continue  # its index made it after all (it may be covered by a midx by now)
        try:
            retry.run(lambda n=name: remote.delete(n))  # type: ignore[misc]
        except RemoteError:
            left.add(name)
    rindex.set_pending(left)
