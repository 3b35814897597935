"""Moving objects between the local pool and a remote: retries, parallelism, and push (fetch is in
remotes/fetch.py).

Push: the objects the remote lacks (known from its cached indexes, remotes/cache.py) are copied into
new packs of ``pack_size`` bytes, reusing the stored (compressed) bytes of the local packs verbatim:
a run of adjacent local entries is one read, nothing is recompressed. Each pack is uploaded, then
its index (to a folder remote, a batch of packs is written before they are fsynced and indexed:
``Remote.stage``). The index is the commit point, so an interrupted push leaves at worst packs
without an index, which readers ignore and the next push from this clone deletes. Manifests go
into the last pack, uploaded after every other pack is indexed: a manifest on the remote implies
its chunks are.

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
from typing import NamedTuple, TypeVar

import numpy as np

from ..core import idarray as ida
from ..core import index as idx
from ..core.crashpoint import pausepoint
from ..core.pack import (
    END_MAGIC,
    ENTRY_SIZE,
    HEADER,
    MAGIC,
    TRAILER,
    VERSION,
    Entry,
    check_stored,
    decode_entry_header,
)
from ..core.pool import Location, Pool
from ..errors import CorruptObject
from . import pushplan
from .base import Data, FileSlice, Part, Remote, RemoteError, Staged, size_of
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
    names: dict[str, int] = {}
    pack_no = np.array([names.setdefault(loc.pack, len(names)) for loc in locs], dtype=np.int32)
    keys = np.array([idx.key(loc.entry.id, loc.entry.kind) for loc in locs], dtype=ida.KEY)
    sizes = np.array([ENTRY_SIZE + loc.entry.stored_len for loc in locs], dtype=np.int64)
    offsets = np.array([loc.entry.offset for loc in locs], dtype=np.int64)
    return _assemble_at(list(names), pack_no, offsets, keys, sizes)


def _assemble_at(packs: list[str], pack_no: np.ndarray, offsets: np.ndarray, keys: np.ndarray,
                 sizes: np.ndarray) -> tuple[list[Part], list[Entry]]:
    """``_assemble`` of the objects ``keys`` (``S33``) said to be at ``offsets`` of local packs
    ``packs[pack_no]`` and to take ``sizes`` bytes there (entry header + stored bytes): each entry
    is read and checked as a local read checks it (header CRC; id, kind and length as planned;
    the stored bytes against their CRC), and gives the codec and lengths the remote index records.
    A damaged entry raises CorruptObject: bit rot in this pool must not become the remote's copy,
    which every clone would then download and reject, and which a later push, finding it listed,
    would never send again (git's pack-objects checks the CRC of entries it reuses likewise).
    The bytes are read a window at a time (``_CHECK_WINDOW``) and sent later as file slices."""
    parts: list[Part] = [HEADER.pack(MAGIC, VERSION, 0)]
    size = HEADER.size
    entries: list[Entry] = []
    n = len(keys)
    ends = offsets.astype(np.int64) + sizes
    # runs of adjacent entries of one local pack: each is one slice, read once when sent
    breaks = (offsets[1:] != ends[:-1]) | (pack_no[1:] != pack_no[:-1])
    starts = [0, *(np.flatnonzero(breaks) + 1).tolist(), n] if n else [0]
    fds: dict[str, int] = {}
    raw = keys.tobytes() if n else b""
    try:
        for r in range(len(starts) - 1):
            i, j = starts[r], starts[r + 1]
            path, first, end = packs[int(pack_no[i])], int(offsets[i]), int(ends[j - 1])
            fd = fds.get(path)
            if fd is None:
                fd = fds[path] = os.open(path, os.O_RDONLY)
            for head in _checked_run(fd, path, offsets[i:j].tolist(), sizes[i:j].tolist(), raw, i):
                entries.append(Entry(head.id, head.kind, head.codec, size + head.offset - first,
                                     head.stored_len, head.raw_len))
            parts.append(FileSlice(path, first, end - first))
            size += end - first
    finally:
        for fd in fds.values():
            os.close(fd)
    parts.append(TRAILER.pack(END_MAGIC, len(entries)))
    return parts, entries


# Bytes of a run of local entries read at once to check them before a push sends them: a few
# entries at a time, however long the run (memory follows the window, not the pack). Measured on a
# 228 MB stored model (5,662 entries): 4 MiB windows checked it at 1.3 GB/s and raised a push's peak
# RSS from 42 to 65 MB; 1 MiB windows, 1.7 GB/s (reads that stay in the CPU's cache) and 50 MB.
_CHECK_WINDOW = 1 << 20


def _checked_run(fd: int, path: str, offsets: list[int], sizes: list[int], keys: bytes, first_key: int
                 ) -> Iterator[Entry]:
    """The checked header of each entry of a run (adjacent entries at ``offsets``, ``sizes`` bytes
    each, the ``first_key``-th of ``keys`` onwards), reading up to ``_CHECK_WINDOW`` bytes at once."""
    ksz = idx.KEY_SIZE
    k = 0
    while k < len(offsets):
        start, stop, span = offsets[k], k, 0
        while stop < len(offsets) and (stop == k or span + sizes[stop] <= _CHECK_WINDOW):
            span += sizes[stop]
            stop += 1
        buf = os.pread(fd, span, start)
        for m in range(k, stop):
            off, want, rel = offsets[m], sizes[m], offsets[m] - start
            key = keys[(first_key + m) * ksz:(first_key + m + 1) * ksz]
            head = decode_entry_header(memoryview(buf)[rel:rel + ENTRY_SIZE], off)
            if head.id != key[:32] or head.kind != key[32] or ENTRY_SIZE + head.stored_len != want:
                raise CorruptObject(f"{path}: entry at {off} is damaged; run `git mlv fsck`")
            check_stored(head, memoryview(buf)[rel + ENTRY_SIZE:rel + want], path)
            yield head
        k = stop


def _assemble_planned(pool: Pool, plan: pushplan.PackPlan, i: int) -> tuple[list[Part], list[Entry]]:
    """Remote pack ``i`` of ``plan`` from where the plan found its objects, without looking each
    one up again; if they are not there any more (a consolidation moved them since: their old
    pack is gone, or holds other entries), from where the pool says they are now. A damaged
    entry fails both ways, with the same CorruptObject."""
    try:
        return _assemble_at(*plan.slots(i))
    except (CorruptObject, FileNotFoundError):
        pool.refresh()
        return _assemble(plan.locations(pool, i))


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
    indexed: list[str] = []

    # Every pack this push may upload is named at once, before the first goes up, and the list is
    # written once (not twice per pack): a crash leaves them all pending, and the next push deletes
    # those whose index never made it (_collect_orphans skips the committed ones).
    names = [f"packs/pack-{secrets.token_hex(16)}" for _ in range(len(plan))]
    rindex.uploads.add(n + ".pack" for n in names)

    staged: dict[int, tuple[int, Data, _Index, Staged]] = {}  # not yet published, by pack

    def stage(i: int) -> tuple[int, Data, _Index, Staged]:
        data, entries = _assemble_planned(pool, plan, i)
        # a batch stages up to a GiB of packs before indexing them: each keeps its index's bytes,
        # ~53 a file, not its Entry objects (~240 a file: 72 MB of a 300,000-file push's 193)
        index = _Index(idx.encode(entries), len(entries), sum(ENTRY_SIZE + e.stored_len for e in entries))
        del entries
        done = (i, data, index, retry.run(lambda: remote.stage(names[i] + ".pack", data)))
        with lock:
            staged[i] = done
        return done

    def commit(done: tuple[int, Data, _Index, Staged]) -> None:
        i, data, index, pack = done
        name = names[i]
        try:
            pack.publish()
        except RemoteError as e:  # the temp file is gone: write the pack again, the plain way
            if not e.retryable:
                raise
            retry.run(lambda: remote.put(name + ".pack", data))
        finally:
            with lock:
                staged.pop(i, None)
        pausepoint("push-pack-published")  # its pack is up, its index not yet
        retry.run(lambda: remote.put(name + ".idx", index.data))  # the commit point
        rindex.add(name + ".pack", index.data)
        with lock:
            indexed.append(name + ".pack")
            stats.packs += 1
            stats.objects += index.objects
            stats.bytes_sent += size_of(data) + len(index.data)
        counter.add(index.entry_bytes)

    workers = max(1, min(remote.parallelism, MAX_IN_FLIGHT // max(pack_size, 1)))
    batch = remote.stage_bytes // max(pack_size, 1)
    last = len(plan) - 1  # the manifests' pack: after every other pack is indexed
    try:
        if batch > 1:  # write a batch of packs, then make each durable and index it
            for first in range(0, max(last, 0), batch):
                for _ in parallel(stage, range(first, min(first + batch, last)), workers):
                    pass
                for _ in parallel(commit, list(staged.values()), workers):
                    pass
        else:
            for _ in parallel(lambda i: commit(stage(i)), range(max(last, 0)), workers):
                pass
        if len(plan):
            commit(stage(last))
    except BaseException:
        for _, _, _, pack in staged.values():
            pack.discard()  # a temp file left behind; one published already: nothing
        raise
    rindex.uploads.remove(indexed)  # what is left: packs of other pushes, or not collected yet
    for name, data in after:
        retry.run(lambda n=name, d=data: remote.put(n, d))  # type: ignore[misc]
        stats.bytes_sent += len(data)
    return stats


class _Index(NamedTuple):
    """A staged pack's index: its bytes, how many objects, their entries' bytes (for progress)."""

    data: bytes
    objects: int
    entry_bytes: int


def _collect_orphans(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy) -> None:
    """Delete packs an earlier push from this clone uploaded but never indexed; not while another
    process of this pool uploads to this remote (its packs in flight look the same:
    remotes/pending.py). Holds push.lock shared afterwards, for this push's own uploads."""
    try:
        if rindex.uploads.may_collect():
            _collect_pending(remote, rindex, retry)
    finally:
        rindex.uploads.hold()


def _collect_pending(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy) -> None:
    pending = rindex.pending()
    if not pending:
        return
    rindex.refresh()
    left = set()
    for name in pending:
        if rindex.committed(name):
            continue  # its index made it after all (it may be covered by a midx by now)
        try:
            if retry.run(lambda n=name: remote.exists(n[:-5] + ".idx")):  # type: ignore[misc]
                continue  # indexed, yet not listed (a listing that came back short): never delete
            retry.run(lambda n=name: remote.delete(n))  # type: ignore[misc]
        except RemoteError:
            left.add(name)
    rindex.set_pending(left)
