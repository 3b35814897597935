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

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

# Rows gathered per piece: with 33-byte keys, 2 MiB.
BLOCK = 1 << 16


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
