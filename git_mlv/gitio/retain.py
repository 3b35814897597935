"""What ``git mlv prune`` must keep, found in git (the ``git lfs prune`` contract, docs/fetch-scope.md).

- the trees of HEAD (every worktree's) and of every ref whose tip commit is younger than N days
  (branches, tags, remote-tracking branches);
- every pointer in the index of every worktree (``rev-list --indexed-objects``);
- the trees of every stash entry (worktree, index and untracked parts);
- every pointer in commits of local branches (and HEAD) that no remote-tracking ref contains:
  unpushed commits, found by one ``rev-list --objects TIPS --not --remotes``.

Each step is one or two git processes; pointers are recognised through the pointer cache
(gitio/pointer_cache.py) as everywhere else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from ..core.pointer import MAX_SIZE
from .git import Repo
from .walk import iter_pointers, pointer_blobs

_ZERO = "0" * 40


@dataclass
class Retained:
    """File ids (pointer oids) prune keeps, by why (a file may be kept for several reasons)."""

    oids: set[str] = field(default_factory=set)
    recent_refs: list[str] = field(default_factory=list)  # refs younger than the limit
    stashes: int = 0  # stash commits (an entry has two or three)
    unpushed_commits: int = 0

    def add(self, oids: set[str]) -> None:
        """Keep these too."""
        self.oids |= oids


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


def unpushed(repo: Repo, tips: list[str]) -> tuple[set[str], int]:
    """(pointer oids, commits) of the commits reachable from ``tips`` that no remote-tracking ref
    reaches; without any remote-tracking ref, that is every commit."""
    if not tips:
        return set(), 0
    # the tips on the command line: `rev-list --stdin` refuses --not/--remotes lines
    raw = repo.git("rev-list", "--objects", f"--filter=blob:limit={MAX_SIZE - 1}", *tips,
                   "--not", "--remotes")
    return _pointers_listed(repo, raw)


def _pointers_listed(repo: Repo, raw: bytes) -> tuple[set[str], int]:
    """(pointer oids, commits) in the output of ``rev-list --objects``."""
    commits = 0
    blobs = []
    for line in raw.splitlines():
        if b" " in line:  # trees and blobs come with " <path>"; commits bare
            blobs.append(line[:line.index(b" ")].decode())
        elif line:
            commits += 1
    return {pb.oid for pb in pointer_blobs(repo, blobs).values()}, commits


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
        keep.add({p.oid for _, p in iter_pointers(repo, revs)})
    indexed = repo.git("rev-list", "--objects", "--indexed-objects", f"--filter=blob:limit={MAX_SIZE - 1}")
    keep.add(_pointers_listed(repo, indexed)[0])
    branches = repo.git_text("for-each-ref", "--format=%(objectname)", "refs/heads/").split()
    oids, keep.unpushed_commits = unpushed(repo, list(dict.fromkeys([*here, *branches])))
    keep.add(oids)
    return keep
