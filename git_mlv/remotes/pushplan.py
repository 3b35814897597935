"""What a push sends and in which packs, with memory that follows the batch, not the push.

A first push of 600,000 small files held every file id as a Python string several times over (sets,
sorted lists, the keys of the remote lookup) and one ``Location`` per object to send: 748 MB in the
pre-push hook (bench/RESULTS.md, issue 9). Here file ids are packed numpy arrays of raw 32-byte ids
(``S32``, sorted, unique) and object keys ``S33`` arrays; the remote's and the pool's indexes are
asked BATCH ids at a time, and ``Location``s exist for one pack's worth of objects at a time.

The arrays and their helpers are core/idarray.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core import idarray as ida
from ..core import index as idx
from ..core.pack import ENTRY_SIZE, HEADER, KIND_CHUNK, KIND_MANIFEST
from ..core.pool import Location, Pool
from ..errors import CorruptObject
from .cache import RemoteIndex


def on_remote_mask(rindex: RemoteIndex, ids: np.ndarray) -> np.ndarray:
    """Which of these files the remote's cached indexes hold (manifest, or the one chunk)."""
    out = np.zeros(len(ids), dtype=bool)
    for start in range(0, len(ids), ida.BATCH):
        b = ids[start:start + ida.BATCH]
        out[start:start + len(b)] = (rindex.contains(ida.keys_of(b, KIND_MANIFEST))
                                     | rindex.contains(ida.keys_of(b, KIND_CHUNK)))
    return out


def needed_keys(pool: Pool, rindex: RemoteIndex, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted ``S33`` keys of the objects the remote lacks for these files, and the ids of files
    neither here nor there (the empty file needs nothing)."""
    keys: list[np.ndarray] = []
    missing: list[np.ndarray] = []
    for b in ida.batches(ids[ids != ida.EMPTY]):
        man, chunk = ida.keys_of(b, KIND_MANIFEST), ida.keys_of(b, KIND_CHUNK)
        todo = ~rindex.contains(man)  # a manifest is only ever uploaded after all its chunks
        here_m = todo & pool.contains(man)
        todo &= ~here_m & ~rindex.contains(chunk)
        here_c = todo & pool.contains(chunk)
        missing.append(b[todo & ~here_c])
        found = np.unique(np.concatenate([man[here_m], chunk[here_c], ida.chunk_keys_of(pool, b[here_m])]))
        if len(found):
            keys.append(found[~rindex.contains(found)])
    return ida.merge(keys, ida.KEY), ida.merge(missing)


@dataclass
class PackPlan:
    """Objects to send, in remote packs of about ``pack_size``: chunks in the order of the local
    packs (so a run of adjacent local entries is one read, and a clone reading the remote in the
    order files were added coalesces its ranges), manifests in the last pack. Where each object
    was at planning time is kept (local pack number, offset), so an upload need not look every
    object up again: it checks the entry header it finds there (remotes/transfer.py)."""

    keys: np.ndarray  # S33, in upload order
    sizes: np.ndarray  # int32: bytes each object takes in a pack (entry header + stored bytes)
    cuts: list[int]  # pack i holds keys[cuts[i]:cuts[i + 1]]
    packs: list[str]  # local pack paths, by number
    pack_no: np.ndarray  # int32: each object's local pack (an index into ``packs``)
    offsets: np.ndarray  # int64: each object's entry offset in that pack

    def __len__(self) -> int:
        return len(self.cuts) - 1

    @property
    def total(self) -> int:
        """Bytes of every entry to send (for progress)."""
        return int(self.sizes.sum(dtype=np.int64))

    def slots(self, i: int) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Pack ``i``'s objects where the plan found them: the local pack paths, and for each
        object its pack's number among them, its offset, key and size."""
        at = slice(self.cuts[i], self.cuts[i + 1])
        return self.packs, self.pack_no[at], self.offsets[at], self.keys[at], self.sizes[at]

    def locations(self, pool: Pool, i: int) -> list[Location]:
        """Where pack ``i``'s objects are now (asked again: a consolidation may have moved them)."""
        keys = self.keys[self.cuts[i]:self.cuts[i + 1]]
        out = []
        for k, loc in zip(keys, pool.locate_keys(keys)):
            if loc is None:  # gone between the plan and now (a concurrent gc): say so, don't guess
                raise CorruptObject(_not_here(k))
            out.append(loc)
        return out


def _not_here(key: bytes) -> str:
    """Why a push stops at an object the pool lacks though a file it holds names it. Before, only
    "vanished from the pool during push": wrong for the usual cause, a ``git mlv prune`` killed
    between deleting two packs (a pruned file's manifest left, a chunk of it gone), and no fix."""
    return (f"object {bytes(key)[:32].hex()} is not in the pool though a file here names it (a "
            "`git mlv prune` or `gc` interrupted, or one running now); nothing was sent for it: "
            "`git mlv fsck` names the file, `git mlv fsck --repair` fetches it again from the "
            "default data remote")


def plan_packs(pool: Pool, keys: np.ndarray, pack_size: int) -> PackPlan:
    """Cut ``keys`` (``S33``) into remote packs of about ``pack_size`` bytes."""
    kinds = np.ascontiguousarray(keys, dtype=ida.KEY).view(np.uint8)[32::idx.KEY_SIZE]
    is_manifest = kinds == KIND_MANIFEST
    names: dict[str, int] = {}
    if is_manifest.any():
        chunks = _in_pack_order(pool, keys[~is_manifest], names)
        manifests = _in_pack_order(pool, keys[is_manifest], names)
    else:  # no copy of the keys (a push of small files: every key is a chunk's)
        chunks = _in_pack_order(pool, keys, names)
        manifests = _Located(keys[:0], np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32),
                             np.zeros(0, dtype=np.int64))
    del kinds, is_manifest
    cuts = [0]
    cum = np.cumsum(chunks.sizes, dtype=np.int64)
    while cuts[-1] < len(cum):
        start = cuts[-1]
        base = int(cum[start - 1]) if start else 0
        end = int(np.searchsorted(cum, base + pack_size - HEADER.size, side="right"))
        cuts.append(max(end, start + 1))  # an object bigger than a pack goes alone
    n = len(chunks.keys)
    packs = sorted(names, key=names.__getitem__)
    if not len(manifests.keys):
        return PackPlan(chunks.keys, chunks.sizes, cuts, packs, chunks.pack_no, chunks.offsets)
    # The last pack carries every manifest and goes up after all others are indexed, so a
    # manifest is never visible before its chunks. With several chunk packs the manifests get
    # a small pack of their own: then every chunk pack uploads in parallel, none waits.
    if len(cuts) > 2 or len(cuts) == 1:
        cuts.append(n + len(manifests.keys))
    else:
        cuts[-1] = n + len(manifests.keys)
    return PackPlan(np.concatenate([chunks.keys, manifests.keys]),
                    np.concatenate([chunks.sizes, manifests.sizes]), cuts, packs,
                    np.concatenate([chunks.pack_no, manifests.pack_no]),
                    np.concatenate([chunks.offsets, manifests.offsets]))


@dataclass
class _Located:
    """Keys in (local pack, offset) order with their sizes, packs and offsets."""

    keys: np.ndarray
    sizes: np.ndarray
    pack_no: np.ndarray
    offsets: np.ndarray


def _in_pack_order(pool: Pool, keys: np.ndarray, names: dict[str, int]) -> _Located:
    """``keys`` sorted by (local pack, offset), with each one's size in a pack; located ida.BATCH at
    a time, keeping three numbers per object, not a ``Location``. ``names`` numbers the local packs
    (shared by the calls of one plan)."""
    pack = np.zeros(len(keys), dtype=np.int32)
    offset = np.zeros(len(keys), dtype=np.int64)
    size = np.zeros(len(keys), dtype=np.int32)  # an entry is < 2 GiB (chunks are a few MiB at most)
    for start in range(0, len(keys), ida.BATCH):
        b = keys[start:start + ida.BATCH]
        locs = pool.locate_keys(b)
        for k, loc in zip(b, locs):
            if loc is None:
                raise CorruptObject(_not_here(k))
        at = slice(start, start + len(b))
        pack[at] = [names.setdefault(loc.pack, len(names)) for loc in locs]  # type: ignore[union-attr]
        offset[at] = [loc.entry.offset for loc in locs]  # type: ignore[union-attr]
        size[at] = [loc.entry.stored_len for loc in locs]  # type: ignore[union-attr]
    size += ENTRY_SIZE
    rank = np.zeros(len(names), dtype=np.int32)  # packs in name order, as before numbering
    rank[[names[p] for p in sorted(names)]] = np.arange(len(names), dtype=np.int32)
    order = np.lexsort((offset, rank[pack])) if len(keys) else np.zeros(0, dtype=np.int64)
    return _Located(keys[order], size[order], pack[order], offset[order])
