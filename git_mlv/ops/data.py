"""status / ls-files / checkout: what the worktree holds compared with the pool."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..core.pointer import MAX_SIZE, Pointer
from ..gitio import walk
from .context import Workspace

ProgressFn = Callable[[int, int], None]


@dataclass
class FileInfo:
    """One tracked file at a revision or in the index."""

    path: str
    oid: str
    size: int
    present: bool  # data in the local pool
    checked_out: bool | None = None  # worktree holds the data, not the pointer (index only)


def _matches(path: str, specs: list[str] | None) -> bool:
    if not specs:
        return True
    return any(path == s or path.startswith(s.rstrip("/") + "/") for s in specs)


def _rel_specs(ws: Workspace, paths: list[str] | None) -> list[str] | None:
    if not paths:
        return None
    top = ws.repo.top
    return [os.path.relpath(os.path.abspath(p), top).replace(os.sep, "/").removeprefix("./")
            if os.path.relpath(os.path.abspath(p), top) != "." else "" for p in paths] or None


def _worktree_is_pointer(path: str) -> bool:
    try:
        st = os.lstat(path)
        if st.st_size >= MAX_SIZE:
            return False
        with open(path, "rb") as f:
            return Pointer.try_parse(f.read()) is not None
    except OSError:
        return False


def ls_files(ws: Workspace, rev: str | None = None, paths: list[str] | None = None) -> list[FileInfo]:
    """Tracked files at ``rev`` (default: the index) with oid, size and local presence."""
    specs = _rel_specs(ws, paths) if rev is None else paths
    pool = ws.pool
    out = []
    if rev is None:
        for path, p, _ in walk.index_pointers(ws.repo):
            if _matches(path, specs):
                full = os.path.join(ws.repo.top, path)
                out.append(FileInfo(path, p.oid, p.size, pool.has_file(p.oid),
                                    os.path.exists(full) and not _worktree_is_pointer(full)))
    else:
        for path, p in walk.iter_pointers(ws.repo, [rev]):
            if _matches(path, specs):
                out.append(FileInfo(path, p.oid, p.size, pool.has_file(p.oid)))
    return sorted(out, key=lambda f: f.path)


@dataclass
class Status:
    """Tracked files that need attention."""

    files: int = 0
    modified: list[str] = field(default_factory=list)  # worktree differs from the index
    not_checked_out: list[str] = field(default_factory=list)  # worktree holds the pointer
    missing_data: list[str] = field(default_factory=list)  # no data in the local pool
    not_on_remote: list[str] = field(default_factory=list)
    remote: str | None = None


def status(ws: Workspace, check_remote: bool = True) -> Status:
    """Tracked files: modified, data missing locally, not yet on the default remote."""
    files = ls_files(ws)
    st = Status(files=len(files))
    tracked = {f.path for f in files}
    changed = ws.repo.git("diff", "--name-only", "-z").split(b"\0")
    st.modified = sorted(p for p in (os.fsdecode(c) for c in changed if c) if p in tracked)
    st.not_checked_out = [f.path for f in files if f.checked_out is False]
    st.missing_data = [f.path for f in files if not f.present]
    if check_remote and files:
        try:
            from . import sync
        except ImportError:
            return st
        st.remote = sync.default_remote_name(ws)
        if st.remote is not None:
            lacking = sync.not_on_remote(ws, {f.oid for f in files if f.present})
            st.not_on_remote = [f.path for f in files if f.oid in lacking]
    return st


@dataclass
class CheckoutResult:
    """What ``checkout`` wrote."""

    restored: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    bytes: int = 0


def checkout(ws: Workspace, paths: list[str] | None = None,
             progress: ProgressFn | None = None) -> CheckoutResult:
    """Replace pointer files in the worktree by their data from the pool (index version)."""
    specs = _rel_specs(ws, paths)
    top = ws.repo.top
    todo = []
    for path, p, mode in walk.index_pointers(ws.repo):
        full = os.path.join(top, path)
        if _matches(path, specs) and (not os.path.exists(full) or _worktree_is_pointer(full)):
            todo.append((path, p, mode))
    result = CheckoutResult()
    if not todo:
        return result  # the common case after a checkout: no pool, no heavy imports
    total = sum(p.size for _, p, _ in todo)
    pool = ws.pool
    for path, p, mode in todo:
        if not pool.has_file(p.oid, refresh=True):
            result.missing.append(path)
            continue
        pool.restore_to(p.oid, os.path.join(top, path), executable=mode == 0o100755)
        result.restored.append(path)
        result.bytes += p.size
        if progress:
            progress(result.bytes, total)
    if result.restored:
        # the files changed on disk but match the index once cleaned: let git re-stat them. Not
        # `--refresh`: a size that differs from the index's (the pointer's) marks a file modified
        # without git looking at its content; naming the paths re-hashes them through the filter.
        walk.repo_run(ws.repo, ["update-index", "-q", "-z", "--stdin"],
                      b"".join(os.fsencode(p) + b"\0" for p in result.restored))
    return result
