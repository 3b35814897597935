"""Moving objects between the local pool and a remote: missing sets, packing, ranged reads, retries.

Push: the objects the remote lacks (known from its cached indexes, remotes/cache.py) are copied into
new packs of ``pack_size`` bytes, reusing the stored (compressed) bytes of the local packs verbatim:
a run of adjacent local entries is one read, nothing is recompressed. Each pack is uploaded, then
its index: the index is the commit point, so an interrupted push leaves at worst packs without an
index, which readers ignore and the next push from this clone deletes. Manifests go into the last
pack, uploaded after every other pack is indexed: a manifest on the remote implies its chunks are.

Fetch: manifests first (checked by their checksum), then the chunks the pool lacks, read as
coalesced byte ranges of the remote packs in parallel. Every chunk is decompressed and checked
against its sha256 before it enters the pool; a manifest enters only after the whole file hashes
to its oid. Chunks are flushed to the pool as they arrive, so a rerun after an interruption asks
only for what is still missing.

Retries live here, not in backends: a ``RemoteError`` with ``retryable`` set is retried with
exponential backoff and jitter; anything else fails at once.
"""

from __future__ import annotations

import hashlib
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

from ..core import index as idx
from ..core.compress import decompress
from ..core.hashing import EMPTY_OID, digest
from ..core.manifest import Manifest
from ..core.pack import (
    END_MAGIC,
    ENTRY_SIZE,
    HEADER,
    KIND_CHUNK,
    KIND_MANIFEST,
    MAGIC,
    TRAILER,
    VERSION,
    Entry,
    decode_entry_header,
)
from ..core.pool import Location, Pool
from ..errors import CorruptObject
from .base import FileSlice, Part, Remote, RemoteError, size_of
from .cache import RemoteIndex

T = TypeVar("T")
R = TypeVar("R")
Progress = Callable[[int, int], None]

# Reading a gap of up to this many unneeded bytes costs less than another request (a round trip
# on S3/SFTP); ranges stop growing at MAX_RANGE so several run in parallel and memory stays bounded.
GAP = 512 * 1024
MAX_RANGE = 8 * 1024 * 1024
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


class _Counter:
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


def locate_many(pool: Pool, keys: list[bytes]) -> list[Location | None]:
    """``pool.locate`` for many 33-byte keys at once: one ``searchsorted`` per index, not per key."""
    import numpy as np

    out: list[Location | None] = [None] * len(keys)
    if not keys:
        return out
    arr = np.array(keys, dtype=f"S{idx.KEY_SIZE}")
    found = np.zeros(len(arr), dtype=bool)
    for pack in pool.packs():
        index = pool.index_of(pack)
        if index.count == 0:
            continue
        pos = np.searchsorted(index.keys, arr)
        pos[pos >= index.count] = index.count - 1
        hit = (index.keys[pos] == arr) & ~found
        for i in np.nonzero(hit)[0].tolist():
            out[i] = Location(pack, index.entry(int(pos[i])))
        found |= hit
    for i in np.nonzero(~found)[0].tolist():  # live packs of other writers, our own pending ones
        out[i] = pool.locate(keys[i][:32], keys[i][32])
    return out


def needed_for_push(pool: Pool, rindex: RemoteIndex, oids: Iterable[str]) -> tuple[list[bytes], list[str]]:
    """The keys of objects the remote lacks for these files, and the files we cannot send."""
    todo = sorted({o for o in oids if o != EMPTY_OID})
    raws = [bytes.fromhex(o) for o in todo]
    man_keys = [idx.key(r, KIND_MANIFEST) for r in raws]
    chunk_keys = [idx.key(r, KIND_CHUNK) for r in raws]
    on_remote_m = rindex.contains(man_keys)
    on_remote_c = rindex.contains(chunk_keys)
    here_m = pool.contains(man_keys) if todo else []
    here_c = pool.contains(chunk_keys) if todo else []
    keys: list[bytes] = []
    missing: list[str] = []
    for i, oid in enumerate(todo):
        if on_remote_m[i]:  # a manifest is only ever uploaded after all its chunks
            continue
        if here_m[i]:
            keys.append(man_keys[i])
            keys.extend(idx.key(cid, KIND_CHUNK) for cid, _ in pool.file_chunks(oid))
        elif on_remote_c[i]:
            continue
        elif here_c[i]:
            keys.append(chunk_keys[i])
        else:
            missing.append(oid)
    keys = list(dict.fromkeys(keys))
    if keys:
        have = rindex.contains(keys)
        keys = [k for k, h in zip(keys, have) if not h]
    return keys, missing


def _plan_packs(locs: list[Location], pack_size: int) -> list[list[Location]]:
    """Cut chunk locations (sorted by local pack and offset) into remote packs of ~pack_size."""
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


def push_objects(pool: Pool, remote: Remote, rindex: RemoteIndex, oids: Iterable[str],
                 pack_size: int, retry: RetryPolicy, progress: Progress | None = None,
                 after: Iterable[tuple[str, bytes]] = ()) -> PushStats:
    """Upload what the remote lacks of files ``oids``, then the small objects ``after`` (run-cache)."""
    oids = list(oids)
    _collect_orphans(remote, rindex, retry)
    keys, missing = needed_for_push(pool, rindex, oids)
    stats = PushStats(files=len(set(oids) - set(missing)), missing_locally=missing)
    chunks: list[Location] = []
    manifests: list[Location] = []
    for k, loc in zip(keys, locate_many(pool, keys)):
        if loc is None:  # gone between the plan and now (a concurrent gc): say so, don't guess
            raise CorruptObject(f"object {k[:32].hex()} vanished from the pool during push")
        (manifests if k[32] == KIND_MANIFEST else chunks).append(loc)
    chunks.sort(key=lambda loc: (loc.pack, loc.entry.offset))
    plan = _plan_packs(chunks, pack_size)
    if manifests:
        # The last pack carries every manifest and goes up after all others are indexed, so a
        # manifest is never visible before its chunks. With several chunk packs the manifests get
        # a small pack of their own: then every chunk pack uploads in parallel, none waits.
        if len(plan) > 1:
            plan.append([])
        elif not plan:
            plan = [[]]
        plan[-1] = plan[-1] + sorted(manifests, key=lambda loc: (loc.pack, loc.entry.offset))
    total = sum(ENTRY_SIZE + loc.entry.stored_len for p in plan for loc in p)
    counter = _Counter(total, progress)
    lock = threading.Lock()
    started = rindex.pending()

    def upload(locs: list[Location]) -> None:
        data, entries = _assemble(locs)
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
    for _ in parallel(upload, plan[:-1], workers):
        pass
    if plan:
        upload(plan[-1])
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
        if name[:-5] + ".idx" in rindex.listing:
            continue  # its index made it after all
        try:
            retry.run(lambda n=name: remote.delete(n))  # type: ignore[misc]
        except RemoteError:
            left.add(name)
    rindex.set_pending(left)


# ------------------------------------------------------------------------------------------------
# fetch
# ------------------------------------------------------------------------------------------------
@dataclass
class FetchStats:
    """What a fetch did."""

    fetched: set[str] = field(default_factory=set)  # file oids now present that were not
    present: set[str] = field(default_factory=set)  # every requested oid now in the pool
    not_on_remote: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # messages about objects that failed checks
    bytes_received: int = 0
    objects: int = 0


@dataclass(frozen=True)
class _Range:
    pack: str
    start: int
    end: int
    entries: tuple[Entry, ...]


def _coalesce(found: Iterable[tuple[str, Entry]]) -> list[_Range]:
    """Group entries by remote pack into byte ranges, bridging small gaps."""
    by_pack: dict[str, list[Entry]] = {}
    for pack, e in found:
        by_pack.setdefault(pack, []).append(e)
    ranges: list[_Range] = []
    for pack, entries in by_pack.items():
        entries.sort(key=lambda e: e.offset)
        cur: list[Entry] = []
        for e in entries:
            if cur and (e.offset - cur[-1].end > GAP or e.end - cur[0].offset > MAX_RANGE):
                ranges.append(_Range(pack, cur[0].offset, cur[-1].end, tuple(cur)))
                cur = []
            if not cur or e.offset >= cur[-1].end:  # the same object twice in a pack: once is enough
                cur.append(e)
        if cur:
            ranges.append(_Range(pack, cur[0].offset, cur[-1].end, tuple(cur)))
    return ranges


def _read_range(remote: Remote, retry: RetryPolicy, r: _Range, keep_raw: set[bytes] | frozenset[bytes]
                ) -> tuple[list[tuple[Entry, bytes, bytes]], list[str], int]:
    """Download one range; returns verified (entry, stored, raw), problems, bytes read.

    ``raw`` is kept for manifests and for chunks in ``keep_raw`` (they feed whole-file hashes);
    for other chunks it is dropped at once, to keep memory flat.
    """
    data = retry.run(lambda: remote.get_range(r.pack, r.start, r.end - r.start))
    good: list[tuple[Entry, bytes, bytes]] = []
    bad: list[str] = []
    for e in r.entries:
        rel = e.offset - r.start
        try:
            if rel + ENTRY_SIZE + e.stored_len > len(data):
                raise CorruptObject("the pack is shorter than its index says")
            head = decode_entry_header(data[rel:rel + ENTRY_SIZE], e.offset)
            if (head.id, head.kind, head.codec, head.stored_len, head.raw_len) != (
                    e.id, e.kind, e.codec, e.stored_len, e.raw_len):
                raise CorruptObject("the entry is not what the index says")
            stored = data[rel + ENTRY_SIZE:rel + ENTRY_SIZE + e.stored_len]
            raw = decompress(e.codec, stored, e.raw_len)
            if e.kind == KIND_CHUNK:
                if len(raw) != e.raw_len or digest(raw) != e.id:
                    raise CorruptObject("chunk does not match its sha256")
                if e.id not in keep_raw:
                    raw = b""
            else:
                Manifest.decode(raw)
            good.append((e, stored, raw))
        except CorruptObject as err:
            bad.append(f"{remote.url}/{r.pack}: object {e.id.hex()[:12]} at {e.offset} is damaged ({err})")
    return good, bad, len(data)


def present_files(pool: Pool, oids: list[str]) -> list[bool]:
    """For each file oid, whether the pool has its whole content (vectorised ``has_file``)."""
    if not oids:
        return []
    raws = [bytes.fromhex(o) for o in oids]
    m = pool.contains([idx.key(r, KIND_MANIFEST) for r in raws])
    c = pool.contains([idx.key(r, KIND_CHUNK) for r in raws])
    return [bool(a or b) or o == EMPTY_OID for o, a, b in zip(oids, m, c)]


class _FileHash:
    """The whole-file sha256 of a multi-chunk file, fed chunk by chunk as they arrive in order."""

    def __init__(self, oid: str, manifest: Manifest) -> None:
        self.oid, self.chunks, self.pos, self.hash = oid, manifest.chunks, 0, hashlib.sha256()


class _StreamingVerifier:
    """Hashes files while their chunks arrive: chunks of a file usually sit in file order in the
    remote packs, so most files are verified without reading their chunks back from the pool."""

    def __init__(self, files: list[_FileHash]) -> None:
        self.files = files
        self.waiting: dict[bytes, list[_FileHash]] = {}
        for f in files:
            if f.chunks:
                self.waiting.setdefault(f.chunks[0][0], []).append(f)

    def feed(self, cid: bytes, raw: bytes) -> None:
        """A chunk arrived: advance the files waiting for it (once per consecutive repeat)."""
        for f in self.waiting.pop(cid, ()):
            while f.pos < len(f.chunks) and f.chunks[f.pos][0] == cid:
                f.hash.update(raw)
                f.pos += 1
            if f.pos < len(f.chunks):
                self.waiting.setdefault(f.chunks[f.pos][0], []).append(f)


def fetch_files(pool: Pool, remote: Remote, rindex: RemoteIndex, oids: Iterable[str],
                retry: RetryPolicy, progress: Progress | None = None, max_age: float = 0.0) -> FetchStats:
    """Download the data of files ``oids`` that the pool lacks; the caller commits the pool."""
    stats = FetchStats()
    wanted = sorted(set(oids))
    todo = [o for o, here in zip(wanted, present_files(pool, wanted)) if not here]
    stats.present = set(wanted) - set(todo)
    if not todo:
        return stats
    rindex.refresh(max_age=max_age, workers=remote.parallelism)
    stats.damaged.extend(f"{remote.url}/{n}: index is damaged" for n in rindex.damaged)
    raws = [bytes.fromhex(o) for o in todo]
    m_loc = rindex.lookup([idx.key(r, KIND_MANIFEST) for r in raws])
    c_loc = rindex.lookup([idx.key(r, KIND_CHUNK) for r in raws])
    workers = remote.parallelism
    writer = pool.writer()

    # 1. manifests: small; checked now, stored only after their file is verified
    manifests: dict[str, tuple[Entry, bytes, Manifest]] = {}
    m_found = [(loc[0], loc[1]) for loc in m_loc if loc is not None]
    for good, bad, n in parallel(lambda r: _read_range(remote, retry, r, frozenset()),
                                 _coalesce(m_found), workers):
        stats.damaged.extend(bad)
        stats.bytes_received += n
        for e, stored, raw in good:
            manifests[e.id.hex()] = (e, stored, Manifest.decode(raw))

    # 2. the chunks the pool lacks, feeding the whole-file hashes on the way
    need: dict[bytes, None] = {}
    for i, oid in enumerate(todo):
        if oid in manifests:
            for cid, _ in manifests[oid][2].chunks:
                need[idx.key(cid, KIND_CHUNK)] = None
        elif m_loc[i] is None and c_loc[i] is not None:
            need[idx.key(raws[i], KIND_CHUNK)] = None
        elif m_loc[i] is None:
            stats.not_on_remote.append(oid)
    keys = list(need)
    have = pool.contains(keys) if keys else []
    keys = [k for k, h in zip(keys, have) if not h]
    ranges = _coalesce(loc for loc in rindex.lookup(keys) if loc is not None)
    hashes = [_FileHash(oid, m) for oid, (_, _, m) in manifests.items()]
    verifier = _StreamingVerifier(hashes)
    keep = frozenset(cid for f in hashes for cid, _ in f.chunks)
    counter = _Counter(sum(r.end - r.start for r in ranges), progress)

    def get(r: _Range) -> tuple[list[tuple[Entry, bytes, bytes]], list[str], int]:
        res = _read_range(remote, retry, r, keep)
        counter.add(r.end - r.start)
        return res

    try:
        for good, bad, n in parallel(get, ranges, workers):
            stats.damaged.extend(bad)
            stats.bytes_received += n
            for e, stored, raw in good:
                if writer.add_object(e.id, KIND_CHUNK, e.codec, e.raw_len, stored):
                    stats.objects += 1
                if raw:
                    verifier.feed(e.id, raw)
            writer.flush()  # on disk now: an interrupted fetch keeps what arrived
    finally:
        writer.flush()

    # 3. whole files: a manifest enters the pool only once its file hashes to its oid
    for f in hashes:
        e, stored, m = manifests[f.oid]
        if _finish_hash(pool, f, stats):
            writer.add_object(e.id, KIND_MANIFEST, e.codec, e.raw_len, stored)
            stats.objects += 1
    writer.flush()
    for oid, here in zip(todo, present_files(pool, todo)):
        if here:
            stats.fetched.add(oid)
            stats.present.add(oid)
    return stats


def _finish_hash(pool: Pool, f: _FileHash, stats: FetchStats) -> bool:
    """Complete a file's hash from the pool where streaming stopped (chunks that were here before,
    or arrived out of order); record a problem when the file does not hash to its oid.

    Each chunk was checked against its own id when it entered the pool; only the whole-file hash
    is new, so chunks are decompressed without hashing them a second time.
    """
    try:
        for cid, n in f.chunks[f.pos:]:
            loc = pool.locate(cid, KIND_CHUNK)
            if loc is None:
                return False  # missing or damaged on the remote: already reported
            data = decompress(loc.entry.codec, pool.read_stored(loc), loc.entry.raw_len)
            if len(data) != n:
                raise CorruptObject("a chunk has the wrong length")
            f.hash.update(data)
    except CorruptObject as err:
        stats.damaged.append(f"file {f.oid[:12]}: {err}")
        return False
    if f.hash.hexdigest() != f.oid:
        stats.damaged.append(f"file {f.oid[:12]}: its chunks on the remote do not hash to its id")
        return False
    return True
