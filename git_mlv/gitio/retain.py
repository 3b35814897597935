"""What ``git mlv prune`` must keep, found in git (the ``git lfs prune`` contract, docs/fetch-scope.md).

- the trees of HEAD (every worktree's) and of every ref whose tip commit is younger than N days
  (branches, tags, remote-tracking branches);
- every pointer in the index of every worktree (``rev-list --indexed-objects``);
- the trees of every stash entry (worktree, index and untracked parts);
- every pointer in commits of local branches (and HEAD) that no remote-tracking ref contains:
  unpushed commits, found by one ``rev-list --objects TIPS --not --remotes``.

Each step is one or two git processes; pointers are recognised through the pointer cache
(gitio/pointer_cache.py) as everywhere else. Git's listings are read as they come, _BATCH objects
at a time, and the ids kept are a packed array (32 bytes a file): before, every listed object's id
and every kept file's id were Python strings held at once (~1 KB a tracked file for `git mlv prune`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ..core import idarray as ida
from ..core.pointer import MAX_SIZE
from . import walk
from .git import Repo

_ZERO = "0" * 40


@dataclass
class Retained:
    """File ids (pointer oids) prune keeps, by why (a file may be kept for several reasons)."""

    oids: np.ndarray = field(default_factory=lambda: ida.ids_of([]))  # sorted unique S32 ids
    recent_refs: list[str] = field(default_factory=list)  # refs younger than the limit
    stashes: int = 0  # stash commits (an entry has two or three)
    unpushed_commits: int = 0

    def add(self, ids: np.ndarray) -> None:
        """Keep these too (sorted unique S32 ids)."""
        self.oids = ida.merge([self.oids, ids])


def recent_refs(repo: Repo, days: float) -> list[tuple[str, str]]:
    """(ref name, commit) of branches, tags and remote-tracking branches whose tip commit's date is
    within ``days`` days (annotated tags are peeled; tags of trees or blobs are left out)."""
    fmt = "%(refname)%00%(objecttype)%00%(objectname)%00%(committerdate:unix)%00" \
          "%(*objecttype)%00%(*objectname)%00%(*committerdate:unix)"
    out = repo.git("for-each-ref", f"--format={fmt}", "refs/heads/", "refs/tags/", "refs/remotes/")
    cutoff = time.time() - days * 86400
    found = []
    for line in out.decode("utf-8", "surrogateescape").splitlines():
        name, kind, oid, date, pkind, poid, pdate = line.split("\0")
        if kind == "tag" and pkind == "commit":
            kind, oid, date = pkind, poid, pdate
        if kind == "commit" and date and int(date) >= cutoff:
            found.append((name, oid))
    return found


def heads(repo: Repo) -> list[str]:
    """The commit checked out in every worktree of this repository (none on an unborn branch)."""
    out = repo.git_text("worktree", "list", "--porcelain", check=False)
    found = [line.split()[1] for line in out.splitlines() if line.startswith("HEAD ")]
    return [c for c in dict.fromkeys(found) if c != _ZERO]


def stash_commits(repo: Repo) -> list[str]:
    """Every stash entry's commits: the worktree state and its index (and untracked) parents."""
    out = repo.git_text("log", "-g", "--format=%H %P", "refs/stash", "--", check=False)
    found: list[str] = []
    for line in out.splitlines():
        ids = line.split()
        if ids:
            found.append(ids[0])
            found += ids[2:]  # the first parent is the commit the stash was made on
    return list(dict.fromkeys(found))


def unpushed(repo: Repo, tips: list[str]) -> tuple[np.ndarray, int]:
    """(pointer oids as sorted S32 ids, commits) of the commits reachable from ``tips`` that no
    remote-tracking ref reaches; without any remote-tracking ref, that is every commit."""
    if not tips:
        return ida.ids_of([]), 0
    # the tips on the command line: `rev-list --stdin` refuses --not/--remotes lines
    listing = repo.git_records("rev-list", "--objects", f"--filter=blob:limit={MAX_SIZE - 1}", *tips,
                               "--not", "--remotes", sep=b"\n")
    return _pointers_listed(repo, listing)


def _pointers_listed(repo: Repo, listing: Iterable[bytes]) -> tuple[np.ndarray, int]:
    """(pointer oids as sorted S32 ids, commits) in the lines of ``rev-list --objects``."""
    commits = 0

    def blobs() -> Iterator[str]:
        nonlocal commits
        for line in listing:
            if b" " in line:  # trees and blobs come with " <path>"; commits bare
                yield line[:line.index(b" ")].decode()
            elif line:
                commits += 1

    parts: list[np.ndarray] = []
    cache = None
    todo = blobs()
    while batch := list(itertools.islice(todo, walk._BATCH)):
        if cache is None and len(batch) >= walk._CACHE_MIN:
            cache = walk.cache_of(repo)  # opened once for every batch
        parts.append(ida.ids_of(pb.oid for pb in walk.pointer_blobs(repo, batch, cache=cache).values()))
    return ida.merge(parts), commits


def _pointers_of_trees(repo: Repo, revs: list[str]) -> np.ndarray:
    """Sorted S32 ids of the pointers in the trees of ``revs``, batch by batch."""
    parts = [ida.ids_of(p.oid for _, p in batch) for batch in walk.pointer_batches(repo, revs)]
    return ida.merge(parts)


def retained(repo: Repo, keep_days: float) -> Retained:
    """Every file version prune must keep (see the module's docstring)."""
    keep = Retained()
    refs = recent_refs(repo, keep_days)
    keep.recent_refs = [name for name, _ in refs]
    stash = stash_commits(repo)
    keep.stashes = len(stash)
    here = heads(repo)
    revs = list(dict.fromkeys([*here, *(c for _, c in refs), *stash]))
    if revs:
        keep.add(_pointers_of_trees(repo, revs))
    indexed = repo.git_records("rev-list", "--objects", "--indexed-objects",
                               f"--filter=blob:limit={MAX_SIZE - 1}", sep=b"\n")
    keep.add(_pointers_listed(repo, indexed)[0])
    branches = repo.git_text("for-each-ref", "--format=%(objectname)", "refs/heads/").split()
    oids, keep.unpushed_commits = unpushed(repo, list(dict.fromkeys([*here, *branches])))
    keep.add(oids)
    return keep
