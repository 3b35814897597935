"""Reading files at any revision from git objects (never the work tree), and naming revisions.

One ``git cat-file --batch`` call serves every (revision, path) asked at once. A blob that is a
git-mlv pointer is read from the pool when the data is there (a metric file someone tracked).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..core.pointer import Pointer
from ..errors import MlvError
from ..gitio.git import Repo, run

if TYPE_CHECKING:
    from ..core.pool import Pool

WORKSPACE = "workspace"  # the label of the work tree among revisions
_HEAD = re.compile(rb"[0-9a-f]{40,64} (blob|tree|commit|tag) ([0-9]+)\Z")


def read_blobs(repo: Repo, wanted: Iterable[tuple[str, str]], pool: Pool | None = None
               ) -> dict[tuple[str, str], bytes | None]:
    """Content of each (rev, path), None where that revision has no such file."""
    keys = list(dict.fromkeys(wanted))
    if not keys:
        return {}
    if any("\n" in r or "\n" in p for r, p in keys):
        raise MlvError("revision names and paths with a newline are not supported")
    query = "".join(f"{r}:{p}\n" for r, p in keys).encode("utf-8")
    raw = run(["cat-file", "--batch"], cwd=repo.worktree or repo.git_dir, input=query)
    out: dict[tuple[str, str], bytes | None] = {}
    pos = 0
    for key in keys:
        eol = raw.index(b"\n", pos)
        m = _HEAD.match(raw[pos:eol])
        pos = eol + 1
        if m is None:  # "<name> missing" or "<name> ambiguous": no content follows
            out[key] = None
            continue
        size = int(m.group(2))
        out[key] = _unpoint(raw[pos:pos + size], pool) if m.group(1) == b"blob" else None
        pos += size + 1
    return out


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
    """Tag names, oldest first (tagger date for annotated tags, commit date otherwise)."""
    out = repo.git_text("for-each-ref", "--sort=creatordate", "--format=%(refname:short)", "refs/tags")
    return out.splitlines()


def branches(repo: Repo) -> list[str]:
    """Branch names, least recently committed first."""
    out = repo.git_text("for-each-ref", "--sort=committerdate", "--format=%(refname:short)", "refs/heads")
    return out.splitlines()


def verify(repo: Repo, rev: str) -> None:
    """MlvError unless ``rev`` names a commit."""
    if rev == WORKSPACE:
        return
    ok = repo.git("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False)
    if not ok.strip():
        raise MlvError(f"unknown revision {rev!r}")
