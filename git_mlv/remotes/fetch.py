"""Fetch: downloading the data of files from a remote into the local pool, verified.

Manifests first (checked by their checksum), then the chunks the pool lacks, read as coalesced byte
ranges of the remote packs in parallel. Every chunk is decompressed and checked against its sha256
before it enters the pool; a manifest enters only after the whole file hashes to its oid. Chunks
are flushed to the pool as they arrive, so a rerun after an interruption asks only for what is
still missing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..core import index as idx
from ..core.compress import decompress
from ..core.hashing import EMPTY_OID, digest
from ..core.manifest import Manifest
from ..core.pack import ENTRY_SIZE, KIND_CHUNK, KIND_MANIFEST, Entry, decode_entry_header
from ..core.pool import Pool
from ..errors import CorruptObject
from .base import Remote, RemoteNotFound
from .cache import RemoteIndex
from .transfer import Progress, ProgressCounter, RetryPolicy, parallel

# Reading a gap of up to this many unneeded bytes costs less than another request (a round trip
# on S3/SFTP); ranges stop growing at MAX_RANGE so several run in parallel and memory stays bounded.
GAP = 512 * 1024
MAX_RANGE = 4 * 1024 * 1024
# Ranges downloaded and not yet stored: ``parallel`` keeps 2 x workers in flight, each held as
# stored bytes and, until verified, decompressed too. Cap their total so a fetch stays well under
# the 200 MB RSS bar (measured at scale 1: a clone's filter peaked at 190 MB with 8 MiB ranges).
MAX_FETCH_IN_FLIGHT = 32 * 1024 * 1024


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


def _coalesce(found: Iterable[tuple[str, Entry]], max_range: int = MAX_RANGE) -> list[_Range]:
    """Group entries by remote pack into byte ranges of at most ``max_range``, bridging small gaps."""
    by_pack: dict[str, list[Entry]] = {}
    for pack, e in found:
        by_pack.setdefault(pack, []).append(e)
    ranges: list[_Range] = []
    for pack, entries in by_pack.items():
        entries.sort(key=lambda e: e.offset)
        cur: list[Entry] = []
        for e in entries:
            if cur and (e.offset - cur[-1].end > GAP or e.end - cur[0].offset > max_range):
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
    """Download the data of files ``oids`` that the pool lacks; the caller commits the pool.

    A remote pack that vanishes while we read it (``gc --remote`` repacked it) sends us back once
    to the remote's listing, which names where its objects went; what already arrived is kept.
    """
    oids = list(oids)
    try:
        return _fetch_files(pool, remote, rindex, oids, retry, progress, max_age)
    except RemoteNotFound:
        rindex.refresh(workers=remote.parallelism)
        return _fetch_files(pool, remote, rindex, oids, retry, progress, float("inf"))


def _fetch_files(pool: Pool, remote: Remote, rindex: RemoteIndex, oids: Iterable[str],
                 retry: RetryPolicy, progress: Progress | None, max_age: float) -> FetchStats:
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
    have: list[bool] = pool.contains(keys).tolist() if keys else []
    keys = [k for k, h in zip(keys, have) if not h]
    max_range = max(1 << 20, min(MAX_RANGE, MAX_FETCH_IN_FLIGHT // (2 * max(1, workers))))
    ranges = _coalesce((loc for loc in rindex.lookup(keys) if loc is not None), max_range)
    hashes = [_FileHash(oid, m) for oid, (_, _, m) in manifests.items()]
    verifier = _StreamingVerifier(hashes)
    keep = frozenset(cid for f in hashes for cid, _ in f.chunks)
    counter = ProgressCounter(sum(r.end - r.start for r in ranges), progress)

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
