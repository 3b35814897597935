"""Collecting a remote: deleting packs no live object needs, repacking the live objects out of packs
that mix live and dead ones (docs/remotes.md "Collecting a remote").

The caller (ops) says which files are live; this module knows nothing of git. Every deletion
comes after an upload that makes it unnecessary: new packs (with their indexes) first, then
replacement midxes, then old midxes, old indexes and old packs — a kill -9 anywhere loses nothing,
and a rerun finishes. Packs younger than the grace period are never touched: they may belong to a
push in progress.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ..core import index as idx
from ..core import midx as mx
from ..core.crashpoint import crashpoint
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
    encode_entry,
)
from ..core.pool import Pool
from ..errors import CorruptObject, MlvError
from .base import ObjectInfo, Remote
from .cache import PACKS, RemoteIndex
from .fetch import _read_range
from .ranges import coalesce
from .transfer import RetryPolicy


@dataclass
class RemoteGcResult:
    """What ``gc --remote`` removed (or would remove, with dry_run)."""

    live_files: int = 0
    live_objects: int = 0
    dead_objects: int = 0
    packs_deleted: int = 0  # whole packs removed: every object dead, or never indexed
    packs_repacked: int = 0  # packs mixing live and dead objects, replaced by new ones
    packs_written: int = 0
    packs_recent: int = 0  # younger than the grace period: kept whole
    index_files_rewritten: int = 0
    freed_bytes: int = 0
    dry_run: bool = False
    removed: list[str] = field(default_factory=list)  # packs deleted or repacked
    runcache_dropped: list[str] = field(default_factory=list)  # run-cache keys past mlv.gcRunCacheDays


@dataclass
class _Plan:
    delete: list[str] = field(default_factory=list)
    repack: list[tuple[str, list[Entry]]] = field(default_factory=list)


def live_keys(pool: Pool, remote: Remote, rindex: RemoteIndex, retry: RetryPolicy,
              oids: Iterable[str]) -> np.ndarray:
    """Sorted ``S33`` keys of every object the live files ``oids`` need on the remote.

    A file's chunks come from its manifest: the local one, else the remote's (downloaded and
    checked). A live manifest that cannot be read stops gc: it must not guess what is dead.
    """
    todo = sorted({o for o in oids if len(o) == 64})
    raws = [bytes.fromhex(o) for o in todo]
    keys: set[bytes] = set()
    remote_manifest = rindex.contains([idx.key(r, KIND_MANIFEST) for r in raws])
    fetch: list[int] = []
    for i, raw in enumerate(raws):
        keys.add(idx.key(raw, KIND_CHUNK))  # a one-chunk file (harmless for the others)
        local = pool.locate(raw, KIND_MANIFEST) is not None
        if local:
            keys.add(idx.key(raw, KIND_MANIFEST))
            keys.update(idx.key(cid, KIND_CHUNK) for cid, _ in pool.file_chunks(todo[i]))
        elif remote_manifest[i]:
            fetch.append(i)
    if fetch:
        found = rindex.lookup([idx.key(raws[i], KIND_MANIFEST) for i in fetch])
        for good, bad, _ in map(lambda r: _read_range(remote, retry, r, frozenset()),
                                coalesce((loc for loc in found if loc is not None),
                                          gap=remote.range_gap)):
            if bad:
                raise CorruptObject(f"{bad[0][1]}; gc --remote stopped (it cannot tell what that file needs)")
            for e, _, raw_bytes in good:
                keys.add(idx.key(e.id, KIND_MANIFEST))
                keys.update(idx.key(cid, KIND_CHUNK) for cid, _ in Manifest.decode(raw_bytes).chunks)
    return np.sort(np.array(sorted(keys), dtype=f"S{idx.KEY_SIZE}"))


def plan(rindex: RemoteIndex, infos: dict[str, ObjectInfo], live: np.ndarray, grace: float,
         res: RemoteGcResult, now: float | None = None) -> _Plan:
    """Sort the listed packs into kept, deleted and repacked (counting into ``res``)."""
    now = time.time() if now is None else now
    out = _Plan()
    kept: list[np.ndarray] = []
    mixed: list[tuple[str, np.ndarray, np.ndarray]] = []
    rows = rindex.rows_by_pack()
    for pack in sorted(n for n in infos if n.endswith(".pack")):
        old = now - infos[pack].mtime > grace
        if pack not in rows:  # no index file names it
            if old:  # an upload that never got an index
                out.delete.append(pack)
                res.freed_bytes += infos[pack].size
            else:
                res.packs_recent += 1
            continue
        keys, recs = rows[pack]
        alive = idx.search(live, keys)[0] if len(live) else np.zeros(len(keys), dtype=bool)
        res.live_objects += int(alive.sum())
        res.dead_objects += int((~alive).sum())
        if not old:
            res.packs_recent += 1
            kept.append(keys)
        elif alive.all():
            kept.append(keys)
        elif not alive.any():
            out.delete.append(pack)
            res.freed_bytes += infos[pack].size
        else:
            mixed.append((pack, keys[alive], recs[alive]))
            res.freed_bytes += int((recs["stored_len"][~alive].astype(np.int64) + ENTRY_SIZE).sum())
    have = np.unique(np.concatenate(kept)) if kept else np.zeros(0, dtype=f"S{idx.KEY_SIZE}")
    for pack, keys, recs in mixed:  # copy only what no kept pack (nor an earlier copy) holds
        need = ~idx.search(have, keys)[0] if len(have) else np.ones(len(keys), dtype=bool)
        entries = [Entry(bytes(k)[:32], bytes(k)[32], int(r["codec"]), int(r["offset"]),
                         int(r["stored_len"]), int(r["raw_len"]))
                   for k, r in zip(keys[need], recs[need])]
        out.repack.append((pack, entries))
        if need.any():
            have = np.unique(np.concatenate([have, keys[need]]))
    return out


def collect(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy, p: _Plan, pack_size: int,
            res: RemoteGcResult) -> None:
    """Carry out a plan: upload repacked objects, rewrite index files, then delete."""
    removed = set(p.delete) | {pack for pack, _ in p.repack}
    _repack(remote, rindex, retry, [(pack, e) for pack, entries in p.repack for e in entries],
            pack_size, res)
    crashpoint("remote-gc-repacked")
    res.index_files_rewritten += unindex(remote, rindex, retry, removed, "remote-gc-indexed")
    for n, pack in enumerate(sorted(removed)):
        retry.run(lambda q=pack: remote.delete(q))  # type: ignore[misc]
        if n == 0:
            crashpoint("remote-gc-deleting")
    res.packs_deleted = len(p.delete)
    res.packs_repacked = len(p.repack)
    res.removed = sorted(removed)


def unindex(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy, removed: set[str],
            point: str = "") -> int:
    """Make the packs ``removed`` uncommitted (their bytes stay): every midx naming one is replaced
    by a midx of the rest (uploaded before the old one is deleted), then their own indexes are
    deleted. Returns how many midxes were rewritten; ``point`` names the crash point between."""
    rewritten = 0
    for unit in rindex.units():  # midxes naming a removed pack: replaced by one without it
        if not unit.name.endswith(".midx") or not removed & set(unit.packs):
            continue
        rest = {mx.raw_name(q) for q in unit.packs if q not in removed}
        if rest:
            data = mx.encode([rindex.table(unit)], rest)
            name = f"{PACKS}midx-{secrets.token_hex(16)}.midx"
            retry.run(lambda n=name, d=data: remote.put(n, d))  # type: ignore[misc]
            rindex.add_midx(name, data)
        retry.run(lambda n=unit.name: remote.delete(n))  # type: ignore[misc]
        rindex.forget([unit.name])
        rewritten += 1
    if point:
        crashpoint(point)
    listing = rindex.listing
    for pack in sorted(removed):
        if pack[:-5] + ".idx" in listing:
            retry.run(lambda n=pack[:-5] + ".idx": remote.delete(n))  # type: ignore[misc]
    rindex.forget(pack[:-5] + ".idx" for pack in removed)
    return rewritten


def _repack(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy, entries: list[tuple[str, Entry]],
            pack_size: int, res: RemoteGcResult) -> None:
    """Download live entries (checked: headers, sha256 of chunks) and upload them in new packs of
    at most ``pack_size``, each followed by its index. Holds one pack in memory at most."""
    parts: list[bytes] = []
    written: list[Entry] = []
    size = HEADER.size

    def upload() -> None:
        nonlocal parts, written, size
        if not written:
            return
        name = f"{PACKS}pack-{secrets.token_hex(16)}"
        data = [HEADER.pack(MAGIC, VERSION, 0), *parts, TRAILER.pack(END_MAGIC, len(written))]
        index_bytes = idx.encode(written)
        retry.run(lambda: remote.put(name + ".pack", data))
        retry.run(lambda: remote.put(name + ".idx", index_bytes))  # the commit point
        rindex.add(name + ".pack", index_bytes)
        res.packs_written += 1
        parts, written, size = [], [], HEADER.size

    ranges = coalesce(entries, gap=remote.range_gap)
    for good, bad, _ in map(lambda r: _read_range(remote, retry, r, frozenset()), ranges):
        if bad:
            raise MlvError(f"{bad[0][1]}; gc --remote stopped before deleting anything")
        for e, stored, _ in good:
            blob = encode_entry(e.id, e.kind, e.codec, e.raw_len, stored)
            if written and size + len(blob) > pack_size:
                upload()
            written.append(Entry(e.id, e.kind, e.codec, size, e.stored_len, e.raw_len))
            parts.append(blob)
            size += len(blob)
    upload()
