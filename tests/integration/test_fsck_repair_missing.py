"""`git mlv fsck --repair` after the pool lost files of the index: fsck names them and exits 4, but
--repair said "pool is healthy; nothing to repair" (exit 0), so the user who ran the stronger
command was told all was well. It now names them as fsck does, says how they come back, exits 4."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from tests.helpers import git, mlv, random_bytes, write

A = random_bytes(60_000, seed=771)


def test_repair_names_files_without_data(repo: Path) -> None:
    write(repo / "a.bin", A)
    past = time.time() - 10  # not racily clean: git would clean it again and refill the pool
    os.utime(repo / "a.bin", (past, past))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    shutil.rmtree(repo / ".git" / "mlv")

    proc = mlv("fsck", "--repair", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 4, (proc.stdout, err)
    assert b"nothing to repair, but 1 file(s) of the index have no data here" in proc.stdout
    assert "a.bin (its data is in the worktree)" in err and "git add --renormalize" in err, err

    git("add", "--renormalize", "--", "a.bin", cwd=repo)  # what it says to do
    proc = mlv("fsck", "--repair", cwd=repo, check=False)
    assert proc.returncode == 0 and b"pool is healthy; nothing to repair" in proc.stdout
    (repo / "a.bin").unlink()
    git("checkout", "--", "a.bin", cwd=repo)
    assert (repo / "a.bin").read_bytes() == A
