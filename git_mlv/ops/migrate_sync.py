"""Bring the index and work tree along when a migration moved the checked-out branch.

Only the paths that differ between the old and the new tip are touched:

- a file that became a pointer (or a git-lfs pointer that became ours) keeps its bytes in the work
  tree, which already are the data; it is written from the pool only when it is missing there;
- any other changed file (``.gitattributes``, ``.gitignore``, a removed ``.dvc`` file, ``.gitmlv``)
  is replaced only when the work tree still holds the old version; a file the user edited is left
  alone and named in a warning;
- an index entry moves to the new blob only when it held the old one (staged work is kept).

Then ``git update-index --refresh`` re-reads the stat data of what changed.
"""

from __future__ import annotations

import hashlib
import os

from ..core.fsutil import atomic_write
from ..core.pointer import MAX_SIZE, Pointer
from ..gitio.catfile import CatFile
from ..gitio.walk import repo_run
from .context import Workspace

ZERO = "0" * 40


def _worktree_blob(path: str) -> str | None:
    """The git blob id of the file at ``path`` as is (no filters), None when there is no file."""
    try:
        with open(path, "rb") as f:
            h = hashlib.sha1(b"blob %d\0" % os.fstat(f.fileno()).st_size)
            while block := f.read(1 << 20):
                h.update(block)
            return h.hexdigest()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _holds_small(path: str, blob: str) -> bool:
    """True when the file at ``path`` is the small blob ``blob`` (say, a git-lfs pointer git-lfs
    never smudged); big files are not read."""
    try:
        return blob != ZERO and os.path.getsize(path) < MAX_SIZE and _worktree_blob(path) == blob
    except OSError:
        return False


def _pointer(cat: CatFile, oid: str) -> Pointer | None:
    info = cat.info(oid)
    if info is None or info[1] >= MAX_SIZE:
        return None
    return Pointer.try_parse(cat.read(oid) or b"")


def sync_after_move(ws: Workspace, cat: CatFile, old: str, new: str) -> list[str]:
    """Update index and work tree from commit ``old`` to ``new``; returns warnings."""
    repo = ws.repo
    top = repo.top
    raw = repo.git("diff-tree", "-r", "-z", "--no-renames", old, new)
    items = raw.split(b"\0")
    changes: list[tuple[str, str, str, str]] = []  # (path, new mode, old blob, new blob)
    for i in range(0, len(items) - 1, 2):
        meta = items[i].decode().lstrip(":").split()
        if len(meta) < 5:
            continue
        changes.append((os.fsdecode(items[i + 1]), meta[1], meta[2], meta[3]))
    if not changes:
        return []
    staged = _index_entries(ws, [p for p, *_ in changes])
    index_info: list[bytes] = []
    warnings: list[str] = []
    restore: list[tuple[str, str, bool]] = []
    for path, mode, old_blob, new_blob in changes:
        if staged.get(path, ZERO) == old_blob:
            line = f"{mode} {new_blob}\t" if new_blob != ZERO else f"0 {ZERO}\t"
            index_info.append(line.encode() + os.fsencode(path) + b"\0")
        full = os.path.join(top, path)
        ptr = _pointer(cat, new_blob) if new_blob != ZERO else None
        if ptr is not None:  # the work tree has the data, unless it holds the old pointer (or nothing)
            if not os.path.lexists(full) or _holds_small(full, old_blob):
                restore.append((path, ptr.oid, mode == "100755"))
            continue
        have = _worktree_blob(full)
        if have == new_blob or (have is None and new_blob == ZERO):
            continue
        if have != (old_blob if old_blob != ZERO else None):
            warnings.append(f"{path}: left as it is in the work tree (it has changes of yours)")
            continue
        if new_blob == ZERO:
            os.unlink(full)
        else:
            os.makedirs(os.path.dirname(full) or top, exist_ok=True)
            atomic_write(full, cat.read(new_blob) or b"")
    if index_info:
        repo_run(repo, ["update-index", "-z", "--index-info"], b"".join(index_info))
    for path, oid, executable in restore:
        if ws.pool.has_file(oid, refresh=True):
            ws.pool.restore_to(oid, os.path.join(top, path), executable)
    repo.git("update-index", "-q", "--refresh", check=False)
    return warnings


def _index_entries(ws: Workspace, paths: list[str]) -> dict[str, str]:
    """path -> blob id of the stage-0 index entries among ``paths``."""
    raw = b""
    for i in range(0, len(paths), 1000):  # ls-files takes no pathspec file: batches of arguments
        raw += ws.repo.git("ls-files", "-s", "-z", "--", *[f":(literal){p}" for p in paths[i:i + 1000]])
    out = {}
    for item in raw.split(b"\0"):
        if not item:
            continue
        meta, _, path = item.partition(b"\t")
        mode, blob, stage = meta.decode().split()
        if stage == "0":
            out[os.fsdecode(path)] = blob
    return out
