"""`git mlv gc` killed between two pack deletions leaves no dead file's manifest without its chunks.

gc copies what it keeps into new packs, writes the midx, then deletes the old packs one by one.
It deleted them in the order it planned them (packs mixing live and dead objects first), so a
kill -9 after deleting a mixed pack holding a dead file's first chunks, before the pack holding
that file's manifest, left the manifest readable and its chunks gone: `git mlv fsck` then said
"file ...: chunk ... is not in the pool; run `git mlv pull`", exit 3, about data nothing needs
(2 of 6 random layouts here; the known "gc killed on a full disk, then fsck exit 3"). The packs
holding dead manifests now go first (ops/maintenance.manifests_first).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.helpers import BIN, git, mlv, random_bytes, write


def test_gc_killed_after_its_first_deletion_leaves_fsck_clean(repo: Path) -> None:
    live = random_bytes(100_000, seed=31)
    write(repo / "a-live.bin", live)  # cleaned first: its pack fills with the dead file's first chunks
    write(repo / "b-dead.bin", random_bytes(300_000, seed=32))
    git("add", "-A", cwd=repo)
    git("rm", "-q", "--cached", "b-dead.bin", cwd=repo)
    (repo / "b-dead.bin").unlink()
    git("commit", "-q", "-m", "live", cwd=repo)
    assert len(list((repo / ".git" / "mlv" / "packs").glob("*.pack"))) == 2

    env = {**os.environ, "GIT_MLV_TEST_CRASH_AT": "consolidate-deleting"}
    proc = subprocess.run([os.path.join(BIN, "git-mlv"), "gc"], cwd=repo, env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    res = mlv("fsck", cwd=repo, check=False)
    assert res.returncode == 0, res.stderr  # old code: 3, "chunk ... is not in the pool"
    mlv("gc", cwd=repo)
    assert b"pool is healthy" in mlv("fsck", cwd=repo).stdout
    (repo / "a-live.bin").unlink()
    git("checkout", "--", "a-live.bin", cwd=repo)
    assert (repo / "a-live.bin").read_bytes() == live
