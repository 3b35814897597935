"""Which repositories a data remote serves: ``repos/<root commit>`` (docs/remotes.md, Layout).

``gc --remote`` keeps what this repository's refs reach. Run against a remote that another
project pushes to as well (one bucket prefix for two projects), it deleted that project's data.
Each clone now records the root commits of its history on the remote at its first push there
(clones and forks of one project share them), and gc refuses while the remote names a root this
repository does not have.
"""

from __future__ import annotations

import os

from ..core.fsutil import FileSystemError, atomic_write
from ..errors import UsageError
from ..gitio import walk
from ..remotes.base import Remote
from ..remotes.transfer import RetryPolicy
from .context import Workspace
from .remote_config import cache_dir

PREFIX = "repos/"
_CONTENT = b"git-mlv repository record\n"
_MARKER = "repos-recorded"  # in the remote's cache folder: the URL and git dir last recorded for


def roots(ws: Workspace) -> set[str]:
    """The root commits of every ref's history (none in a repository without commits)."""
    out = ws.repo.git("rev-list", "--max-parents=0", "--all", check=False)
    return set(out.decode().split())


def record(ws: Workspace, name: str, rem: Remote, retry: RetryPolicy) -> None:
    """Put ``repos/<root>`` for each root of this repository on the remote, unless this clone
    already did for this URL: a later push reads one small file, and walks no history (a root
    added later, by a merge of unrelated histories, changes nothing gc decides)."""
    # the repository too: clones of other projects may share this pool (mlv.pool) and its cache
    stamp = f"{rem.url}\n{os.path.realpath(ws.repo.common_dir)}\n".encode()
    marker = os.path.join(cache_dir(ws, name), _MARKER)
    try:
        with open(marker, "rb") as f:
            if f.read() == stamp:
                return
    except OSError:
        pass
    mine = sorted(roots(ws))
    if not mine:
        return
    there = set(retry.run(lambda: rem.list(PREFIX)))  # another clone's push recorded it: no write
    for root in mine:
        if PREFIX + root not in there:
            retry.run(lambda root=root: rem.put(PREFIX + root, _CONTENT))  # type: ignore[misc]
    try:  # the marker only saves later pushes a small write: best effort (a read-only .git)
        os.makedirs(os.path.dirname(marker), exist_ok=True)
        atomic_write(marker, stamp, durable=False)
    except (OSError, FileSystemError):
        pass


def refuse_if_shared(ws: Workspace, name: str, rem: Remote, retry: RetryPolicy) -> None:
    """UsageError when the remote records a repository other than this one."""
    recorded = {n[len(PREFIX):] for n in retry.run(lambda: rem.list(PREFIX))}
    # a commit this repository has is ours, root here or not: a shallow clone records its
    # shallow boundary as its roots (CI jobs often push from one)
    others = sorted(recorded - set(walk.existing_commits(ws.repo, recorded)))
    if others:
        shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
        raise UsageError(
            f"data remote '{name}' ({rem.url}) also serves another repository (root commit "
            f"{shown}, not in this history): gc --remote would delete that repository's data. "
            f"If it is no longer wanted, delete {PREFIX}{others[0]} on the remote and run gc again")
