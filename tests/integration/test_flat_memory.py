"""Memory that follows the batch, not the repository (issue 9: at most 200 MB for any git-mlv process
at 600,000 files).

The pre-push hook's walk and gc's live set are run over 1,000 and then 10,000 pointers with batches
of 500, under tracemalloc: the peak may grow by the packed arrays (32-33 bytes a file, plus
sorting copies), not by Python objects per file (before: ~1 KB a file in the pre-push hook,
~700 bytes in gc). Synthetic pointers committed through ``git fast-import`` (no data: the walks
read git, and gc's lookups find nothing), so the test takes seconds.
"""

from __future__ import annotations

import hashlib
import subprocess
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from git_mlv.gitio import walk
from git_mlv.ops import maintenance, verified
from git_mlv.ops.context import Workspace
from tests.helpers import git, out

SMALL, LARGE = 1_000, 10_000
BATCH = 500
# the arrays and their sorting copies: ~100 bytes a file for the walk's ids; gc holds ids and keys
# (and measures ~230 here). Python objects per file (before) took ~1 KB and ~700 bytes.
MAX_WALK_BYTES = 150
MAX_GC_BYTES = 300


def commit_pointers(repo: Path, start: int, n: int) -> str:
    """A commit on top of HEAD adding ``n`` pointer files (ids from ``start``); its id."""
    lines = []
    for i in range(start, start + n):
        p = Pointer(hashlib.sha256(b"%d" % i).hexdigest(), 1000 + i).encode()
        lines.append(b"blob\nmark :%d\ndata %d\n%s\n" % (i + 1, len(p), p))
    parent = out(git("rev-parse", "HEAD", cwd=repo)).strip()
    lines.append(b"commit refs/heads/main\ncommitter t <t@e> 0 +0000\ndata 1\nx\nfrom %s\n" % parent.encode())
    lines += [b"M 100644 :%d data/f%07d.bin\n" % (i + 1, i) for i in range(start, start + n)]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(lines), check=True)
    return out(git("rev-parse", "refs/heads/main", cwd=repo)).strip()


def peak_of(fn: Callable[[], object]) -> int:
    """tracemalloc's peak while ``fn`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def small_and_large(repo: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    """Batches made small, then a base commit, a branch ``small`` of SMALL pointers on it and HEAD
    (main) moved to LARGE pointers on it: (base, small, large) commit ids."""
    monkeypatch.setattr(walk, "_BATCH", BATCH)
    monkeypatch.setattr(walk, "_READ", 1 << 13)  # git's output read 8 KB at a time, not 1 MB
    monkeypatch.setattr("git_mlv.core.idarray.BATCH", BATCH)
    git("commit", "-q", "--allow-empty", "-m", "base", cwd=repo)
    base = out(git("rev-parse", "HEAD", cwd=repo)).strip()
    small = commit_pointers(repo, 0, SMALL)
    git("branch", "small", small, cwd=repo)
    git("reset", "-q", "--hard", base, cwd=repo)
    return base, small, commit_pointers(repo, 0, LARGE)


def test_pre_push_walk_and_gc_live_set_grow_by_arrays(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verified, "_BATCH", BATCH)
    base, small, large = small_and_large(repo, monkeypatch)
    git("update-ref", "-d", "refs/heads/small", cwd=repo)
    ws = Workspace.discover(str(repo))
    try:
        found: dict[int, int] = {}

        def walk_since(tip: str, n: int) -> None:
            found[n] = len(verified.pointers_since(ws, [tip], [base]).ids)

        walk_since(small, SMALL)  # warm: imports and the pointer cache written once
        walk_since(large, LARGE)
        grow = peak_of(lambda: walk_since(large, LARGE)) - peak_of(lambda: walk_since(small, SMALL))
        assert found == {SMALL: SMALL, LARGE: LARGE}
        per_file = grow / (LARGE - SMALL)
        assert per_file < MAX_WALK_BYTES, f"pre-push walk: {per_file:.0f} B/file"

        live: dict[str, int] = {}

        def gc_live(name: str) -> None:
            keys, live[name] = maintenance.live_keys(ws, 90.0)
            assert len(keys) == 0  # no data in the pool: nothing to keep, nothing made up

        git("branch", "-f", "small", small, cwd=repo)  # reflog and index of main still name `large`
        gc_live("warm")
        big = peak_of(lambda: gc_live("large"))
        assert live["large"] == LARGE
    finally:
        ws.close()
    # the same repository with only the small commit reachable
    git("checkout", "-q", "small", cwd=repo)
    git("branch", "-D", "main", cwd=repo)
    git("reflog", "expire", "--expire=now", "--all", cwd=repo)
    # and let git prune unreachable commits now (`git gc --prune=now`): gc keeps the data of
    # those git still holds (gc.pruneExpire, two weeks: gitio/gcroots.py)
    git("config", "gc.pruneExpire", "now", cwd=repo)
    ws = Workspace.discover(str(repo))
    try:
        few = peak_of(lambda: gc_live("small"))
        assert live["small"] == SMALL
    finally:
        ws.close()
    per_file = (big - few) / (LARGE - SMALL)
    assert per_file < MAX_GC_BYTES, f"gc: {per_file:.0f} B/file"
