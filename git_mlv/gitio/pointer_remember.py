"""What the filter tells the pointer cache (gitio/pointer_cache.py, docs/formats.md#pointer-cache):
the pointers it hands to git or gets from it, keyed by the blob id git gives each, so that no later
walk reads those blobs from git. Split from pointer_cache.py, whose reading side the walks use.
"""

from __future__ import annotations

import hashlib
import mmap
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from ..core.pointer import Pointer
from .pointer_cache import HEADER, KEY_SIZE, MAGIC, SUFFIX, VALUE, VERSION, PointerCache, folder

if TYPE_CHECKING:
    from .git import Repo


def blob_id(content: bytes, object_format: str = "sha1") -> str:
    """The git object id of a blob with this content (what ``git hash-object`` prints)."""
    return _blob_hash(content, object_format).hexdigest()


def _blob_hash(content: bytes, object_format: str) -> hashlib._Hash:
    h = hashlib.new("sha256" if object_format == "sha256" else "sha1")
    h.update(b"blob %d\0" % len(content))
    h.update(content)
    return h


# Up to this many pointers, the filter first asks whether the cache knows them all (a binary search
# per file and key) before it writes a cache file: a one-file checkout's filter re-cleans and
# smudges pointers the cache has held since they were first written, and a new file of two
# entries, then a merge, at every checkout cost more than the rest of its exit (bench/RESULTS.md,
# one5). Above, adding is the common case (a clone, a commit of many files).
_CHECK_MAX = 64


def known(root: str, keys: Sequence[bytes]) -> bool:
    """True when every key (``key_of``) is in a cache file under ``root``.

    Plain binary searches of each file's mapped key column: no numpy and no checksum. A damaged
    file can only make this say True for a key it does not really hold, and so skip an add (an
    optimisation lost); every answer that names a pointer comes from ``lookup``, which checks each
    file it opens.
    """
    todo = set(keys)
    try:
        names = [n for n in os.listdir(root) if n.endswith(SUFFIX)]
    except OSError:
        return not todo
    for name in names:
        if not todo:
            break
        try:
            with open(os.path.join(root, name), "rb") as f:
                m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (OSError, ValueError):
            continue
        with m:
            if len(m) < HEADER.size:
                continue
            magic, version, count = HEADER.unpack_from(m, 0)
            if magic != MAGIC or version != VERSION or len(m) < HEADER.size + count * KEY_SIZE:
                continue
            for k in list(todo):
                lo, hi = 0, count
                while lo < hi:
                    mid = (lo + hi) // 2
                    at = HEADER.size + mid * KEY_SIZE
                    if m[at:at + KEY_SIZE] < k:
                        lo = mid + 1
                    else:
                        hi = mid
                at = HEADER.size + lo * KEY_SIZE
                if lo < count and m[at:at + KEY_SIZE] == k:
                    todo.discard(k)
    return not todo


def remember_written(root: str, pointers: Iterable[bytes], object_format: str = "sha1",
                     merge_limit: int | None = None) -> None:
    """Add pointers the filter handed to git or got from it, keyed by the blob id git gives them."""
    rows = []
    for data in pointers:
        p = Pointer.try_parse(data)
        if p is not None:
            key = _blob_hash(data, object_format).digest()[:KEY_SIZE]
            rows.append(key + VALUE.pack(bytes.fromhex(p.oid), p.size, len(data)))
    if not rows or (len(rows) <= _CHECK_MAX and known(root, [r[:KEY_SIZE] for r in rows])):
        return
    PointerCache(root).add_rows(rows, merge_limit)


# The filter merges cache files of at most this many entries (a merge holds ~64 bytes an entry
# several times over); bigger merges wait for the next command that adds: the filter of a clone of
# 600,000 files must stay flat in memory (issue 9: 200 MB for any process).
_FILTER_MERGE_LIMIT = 200_000


def remember_pointers(repo: Repo, pointers: Iterable[bytes]) -> None:
    """Tell the pointer cache about pointers handed to git (by the filter): git stores each as a
    blob whose id we can compute, so no later walk needs to read it."""
    fmt = repo.config.get("extensions.objectformat", "sha1")
    remember_written(folder(repo.mlv_dir), pointers, fmt, merge_limit=_FILTER_MERGE_LIMIT)
