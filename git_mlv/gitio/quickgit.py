"""The few git reads a hook makes before it knows whether it has anything to do.

Light on purpose: ``os`` and ``subprocess`` only. A post-checkout hook runs after every ``git
checkout``; importing the rest of gitio (dataclasses, the pointer cache, the walks) cost ~0.1 s of a
0.19 s hook that in the common case finds nothing to do (docs/design-notes.md, "The hooks' fast
path").
"""

from __future__ import annotations

import os
import subprocess

REGULAR_MODES = (0o100644, 0o100755)  # what git writes as a plain file (not links, not submodules)
CHAINED = ".mlv-chained"  # the hook we compose with: NAME.mlv-chained beside ours (gitio/hooks.py)


def git_out(*args: str) -> bytes | None:
    """stdout of ``git ARGS`` run in the current directory; None if git fails."""
    try:
        res = subprocess.run(["git", *args], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    return res.stdout if res.returncode == 0 else None


def raw_diff_paths(raw: bytes) -> list[str]:
    """The regular files on the new side of ``git diff-tree/diff-index --raw -z`` output."""
    # --raw -z: ":<old mode> <new mode> <old oid> <new oid> <status>\0<path>\0" per change
    parts = raw.split(b"\0")
    out = []
    for i in range(0, len(parts) - 1, 2):
        meta = parts[i].split()
        if len(meta) >= 5 and int(meta[1], 8) in REGULAR_MODES:
            out.append(os.fsdecode(parts[i + 1]))
    return out


def changed_files(old: str, new: str) -> list[str] | None:
    """Regular files whose content differs between commits ``old`` and ``new`` (paths from the
    top of the worktree); None when git cannot tell (e.g. ``old`` is not here)."""
    raw = git_out("diff-tree", "-r", "-z", "--no-renames", "--no-commit-id", old, new)
    return None if raw is None else raw_diff_paths(raw)


def hook_path(name: str) -> str | None:
    """Where git looks for hook file ``name`` (core.hooksPath respected), absolute; None if git
    cannot tell."""
    out = git_out("rev-parse", "--git-path", f"hooks/{name}")
    if out is None:
        return None
    path = os.fsdecode(out.rstrip(b"\n"))
    return path if os.path.isabs(path) else os.path.abspath(path)
