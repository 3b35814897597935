"""Bring the index and work tree along when a migration moved the checked-out branch.

Only the paths that differ between the old and the new tip are touched:

- a file that became a pointer (or a git-lfs pointer that became ours) keeps its bytes in the work
  tree, which already are the data; it is written from the pool only when it is missing there (or
  still holds the old pointer, or is a symbolic link to its data: DVC's ``cache.type symlink``);
- any other changed file (``.gitattributes``, ``.gitignore``, a removed ``.dvc`` file, ``.gitmlv``)
  is replaced only when the work tree still holds the old version; a file the user edited is left
  alone and named in a warning (the checked-out branch's files: the migration refuses to move it
  over them first, ``edited_files``);
- an index entry moves to the new blob only when it held the old one (staged work is kept).

The index is edited in place (``gitio.indexfile``) so that entries keep valid stat data and git does
not re-read every converted file through the filter; a new entry (a DVC output) gets its file's stat
once the file's sha256 is checked against its pointer. An index that module does not handle is
updated with ``git update-index --index-info`` instead, and git re-reads those files.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..core.fsutil import atomic_write
from ..core.pointer import MAX_SIZE, Pointer
from ..gitio import indexfile
from ..gitio.catfile import CatFile
from ..gitio.walk import repo_run
from .context import Workspace

ZERO = "0" * 40
_RACY_S = 2.0  # a file changed this recently might change again unseen within one mtime tick


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


def _sha256(path: str) -> tuple[str, int] | None:
    try:
        with open(path, "rb") as f:
            h = hashlib.sha256()
            n = 0
            while block := f.read(1 << 20):
                h.update(block)
                n += len(block)
            return h.hexdigest(), n
    except OSError:
        return None


def _holds_small(path: str, blob: str) -> bool:
    """True when the file at ``path`` is the small blob ``blob`` (say, a git-lfs pointer git-lfs
    never smudged); big files are not read."""
    try:
        return blob != ZERO and os.path.getsize(path) < MAX_SIZE and _worktree_blob(path) == blob
    except OSError:
        return False


def _links_to_data(path: str, mode: str, ptr: Pointer) -> bool:
    """True when ``path`` is a symbolic link, where git expects a regular file, to a file holding
    exactly ``ptr``'s data: replacing it with a copy of the data loses nothing."""
    return mode in ("100644", "100755") and os.path.islink(path) and _sha256(path) == (ptr.oid, ptr.size)


def _shares_data(path: str, mode: str, ptr: Pointer) -> bool:
    """True when ``path`` is a regular file with other hard links (DVC's ``cache.type hardlink``)
    holding exactly ``ptr``'s data: replacing it with a copy of its own loses nothing."""
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return (mode in ("100644", "100755") and stat.S_ISREG(st.st_mode) and st.st_nlink > 1
            and _sha256(path) == (ptr.oid, ptr.size))


def _pointer(cat: CatFile, oid: str) -> Pointer | None:
    info = cat.info(oid)
    if info is None or info[1] >= MAX_SIZE:
        return None
    return Pointer.try_parse(cat.read(oid) or b"")


@dataclass
class _Change:
    path: str
    mode: str
    old: str
    new: str


def _changes(ws: Workspace, old: str, new: str) -> list[_Change]:
    raw = ws.repo.git("diff-tree", "-r", "-z", "--no-renames", old, new)
    items = raw.split(b"\0")
    out = []
    for i in range(0, len(items) - 1, 2):
        meta = items[i].decode().lstrip(":").split()
        if len(meta) >= 5:
            out.append(_Change(os.fsdecode(items[i + 1]), meta[1], meta[2], meta[3]))
    return out


def _stat_of(full: str, mode: int) -> tuple[int, ...] | None:
    try:
        st = os.stat(full)
    except OSError:
        return None
    return indexfile.stat_words(st, mode, racy=st.st_mtime > time.time() - _RACY_S)


SameBytes = Callable[[str, str], "bool | None"]


def _work_tree_version(ws: Workspace, c: _Change) -> str | None:
    """The blob id of the work-tree file of a change git-mlv does not store (not a pointer; None:
    no file): of its bytes as they are, or, when that is neither ``c.old`` nor ``c.new``, of the
    blob git would store for it, if that one is. With core.autocrlf a checked-out
    ``.gitattributes`` ends its lines with CRLF: compared byte for byte it read as the user's edit,
    so the migration refused to start (and, before, left git-lfs's lines in the work tree)."""
    full = os.path.join(ws.repo.top, c.path)
    have = _worktree_blob(full)
    versions = {v for v in (c.old, c.new) if v != ZERO}
    if have is None or have in versions:
        return have
    cleaned = ws.repo.git_text("hash-object", f"--path={c.path}", "--", full, check=False)
    return cleaned if cleaned in versions else have


def edited_files(ws: Workspace, cat: CatFile, old: str, new: str) -> list[str]:
    """The files other than pointers that moving from commit ``old`` to ``new`` changes and whose
    work-tree copy is neither version: edits of the user's that ``sync_after_move`` would leave in
    place beside the new commit (a ``.gitattributes`` still routing files to git-lfs, a ``dvc.lock``
    a ``dvc repro`` wrote). Checked before any ref moves, so a migration can refuse instead."""
    edited = []
    for c in _changes(ws, old, new):
        if c.new != ZERO and _pointer(cat, c.new) is not None:
            continue  # a data file: its work-tree bytes are the data, or the user's newer version
        if _work_tree_version(ws, c) not in (c.new if c.new != ZERO else None,
                                             c.old if c.old != ZERO else None):
            edited.append(c.path)
    return edited


def sync_after_move(ws: Workspace, cat: CatFile, old: str, new: str,
                    same_bytes: SameBytes | None = None) -> list[str]:
    """Update index and work tree from commit ``old`` to ``new``; returns warnings.

    ``same_bytes(path, oid)`` may vouch that a file holds the data ``oid`` more cheaply than hashing
    it (a comparison with the file the data came from); None leaves it to hashing.
    """
    repo = ws.repo
    top = repo.top
    changes = _changes(ws, old, new)
    if not changes:
        return []
    staged = _index_entries(ws, [c.path for c in changes])
    warnings: list[str] = []
    updates: list[indexfile.Update] = []
    to_verify: list[tuple[indexfile.Update, str, Pointer]] = []
    for c in changes:
        full = os.path.join(top, c.path)
        mode = int(c.mode, 8) if c.new != ZERO else 0
        ours = staged.get(c.path, ZERO) == c.old  # the index still holds the old version
        ptr = _pointer(cat, c.new) if c.new != ZERO else None
        upd = indexfile.Update(os.fsencode(c.path), c.new if c.new != ZERO else "", mode)
        if ptr is not None:  # the work tree has the data, unless it holds the old pointer (or nothing)
            if _links_to_data(full, c.mode, ptr) or _shares_data(full, c.mode, ptr):
                # DVC's `cache.type symlink`: the file was a link into .dvc/cache. Left so, git saw a
                # type change, `git commit -a` stored the link, and `rm -rf .dvc` left it dangling.
                # `cache.type hardlink`: one inode with DVC's cache object, read-only; a write to
                # the file (`open(path, "w")` truncates that inode) damaged the cache's copy, which
                # the older commits DVC still serves need. Both are written again from the pool
                os.unlink(full)
            if not os.path.lexists(full) or _holds_small(full, c.old):
                if ws.pool.has_file(ptr.oid, refresh=True):
                    ws.pool.restore_to(ptr.oid, full, c.mode == "100755")
                    upd.keep_stat, upd.stat = False, _stat_of(full, mode)
            elif c.old == ZERO or staged.get(c.path) is None:  # git never tracked this file: check it
                upd.keep_stat = False
                to_verify.append((upd, full, ptr))
            if ours:
                updates.append(upd)
            continue
        have = _work_tree_version(ws, c)
        if have != c.new and not (have is None and c.new == ZERO):
            if have != (c.old if c.old != ZERO else None):
                warnings.append(f"{c.path}: left as it is in the work tree (it has changes of yours)")
                if ours:
                    upd.keep_stat, upd.stat = False, None
                    updates.append(upd)
                continue
            if c.new == ZERO:
                os.unlink(full)
            else:
                os.makedirs(os.path.dirname(full) or top, exist_ok=True)
                atomic_write(full, cat.read(c.new) or b"")
        if ours:
            upd.keep_stat, upd.stat = False, _stat_of(full, mode) if c.new != ZERO else None
            updates.append(upd)
    _verify(to_verify, same_bytes)
    _write_index(ws, updates)
    repo.git("update-index", "-q", "--refresh", check=False)
    return warnings


def _verify(items: list[tuple[indexfile.Update, str, Pointer]], same_bytes: SameBytes | None) -> None:
    """Give a new entry its file's stat when the file holds its pointer's data (two threads: hashlib
    and file reads release the GIL); otherwise no stat, and git looks at the file."""
    def check(item: tuple[indexfile.Update, str, Pointer]) -> None:
        upd, full, ptr = item
        same = same_bytes(full, ptr.oid) if same_bytes else None
        if same is None:
            same = _sha256(full) == (ptr.oid, ptr.size)
        if same:
            upd.stat = _stat_of(full, upd.mode)

    with ThreadPoolExecutor(2) as ex:
        list(ex.map(check, items))


def _write_index(ws: Workspace, updates: list[indexfile.Update]) -> None:
    if not updates:
        return
    path = ws.repo.git_text("rev-parse", "--git-path", "index")
    path = path if os.path.isabs(path) else os.path.join(ws.repo.top, path)
    try:
        indexfile.apply(path, updates)
        return
    except indexfile.IndexFormatError:
        pass  # git does it, and re-reads the files
    lines = [f"{u.mode:o} {u.oid}\t".encode() + u.path + b"\0" if u.oid else b"0 " + ZERO.encode() + b"\t"
             + u.path + b"\0" for u in updates]
    repo_run(ws.repo, ["update-index", "-z", "--index-info"], b"".join(lines))


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


def finish_killed_move(ws: Workspace, cat: CatFile) -> str | None:
    """Finish ``sync_after_move`` for a migration killed after it moved the checked-out branch
    and before it updated the index and work tree; the branch's name, or None when that is not
    what happened here.

    Left so, the index still held the old tree (the data files whole, the old ``.gitattributes``)
    under the new commit: a rerun refused (".gitattributes has uncommitted changes; commit or
    stash them first"), and `git commit` as told would have put the data back into git. The
    signs, all needed: the branch has a migration's backup (``refs/mlv-migrate/``), its last
    reflog entry is the migration's (``update-ref`` without a message: every git command that
    moves a branch writes one) and the index's tree is the tree of the commit before it.
    """
    repo = ws.repo
    branch = repo.git_text("symbolic-ref", "-q", "HEAD", check=False)
    if not branch.startswith("refs/heads/"):
        return None
    backup = "refs/mlv-migrate/" + branch.removeprefix("refs/")
    if not repo.git_text("rev-parse", "-q", "--verify", backup, check=False):
        return None
    if repo.git_text("reflog", "show", "-1", "--format=%gs", branch, "--", check=False):
        return None  # moved last by a git command (a commit, a reset), not by the migration
    old = repo.git_text("rev-parse", "-q", "--verify", f"{branch}@{{1}}^{{commit}}", check=False)
    new = repo.git_text("rev-parse", "-q", "--verify", f"{branch}^{{commit}}", check=False)
    if not old or not new or old == new:
        return None
    index_tree = repo.git_text("write-tree", check=False)  # (fails on an unmerged index)
    if not index_tree or index_tree != repo.git_text("rev-parse", f"{old}^{{tree}}", check=False):
        return None
    sync_after_move(ws, cat, old, new)
    return branch.removeprefix("refs/heads/")
