"""`git mlv gc` with nothing to do rewrote the pool's last pack anyway.

gc rewrote every pack that was not full, so a lone partial pack (up to `mlv.packSize`, 64 MiB by
default) was copied again, and the midx rewritten, at every gc, whatever had changed: its cost
followed the pool, not the change. Now a lone partial pack with nothing to drop stays as it is,
and a midx that already covers every pack is kept (docs/formats.md#consolidation).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def _packs(repo: Path) -> dict[str, int]:
    d = repo / ".git" / "mlv" / "packs"
    return {n: os.stat(d / n).st_ino for n in os.listdir(d) if n.endswith((".pack", ".midx"))}


def _gc(repo: Path) -> dict[str, int]:
    return json.loads(out(mlv("gc", "--json", cwd=repo)))


def test_a_second_gc_rewrites_nothing(repo: Path) -> None:
    for i in range(3):  # three `git add`s: three packs
        write(repo / f"f{i}.bin", random_bytes(30_000, seed=i))
        commit_all(repo, f"c{i}")
    first = _gc(repo)
    assert first["packs_merged"] == 3 and first["packs_after"] == 1, first
    settled = _packs(repo)
    again = _gc(repo)
    assert again["packs_merged"] == 0 and again["packs_written"] == 0, again
    assert again["packs_after"] == 1 and again["kept_objects"] == first["kept_objects"]
    assert _packs(repo) == settled  # the same pack and midx files, not copies
    # one more commit: its pack and the partial one are merged, as before
    write(repo / "g.bin", random_bytes(20_000, seed=9))
    commit_all(repo, "g")
    third = _gc(repo)
    assert third["packs_merged"] == 2 and third["packs_after"] == 1, third
    # a lone partial pack with unreachable objects is still rewritten without them
    write(repo / "g.bin", random_bytes(20_000, seed=10))
    commit_all(repo, "g2")
    mlv("gc", cwd=repo)
    git("reset", "-q", "--hard", "HEAD~1", cwd=repo)
    git("reflog", "expire", "--expire=now", "--all", cwd=repo)
    # and let git prune unreachable commits now (`git gc --prune=now`): gc keeps the data of
    # those git still holds (gc.pruneExpire, two weeks: gitio/gcroots.py)
    git("config", "gc.pruneExpire", "now", cwd=repo)
    dropped = _gc(repo)
    assert dropped["dead_objects"] > 0 and dropped["packs_merged"] == 1, dropped
    for i in range(3):
        (repo / f"f{i}.bin").unlink()
    (repo / "g.bin").unlink()
    git("checkout", "--", ".", cwd=repo)
    assert (repo / "g.bin").read_bytes() == random_bytes(20_000, seed=9)
    for i in range(3):
        assert (repo / f"f{i}.bin").read_bytes() == random_bytes(30_000, seed=i)
    assert b"pool is healthy" in mlv("fsck", cwd=repo).stdout
