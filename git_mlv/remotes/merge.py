"""Pack merging on a remote: many small packs become a few large ones (docs/remotes.md "Pack
merging").

Each push adds a pack; a clone then reads ranges of every one of them. At the end of a push, once
the remote has ``threshold`` committed packs under half the pack size, the small ones that break a
factor-2 progression (by bytes, as ``git repack --geometric``) are merged: the pusher builds the
merged pack from its *own pool* (nothing is downloaded; a pack with an object the pool lacks is left
out), uploads it with its index (the commit point), and only then makes the old packs uncommitted
(midxes rewritten without them, their indexes deleted: ``collect.unindex``). Their bytes stay for
the grace period, for readers that looked them up before; the clone that merged them deletes them
at a later push (``<cache>/superseded``), and ``gc --remote`` deletes any uncommitted pack older than
the grace period. Every object of an old pack is in the merged pack before the old one stops being
committed, so concurrent pushers (which may have deduplicated against it) and readers lose nothing.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field

import numpy as np

from ..core import index as idx
from ..core.consolidate import geometric_split
from ..core.crashpoint import crashpoint
from ..core.pack import ENTRY_SIZE, HEADER, TRAILER
from ..core.packset import Location
from ..core.pool import Pool
from ..errors import CorruptObject
from .base import Remote, RemoteError
from .cache import RemoteIndex
from .collect import unindex
from .compact import deletes_refused, note_refusal
from .transfer import RetryPolicy, _assemble, _plan_packs, size_of

SUPERSEDED = "superseded"  # in the remote's cache folder: "<unix time> <pack>" per line


@dataclass
class MergeResult:
    """What a pack merge did."""

    merged: list[str] = field(default_factory=list)  # remote packs now uncommitted (bytes kept)
    written: list[str] = field(default_factory=list)  # new remote packs
    objects: int = 0
    bytes_sent: int = 0
    left_out: int = 0  # chosen packs holding an object the local pool lacks (not merged)
    deleted: list[str] = field(default_factory=list)  # superseded packs deleted (past the grace)
    error: str = ""  # a refused delete: the files stay (duplicates), merging pauses (compact.py)


def merge_packs(pool: Pool, remote: Remote, rindex: RemoteIndex, retry: RetryPolicy, threshold: int,
                pack_size: int, grace: float, now: float | None = None) -> MergeResult | None:
    """Merge the remote's small packs once there are ``threshold`` of them (0: never), from local
    data; then delete packs this clone superseded more than ``grace`` seconds ago.

    ``rindex`` must have been refreshed (a push has just done so). None when nothing was done.
    """
    if threshold <= 0 or deletes_refused(rindex):
        return None
    now = time.time() if now is None else now
    res = MergeResult()
    try:
        chosen, locs = _local_copies(pool, rindex, _choose(rindex, threshold, pack_size), res)
        if locs:
            _upload(remote, rindex, retry, locs, pack_size, res)
            crashpoint("remote-merge-uploaded")
            _supersede(rindex, chosen, now)
            unindex(remote, rindex, retry, set(chosen), "remote-merge-unindexing")
            res.merged = sorted(chosen)
        _delete_superseded(remote, rindex, retry, now - grace, res)
    except RemoteError as e:  # a refused delete (append-only remote): duplicates, harmless
        res.error = str(e)
        note_refusal(rindex, e)
    except CorruptObject as e:
        # a local copy is damaged (every entry is checked before it goes up): the remote's packs
        # stay as they are, never replaced by rotten bytes; `git mlv fsck` says what is damaged
        res.error = str(e)
    return res if res.written or res.deleted or res.error else None


def _local_copies(pool: Pool, rindex: RemoteIndex, chosen: list[str], res: MergeResult
                  ) -> tuple[list[str], list[Location]]:
    """The chosen packs whose every object the local pool holds, and where those objects are here
    (sorted by local pack and offset: runs of adjacent entries go up as one slice)."""
    if not chosen:
        return [], []
    rows = rindex.rows_by_pack(set(chosen))
    chosen = [p for p in chosen if p in rows]
    keys = np.unique(np.concatenate([rows[p][0] for p in chosen])) if chosen else np.zeros(0, "S33")
    found = dict(zip(keys.tolist(), pool.locate_keys(keys.tolist())))
    here = [p for p in chosen if all(found[k] is not None for k in rows[p][0].tolist())]
    res.left_out = len(chosen) - len(here)  # another clone's data: those packs stay as they are
    if len(here) < 2:
        return [], []
    want = np.unique(np.concatenate([rows[p][0] for p in here])).tolist()
    locs = [loc for k in want if (loc := found[k]) is not None]
    locs.sort(key=lambda loc: (loc.pack, loc.entry.offset))
    return here, locs


def _choose(rindex: RemoteIndex, threshold: int, pack_size: int) -> list[str]:
    """The committed small packs a geometric merge takes (sizes from the listing; packs this clone
    has just uploaded are listed as -1 and weighed by their index)."""
    listing = rindex.listing
    # A pack at least half full stays: merging packs near the pack size would cut them into packs
    # near the pack size again, and re-upload them at every push.
    limit = pack_size // 2
    small = [p for p in rindex.packs() if listing.get(p, -1) < limit]
    if len(small) < threshold:
        return []
    unknown = [p for p in small if listing.get(p, -1) < 0]
    sizes = {p: listing[p] for p in small if listing.get(p, -1) >= 0}
    for p, (_, recs) in rindex.rows_by_pack(set(unknown)).items():
        sizes[p] = (HEADER.size + TRAILER.size
                    + int((recs["stored_len"].astype(np.int64) + ENTRY_SIZE).sum()))
    weighed = sorted((s, p) for p, s in sizes.items() if s < limit)
    split = geometric_split([max(1, s) for s, _ in weighed])
    return [p for _, p in weighed[:split]] if split >= 2 else []


def _upload(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy, locs: list[Location],
            pack_size: int, res: MergeResult) -> None:
    """Upload the objects at ``locs`` (local pool) in packs of at most ``pack_size``, each followed
    by its index. A pack uploaded without its index (a crash) is in ``pending``: the next push
    deletes it (transfer._collect_orphans)."""
    for part in _plan_packs(locs, pack_size):
        data, entries = _assemble(part)
        name = f"packs/pack-{secrets.token_hex(16)}"
        rindex.uploads.add([name + ".pack"])  # (and holds push.lock: remotes/pending.py)
        index_bytes = idx.encode(entries)
        retry.run(lambda n=name, d=data: remote.put(n + ".pack", d))  # type: ignore[misc]
        retry.run(lambda n=name, d=index_bytes: remote.put(n + ".idx", d))  # type: ignore[misc]
        rindex.add(name + ".pack", index_bytes)
        rindex.uploads.remove([name + ".pack"])  # the index is up: committed
        res.written.append(name + ".pack")
        res.objects += len(entries)
        res.bytes_sent += size_of(data) + len(index_bytes)


def _read_superseded(rindex: RemoteIndex) -> list[tuple[float, str]]:
    try:
        with open(os.path.join(rindex.dir, SUPERSEDED), encoding="utf-8") as f:
            rows = [line.split() for line in f]
    except FileNotFoundError:
        return []
    out = []
    for r in rows:
        try:
            if len(r) == 2 and r[1].startswith("packs/pack-") and r[1].endswith(".pack"):
                out.append((float(r[0]), r[1]))
        except ValueError:
            continue  # a damaged line: that pack is left to gc --remote
    return out


def _write_superseded(rindex: RemoteIndex, rows: list[tuple[float, str]]) -> None:
    text = "".join(f"{int(t)} {p}\n" for t, p in rows)  # floored: never later than it was
    rindex.write_state(SUPERSEDED, text.encode())


def _supersede(rindex: RemoteIndex, packs: list[str], now: float) -> None:
    """Remember packs we are about to make uncommitted, before we do (a crash after leaves them
    recorded; a pack recorded but still committed is simply not deleted)."""
    _write_superseded(rindex, [*_read_superseded(rindex), *((now, p) for p in sorted(packs))])


def _delete_superseded(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy, before: float,
                       res: MergeResult) -> None:
    """Delete the packs this clone superseded before ``before`` that no index names now."""
    rows = _read_superseded(rindex)
    if not rows:
        return
    keep: list[tuple[float, str]] = []
    for t, pack in rows:
        if t > before:  # still within the grace period
            keep.append((t, pack))
        elif not rindex.committed(pack):  # named again (a concurrent merge's midx): not ours to delete
            retry.run(lambda p=pack: remote.delete(p))  # type: ignore[misc]
            res.deleted.append(pack)
            if len(res.deleted) == 1:
                crashpoint("remote-merge-deleting")
    _write_superseded(rindex, keep)
    rindex.forget(res.deleted)
