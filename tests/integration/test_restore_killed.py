"""A `git mlv checkout` (or pull) killed while it writes a file leaves nothing in the worktree.

Before, the file being restored was written as `.mlv-XXXX.part` beside its target: a `kill -9`
left it there (121 MB in a user's trial), under the tracked pattern, shown by `git status`, and
`git add -A` committed the partial file as data. It is now written in the pool's `tmp/` (same
file system: the rename into the worktree stays atomic), and gc deletes old leftovers there.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.helpers import BIN, commit_all, git, mlv, random_bytes, write


def test_killed_restore_leaves_the_worktree_clean(repo: Path) -> None:
    data = random_bytes(300_000, seed=5)
    write(repo / "data" / "big.bin", data)
    commit_all(repo, "data")
    pointer = git("cat-file", "blob", "HEAD:data/big.bin", cwd=repo).stdout
    (repo / "data" / "big.bin").write_bytes(pointer)  # as a checkout without the data leaves it

    env = {**os.environ, "GIT_MLV_TEST_CRASH_AT": "restore-written"}
    proc = subprocess.run([os.path.join(BIN, "git-mlv"), "checkout"], cwd=repo, env=env,
                          capture_output=True)
    assert proc.returncode == -9, proc.stderr
    assert sorted(os.listdir(repo / "data")) == ["big.bin"]
    untracked = git("status", "--porcelain", "--untracked-files=all", cwd=repo).stdout.decode()
    assert ".mlv-" not in untracked, untracked
    tmp = repo / ".git" / "mlv" / "tmp"
    left = list(tmp.iterdir())
    assert len(left) == 1 and left[0].name.endswith(".part")  # where the killed restore wrote

    assert "Checked out 1 file(s)" in mlv("checkout", cwd=repo).stdout.decode()  # a rerun finishes
    assert (repo / "data" / "big.bin").read_bytes() == data
    mlv("gc", cwd=repo)
    assert left[0].exists()  # young: maybe a restore still writing
    old = time.time() - 2 * 3600
    os.utime(left[0], (old, old))
    mlv("gc", cwd=repo)
    assert list(tmp.iterdir()) == []
