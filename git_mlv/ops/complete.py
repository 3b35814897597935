"""Commits whose data is known to be all in the local pool, so that `git mlv fetch` and `pull` with
nothing new look only at the pointers that changed since one of them (docs/formats.md#complete).

Before, both read every pointer of HEAD (or of the index) and looked each one up in the pool:
1.6-3.1 s at 100,000 files after a teammate's one-file commit. The record is
``.git/mlv/complete``; it holds the pool's ``generation`` token read before the check, and every
command that deletes objects replaces that token before and after it deletes (``deleting``), so a
record older than a deletion is never trusted.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..core.fsutil import FileSystemError, atomic_write, makedirs
from ..core.pool import Pool
from ..errors import MlvError
from ..gitio.git import GitError
from .context import Workspace

HEADER = "git-mlv complete v1"
GENERATION = "generation"
MAX_COMMITS = 8  # newest first; a branch switched back and forth finds its own


def token(pool: Pool) -> str | None:
    """The pool's generation token; None when there is none (or it cannot be read)."""
    try:
        with open(os.path.join(pool.root, GENERATION), encoding="ascii") as f:
            text = f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text if len(text) == 32 and all(c in "0123456789abcdef" for c in text) else None


def bump(pool: Pool) -> str:
    """Replace the pool's generation token: every record written before is stale. When no new
    one can be written (a full disk), the old one is removed: "" (no token, nothing trusted)."""
    new = secrets.token_hex(16)
    makedirs(pool.root)
    path = os.path.join(pool.root, GENERATION)
    try:
        atomic_write(path, f"{new}\n".encode())
    except FileSystemError as e:
        # a full disk: no token is as stale as a new one (no record is trusted), and a gc must
        # still be able to free space
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            raise e from None
        return ""
    return new


def start(pool: Pool) -> str:
    """The token to record a check under, read before the check looks at the pool (one is
    created when the pool has none); "" when there is none and it cannot be written (a pool
    this user may only read): nothing is then trusted or recorded."""
    try:
        return token(pool) or bump(pool)
    except (OSError, MlvError):
        return ""


@contextmanager
def deleting(pool: Pool) -> Iterator[None]:
    """Around anything that may delete objects from the pool (gc, prune, repair): a new token
    before (a kill -9 halfway leaves the records stale) and after (a fetch that read the token
    while objects were going cannot match)."""
    bump(pool)
    try:
        yield
    finally:
        bump(pool)


@dataclass
class Complete:
    """The record: commits whose every pointer's data was in the pool under token ``pool``."""

    path: str
    pool: str = ""
    commits: list[str] = field(default_factory=list)

    @classmethod
    def load(cls, ws: Workspace) -> Complete:
        """Read the record; empty when absent or unreadable."""
        c = cls(os.path.join(ws.repo.common_dir, "mlv", "complete"))
        try:
            with open(c.path, encoding="utf-8") as f:
                lines = f.read().splitlines()
        except (OSError, UnicodeDecodeError):
            return c
        if len(lines) < 2 or lines[0] != HEADER or not lines[1].startswith("pool "):
            return c
        c.pool = lines[1][5:]
        c.commits = [v for k, _, v in (line.partition(" ") for line in lines[2:])
                     if k == "commit" and _is_hex_id(v)]
        return c

    def base(self, started: str, pool: Pool) -> str | None:
        """The newest recorded commit, when the record was written under the pool's token
        ``started`` (read by ``start`` now: no deletion since) and the pool holds a pack at all
        (its packs deleted by hand, as one clears a cache, leave the token as it was)."""
        if not (self.commits and started and started == self.pool):
            return None
        try:
            held = any(n.endswith(".pack") for n in os.listdir(pool.pack_dir))
        except OSError:
            held = False
        return self.commits[0] if held else None

    def save(self, started: str, commits: Iterable[str]) -> None:
        """Record ``commits`` (checked complete under token ``started``) atomically; the others
        are kept only when recorded under the same token."""
        if not started:
            return
        old = self.commits if self.pool == started else []
        self.pool, self.commits = started, [*dict.fromkeys([*commits, *old])][:MAX_COMMITS]
        text = [HEADER, f"pool {started}", *(f"commit {c}" for c in self.commits)]
        try:
            makedirs(os.path.dirname(self.path))
            # no fsync: a file a crash left empty or torn fails the header check (read as none)
            atomic_write(self.path, ("\n".join(text) + "\n").encode(), durable=False)
        except (OSError, MlvError):
            pass  # an optimisation: not written, the next fetch reads the whole tree


def _is_hex_id(s: str) -> bool:
    return len(s) in (40, 64) and all(c in "0123456789abcdef" for c in s)


def index_changed_paths(ws: Workspace, base: str) -> list[str] | None:
    """Paths whose index entry differs from ``base``'s tree and that are files in the index
    (``git diff-index --cached``); None when git cannot compare (``base`` gone)."""
    diff = index_diff(ws, base)
    return None if diff is None else [path for _, path, in_index in diff if in_index]


def index_diff(ws: Workspace, base: str) -> list[tuple[str, str, bool]] | None:
    """(status letter, path, whether the index has a file there) of every path whose index entry
    differs from ``base``'s tree (``git diff-index --cached``: A added, D deleted, M, T, U...;
    empty: the index is that tree); None when git cannot compare (``base`` gone)."""
    try:
        raw = ws.repo.git("diff-index", "--cached", "-r", "-z", "--no-renames", base)
    except GitError:
        return None
    parts = raw.split(b"\0")  # ":<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0"
    out: list[tuple[str, str, bool]] = []
    for i in range(0, len(parts) - 1, 2):
        meta = parts[i].split()
        if len(meta) >= 5:
            out.append((meta[4][:1].decode(), os.fsdecode(parts[i + 1]), meta[1] != b"000000"))
    return out


def index_is_head(ws: Workspace) -> str | None:
    """HEAD's commit when the index holds exactly its tree (nothing staged), else None."""
    from ..gitio import walk

    head = walk.resolve_commit(ws.repo, "HEAD")
    if head is None:
        return None
    try:
        ws.repo.git("diff-index", "--cached", "--quiet", head)
    except GitError:
        return None
    return head


def record_first_checkout(ws: Workspace) -> None:
    """Record HEAD after a clone's (or a new worktree's) first checkout that left every file of
    the index as data: the filter of that checkout wrote each from the pool, or the hook restored
    it from there, so the first `git mlv fetch` need not read the whole tree. The caller (the
    post-checkout hook) has checked that no file stayed a pointer; here, only when the pool has
    never had a generation token (no gc, prune or repair ever deleted from it: each writes one
    before it deletes; a pool shared with `mlv.pool` or used before has one, and nothing is
    recorded), the index is HEAD's tree and no file is outside a sparse checkout."""
    if token(ws.pool) is not None:
        return
    sparse = ws.repo.git_text("config", "--bool", "core.sparseCheckout", check=False)
    head = index_is_head(ws) if sparse != "true" else None
    if head is not None:
        Complete.load(ws).save(start(ws.pool), [head])
