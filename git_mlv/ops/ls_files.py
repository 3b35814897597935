"""ls-files: the tracked files of the index or of a revision, with oid, size and whether their
data is here (split out of ops/data.py, which keeps what checkout and status share with it).

As `git ls-files` (and `git ls-tree REV`) do, a listing typed in a subfolder lists only the files
under it, unless PATHs say otherwise: before, it listed the whole repository from a subfolder.
Paths are returned from the top of the work tree; the CLI makes them relative to the current
folder (data.cwd_prefix).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import UsageError
from ..gitio import indexstat, walk
from .context import Workspace
from .data import (
    OTHER,
    _batches,
    _matches,
    _no_match,
    _rel_specs,
    cwd_prefix,
    is_glob,
    present_oids,
    worktree_state,
)


@dataclass
class FileInfo:
    """One tracked file at a revision or in the index."""

    path: str  # from the top of the work tree (of the tree, in a bare repository)
    oid: str
    size: int
    present: bool  # data in the local pool
    checked_out: bool | None = None  # worktree holds the data, not the pointer (index only)
    sparse: bool = False  # outside the sparse checkout (skip-worktree): not in the worktree by design


def _tree_specs(paths: list[str] | None) -> list[str] | None:
    """``_rel_specs`` in a bare repository: paths are the repository's own (no current folder in a
    work tree to be relative to)."""
    if not paths:
        return None
    out = []
    for p in paths:
        rel = os.path.normpath(p.replace(os.sep, "/")).replace(os.sep, "/").lstrip("/")
        if rel == ".." or rel.startswith("../"):
            raise UsageError(f"{p}: outside the repository")
        out.append("" if rel == "." else rel)
    return out


def split_rev_arg(ws: Workspace, words: list[str]) -> tuple[str | None, list[str]]:
    """``[REV] [PATH...]``: the first word is a revision when it names a commit and no file or
    folder here; both: a UsageError, as git's "ambiguous argument"."""
    if not words:
        return None, []
    first = words[0]
    if walk.resolve_commit(ws.repo, first) is None:
        return None, words
    if os.path.lexists(first) and ws.repo.worktree is not None:  # a bare repo's HEAD is no path
        raise UsageError(f"{first!r} is both a revision and a path here; name a revision that is "
                         "not a path (e.g. its commit id), or a path that is not a revision "
                         "(e.g. ./" + first + ")")
    return first, words[1:]


def ls_files(ws: Workspace, rev: str | None = None, paths: list[str] | None = None,
             full_tree: bool = True) -> list[FileInfo]:
    """Tracked files at ``rev`` (default: the index) with oid, size and local presence, under
    ``paths`` (relative to the current folder) when given; without them, under the current
    folder unless ``full_tree``."""
    return sorted((f for batch in ls_files_batches(ws, rev, paths, full_tree) for f in batch),
                  key=lambda f: f.path)


def ls_files_batches(ws: Workspace, rev: str | None = None, paths: list[str] | None = None,
                     full_tree: bool = True) -> Iterator[list[FileInfo]]:
    """``ls_files`` in batches (walk._BATCH files) sorted by path, in git's order: memory follows
    a batch (before, 107 MB at 100,000 files). A path naming no tracked file: UsageError last;
    the current folder holding none (no ``paths``, not ``full_tree``): nothing, as git says.

    In a bare repository ``rev`` is needed (there is no index) and ``paths`` are relative to the
    repository's root, as ``git ls-tree`` takes them there."""
    bare = ws.repo.worktree is None and not ws.repo.in_git_dir
    if rev is None and bare:
        word = f"{paths[0]!r} names no commit here; " if paths else ""
        raise UsageError(f"{word}a bare repository has no work tree or index: name a commit to list "
                         "its files (`git mlv ls-files HEAD [PATH...]`)")
    specs = _tree_specs(paths) if bare else _rel_specs(ws, paths)
    here_only = [] if specs or full_tree else [cwd_prefix(ws).rstrip("/")]
    if here_only == [""]:
        here_only = []
    if rev is not None:
        yield from _tree_batches(ws, rev, specs or here_only or None, must_match=bool(specs))
        return
    indexstat.check_index(ws.repo)  # git would list a damaged one's garbage without a word
    top = ws.repo.top + os.sep  # a concatenation: os.path.join costs more than the lstat (50k files)
    batches = (_batches(ws, specs, takes_rev=True) if not here_only else
               walk.index_pointer_batches(ws.repo, under=here_only))
    for entries in batches:
        if here_only:  # past walk._PATHSPEC_MAX git lists more: kept to the folder here
            entries = [(e, pb) for e, pb in entries if _matches(e.path, here_only)]
        present = present_oids(ws.pool, (pb.oid for _, pb in entries))
        out = []
        for e, pb in entries:
            if e.skip_worktree:
                out.append(FileInfo(e.path, pb.oid, pb.size, pb.oid in present, None, True))
            else:
                checked = worktree_state(top + e.path, pb) == OTHER
                out.append(FileInfo(e.path, pb.oid, pb.size, pb.oid in present, checked))
        del entries
        yield sorted(out, key=lambda f: f.path)


def _tree_batches(ws: Workspace, rev: str, specs: list[str] | None, must_match: bool
                  ) -> Iterator[list[FileInfo]]:
    """The pointers of ``rev``'s tree under ``specs``; ``must_match``: a UsageError at the end
    when none is there (PATHs the user named)."""
    found = False
    under = None if specs and any(map(is_glob, specs)) else specs  # a glob: every file, matched
    for batch in walk.pointer_batches(ws.repo, [rev], under):
        hits = [(path, p) for path, p in batch if _matches(path, specs)]
        del batch
        if hits:
            found = True
            here = present_oids(ws.pool, (p.oid for _, p in hits))
            yield sorted((FileInfo(path, p.oid, p.size, p.oid in here) for path, p in hits),
                         key=lambda f: f.path)
    if must_match and specs and not found:
        raise _no_match(specs, rev, prefix=cwd_prefix(ws))
