"""``git mlv diff``: what changed in the tracked data between two revisions, or a revision and the
work tree — files added, deleted, modified and renamed with their sizes; for tables, schema
changes and row counts; with a key column, the rows added, removed and changed.

The list of changed paths comes from git's own tree diff (``git diff --raw``), whose cost
follows the change, not the size of the trees. Data of a revision is read from the pool,
streamed for text tables, written to a temp file only for formats that need random access
(Parquet, Arrow); the work tree's files are read in place.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..core.hashing import EMPTY_OID
from ..core.pointer import MAX_SIZE, Pointer
from ..errors import MlvError, UsageError
from ..gitio import attributes, walk
from ..inspect import reason
from ..inspect.detect import may_be_table
from ..inspect.tables import ReadStream
from .addpaths import refuse_pathspec_magic
from .context import Workspace

WORKTREE = "worktree"
_ZERO = "0" * 40


@dataclass
class Side:
    """One side of a changed file: where it is, what it is."""

    rev: str  # a revision, or WORKTREE
    path: str
    oid: str  # sha256 of the data
    size: int
    present: bool  # the data can be read here (pool or work tree)


@dataclass
class TableChange:
    """How a table's shape changed."""

    old_rows: int | None = None
    new_rows: int | None = None
    added_columns: list[tuple[str, str]] = field(default_factory=list)
    removed_columns: list[tuple[str, str]] = field(default_factory=list)
    retyped_columns: list[tuple[str, str, str]] = field(default_factory=list)  # name, old, new
    error: str | None = None  # why the table could not be read


@dataclass
class FileChange:
    """A tracked file that differs between the two sides."""

    status: str  # added, deleted, modified, renamed
    path: str
    old: Side | None = None
    new: Side | None = None
    table: TableChange | None = None
    rows: Any = None  # inspect.rowdiff.RowDiff, with --key
    note: str | None = None  # data missing, not a table...


@dataclass
class DataDiff:
    """Everything ``git mlv diff`` reports."""

    old_rev: str
    new_rev: str
    files: list[FileChange] = field(default_factory=list)
    key: str | None = None


# -- which revisions, which paths ------------------------------------------------------------------
def split_args(ws: Workspace, args: list[str]) -> tuple[list[str], list[str]]:
    """Up to two leading arguments that name commits are revisions; the rest are paths."""
    revs: list[str] = []
    rest = list(args)
    while rest and len(revs) < 2:
        cand = rest[0]
        ok = ws.repo.git("rev-parse", "--verify", "-q", f"{cand}^{{commit}}", check=False).strip()
        if not ok:
            break
        revs.append(cand)
        rest.pop(0)
    return revs, rest


def _top_relative(ws: Workspace, paths: list[str]) -> list[str]:
    top = ws.repo.top
    out = []
    for p in paths:
        rel = os.path.relpath(os.path.abspath(p), top).replace(os.sep, "/")
        if rel.startswith("../") or rel == "..":
            raise UsageError(f"{p}: outside the repository")
        out.append("." if rel == "." else rel)
    return out


def _raw_diff(ws: Workspace, old: str, new: str | None, specs: list[str]) -> list[tuple[str, str, str, str]]:
    """(status letter, path, old blob, new blob) from ``git diff --raw`` (no rename detection:
    renames are found by data oid below, which is what "renamed" means for data)."""
    args = ["diff", "--raw", "-z", "--no-renames", "--no-ext-diff", "--abbrev=40", old]
    if new is not None:
        args.append(new)
    raw = ws.repo.git(*args, "--", *specs)
    parts = raw.split(b"\0")
    out = []
    i = 0
    while i + 1 < len(parts):
        meta = parts[i].decode()
        if not meta.startswith(":"):
            break
        fields = meta[1:].split()
        path = os.fsdecode(parts[i + 1])
        out.append((fields[4][0], path, fields[2], fields[3]))
        i += 2
    return out


def _worktree_side(ws: Workspace, path: str) -> tuple[Side | None, Pointer | None]:
    full = os.path.join(ws.repo.top, path)
    try:
        size = os.path.getsize(full)
        with open(full, "rb") as f:
            head = f.read(MAX_SIZE)
            if size < MAX_SIZE:
                p = Pointer.try_parse(head)
                if p is not None:
                    return Side(WORKTREE, path, p.oid, p.size, False), p
            h = hashlib.sha256(head)
            while data := f.read(1 << 20):
                h.update(data)
    except (FileNotFoundError, NotADirectoryError):
        return None, None
    return Side(WORKTREE, path, h.hexdigest(), size, True), None


def changed_files(ws: Workspace, old: str, new: str | None, specs: list[str]) -> list[FileChange]:
    """Tracked data files that differ between ``old`` and ``new`` (None: the work tree)."""
    entries = _raw_diff(ws, old, new, specs)
    blobs = {b for _, _, a, c in entries for b in (a, c) if b != _ZERO}
    # sizes first, then only small blobs read (or the pointer cache): a changed 1 GB file that
    # git stores itself is never read into memory here
    pointers: dict[str, Pointer] = {b: pb.pointer for b, pb in walk.pointer_blobs(ws.repo, blobs).items()}
    unhashed = [path for _, path, a, c in entries if new is None and c == _ZERO and a not in pointers]
    # an empty file on one side is data only when the path is tracked: a pointer on the other
    # side says so; with no other side (absent, or the work tree) the attributes do; against a
    # plain git blob it is not data
    empty_sides = [path for _, path, a, c in entries if (a in walk.EMPTY_BLOBS and c == _ZERO)
                   or (c in walk.EMPTY_BLOBS and a == _ZERO)]
    attr = attributes.filtered(ws.repo, list(dict.fromkeys(unhashed + empty_sides)))
    pool = ws.pool
    new_label = new or WORKTREE
    # a path stored as a pointer on one side and by git itself on the other (`migrate import
    # --no-rewrite`, `untrack`): its data, hashed from the git blob, decides (one streamed read)
    # (a work-tree file git has not hashed yet, at a path now tracked, against a git blob: the same)
    plain = _blob_data_ids(ws, {b for _, path, a, c in entries
                                for b in ((c,) if a in pointers else ()) + ((a,) if c in pointers or (
                                    new is None and c == _ZERO and path in attr) else ())
                                if b != _ZERO and b not in pointers and b not in walk.EMPTY_BLOBS})
    added: dict[str, FileChange] = {}
    deleted: dict[str, FileChange] = {}
    out: list[FileChange] = []
    for status, path, a, c in entries:
        old_p = pointers.get(a)
        if old_p is None and a in walk.EMPTY_BLOBS and (c in pointers or (c == _ZERO and path in attr)):
            old_p = Pointer(EMPTY_OID, 0)
        old_side = Side(old, path, old_p.oid, old_p.size, pool.has_file(old_p.oid)) if old_p else None
        new_side: Side | None = None
        if c in walk.EMPTY_BLOBS and (a in pointers or (a == _ZERO and path in attr)):
            new_side = Side(new_label, path, EMPTY_OID, 0, True)
        elif new is None and c == _ZERO and status != "D":
            # "D": gone from the index (`git rm --cached`) even when a file is left at its path:
            # git's own diff calls it deleted, and so did this one only when the file was gone too
            if old_p is None and path not in attr:
                continue  # a plain git file
            new_side, wt_p = _worktree_side(ws, path)
            if new_side is not None and wt_p is not None:
                new_side.present = pool.has_file(wt_p.oid)
        elif c in pointers:
            p = pointers[c]
            new_side = Side(new_label, path, p.oid, p.size, pool.has_file(p.oid))
        in_git = None
        if old_side is None and a in plain:
            in_git = old_side = Side(old, path, *plain[a], False)
        elif new_side is None and c in plain:
            in_git = new_side = Side(new_label, path, *plain[c], False)
        if old_side is None and new_side is None:
            continue
        if old_side is not None and new_side is not None and old_side.oid == new_side.oid:
            continue  # touched, not changed (e.g. re-added with the same content)
        kind = "added" if old_side is None else "deleted" if new_side is None else "modified"
        fc = FileChange(kind, path, old_side, new_side)
        if in_git is not None:  # before, "added" (or "deleted") though the file was there all along
            fc.note = f"stored by git itself at {in_git.rev}: sizes only"
        out.append(fc)
        (added if kind == "added" else deleted if kind == "deleted" else {})[path] = fc
    # renamed: a deleted and an added file with the same data
    by_oid: dict[str, list[FileChange]] = {}
    for fc in deleted.values():
        assert fc.old is not None
        by_oid.setdefault(fc.old.oid, []).append(fc)
    for fc in added.values():
        assert fc.new is not None
        match = by_oid.get(fc.new.oid)
        if match:
            gone = match.pop(0)
            out.remove(gone)
            fc.status, fc.old = "renamed", gone.old
    return sorted(out, key=lambda f: f.path)


def _blob_data_ids(ws: Workspace, blobs: set[str]) -> dict[str, tuple[str, int]]:
    """(sha256 hex, size) of git blobs' contents, streamed (never whole in memory)."""
    from ..gitio.catfile import CatFile

    out = {}
    with CatFile(ws.repo) as cat:
        for blob in sorted(blobs):
            got = cat.open(blob)
            if got is None:
                continue
            h, size = hashlib.sha256(), 0
            while block := got[1].read(min(1 << 20, got[1].left)):
                h.update(block)
                size += len(block)
            out[blob] = (h.hexdigest(), size)
    return out


# -- reading a side's data ----------------------------------------------------------------------
class _PoolStream(ReadStream):
    """A pooled file as a read-only binary stream (chunks decompressed and verified as read)."""

    def __init__(self, pool: Any, oid: str) -> None:
        self._it = iter(pool.iter_file(oid))
        self._buf = b""

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (none once closed: a reader left behind stops at once)."""
        if self.closed:
            return b""
        if n is None or n < 0:
            rest = self._buf + b"".join(self._it)
            self._buf = b""
            return rest
        parts, have = [self._buf], len(self._buf)
        while have < n:
            nxt = next(self._it, None)
            if nxt is None:
                break
            parts.append(nxt)
            have += len(nxt)
        data = b"".join(parts)
        self._buf = data[n:]
        return data[:n]


@contextmanager
def _source(ws: Workspace, side: Side, kind: Any, tmp: str) -> Iterator[Any]:
    """A path or stream opener for ``side``'s data (inspect.scan.Source)."""
    if side.rev == WORKTREE and side.present and os.path.exists(os.path.join(ws.repo.top, side.path)):
        full = os.path.join(ws.repo.top, side.path)
        with open(full, "rb") as f:
            if Pointer.try_parse(f.read(MAX_SIZE)) is None:
                yield full
                return
    pool = ws.pool
    if kind.family == "table":
        yield lambda: _PoolStream(pool, side.oid)
        return
    fd, path = tempfile.mkstemp(dir=tmp, suffix="-" + os.path.basename(side.path))
    try:
        with os.fdopen(fd, "wb") as f:
            pool.write_file_to(side.oid, f)
        yield path
    finally:
        os.unlink(path)


def _kind(ws: Workspace, side: Side, tmp: str) -> Any:
    from ..inspect.detect import detect, detect_head

    if side.rev == WORKTREE:
        full = os.path.join(ws.repo.top, side.path)
        return detect(full, side.path)
    pool = ws.pool
    chunks = pool.file_chunks(side.oid)
    if not chunks:
        return detect_head(b"", b"", 0, side.path)
    # the first chunk for the magic, the last for Parquet's closing magic: two chunks, not the file
    head = pool.read_chunk(pool.locate_chunks([chunks[0][0]])[0])
    if len(head) < 64 and len(chunks) > 1:
        head += pool.read_chunk(pool.locate_chunks([chunks[1][0]])[0])
    last = head if len(chunks) == 1 else pool.read_chunk(pool.locate_chunks([chunks[-1][0]])[0])
    tail = last[-4:] if len(last) >= 4 else (head + last)[-4:]
    return detect_head(head[:1024], tail, side.size, side.path)


def _open_tmp(ws: Workspace) -> str:
    """A scratch folder in the pool's ``tmp``; in the system's temporary folder when the pool is
    not ours to write (read-only, another user's repository): a diff only reads data."""
    base = os.path.join(ws.repo.mlv_dir, "tmp")
    try:
        os.makedirs(base, exist_ok=True)
        return tempfile.mkdtemp(prefix="diff-", dir=base)
    except OSError as e:
        if e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        return tempfile.mkdtemp(prefix="git-mlv-diff-")


def _fetch_missing(ws: Workspace, files: list[FileChange]) -> str | None:
    """Fetch from the default data remote the data of table sides not here (as a checkout of
    those revisions would); the error when the fetch failed, None otherwise (no default remote:
    nothing to do, the note says to fetch)."""
    want: dict[str, list[Side]] = {}
    for fc in files:
        for side in (fc.old, fc.new):
            if fc.status != "renamed" and fc.note is None and side is not None and not side.present \
                    and may_be_table(side.path):
                want.setdefault(side.oid, []).append(side)
    if not want:
        return None
    try:
        from . import sync, sync_fetch
    except ImportError:  # a build without remotes
        return None
    if sync.default_remote_name(ws) is None:
        return None
    try:
        got = sync_fetch.fetch_oids(ws, list(want), sizes={o: s[0].size for o, s in want.items()})
    except MlvError as e:
        return str(e)
    finally:
        sync_fetch.close_fetch(ws)
    for oid in got & want.keys():
        for side in want[oid]:
            side.present = True
    return None


def _table_change(ws: Workspace, fc: FileChange, tmp: str, key: str | None, limit: int,
                  fetch_error: str | None = None) -> None:
    from ..inspect import scan
    from ..inspect.fallback import NotThisFormat

    # what a table's bytes can make its readers raise (pyarrow's ArrowInvalid is a ValueError, as
    # is a value that is not UTF-8; its ArrowNotImplementedError a NotImplementedError, and a
    # damaged length asks for exabytes): the file's fault, said in its line, not an internal error
    data_errors = (NotThisFormat, ValueError, NotImplementedError, ArithmeticError, MemoryError)
    sides = [s for s in (fc.old, fc.new) if s is not None]
    missing = [s for s in sides if not s.present]
    if missing:
        if not may_be_table(fc.path):
            return  # only sized up: nothing more to see with its data
        revs = " and ".join(s.rev for s in missing)
        fc.note = f"data of {revs} not here: `git mlv fetch` it to compare contents" \
            if fetch_error is None else f"data of {revs} not here, and fetching it failed: {fetch_error}"
        return
    kinds = [_kind(ws, s, tmp) for s in sides]
    if not all(scan.is_table(k) for k in kinds):
        return
    change = TableChange()
    fc.table = change
    shapes: list[Any] = []
    if key is not None and fc.old is not None and fc.new is not None:
        # one pass over both sides gives the rows by key and the shapes: no second read
        from ..inspect.rowdiff import KeyColumnError, row_diff_and_shapes

        with _source(ws, fc.old, kinds[0], tmp) as a, _source(ws, fc.new, kinds[1], tmp) as b:
            try:
                fc.rows, shapes = row_diff_and_shapes(
                    a, kinds[0], b, kinds[1], key, size=max(fc.old.size, fc.new.size), limit=limit,
                    tmp_dir=tmp, labels=(f"{fc.path} at {fc.old.rev}", f"{fc.path} at {fc.new.rev}"))
            except KeyColumnError as e:  # one table without the key must not hide the others
                fc.note = f"rows not compared: {e}"
            except data_errors as e:
                change.error = reason(e)
                return
    try:
        if len(shapes) != len(sides):
            shapes = []
            for side, kind in zip(sides, kinds):
                with _source(ws, side, kind, tmp) as src:
                    shapes.append(scan.shape(src, kind))
    except data_errors as e:
        change.error = reason(e)
        return
    if fc.old is not None:
        change.old_rows = shapes[0][1]
    if fc.new is not None:
        change.new_rows = shapes[-1][1]
    if fc.old is None or fc.new is None:
        return
    old_schema, new_schema = shapes[0][0], shapes[1][0]
    old_types = {f.name: str(f.type) for f in old_schema}
    new_types = {f.name: str(f.type) for f in new_schema}
    change.added_columns = [(n, t) for n, t in new_types.items() if n not in old_types]
    change.removed_columns = [(n, t) for n, t in old_types.items() if n not in new_types]
    # a column typed "null" has no value to infer a type from (a header-only CSV): its first
    # values typing it, or its last ones leaving, is not a retyped column
    change.retyped_columns = [(n, old_types[n], t) for n, t in new_types.items()
                              if n in old_types and old_types[n] != t and "null" not in (old_types[n], t)]


def diff(ws: Workspace, args: list[str], key: str | None = None, limit: int = 10) -> DataDiff:
    """Compare ``REV1 [REV2]`` (default HEAD and the work tree), restricted to the paths given.

    Tables whose data is not here are fetched from the default data remote first. Tables get
    their shape compared; with ``key``, their rows too (``limit`` examples of each).
    """
    revs, paths = split_args(ws, args)
    refuse_pathspec_magic(paths, "diff")  # ':!a.bin' was "neither a revision nor a path", fetch it
    if key is not None and not key.strip():
        raise UsageError("--key needs a column name")
    old = revs[0] if revs else "HEAD"
    new = revs[1] if len(revs) > 1 else None
    if not revs and not ws.repo.git("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False).strip():
        raise MlvError("no commit yet: nothing to compare the work tree with")
    specs = _top_relative(ws, paths)
    for arg, spec in zip(paths, specs):
        # like git: an argument that is neither a revision nor a path anywhere is a typo, not "no change"
        if os.path.exists(arg) or spec == ".":
            continue
        if not any(ws.repo.git("ls-tree", "-r", "--name-only", rev, "--", spec, check=False).strip()
                   for rev in (r for r in (old, new) if r)):
            hint = ""
            if "/" not in arg and os.sep not in arg:  # a word: maybe a tag this clone lacks
                hint = (" (a tag or branch a shallow or single-branch clone lacks? `git fetch --tags` "
                        f"or `git fetch origin {arg}` brings it)")
            raise UsageError(f"{arg!r} is neither a revision nor a path in the work tree or the revisions "
                             f"compared{hint}")
    result = DataDiff(old, new or WORKTREE, key=key)
    result.files = changed_files(ws, old, new, specs)
    fetch_error = _fetch_missing(ws, result.files)
    tmp = _open_tmp(ws)
    try:
        for fc in result.files:
            if fc.status != "renamed" and fc.note is None:
                _table_change(ws, fc, tmp, key, limit, fetch_error)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


__all__ = ["WORKTREE", "DataDiff", "FileChange", "Side", "TableChange", "changed_files", "diff",
           "split_args"]
