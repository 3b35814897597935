"""File ids and index keys as packed numpy arrays: 32 (or 33) bytes per object, not ~100 bytes of
Python string each, for the commands that handle every file of a repository at once (a first push,
gc, status of 600,000 files: issue 9, at most 200 MB for any process).

An ``S32`` array compares and sorts the raw bytes, but numpy drops trailing NUL bytes when one
element becomes a Python ``bytes``: ids leave an array only through ``hexes`` (``tobytes``). Keys
(``S33``) end with their kind byte, never NUL.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from . import index as idx
from .hashing import EMPTY_OID
from .pack import KIND_CHUNK

if TYPE_CHECKING:
    from .pool import Pool

# Ids asked of the indexes at once: each batch is one vectorised search per index, and its
# temporaries (Python bytes per key in Pool.contains/locate_keys) stay a few MB.
BATCH = 20_000
ID = "S32"
KEY = f"S{idx.KEY_SIZE}"
EMPTY = np.frombuffer(bytes.fromhex(EMPTY_OID), dtype=ID)


def ids_of(oids: Iterable[str] | np.ndarray) -> np.ndarray:
    """Sorted unique ``S32`` array of these file ids (hex strings, or an array already)."""
    if isinstance(oids, np.ndarray):
        arr = oids.astype(ID, copy=False)
        return arr if bool((arr[1:] > arr[:-1]).all()) else np.unique(arr)  # no copy when it is one
    parts = []
    it = iter(oids)
    while batch := list(itertools.islice(it, BATCH)):
        parts.append(np.unique(np.frombuffer(bytes.fromhex("".join(batch)), dtype=ID)))
    return merge(parts)


def merge(parts: list[np.ndarray], dtype: str = ID) -> np.ndarray:
    """Sorted unique union of these arrays, emptying ``parts``: sorted in place, so the peak is
    about twice the result (``np.unique(np.concatenate(...))`` holds three or four copies), once
    when the parts are already in order."""
    arr = np.concatenate([np.zeros(0, dtype=dtype), *parts])
    parts.clear()
    if len(arr) < 2 or bool((arr[1:] > arr[:-1]).all()):
        return arr  # sorted parts of ascending ranges (batches of sorted ids): nothing to copy
    arr.sort()
    return arr[np.concatenate([[True], arr[1:] != arr[:-1]])]


def hexes(ids: np.ndarray) -> list[str]:
    """The hex strings of an ``S32`` array (for the few ids shown to a user)."""
    raw = np.ascontiguousarray(ids, dtype=ID).tobytes().hex()
    return [raw[i:i + 64] for i in range(0, len(raw), 64)]


def keys_of(ids: np.ndarray, kind: int) -> np.ndarray:
    """The ``S33`` index keys (id + kind byte) of an ``S32`` array."""
    out = np.zeros((len(ids), idx.KEY_SIZE), dtype=np.uint8)
    out[:, :32] = np.ascontiguousarray(ids, dtype=ID).view(np.uint8).reshape(len(ids), 32)
    out[:, 32] = kind
    return out.view(KEY).reshape(len(ids))


def batches(arr: np.ndarray, size: int = BATCH) -> Iterator[np.ndarray]:
    """Consecutive slices of ``arr`` of at most ``size``."""
    for start in range(0, len(arr), size):
        yield arr[start:start + size]


def chunk_keys_of(pool: Pool, ids: np.ndarray) -> np.ndarray:
    """``S33`` keys of the chunks of files ``ids`` that have a manifest here (read from their
    manifests: large files only, so few per batch)."""
    keys = [idx.key(cid, KIND_CHUNK) for h in hexes(ids) for cid, _ in pool.file_chunks(h)]
    return np.array(keys, dtype=KEY).reshape(-1)
