"""Writing a sorted table of keys without holding a sorted copy of it (issue 9: flat memory).

The pool's midx (core/midx.py) and the pointer cache (gitio/pointer_cache.py) are files of a sorted
key column followed by a column of values, built by merging sorted runs. Sorting the concatenated
columns and then serializing them held the rows three to five times over (the unsorted rows, the
sorted copy, the file's bytes, their concatenations): a clone's filter of 150,000 files peaked
25 MB above its level for a pointer-cache merge of 100,000 entries, a 600,000-file clone's at
215 MB. Here only the unsorted columns and their order (8 bytes a row) are held; the file is
produced a block of rows at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import numpy as np

# Rows gathered per piece: with 33-byte keys, 2 MiB.
BLOCK = 1 << 16
# Keys searched per slice by ``in_key_order``: a slice of 2,048 sorted keys out of a fetch batch of
# 20,000 random ones falls in ~1/10 of a table's rows. Measured on a 600,000-object midx (keys
# 19 MB): 20,000 keys in one search left 19 MB of it resident, in sorted slices at most 6.8 MB.
# A few hundred keys spread over the whole key space touch every page whatever the order (each
# binary search faults ~12 pages in, and the kernel maps 16 pages around each fault).
SLICE = 2048

T = TypeVar("T")


def first_in_order(keys: np.ndarray) -> np.ndarray:
    """The rows of ``keys`` in ascending key order, each key once: of equal keys, the first row
    (a stable sort: sorted runs, such as concatenated sorted files, merge in linear time)."""
    import numpy as np

    order = np.argsort(keys, kind="stable")
    if len(order) < 2:
        return order
    first = np.ones(len(order), dtype=bool)
    for i in range(1, len(order), BLOCK):  # neighbours compared a block at a time: no sorted copy
        j = min(i + BLOCK, len(order))
        first[i:j] = keys[order[i:j]] != keys[order[i - 1:j - 1]]
    return order if bool(first.all()) else order[first]


def gathered(columns: list[np.ndarray], order: np.ndarray) -> Iterator[bytes]:
    """The bytes of each of ``columns`` taken in ``order``, one column after the other, a block of
    rows at a time; each column is let go of (removed from ``columns``) once written."""
    while columns:
        column = columns.pop(0)
        for i in range(0, len(order), BLOCK):
            yield column[order[i:i + BLOCK]].tobytes()
        del column


def in_key_order(keys: np.ndarray, look: Callable[[np.ndarray], Sequence[T]],
                 after: Callable[[], None]) -> list[T]:
    """``look(keys)`` (one result per key), done over ``keys`` sorted, ``SLICE`` at a time,
    calling ``after`` (hand back the mapped pages the search touched) after each slice.

    Random keys searched in one go touch every page of a sorted table: a clone's batch of 20,000
    files made a 600,000-object remote midx (34 MB) and the pool's pack indexes resident at once
    (issue 9). Sorted slices of a big batch touch one band of each table at a time."""
    import numpy as np

    if len(keys) <= SLICE:
        found = list(look(keys))
        after()
        return found
    order = np.argsort(keys, kind="stable")
    out: list[T] = [None] * len(keys)  # type: ignore[list-item]  # every slot is set below
    for i in range(0, len(order), SLICE):
        part = order[i:i + SLICE]
        for j, value in zip(part.tolist(), look(keys[part])):
            out[j] = value
        after()
    return out
