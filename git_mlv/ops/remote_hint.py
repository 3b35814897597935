"""Does the pushed history tell a clone where its data is?

A data remote added with ``git mlv remote add`` lives in ``.gitmlv``, a tracked file: a clone
learns the remote only from the ``.gitmlv`` of the commit it checks out. A user who pushes before
committing that file uploads the data, and every clone then ends with pointers and "no default
data remote" — the push looked fine. The pre-push hook therefore compares the remote it uploaded
to with the ``.gitmlv`` of each pushed tip and says so when a tip does not name it (or names
another URL). A remote added with ``--local`` is this clone's own choice: no warning.

The same holds for ``.gitattributes``, which ``git mlv track`` edits: the filter applies the
worktree's lines at ``git add``, so pointers are committed whatever is committed of the file, but a
clone applies only the committed lines, and checks the other files out as pointer text. The hook
compares the root ``.gitattributes`` of each pushed tip with the worktree's, the same way.
"""

from __future__ import annotations

import os

from ..core.pointer import MAX_SIZE
from ..gitio import attributes, walk
from ..gitio.git import GitError
from ..gitio.pathmatch import matches
from . import remote_config
from .context import Workspace

# A push of many refs checks this many distinct tips at most (one `git config` each, ~3 ms): the
# warning is about the usual one-branch push, and every tip of a big push shares its .gitmlv.
_MAX_TIPS = 8


def uncommitted_remote(ws: Workspace, remote: str, tips: list[str]) -> str | None:
    """A warning when a pushed tip's ``.gitmlv`` does not name the tracked data remote ``remote``
    with the URL the worktree's ``.gitmlv`` gives it; None when every tip does, or when the remote
    is a local one."""
    try:
        rc = remote_config.remotes(ws).get(remote)
    except GitError:
        return None
    if rc is None or rc.scope != "tracked" or not rc.url_from_tracked:
        return None  # a local remote, or a local URL over a tracked one: this clone's choice
    for tip in tips[:_MAX_TIPS]:
        tracked = remote_config.read_gitmlv_at(ws, tip)
        named = {k.lower(): v for k, v in tracked.items()}.get(f"remote.{remote.lower()}.url")
        names_one = any(k.lower().startswith("remote.") and k.lower().endswith(".url") for k in tracked)
        if named != rc.url and not (names_one and _older_than_head(ws, tip)):
            what = "does not name it" if named is None else f"names it at {named}"
            return (f"data remote '{remote}' ({rc.url}) is in your .gitmlv, but the .gitmlv of the "
                    f"pushed commit {tip[:12]} {what}: a clone will not find this data. Commit "
                    f".gitmlv and push again")
    return None


def _older_than_head(ws: Workspace, tip: str) -> bool:
    """Whether ``tip`` is an older commit of HEAD's history (a tag of a release made before the
    remote moved): committing .gitmlv cannot change its .gitmlv, and a clone of it reads the data
    remote that .gitmlv names (the caller checks it names one), to which its data went then.
    Before, pushing such a tag warned "a clone will not find this data. Commit .gitmlv and push
    again"."""
    head = ws.repo.git_text("rev-parse", "--verify", "-q", "HEAD", check=False)
    if not head or head == tip:
        return False
    try:
        ws.repo.git("merge-base", "--is-ancestor", tip, head)  # exit 1: not an ancestor
    except GitError:
        return False
    return True


def uncommitted_attributes(ws: Workspace, tips: list[str]) -> str | None:
    """A warning when the worktree's root ``.gitattributes`` routes a pattern through git-mlv that
    the root ``.gitattributes`` of a pushed tip does not, and the tip holds pointers at paths such a
    pattern matches (only those check out as pointer text in a clone: an old tag from before a
    pattern was tracked needs no such line); None when no tip lacks a line it needs."""
    top = ws.repo.worktree
    if top is None:
        return None
    mine = attributes.patterns(top)
    if not mine:
        return None
    for tip in tips[:_MAX_TIPS]:
        try:
            text = ws.repo.git("cat-file", "blob", f"{tip}:{attributes.FILENAME}")
        except GitError:
            text = b""  # the commit has no .gitattributes at its root
        have = set(attributes.patterns_in(text.decode("utf-8", errors="replace").splitlines()))
        missing = [p for p in mine if p not in have]
        if missing and _holds_pointers_matching(ws, tip, missing):
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            return (f"your .gitattributes routes '{missing[0]}'{more} through git-mlv, but the "
                    f".gitattributes of the pushed commit {tip[:12]} does not: a clone will check "
                    f"those files out as pointer text. Commit .gitattributes and push again")
    return None


def _holds_pointers_matching(ws: Workspace, tip: str, patterns: list[str]) -> bool:
    """Whether ``tip`` holds pointers at paths one of ``patterns`` matches (one ls-tree of the tip,
    only when a warning is possible)."""
    small: dict[str, int] = {}
    for rec in ws.repo.git_records("ls-tree", "-r", "-l", "-z", tip):
        meta, _, path = rec.partition(b"\t")
        _mode, kind, oid, size = meta.decode().split()
        if kind == "blob" and size.isdigit() and int(size) < MAX_SIZE and \
                any(matches(p, os.fsdecode(path)) for p in patterns):
            small[oid] = int(size)
    return bool(small) and bool(walk.pointer_blobs(ws.repo, small, small))
