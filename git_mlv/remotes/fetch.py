"""Fetch: downloading the data of files from a remote into the local pool, verified.

Manifests first (checked by their checksum), then the chunks the pool lacks, read as coalesced byte
ranges of the remote packs in parallel. Every chunk is decompressed and checked against its sha256
before it enters the pool; a manifest enters only after the whole file hashes to its oid. Chunks
are flushed to the pool as they arrive, so a rerun after an interruption asks only for what is
still missing.

A remote may be damaged or hostile: nothing it says is believed before it is checked, and checks
that cost little come before work whose cost the remote controls. A manifest must claim the size
the pointer says (``sizes``) and chunks of at least one byte, so the hashing it asks for is bounded
by the file's real size; an index record must lie inside its pack as listed. Every file not
fetched gets a reason (``FetchStats.failed``), so callers say which files stayed pointers and why.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from ..core import index as idx
from ..core.compress import CODEC_RAW, decompress
from ..core.crashpoint import pausepoint
from ..core.hashing import EMPTY_OID, digest
from ..core.manifest import HEADER as MANIFEST_HEADER
from ..core.manifest import ITEM as MANIFEST_ITEM
from ..core.manifest import chunk_keys, chunk_table
from ..core.pack import ENTRY_SIZE, KIND_CHUNK, KIND_MANIFEST, Entry, decode_entry_header
from ..core.pool import Pool
from ..core.sortedrows import in_key_order
from ..errors import CorruptObject
from .base import Remote, RemoteNotFound
from .cache import RemoteIndex
from .fetchverify import FileHash, StreamingVerifier, finish_hash, in_file_order
from .ranges import MAX_RANGE, Range, coalesce, in_tasks
from .transfer import Progress, ProgressCounter, RetryPolicy, parallel

# Ranges downloaded and not yet stored: ``parallel`` keeps 2 x workers in flight, each held as
# stored bytes and, until verified, decompressed too. Cap their total so a fetch stays well under
# the 150 MB RSS bar (measured at scale 1: a clone's filter peaked at 190 MB with 8 MiB ranges).
# The decompressed bytes a range keeps count against its size (``coalesce(held=...)``): counting
# stored bytes only, a 1 GiB file compressing 3:1 peaked at 153 MB, 78 MB since.
MAX_FETCH_IN_FLIGHT = 32 * 1024 * 1024
# chunks located and read as one window (~1 GiB of a big file's 64 KiB chunks): what a fetch
# holds per chunk follows the window, not the file
FETCH_WINDOW = 16_384


@dataclass
class FetchStats:
    """What a fetch did."""

    fetched: set[str] = field(default_factory=set)  # file oids now present that were not
    present: set[str] = field(default_factory=set)  # every requested oid now in the pool
    not_on_remote: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # messages about objects that failed checks
    failed: dict[str, str] = field(default_factory=dict)  # file oid -> why it was not fetched
    warnings: list[str] = field(default_factory=list)  # e.g. names in packs/ that are not packs
    bytes_received: int = 0
    objects: int = 0


def _read_range(remote: Remote, retry: RetryPolicy, r: Range, keep_raw: set[bytes] | frozenset[bytes]
                ) -> tuple[list[tuple[Entry, bytes, bytes]], list[tuple[Entry, str]], int]:
    """Download one range; returns verified (entry, stored, raw), (entry, problem)s, bytes read.

    ``raw`` is kept for manifests and for chunks in ``keep_raw`` (they feed whole-file hashes);
    for other chunks it is dropped at once, to keep memory flat.
    """
    data = retry.run(lambda: remote.get_range(r.pack, r.start, r.end - r.start))
    good: list[tuple[Entry, bytes, bytes]] = []
    bad: list[tuple[Entry, str]] = []
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
                chunk_table(raw)
            good.append((e, stored, raw))
        except CorruptObject as err:
            bad.append((e, f"{remote.url}/{r.pack}: object {e.id.hex()[:12]} at {e.offset} is damaged "
                           f"({err})"))
    return good, bad, len(data)


# FastCDC never cuts below 64 bytes (pyfastcdc's MIN_SIZE_LOWER_BOUND), so a file of N bytes has at
# most N // 64 + 1 chunks: a manifest listing more is a lie whose hashing cost we refuse to pay.
MIN_CHUNK = 64
# Without the pointer's size, a manifest above this is refused (a 1 TB file of 64 KiB chunks: 576 MB).
MAX_MANIFEST = 1 << 30


def _max_manifest_bytes(size: int | None) -> int:
    if size is None:
        return MAX_MANIFEST
    return MANIFEST_HEADER.size + MANIFEST_ITEM.size * (size // MIN_CHUNK + 2) + 32


def _record_problem(e: Entry, pack_size: int | None, want_raw: int | None = None,
                    max_raw: int | None = None) -> str | None:
    """What is impossible about an index record, before a byte of it is downloaded."""
    if pack_size is not None and pack_size >= 0 and e.end > pack_size:
        return "lies past the end of the pack (truncated pack or damaged index)"
    if e.stored_len > e.raw_len or (e.codec == CODEC_RAW and e.stored_len != e.raw_len):
        return f"claims {e.stored_len} stored bytes for {e.raw_len} (damaged index)"
    if want_raw is not None and e.raw_len != want_raw:
        return f"is {e.raw_len} bytes long, the manifest or pointer says {want_raw}"
    if max_raw is not None and e.raw_len > max_raw:
        return f"claims a {e.raw_len}-byte manifest, too long for the pointer's size"
    return None


def _check_manifest(size: int, table: np.ndarray, want: int | None) -> str | None:
    """Why a manifest (``chunk_table``) cannot be this file's (None: plausible). Cheap: before any
    chunk is fetched."""
    if want is not None and size != want:
        return f"its manifest on the remote claims {size} bytes, the pointer says {want}"
    if len(table) > size // MIN_CHUNK + 2 or bool((table["len"] < 1).any()):
        return "its manifest on the remote lists impossible chunks"
    return None


def present_files(pool: Pool, oids: list[str]) -> list[bool]:
    """For each file oid, whether the pool has its whole content (vectorised ``has_file``)."""
    if not oids:
        return []
    raws = [bytes.fromhex(o) for o in oids]
    m = _pool_contains(pool, [idx.key(r, KIND_MANIFEST) for r in raws])
    c = _pool_contains(pool, [idx.key(r, KIND_CHUNK) for r in raws])
    return [bool(a or b) or o == EMPTY_OID for o, a, b in zip(oids, m, c)]


def _pool_contains(pool: Pool, keys: list[bytes] | np.ndarray) -> list[bool]:
    """``pool.contains`` a band of the pool's indexes at a time (``sortedrows.in_key_order``)."""
    return in_key_order(_array(keys), lambda a: pool.contains(a).tolist(), pool.drop_pages)


def _remote_lookup(rindex: RemoteIndex, keys: list[bytes] | np.ndarray) -> list[tuple[str, Entry] | None]:
    """``rindex.lookup`` a band of the remote's indexes at a time (``sortedrows.in_key_order``)."""
    return in_key_order(_array(keys), rindex.lookup, rindex.drop_pages)


def _array(keys: list[bytes] | np.ndarray) -> np.ndarray:
    if isinstance(keys, np.ndarray):
        return keys
    return np.array(keys, dtype=f"S{idx.KEY_SIZE}")


def fetch_files(pool: Pool, remote: Remote, rindex: RemoteIndex, oids: Iterable[str],
                retry: RetryPolicy, progress: Progress | None = None, max_age: float = 0.0,
                sizes: Mapping[str, int] | None = None, upcoming: Mapping[str, int] | None = None,
                incomplete: frozenset[str] = frozenset()) -> FetchStats:
    """Download the data of files ``oids`` that the pool lacks; the caller commits the pool.

    ``sizes`` (file oid -> size, from the pointers) lets every claim of the remote be checked
    against the pointer before its cost is paid. A remote pack that vanishes while we read it
    (``gc --remote`` repacked it) sends us back once to the remote's listing, which names where
    its objects went; what already arrived is kept.

    ``upcoming`` (file oid -> size) are files a later call will ask for (a clone's next batches):
    those of one chunk whose bytes lie inside a range this call reads anyway are verified and
    stored too (``_ride_along``), so the later call does not read those bytes again.

    ``incomplete``: files of ``oids`` whose manifest is here but not every chunk it names (a
    ``git mlv prune`` killed between deleting two packs): fetched although the pool's presence
    check, which looks at the manifest, says they are here; only the chunks the pool lacks travel.
    """
    oids = list(oids)
    try:
        return _fetch_files(pool, remote, rindex, oids, retry, progress, max_age, sizes, upcoming,
                            incomplete)
    except RemoteNotFound:
        rindex.refresh(workers=remote.parallelism)
        return _fetch_files(pool, remote, rindex, oids, retry, progress, float("inf"), sizes, upcoming,
                            incomplete)


def _ride_along(pool: Pool, rindex: RemoteIndex, ranges: list[Range], upcoming: Mapping[str, int],
                listing: Mapping[str, int], skip: set[str]) -> list[Range]:
    """``ranges`` with the one-chunk files of ``upcoming`` that the pool lacks added where their
    bytes lie wholly inside a range (no byte more is read). Only plausible records ride (the
    length the pointer says, inside the pack as listed, no overlap with a range's own entries);
    whatever else is wrong with them, the later call finds and reports."""
    oids = [o for o in upcoming if o not in skip]
    if not oids or not ranges:
        return ranges
    by_pack: dict[str, list[int]] = {}  # pack -> its ranges, by start
    for i in sorted(range(len(ranges)), key=lambda i: ranges[i].start):
        by_pack.setdefault(ranges[i].pack, []).append(i)
    starts = {p: [ranges[i].start for i in rs] for p, rs in by_pack.items()}
    oids = [o for o, here in zip(oids, present_files(pool, oids)) if not here]
    keys = [idx.key(bytes.fromhex(o), KIND_CHUNK) for o in oids]
    extra: dict[int, list[Entry]] = {}
    for oid, loc in zip(oids, _remote_lookup(rindex, keys) if keys else []):
        if loc is None or loc[0] not in by_pack:
            continue
        pack, e = loc
        if _record_problem(e, listing.get(pack), upcoming[oid]) is not None:
            continue
        at = bisect.bisect_right(starts[pack], e.offset) - 1
        if at >= 0 and e.end <= ranges[i := by_pack[pack][at]].end:
            extra.setdefault(i, []).append(e)
    out = list(ranges)
    for i, riders in extra.items():
        r = ranges[i]
        own = {id(e) for e in r.entries}
        merged: list[Entry] = []
        for e in sorted([*r.entries, *riders], key=lambda e: (e.offset, id(e) not in own)):
            if merged and e.offset < merged[-1].end:
                if id(e) not in own:
                    continue  # a rider touching another entry: left to the later call
                if id(merged[-1]) not in own:
                    merged.pop()
            merged.append(e)
        out[i] = Range(r.pack, r.start, r.end, tuple(merged), r.held)
    return out


def _fetch_files(pool: Pool, remote: Remote, rindex: RemoteIndex, oids: Iterable[str],
                 retry: RetryPolicy, progress: Progress | None, max_age: float,
                 sizes: Mapping[str, int] | None, upcoming: Mapping[str, int] | None = None,
                 incomplete: frozenset[str] = frozenset()) -> FetchStats:
    stats = FetchStats()
    sizes = sizes or {}
    wanted = sorted(set(oids))
    todo = [o for o, here in zip(wanted, present_files(pool, wanted)) if not here or o in incomplete]
    stats.present = set(wanted) - set(todo)
    if not todo:
        return stats
    rindex.refresh(max_age=max_age, workers=remote.parallelism)
    stats.damaged.extend(f"{remote.url}/{n}: index is damaged" for n in rindex.damaged)
    stats.warnings.extend(f"{remote.url}/{n}: not a pack name; ignored"
                          for n in getattr(rindex, "skipped", ()))
    listing = rindex.listing
    raws = [bytes.fromhex(o) for o in todo]
    m_loc = _remote_lookup(rindex, [idx.key(r, KIND_MANIFEST) for r in raws])
    c_loc = _remote_lookup(rindex, [idx.key(r, KIND_CHUNK) for r in raws])
    workers = remote.parallelism
    writer = pool.writer()
    bad_objects: dict[bytes, str] = {}  # object id -> why it was not stored

    def plausible(loc: tuple[str, Entry], want_raw: int | None = None, max_raw: int | None = None
                  ) -> bool:
        why = _record_problem(loc[1], listing.get(loc[0]), want_raw, max_raw)
        if why is not None:
            msg = f"{remote.url}/{loc[0]}: object {loc[1].id.hex()[:12]} {why}"
            stats.damaged.append(msg)
            bad_objects[loc[1].id] = msg
        return why is None

    # 1. manifests: small; checked now, stored only after their file is verified. Each is kept as
    # its bytes (36 a chunk) with a numpy view of its chunks (``chunk_table``); its stored form
    # only where it differs (compressed)
    manifests: dict[str, tuple[Entry, bytes, np.ndarray]] = {}
    m_found = [(loc[0], loc[1]) for oid, loc in zip(todo, m_loc)
               if loc is not None and plausible(loc, max_raw=_max_manifest_bytes(sizes.get(oid)))]
    overlaps: list[tuple[str, Entry, Entry]] = []
    for good, bad, n in parallel(lambda r: _read_range(remote, retry, r, frozenset()),
                                 coalesce(m_found, gap=remote.range_gap, overlaps=overlaps), workers):
        _record_bad(bad, stats, bad_objects)
        stats.bytes_received += n
        for e, stored, raw in good:
            size, table = chunk_table(raw)
            why = _check_manifest(size, table, sizes.get(e.id.hex()))
            if why is None:
                manifests[e.id.hex()] = (e, raw if e.codec == CODEC_RAW else stored, table)
            else:
                stats.damaged.append(f"{remote.url}/{e.id.hex()[:12]}: {why}")
                stats.failed[e.id.hex()] = why

    # 2. the chunks the pool lacks, feeding the whole-file hashes on the way. What is needed is
    # held as columns (key, length as the manifest or pointer says, -1 unknown; from a manifest?),
    # ~45 bytes a chunk: a dict of keys and a set of ids cost ~250 (a 20 GiB file: 80 MB)
    parts: list[np.ndarray] = []
    part_lens: list[np.ndarray] = []
    single_keys: list[bytes] = []
    single_lens: list[int] = []
    for i, oid in enumerate(todo):
        if oid in manifests:
            table = manifests[oid][2]
            parts.append(chunk_keys(table["id"]))
            part_lens.append(table["len"].astype(np.int64))
        elif m_loc[i] is None and (loc := c_loc[i]) is not None:
            want = sizes.get(oid)
            if plausible(loc, want_raw=want):
                single_keys.append(idx.key(raws[i], KIND_CHUNK))
                single_lens.append(-1 if want is None else want)
        elif m_loc[i] is None:
            stats.not_on_remote.append(oid)
    from_manifest = sum(len(p) for p in parts)
    keys = np.concatenate([*parts, _array(single_keys)]) if parts else _array(single_keys)
    lens = np.concatenate([*part_lens, np.array(single_lens, dtype=np.int64)])
    del parts, part_lens, single_keys, single_lens
    # each key once, where it first comes (the files' order: windows follow it)
    at_first = np.unique(keys, return_index=True)[1] if len(keys) else np.zeros(0, dtype=np.intp)
    at_first.sort()
    if len(keys):
        lack = ~np.array(_pool_contains(pool, keys[at_first]), dtype=bool)
        at_first = at_first[lack]
        del lack
    keys, lens, manifest_chunk = keys[at_first], lens[at_first], at_first < from_manifest
    del at_first
    max_range = max(1 << 20, min(MAX_RANGE, MAX_FETCH_IN_FLIGHT // (2 * max(1, workers))))
    hashes = [FileHash(oid, table) for oid, (_, _, table) in manifests.items()]
    keep: set[bytes] = set()  # the window's chunks whose bytes feed a whole-file hash
    verifier = StreamingVerifier(hashes, MAX_FETCH_IN_FLIGHT)
    counter = ProgressCounter(0, progress)  # its total grows a window at a time

    def get(task: list[Range]) -> tuple[list[tuple[Entry, bytes, bytes]], list[tuple[Entry, str]], int]:
        good: list[tuple[Entry, bytes, bytes]] = []
        bad: list[tuple[Entry, str]] = []
        n = 0
        for r in task:
            g, b, k = _read_range(remote, retry, r, keep)
            good += g
            bad += b
            n += k
            counter.add(r.end - r.start)
        return good, bad, n

    try:
        # a window of chunks at a time, in the files' order: where each is and the ranges that
        # read it cost ~0.3 KB a chunk, so a 5 GiB file's 75,000 chunks at once peaked at 168 MB
        for at in range(0, len(keys), FETCH_WINDOW):  # nothing to read: no window (no riders either)
            window = keys[at:at + FETCH_WINDOW]
            located: list[tuple[str, Entry]] = []
            rank: dict[bytes, int] = {}
            keep.clear()
            for n, ours, loc in zip(lens[at:at + FETCH_WINDOW].tolist(),
                                    manifest_chunk[at:at + FETCH_WINDOW].tolist(),
                                    _remote_lookup(rindex, window)):
                if loc is not None and plausible(loc, want_raw=None if n < 0 else n):
                    located.append(loc)
                    if ours:
                        keep.add(loc[1].id)
                        rank.setdefault(loc[1].id, len(rank))
            seen = len(overlaps)
            # a range's kept decompressed bytes count against its size: held in flight beside the stored ones
            ranges = coalesce(located, gap=remote.range_gap, max_range=max_range, overlaps=overlaps,
                              held=lambda e: e.raw_len if e.codec != CODEC_RAW and e.id in keep else 0)
            del window, located
            for pack, first, second in overlaps[seen:]:
                stats.damaged.append(f"{remote.url}/{pack[:-5]}.idx: records of {first.id.hex()[:12]} "
                                     f"and {second.id.hex()[:12]} overlap at offset {second.offset} "
                                     "(damaged index)")
            if upcoming and at == 0:  # riders only in the first window: none is then read twice
                ranges = _ride_along(pool, rindex, ranges, upcoming, listing, set(todo))
            ranges = in_file_order(ranges, rank)
            counter.total += sum(r.end - r.start for r in ranges)
            for good, bad, n in parallel(get, in_tasks(ranges, max_range), workers):
                _record_bad(bad, stats, bad_objects)
                stats.bytes_received += n
                for e, stored, raw in good:
                    # force: these keys were found missing by one vectorised ``pool.contains``
                    # above; a lookup per object walks every pack's index (2.4 s of a scale-1
                    # clone's 60 s of samples). A racing writer can at most leave a duplicate.
                    if writer.add_object(e.id, KIND_CHUNK, e.codec, e.raw_len, stored, force=True):
                        stats.objects += 1
                    if raw:
                        verifier.feed(e.id, raw)
                writer.flush()  # on disk now: an interrupted fetch keeps what arrived
                pausepoint("fetch-flushed")
            del ranges, rank
    finally:
        writer.flush()
    keep.clear()
    del keys, lens, manifest_chunk

    # 3. whole files: a manifest enters the pool only once its file hashes to its oid
    whole: set[str] = set()
    for f in hashes:
        e, stored, _ = manifests[f.oid]
        if finish_hash(pool, f, stats.damaged):
            writer.add_object(e.id, KIND_MANIFEST, e.codec, e.raw_len, stored)
            stats.objects += 1
            whole.add(f.oid)
    writer.flush()
    for oid, here in zip(todo, present_files(pool, todo)):
        if here and (oid not in incomplete or oid in whole):  # its manifest was here all along
            stats.fetched.add(oid)
            stats.present.add(oid)
        elif oid not in stats.failed:
            stats.failed[oid] = _why_missing(oid, manifests, bad_objects, stats)
    return stats


def _record_bad(bad: list[tuple[Entry, str]], stats: FetchStats, bad_objects: dict[bytes, str]) -> None:
    for e, msg in bad:
        stats.damaged.append(msg)
        bad_objects[e.id] = msg


def _why_missing(oid: str, manifests: dict[str, tuple[Entry, bytes, np.ndarray]],
                 bad_objects: dict[bytes, str], stats: FetchStats) -> str:
    """One reason a requested file did not arrive, for the user."""
    if oid in stats.not_on_remote:
        return "not on the remote"
    raw = bytes.fromhex(oid)
    if raw in bad_objects:
        return bad_objects[raw]
    if oid in manifests:
        for row in manifests[oid][2]["id"]:
            if (cid := row.tobytes()) in bad_objects:
                return f"chunk {cid.hex()[:12]} of it: {bad_objects[cid]}"
        return "some of its chunks are missing on the remote, or they do not hash to its id"
    return "its data on the remote failed verification"
