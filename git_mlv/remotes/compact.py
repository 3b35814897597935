"""Index consolidation on a remote: many small index files become one multi-pack index
(docs/remotes.md "Index consolidation").

Each push adds an index; a clone downloads every index file. When a remote has ``threshold`` index
units or more (each midx, and each index of a pack no midx covers), the small ones that break a
factor-2 progression are merged into one midx — built from the verified copies in the local cache,
so nothing is downloaded — which is uploaded before the files it replaces are deleted. Only files
this clone listed and that its new midx covers are deleted, so concurrent pushers and consolidators
never lose an object; the packs themselves are never touched.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field

from ..core import midx as mx
from ..core.consolidate import geometric_split
from ..core.crashpoint import crashpoint
from .base import Remote, RemoteError
from .cache import RemoteIndex
from .transfer import RetryPolicy

# A remote that refuses deletes (an append-only bucket policy) would get a new midx on every push
# and never lose the files it replaces: after a refused delete, leave it alone for a day.
_BACKOFF = 24 * 3600
REFUSED = "compact-refused"  # in the remote's cache folder; its mtime is the last refusal


@dataclass
class CompactResult:
    """What an index consolidation did."""

    midx: str = ""  # the multi-pack index uploaded
    replaced: list[str] = field(default_factory=list)  # index files it replaced (deleted)
    objects: int = 0
    error: str = ""  # why some replaced files could not be deleted (they stay: duplicates)


def compact_indexes(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy, threshold: int
                    ) -> CompactResult | None:
    """Consolidate the remote's index files once there are ``threshold`` of them (0: never).

    ``rindex`` must have been refreshed (a push has just done so). None when nothing was done.
    """
    if threshold <= 0 or deletes_refused(rindex):
        return None
    res = CompactResult()
    _delete(remote, rindex, retry, rindex.redundant(), res)
    units = sorted(rindex.units(), key=lambda u: u.objects)
    split = geometric_split([max(1, u.objects) for u in units]) if len(units) >= threshold else 0
    chosen = units[:split]
    if len(chosen) < 2:
        return res if res.replaced else None
    keep = {mx.raw_name(p) for u in chosen for p in u.packs}
    # the tables' pages are handed back once copied: the sort's arrays then fit in their room
    data = mx.encode([rindex.table(u) for u in chosen], keep,
                     copied=lambda i: rindex.drop_unit_pages(chosen[i]))
    name = f"packs/midx-{secrets.token_hex(16)}.midx"
    retry.run(lambda: remote.put(name, data))  # the new commit point of every pack it names
    crashpoint("remote-compact-uploaded")
    rindex.add_midx(name, data)
    res.midx, res.objects = name, mx.HEADER.unpack_from(data, 0)[3]
    _delete(remote, rindex, retry, [u.name for u in chosen], res)
    return res


def _delete(remote: Remote, rindex: RemoteIndex, retry: RetryPolicy, names: list[str],
            res: CompactResult) -> None:
    """Delete index files a listed midx now covers; remember a refusal (see ``_BACKOFF``)."""
    done: list[str] = []
    try:
        for n in names:
            retry.run(lambda n=n: remote.delete(n))  # type: ignore[misc]
            done.append(n)
            if len(done) == 1:
                crashpoint("remote-compact-deleting")
    except RemoteError as e:
        res.error = str(e)
        note_refusal(rindex, e)
    res.replaced += done
    rindex.forget(done)


def deletes_refused(rindex: RemoteIndex) -> bool:
    """True when the remote refused a delete less than ``_BACKOFF`` ago (consolidation and pack
    merging then wait: each would only add files)."""
    try:
        return time.time() - os.path.getmtime(os.path.join(rindex.dir, REFUSED)) < _BACKOFF
    except OSError:
        return False


def note_refusal(rindex: RemoteIndex, err: RemoteError) -> None:
    """Remember that the remote refused a delete (see ``deletes_refused``)."""
    rindex.write_state(REFUSED, f"{err}\n".encode())
