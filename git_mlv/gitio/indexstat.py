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

import os
import struct
from collections.abc import Iterator

from ..core.pointer_text import MAX_SIZE
from .git import Repo
from .indexentry import _EXT_SKIP_WORKTREE, _FLAG_ASSUME_VALID, _FLAG_EXTENDED, _HEADER, _STAT
from .pointer_cache import PointerBlob
from .walk import _BATCH, IndexEntry, pointer_blobs

# a pointer with CRLF line ends (ops/eol.py) is three bytes longer than its text
SMALL = MAX_SIZE + 3
_REGULAR = (0o100644, 0o100755)


def small_or_listed(data: bytes, listed: set[bytes], hash_size: int = 20, small: int = SMALL,
                    limit: int = _BATCH) -> list[IndexEntry] | None:
    """The stage-0 regular files of the index ``data`` whose recorded size is below ``small``,
    that git does not stat (assume-valid) or whose path is in ``listed``; None when this index is
    not read here, or when more than ``limit`` are (a worktree of pointers, after a checkout
    without data: the caller's pass over every file, batch by batch, then costs no more, and
    memory stays that of a batch)."""
    if len(data) < _HEADER.size + hash_size:
        return None
    sig, version, count = _HEADER.unpack_from(data)
    if sig != b"DIRC" or version not in (2, 3, 4):
        return None
    v4 = version == 4  # feature.manyFiles: names prefix-compressed, entries not padded
    flags_at = 40 + hash_size
    out: list[IndexEntry] = []
    pos = _HEADER.size
    name = b""
    unpack_stat, unpack_flags = _STAT.unpack_from, struct.Struct(">H").unpack_from
    for _ in range(count):
        stat = unpack_stat(data, pos)
        (flags,) = unpack_flags(data, pos + flags_at)
        extended = flags & _FLAG_EXTENDED
        name_at = pos + flags_at + (4 if extended else 2)
        if v4:
            strip, name_at = _varint(data, name_at)
            if strip > len(name):
                return None
        end = data.find(b"\0", name_at)
        if end < 0:
            return None
        name = name[:len(name) - strip] + data[name_at:end] if v4 else data[name_at:end]
        if (stat[9] < small or flags & _FLAG_ASSUME_VALID or (listed and name in listed)) \
                and stat[6] in _REGULAR and not flags & 0x3000:  # stage 0 only
            ext = unpack_flags(data, pos + flags_at + 2)[0] if extended else 0
            out.append(IndexEntry(os.fsdecode(name), stat[6],
                                  data[pos + 40:pos + flags_at].hex(), bool(ext & _EXT_SKIP_WORKTREE)))
            if len(out) > limit:
                return None
        pos = end + 1 if v4 else pos + ((end - pos + 8) & ~7)  # v2/v3: 1-8 NULs pad to 8 bytes
    while pos + 8 <= len(data) - hash_size:  # extensions: 4-byte signature, 4-byte size
        if data[pos:pos + 4] in (b"link", b"sdir"):
            return None
        pos += 8 + struct.unpack_from(">L", data, pos + 4)[0]
    return out


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


def worktree_suspects(repo: Repo) -> list[IndexEntry] | None:
    """Index entries whose worktree file may be pointer text, absent or changed since git last
    looked: a small recorded size, assume-valid, or listed by ``git diff-files`` (stat-dirty,
    deleted); None when the index cannot be read here or more than a batch (walk._BATCH) may be
    pointers (look at every file)."""
    if os.environ.get("GIT_INDEX_FILE"):
        return None  # a hook of a commit with its own index: not the worktree's
    sha256 = repo.config.get("extensions.objectformat") == "sha256"
    # diff-files first: git may refresh the index meanwhile (a racily clean entry), never after
    # the read below in this process, so the sizes read are at least as new as its answer
    dirty = repo.git("diff-files", "-z", "--name-only", "--ignore-submodules")
    try:
        with open(os.path.join(repo.git_dir, "index"), "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return []
    except OSError:
        return None
    return small_or_listed(data, {p for p in dirty.split(b"\0") if p}, 32 if sha256 else 20)


def pointer_batches(repo: Repo, entries: list[IndexEntry]
                    ) -> Iterator[list[tuple[IndexEntry, PointerBlob]]]:
    """Those of ``entries`` that are pointers, with their pointers, in batches (as
    walk.index_pointer_batches gives them)."""
    for i in range(0, len(entries), _BATCH):
        batch = entries[i:i + _BATCH]
        ptrs = pointer_blobs(repo, (e.blob for e in batch))
        yield [(e, ptrs[e.blob]) for e in batch if e.blob in ptrs]
