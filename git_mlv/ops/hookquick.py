"""The hooks' fast path: a checkout whose filter wrote every changed file needs nothing from us.

After ``git checkout`` or a fast-forward ``git pull``, post-checkout / post-merge replace pointers the
checkout left in the worktree (data the filter could not get). Almost always the filter wrote every
file, and the hook's answer is "nothing to do" — which cost ~0.19 s, ~0.12 s of it importing what
the slow path needs (50,000-file repository, bench/RESULTS.md). This module finds that answer with
the standard library only: one ``git diff-tree`` for the changed paths, an ``lstat`` per path and a
read of the few bytes of a file small enough to be a pointer. Anything unusual — a clone, a squash
merge, a changed path missing from the worktree (sparse checkout, or a file git could not write), a
file that could be a pointer, git failing — takes the full path (``ops/hooks.py``), which decides.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys

from ..core.pointer_text import HEAD, MAX_SIZE, could_be_pointer
from ..gitio import quickgit

CHAINED_ENV = "MLV_HOOK_CHAINED"  # set while a chained hook runs: a chained copy of us is a no-op


def nothing_to_do(hook: str, args: list[str]) -> int | None:
    """The number of changed paths looked at when the checkout left no pointer among them; None
    when the full hook must decide (it also runs in a worktree's top folder only, where git runs
    hooks)."""
    if hook == "post-checkout":
        if len(args) < 3 or args[2] != "1" or args[0] == args[1] or args[0].strip("0") == "":
            return None  # file checkouts and no-op switches are quick anyway; clones are not ours
        old, new = args[0], args[1]
    elif hook == "post-merge":
        if not args or args[0] != "0":
            return None  # a squash merge changed the index only
        old, new = "ORIG_HEAD", "HEAD"
    else:
        return None
    if not os.path.exists(".git"):
        return None  # not the top of a worktree: let the full path find it
    paths = quickgit.changed_files(old, new)
    if paths is None:
        return None
    for path in paths:
        try:
            st = os.lstat(path)
        except OSError:
            return None  # sparse, or a file git did not write: the full path knows which
        if not stat.S_ISREG(st.st_mode) or st.st_size >= MAX_SIZE:
            continue
        try:
            with open(path, "rb") as f:
                head = f.read(len(HEAD))
        except OSError:
            return None
        if could_be_pointer(st.st_size, head):
            return None
    return len(paths)


def settled_record(hook: str, examined: int) -> dict[str, object]:
    """The trace record of a hook that looked at ``examined`` changed paths and had nothing to do
    (the fields of ``ops.hooks.AfterCheckout``)."""
    return {"hook": hook, "scope": "changed", "examined": examined, "restored": 0, "fetched": 0,
            "missing": 0, "out_of_scope": 0}


def run_chained(hooks_dir: str | None, name: str, args: list[str], stdin: bytes) -> int:
    """Run ``NAME.mlv-chained`` (if executable, as git would) with the same arguments and stdin."""
    if hooks_dir is None:
        found = quickgit.hook_path(name + quickgit.CHAINED)
        if found is None:
            return 0
        path = found
    else:
        path = os.path.join(hooks_dir, name + quickgit.CHAINED)
    if not os.access(path, os.X_OK) or os.environ.get(CHAINED_ENV):
        return 0
    env = {**os.environ, CHAINED_ENV: "1"}
    try:
        return subprocess.run([path, *args], input=stdin, env=env).returncode
    except OSError as e:
        print(f"git-mlv: error: could not run {path}: {e.strerror or e}", file=sys.stderr)
        return 1


def trace(record: dict[str, object]) -> None:
    """With MLV_HOOK_TRACE=FILE, append what the hook did as one JSON line (tests count the work)."""
    path = os.environ.get("MLV_HOOK_TRACE")
    if path:
        import json

        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
