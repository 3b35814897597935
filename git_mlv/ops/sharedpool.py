"""The clones that share one pool (``mlv.pool``), so that gc keeps what each of them needs.

gc decides from the refs, indexes, stashes and reflogs of a repository: run in one clone of a
shared pool, it deleted the data of commits that only another clone had (prune refuses on a
shared pool for the same reason). Every clone that opens a shared pool leaves a record of itself
in ``<pool>/clones/`` (docs/formats.md#shared-pool), and gc keeps the union of what every
recorded clone needs. A record whose repository is gone from this host is forgotten; one left by
another host, whose repository this host cannot read, stops gc with the way out.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass

from ..core.fsutil import FileSystemError, atomic_write, makedirs
from ..errors import UsageError
from ..gitio.git import GitError, Repo
from .context import Workspace

CLONES = "clones"


def _record_path(pool_dir: str, common_dir: str) -> str:
    key = hashlib.sha256(os.fsencode(os.path.realpath(common_dir))).hexdigest()[:16]
    return os.path.join(pool_dir, CLONES, key)


def register(ws: Workspace) -> None:
    """Leave this clone's record in its shared pool (a stat when it is there already)."""
    path = _record_path(ws.repo.mlv_dir, ws.repo.common_dir)
    if os.path.exists(path):
        return
    record = {"gitDir": os.path.realpath(ws.repo.common_dir), "host": socket.gethostname()}
    try:
        makedirs(os.path.dirname(path))  # core.sharedRepository's mode: the group's clones record too
        atomic_write(path, json.dumps(record).encode() + b"\n")
    except (OSError, FileSystemError):  # FileSystemError: fsutil's words for an OSError
        pass  # a read-only pool: this clone cannot write data there either, so gc has none to keep


@dataclass
class Clone:
    """Another clone recorded in the pool."""

    record: str  # the record's path
    git_dir: str
    host: str


def others(ws: Workspace, verb: str = "gc") -> Iterator[Clone]:
    """The recorded clones of this shared pool other than ``ws``'s own; and the repository whose
    ``.git/mlv`` the pool is, when another clone's mlv.pool names it (it may not have recorded
    itself yet: it has no mlv.pool of its own)."""
    folder = os.path.join(ws.repo.mlv_dir, CLONES)
    mine = _record_path(ws.repo.mlv_dir, ws.repo.common_dir)
    try:
        names = sorted(os.listdir(folder))
    except FileNotFoundError:
        return
    owner = os.path.dirname(os.path.realpath(ws.repo.mlv_dir))
    owner_record = _record_path(ws.repo.mlv_dir, owner)
    if (os.path.basename(ws.repo.mlv_dir) == "mlv" and os.path.isfile(os.path.join(owner, "HEAD"))
            and owner_record != mine and os.path.basename(owner_record) not in names):
        yield Clone(owner_record, owner, socket.gethostname())
    for name in names:
        path = os.path.join(folder, name)
        if path == mine or name.startswith("."):
            continue  # ourselves, or a record being written
        try:
            with open(path, "rb") as f:
                rec = json.loads(f.read())
            yield Clone(path, str(rec["gitDir"]), str(rec["host"]))
        except (OSError, ValueError, KeyError, TypeError):
            raise UsageError(f"{path} is not a readable record of a clone sharing this pool; {verb} "
                             "would not know what that clone needs: delete the file if no clone "
                             f"uses the pool from there, and run {verb} again") from None


def open_other(ws: Workspace, clone: Clone, verb: str = "gc") -> Workspace | None:
    """The workspace of ``clone`` to compute what it needs; None when it is gone from this host
    or uses another pool now (its record is then stale). A record from another host stops
    ``verb`` (gc, prune)."""
    if clone.host != socket.gethostname():
        raise UsageError(f"a clone on host {clone.host} ({clone.git_dir}) shares this pool, and {verb} "
                         f"cannot read its refs from here; run {verb} on {clone.host}, or delete "
                         f"{clone.record} if that clone no longer uses the pool")
    try:
        os.stat(os.path.join(clone.git_dir, "HEAD"))
    except (FileNotFoundError, NotADirectoryError):
        return None  # deleted (or no longer a repository)
    except OSError as e:  # another user's clone behind a folder we may not enter
        raise UsageError(f"the clone at {clone.git_dir} shares this pool and cannot be read "
                         f"({e.strerror}); {verb} would delete its data: run {verb} as a user who can "
                         f"read every clone, or delete {clone.record} if that clone is gone") from None
    other = Workspace(Repo(None, clone.git_dir, clone.git_dir))
    try:
        # git's safe.directory check refuses another user's repository, and the config read
        # below does not check: an empty config would look like "uses another pool now"
        other.repo.git("rev-parse", "--git-dir")
    except GitError as e:
        raise cannot_read(clone, e, verb) from None
    if os.path.realpath(other.repo.mlv_dir) != os.path.realpath(ws.repo.mlv_dir):
        return None
    return other


def cannot_read(clone: Clone, e: Exception, verb: str = "gc") -> UsageError:
    """The error for a recorded clone whose history git would not read for us."""
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return UsageError(f"git cannot read the clone at {clone.git_dir}, which shares this pool ({first}); "
                      f"{verb} would delete its data: run {verb} as its owner, or add it to git's "
                      f"safe.directory, or delete {clone.record} if that clone is gone")


def forget(clone: Clone) -> None:
    """Drop the record of a clone that is gone."""
    try:
        os.unlink(clone.record)
    except FileNotFoundError:
        pass
