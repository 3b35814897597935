"""Which worktree files may hold pointer text, from what git's index and ``git diff-files`` say,
so that `git mlv pull` looks at those files only instead of every tracked file (ops/sync_fetch.py).

Git records, in each index entry, the stat of the file as it last saw it, size included. A file
whose stat still matches its entry (``git diff-files`` lists every entry whose stat does not, a
deleted file too) has that size now; a file holding a pointer (at most pointer_text.MAX_SIZE - 1
bytes, three more with CRLF line ends) has a small one. So a worktree file can be a pointer only
when its entry's size is small (0 too: git records 0 for a racily clean file), when it is
stat-dirty, or when git does not look at it (assume-valid). At 200,000 files of 1-4 KB this leaves
none of a clean worktree, against an lstat and a pointer lookup per file in Python (2.7 s of a
3.1 s `git mlv pull` with nothing to fetch, py-spy).

Index versions 2, 3 and 4 are read (4: what feature.manyFiles, the setting of repositories with
many files, writes); another version, a split index (its ``link`` extension: entries live in a
second file) or a sparse index (``sdir``) gives None, and the caller looks at every file as before.
"""

from __future__ import annotations

import array
import os
import struct
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..core.pointer_text import MAX_SIZE
from ..errors import MlvError
from .git import Repo
from .indexentry import _EXT_SKIP_WORKTREE, _FLAG_ASSUME_VALID, _FLAG_EXTENDED, _HEADER
from .pointer_cache import PointerBlob
from .walk import _BATCH, IndexEntry, cache_of, pointer_blobs

if TYPE_CHECKING:
    import numpy as np

    from .pointer_cache import KeyLookup

# a pointer with CRLF line ends (ops/eol.py) is three bytes longer than its text
SMALL = MAX_SIZE + 3
_REGULAR = (0o100644, 0o100755)
# Above this many suspects by size alone, worktree_suspects asks the pointer cache for the exact
# sizes (IndexTable.pointer_sized): ~0.07 s at 100,000 entries, spared when few files are small
_REFINE_MIN = 1024
# Above this many names, IndexTable.suspects reads every name once rather than searching for
# each (a binary search decodes ~18 names)
_FIND_MAX = 4096


class IndexTable:
    """Every entry of an index file, read once into columns (numpy arrays) rather than one Python
    object per entry: what `git mlv status` and `git mlv pull` need of the entries that did not
    change is a size, flags and an object id, compared for all entries at once; names are decoded
    only for the entries that need a look (``name``). Entries stay in the index's order: sorted by
    name, then stage, so one name is found by a binary search (``find``).

    ``table``: None when the index is not read here (see the module's docstring)."""

    def __init__(self, data: bytes, version: int, offsets: array.array, names: list[bytes] | None,
                 hash_size: int) -> None:
        import numpy as np

        self.data, self.version, self.hash_size = data, version, hash_size
        self._names = names  # version 4 only: names are prefix-compressed, decoded in the walk
        self.count = len(offsets)
        at = np.frombuffer(offsets, dtype=np.int64) if len(offsets) else np.zeros(0, dtype=np.int64)
        flags_at = 40 + hash_size
        if names is None and len(data) >= 8:
            # versions 2 and 3: every entry starts 4 bytes past a multiple of 8, so each field
            # is one gather from the data seen as 32-bit words (a byte-wise gather of the stat
            # words and ids cost 0.19 s at 200,000 entries; this, ~0.01 s)
            words = np.frombuffer(data, dtype=np.uint32, offset=4, count=(len(data) - 4) // 4)
            first = (at - 4) >> 2

            def u32(k: int) -> np.ndarray:
                return words[first + (k >> 2)].byteswap()

            columns = np.empty((self.count, hash_size // 4), dtype=np.uint32)
            for k in range(hash_size // 4):  # a column at a time: no (count x 5) index array
                columns[:, k] = words[first + 10 + k]
            oids = columns.view(np.uint8)
        else:
            raw = np.frombuffer(data, dtype=np.uint8)

            def u32(k: int) -> np.ndarray:
                b = raw[(at + k)[:, None] + np.arange(4)].astype(np.uint32)
                return (b[:, 0] << 24) | (b[:, 1] << 16) | (b[:, 2] << 8) | b[:, 3]

            oids = raw[(at[:, None] + (40 + np.arange(hash_size)))]
        self._oids = oids.reshape(self.count, hash_size)
        self.mode = u32(24)
        self.size = u32(36)  # the file's size modulo 2^32 (0: racily clean)
        flag_word = u32(flags_at)  # flags, then the extended flags when there are some
        self.flags = (flag_word >> 16).astype(np.uint16)
        extended = (self.flags & _FLAG_EXTENDED) != 0
        self.skip_worktree = extended & ((flag_word & _EXT_SKIP_WORKTREE) != 0)
        self.assume_valid = (self.flags & _FLAG_ASSUME_VALID) != 0
        self.stage0_regular = ((self.flags & 0x3000) == 0) & np.isin(self.mode, _REGULAR)
        self._offsets = at

    @classmethod
    def parse(cls, data: bytes, hash_size: int = 20) -> IndexTable | None:
        """The table of the index ``data``; None for a form not read here."""
        if len(data) < _HEADER.size + hash_size:
            return None
        sig, version, count = _HEADER.unpack_from(data)
        if sig != b"DIRC" or version not in (2, 3, 4):
            return None
        flags_at = 40 + hash_size
        end_of_entries = len(data) - hash_size
        offsets = array.array("q", bytes(8 * count))  # 8 bytes an entry, no int object each
        names: list[bytes] | None = None
        pos = _HEADER.size
        try:
            if version == 4:  # feature.manyFiles: names prefix-compressed, entries not padded
                names, pos = _walk_v4(data, offsets, flags_at)
            else:
                # integer arithmetic only, one entry after the other: ~0.07 s at 200,000
                # entries; every field but the name is then gathered by numpy from the offsets
                for i in range(count):
                    offsets[i] = pos
                    flags = (data[pos + flags_at] << 8) | data[pos + flags_at + 1]
                    length = flags & 0xFFF
                    if length == 0xFFF:  # a name of 4095 bytes or more: its NUL ends it
                        name_at = pos + flags_at + (4 if flags & 0x4000 else 2)
                        length = data.index(b"\0", name_at) - name_at
                    pos += (flags_at + (4 if flags & 0x4000 else 2) + length + 8) & ~7
        except (IndexError, ValueError):
            return None  # a truncated index
        if pos > end_of_entries:
            return None
        while pos + 8 <= end_of_entries:  # extensions: 4-byte signature, 4-byte size
            if data[pos:pos + 4] in (b"link", b"sdir"):
                return None
            pos += 8 + struct.unpack_from(">L", data, pos + 4)[0]
        return cls(data, version, offsets, names, hash_size)

    def name(self, i: int) -> bytes:
        """Entry ``i``'s path, as git stores it."""
        if self._names is not None:
            return self._names[i]
        flags = int(self.flags[i])
        at = int(self._offsets[i]) + 40 + self.hash_size + (4 if flags & _FLAG_EXTENDED else 2)
        length = flags & 0xFFF
        if length == 0xFFF:
            length = self.data.find(b"\0", at) - at
        return self.data[at:at + length]

    def blob(self, i: int) -> str:
        """Entry ``i``'s object id (hex)."""
        return self._oids[i].tobytes().hex()

    def keys(self) -> np.ndarray:
        """Every entry's object id cut to the pointer cache's key (its first 20 bytes, ``S20``)."""
        import numpy as np

        from .pointer_cache import KEY_SIZE

        return np.ascontiguousarray(self._oids[:, :KEY_SIZE]).view(f"S{KEY_SIZE}").ravel()

    def find(self, path: bytes) -> int:
        """The first entry named ``path`` (the lowest stage), or -1."""
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            if self.name(mid) < path:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < self.count and self.name(lo) == path else -1

    def suspects(self, listed: set[bytes], small: int = SMALL, known: KeyLookup | None = None
                 ) -> np.ndarray:
        """A mask over the entries: a recorded size that pointer text can have (``pointer_sized``),
        not stat'ed by git (assume-valid), or path in ``listed`` (each found by name: the cost
        follows ``listed``, not the index, up to a few thousand names)."""
        import numpy as np

        mask = self.pointer_sized(small, known) | self.assume_valid
        if len(listed) > _FIND_MAX:
            mask |= np.fromiter((self.name(i) in listed for i in range(self.count)), dtype=bool,
                                count=self.count)
            return mask
        for path in listed:
            i = self.find(path)
            if i >= 0:
                mask[i] = True
        return mask

    def pointer_sized(self, small: int = SMALL, known: KeyLookup | None = None) -> np.ndarray:
        """A mask over the entries: the recorded size is one pointer text can have, so a file
        that still has it may hold its pointer rather than its data. Where ``known`` (the pointer
        cache's answer for ``keys()``) knows the entry's blob: 0 (git records 0 for a racily
        clean file), the length of its pointer's text or that plus 3 (CRLF line ends,
        ops/eol.py: what data.worktree_state reads a file for), never for a blob that is not a
        pointer; for the others, any size below ``small``. Before, every size below ``small``:
        in a repository of 100,000 data files under 1 KB (label files, small JSON), `git mlv
        status` looked at every file each time (2.0 s, against 0.24 s for `git status`)."""
        import numpy as np

        size = self.size
        small_mask = size < small
        if known is None:
            return small_mask
        exact = known.pointer & ((size == 0) | (size == known.length) | (size == known.length + 3))
        return np.where(known.known, exact, small_mask)

    def unmerged(self) -> bool:
        """True when an entry is a side of a conflict (stage 1-3)."""
        return bool(((self.flags & 0x3000) != 0).any())

    def picked(self, listed: set[bytes], small: int = SMALL, known: KeyLookup | None = None
               ) -> np.ndarray:
        """Indexes of the stage-0 regular files among ``suspects``, in the index's order."""
        import numpy as np

        return np.flatnonzero(self.suspects(listed, small, known) & self.stage0_regular)

    def entry(self, i: int) -> IndexEntry:
        """Entry ``i`` as the walks give it (walk.IndexEntry)."""
        return IndexEntry(os.fsdecode(self.name(i)), int(self.mode[i]), self.blob(i),
                          bool(self.skip_worktree[i]))


def small_or_listed(data: bytes, listed: set[bytes], hash_size: int = 20, small: int = SMALL,
                    limit: int = _BATCH) -> list[IndexEntry] | None:
    """The stage-0 regular files of the index ``data`` whose recorded size is below ``small``,
    that git does not stat (assume-valid) or whose path is in ``listed``; None when this index is
    not read here, or when more than ``limit`` are (a worktree of pointers, after a checkout
    without data: the caller's pass over every file, batch by batch, then costs no more, and
    memory stays that of a batch)."""
    table = IndexTable.parse(data, hash_size)
    if table is None:
        return None
    picked = table.picked(listed, small)
    if len(picked) > limit:
        return None
    return [table.entry(i) for i in picked.tolist()]


def _walk_v4(data: bytes, offsets: array.array, flags_at: int) -> tuple[list[bytes], int]:
    """Fill ``offsets`` with the entries' positions in a version-4 index; its names, and where
    the entries end."""
    names = [b""] * len(offsets)
    name = b""
    pos = _HEADER.size
    for i in range(len(offsets)):
        offsets[i] = pos
        flags = (data[pos + flags_at] << 8) | data[pos + flags_at + 1]
        strip, name_at = _varint(data, pos + flags_at + (4 if flags & _FLAG_EXTENDED else 2))
        if strip > len(name):
            raise ValueError("a name strips more than the previous one holds")
        end = data.index(b"\0", name_at)
        names[i] = name = name[:len(name) - strip] + data[name_at:end]
        pos = end + 1
    return names, pos


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """Index version 4's number of bytes to strip from the previous name (git's offset varint,
    as in varint.c), and the position after it."""
    c = data[pos]
    value = c & 0x7F
    pos += 1
    while c & 0x80:
        c = data[pos]
        value = ((value + 1) << 7) | (c & 0x7F)
        pos += 1
    return value, pos


def read_index(repo: Repo, checked: bool = False) -> IndexTable | None:
    """The table of ``repo``'s index (empty when there is none yet); None when it cannot be read
    here, or when GIT_INDEX_FILE names another (a hook of a commit with its own index).
    ``checked``: ``check_index`` first, of the same bytes."""
    if os.environ.get("GIT_INDEX_FILE"):
        return None
    sha256 = repo.config.get("extensions.objectformat") == "sha256"
    try:
        with open(os.path.join(repo.git_dir, "index"), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        data = _HEADER.pack(b"DIRC", 2, 0) + bytes(32 if sha256 else 20)
    except OSError:
        return None
    if checked:
        _check(os.path.join(repo.git_dir, "index"), data, 32 if sha256 else 20)
    return IndexTable.parse(data, 32 if sha256 else 20)


def index_version(repo: Repo) -> tuple[int, int, int] | None:
    """(inode, mtime in ns, size) of ``repo``'s index: git replaces it by a rename, so another
    value means another index."""
    try:
        st = os.stat(os.path.join(repo.git_dir, "index"))
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


class IndexDamaged(MlvError):
    """Git's index file is cut short or damaged. Git reads it without checking its checksum (only
    `git fsck` does) and takes what follows the cut for entries: `git status` listed every file
    as deleted and untracked, and `git mlv status` said "Everything is in place"."""

    exit_code = 128  # git's own exit for a fatal error (its "index file smaller than expected")


def check_index(repo: Repo) -> None:
    """IndexDamaged when ``repo``'s index is shorter than its header and checksum (git's "index file
    smaller than expected") or its trailing checksum does not match its content (`git fsck`'s
    "bad index file sha1 signature"): ~15 ms at 200,000 files (a 17 MB index). Nothing to check
    when there is no index yet, when GIT_INDEX_FILE names another (a hook of a commit with its
    own index) or when git wrote no checksum (index.skipHash: zeros)."""
    if os.environ.get("GIT_INDEX_FILE"):
        return
    path = os.path.join(repo.git_dir, "index")
    sha256 = repo.config.get("extensions.objectformat") == "sha256"
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return  # none yet; unreadable: git says so itself
    _check(path, data, 32 if sha256 else 20)


def _check(path: str, data: bytes, size: int) -> None:
    """``check_index`` of the index ``data`` read from ``path`` (``size``: its hash's)."""
    import hashlib

    fix = (f"`rm {path} && git reset` rebuilds it from HEAD (what was staged is unstaged; the "
           "files are kept)")
    if len(data) < _HEADER.size + size:
        raise IndexDamaged(f"{path}: index file smaller than expected; {fix}")
    trailer = data[-size:]
    if trailer != bytes(size) and hashlib.new("sha256" if size == 32 else "sha1", memoryview(data)[:-size]
                                              ).digest() != trailer:
        raise IndexDamaged(f"{path}: index file corrupt (its checksum does not match: cut short or "
                           f"damaged), so what git lists from it is wrong; {fix}")


def worktree_suspects(repo: Repo) -> list[IndexEntry] | None:
    """Index entries whose worktree file may be pointer text, absent or changed since git last
    looked: a recorded size pointer text can have (``IndexTable.pointer_sized``), assume-valid, or
    listed by ``git diff-files`` (stat-dirty, deleted); None when the index cannot be read here
    or more than a batch (walk._BATCH) may be pointers (look at every file)."""
    if os.environ.get("GIT_INDEX_FILE"):
        return None  # a hook of a commit with its own index: not the worktree's
    # diff-files first: git may refresh the index meanwhile (a racily clean entry), never after
    # the read below in this process, so the sizes read are at least as new as its answer
    dirty = repo.git("diff-files", "-z", "--name-only", "--ignore-submodules")
    table = read_index(repo)
    if table is None:
        return None
    listed = {p for p in dirty.split(b"\0") if p}
    picked = table.picked(listed)
    if len(picked) > _REFINE_MIN:  # data files under 1 KB: the pointer cache knows which may be
        picked = table.picked(listed, known=cache_of(repo).lookup_keys(table.keys()))
    if len(picked) > _BATCH:
        return None
    return [table.entry(i) for i in picked.tolist()]


def pointer_batches(repo: Repo, entries: list[IndexEntry]
                    ) -> Iterator[list[tuple[IndexEntry, PointerBlob]]]:
    """Those of ``entries`` that are pointers, with their pointers, in batches (as
    walk.index_pointer_batches gives them)."""
    for i in range(0, len(entries), _BATCH):
        batch = entries[i:i + _BATCH]
        ptrs = pointer_blobs(repo, (e.blob for e in batch))
        yield [(e, ptrs[e.blob]) for e in batch if e.blob in ptrs]
