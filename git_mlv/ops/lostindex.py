"""Pack indexes lost while the midx still covers their packs (deleted by hand, left out of a copy
or a backup): reads go through the midx and never notice, but fsck, gc, prune and ``fsck --repair``
open every pack's index. An index holds only what the pack's entry headers say
(docs/formats.md), so a whole pack's is rebuilt from it."""

from __future__ import annotations

import os

from ..core import index as idx
from ..core.fsutil import unlock
from ..core.pack import scan
from ..core.pool import Pool
from ..errors import CorruptObject, MlvError


def restore_indexes(pool: Pool) -> list[str]:
    """Rebuild the index of each listed pack whose ``.idx`` is gone; the names of those packs.
    Before, fsck, gc, prune and ``fsck --repair`` stopped with "internal error: FileNotFoundError".
    Only a whole pack gets one (every entry header read up to its trailer): it is then the index
    lost (a flipped bit in stored bytes is found by fsck's reading, as with any index); any other
    pack is left for fsck to name. The caller holds the gc lock (no consolidation deletes a pack
    meanwhile)."""
    rebuilt = []
    for pack in pool.packs():
        index_path = pack[:-5] + ".idx"
        if os.path.exists(index_path):
            continue
        try:
            entries, _, whole = scan(pack)
        except (MlvError, OSError):
            continue
        if whole and entries:
            idx.write(index_path, entries)
            rebuilt.append(os.path.basename(pack))
    return rebuilt


def index_or_say(pool: Pool, pack: str) -> idx.IndexFile:
    """The pack's index; one line (exit 3) when it is gone and the pack too damaged to rebuild it."""
    try:
        return pool.index_of(pack)
    except FileNotFoundError:
        raise CorruptObject(f"{os.path.basename(pack)} has no index and is too damaged to index "
                            "again; nothing was deleted: run `git mlv fsck`") from None


def ensure_indexes(pool: Pool, held: int | None = None) -> list[str]:
    """``restore_indexes`` under the gc lock: ``held``, or taken for the time of it (nothing is
    rebuilt while writers hold the pool, or in a pool this user cannot lock)."""
    if not any(not os.path.exists(p[:-5] + ".idx") for p in pool.packs()):
        return []  # the usual case: no lock taken (a writer would wait for it)
    lock = held
    if lock is None:
        try:
            lock = pool.gc_lock()
        except OSError:
            return []
        if lock is None:
            return []
    try:
        return restore_indexes(pool)
    finally:
        if held is None:
            unlock(lock)
