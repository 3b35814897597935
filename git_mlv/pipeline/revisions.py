"""Reading files at any revision from git objects (never the work tree), and naming revisions.

One ``git cat-file --batch`` call serves every (revision, path) asked at once (gitio/walk.py; in
process with pygit2 it was slower once its import is paid: docs/design-notes.md). A blob that is a
git-mlv pointer is read from the pool when the data is there (a metric file someone tracked).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..core.pointer import Pointer
from ..errors import MlvError, UsageError
from ..gitio import walk
from ..gitio.git import Repo

if TYPE_CHECKING:
    from ..core.pool import Pool

WORKSPACE = "workspace"  # the label of the work tree among revisions


def read_blobs(repo: Repo, wanted: Iterable[tuple[str, str]], pool: Pool | None = None
               ) -> dict[tuple[str, str], bytes | None]:
    """Content of each (rev, path), None where that revision has no such file; a pointer's data
    when the pool has it."""
    return {key: None if data is None else _unpoint(data, pool)
            for key, data in walk.read_at_revisions(repo, wanted).items()}


def read_worktree(top: str, path: str, pool: Pool | None = None) -> bytes | None:
    """A work-tree file's content, None when absent."""
    try:
        with open(os.path.join(top, *path.split("/")), "rb") as f:
            return _unpoint(f.read(), pool)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None


def _unpoint(data: bytes, pool: Pool | None) -> bytes:
    ptr = Pointer.try_parse(data)
    if ptr is None or pool is None or not pool.has_file(ptr.oid):
        return data
    return b"".join(pool.iter_file(ptr.oid))


def tags(repo: Repo) -> list[str]:
    """Names of the tags of commits, oldest first (tagger date for annotated tags, commit date
    otherwise). A tag of a blob or a tree (a maintainer's signing key, as git.git has) is left out:
    it has no metrics, and `--all-tags` stopped with "unknown revision" at it."""
    out = repo.git_text("for-each-ref", "--sort=creatordate",
                        "--format=%(objecttype) %(*objecttype) %(refname:short)", "refs/tags")
    names, nested = [], []
    for line in out.splitlines():
        kind, peeled, name = line.split(" ", 2)
        if kind == "commit" or peeled == "commit":
            names.append(name)
        elif peeled == "tag":  # a tag of a tag: git peels one level here, cat-file all of them
            names.append(name)
            nested.append(name)
    if nested:
        found = dict(zip(nested, walk.resolve(repo, [f"{n}^{{commit}}" for n in nested])))
        names = [n for n in names if found.get(n, True) is not None]
    return names


def branches(repo: Repo) -> list[str]:
    """Branch names, least recently committed first."""
    out = repo.git_text("for-each-ref", "--sort=committerdate", "--format=%(refname:short)", "refs/heads")
    return out.splitlines()


def verify_all(repo: Repo, revs: list[str]) -> None:
    """MlvError naming the first of ``revs`` that is not a commit (one git process for all)."""
    named = [r for r in revs if r != WORKSPACE]
    for rev, found in zip(named, walk.resolve(repo, [f"{r}^{{commit}}" for r in named])):
        if found is None:
            raise _unknown(repo, rev)


def verify(repo: Repo, rev: str) -> None:
    """MlvError unless ``rev`` names a commit."""
    if rev == WORKSPACE:
        return
    ok = repo.git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
    if not ok.strip():
        raise _unknown(repo, rev)


def _unknown(repo: Repo, rev: str) -> MlvError:
    """The error for ``rev`` naming no commit. In a repository with no commit yet, `metrics diff`
    and `params diff` (A defaults to HEAD) said "unknown revision 'HEAD'", as if HEAD were a typo.
    Otherwise a usage error (exit 2), as `git mlv diff` treats a word that names nothing."""
    if not repo.git("rev-parse", "--verify", "-q", "HEAD", check=False).strip():
        return MlvError(f"no commit yet, so {rev!r} names nothing: commit first (`git commit`), "
                        "then compare")
    hint = ""
    if re.fullmatch(r"[\w.-]+", rev):  # a plain name: maybe a tag or branch this clone lacks
        hint = (" (a tag or branch a shallow or single-branch clone lacks? `git fetch --tags` or "
                f"`git fetch origin {rev}` brings it)")
    return UsageError(f"unknown revision {rev!r}{hint}")
