"""What `git mlv fetch` and `pull` must download, found batch by batch: the walk's pointers come
in batches (gitio/walk.py), the pool is asked which of a batch it holds (one vectorised lookup),
and only the files it lacks are kept, with their paths and sizes. Of the others only their ids are
kept, as 32-byte array entries, to count the files in scope and out of it as before ("Fetched 0
of N file(s)"). Before, every tracked file's id and paths were held as Python strings at once:
~1 KB a file, 134 MB for `git mlv fetch` with nothing to fetch in a 100,000-file repository.

Scope (ops/scope.py): a file version is asked for when one of its paths is in scope (or it has
none: ``fetch --all``); the others are counted, one per path, unless the same version is in scope
at another path. A version the pool lacks keeps its paths for messages: all of them within a
batch, as before; of a batch where none of its paths is in scope, none (a copy of an in-scope file
at an excluded path, _BATCH files away, is not named in its "not fetched" warning).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core import idarray as ida
from ..core.pool import Pool
from .scope import FetchScope

# (file oid, its size from the pointer, its path or None when the walk names none)
Item = tuple[str, int, str | None]


@dataclass
class Plan:
    """The files to fetch and what the user is told about the others."""

    paths: dict[str, list[str]] = field(default_factory=dict)  # oid -> paths, of the lacking ones
    sizes: dict[str, int] = field(default_factory=dict)  # oid -> size, of the lacking ones
    files: int = 0  # file versions in scope, here or not
    ids: np.ndarray = field(default_factory=lambda: ida.ids_of([]))  # theirs: sorted S32
    out_of_scope: int = 0  # files (paths) left out by the scope
    left_lacking: int = 0  # versions the pool lacks left out (scope, ``drop``): the tree is not
    # complete here after the fetch (ops/complete.py)


def plan(pool: Pool, batches: Iterable[Sequence[Item]], scope: FetchScope,
         drop: Callable[[dict[str, list[str]]], set[str]] | None = None) -> Plan:
    """The plan for these batches of the walk. ``drop`` (lacking oid -> paths of a batch): those
    of them to forget altogether (pull: the files no tracked pattern covers), asked about the
    files the pool lacks only."""
    from .data import present_oids

    out = Plan()
    kept: list[np.ndarray] = []  # ids in scope, a sorted array a batch
    left: list[np.ndarray] = []  # ids of files out of scope, one entry per path
    for batch in batches:
        by_oid: dict[str, list[str]] = {}
        sizes: dict[str, int] = {}
        for oid, size, path in batch:
            ps = by_oid.setdefault(oid, [])
            if path is not None:
                ps.append(path)
            sizes[oid] = size
        here = present_oids(pool, by_oid)
        lacking = {o: ps for o, ps in by_oid.items() if o not in here}
        if drop is not None and lacking:
            for o in drop(lacking):
                del by_oid[o], lacking[o]
                out.left_lacking += 1
        if scope.limited:
            inside = {o for o, ps in by_oid.items() if not ps or scope.any_in_scope(ps)}
            outs = [o for o, ps in by_oid.items() if o not in inside for _ in ps]
            if outs:
                left.append(np.frombuffer(bytes.fromhex("".join(outs)), dtype=ida.ID))
        else:
            inside = set(by_oid)
        kept.append(ida.ids_of(inside))
        for o, ps in lacking.items():
            if o in inside:
                out.paths.setdefault(o, []).extend(ps)
                out.sizes[o] = sizes[o]
            else:
                out.left_lacking += 1
        del batch, by_oid, sizes, lacking, inside  # not alive while the walk makes the next batch
    every = out.ids = ida.merge(kept)
    out.files = len(every)
    if left:
        gone = np.concatenate(left)
        at = np.minimum(np.searchsorted(every, gone), max(len(every) - 1, 0))
        out.out_of_scope = int(len(gone) if not len(every) else np.count_nonzero(every[at] != gone))
    return out
