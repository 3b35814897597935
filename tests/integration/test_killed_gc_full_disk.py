"""`git mlv gc` on a full disk, and killed while it drops packs.

A `git add` that filled the disk left the data it had stored in packs nothing refers to, and its
error said to free space with `git mlv gc`. gc then failed the same way: it copied the live
objects of every pack it rewrote before deleting anything, and on a full disk that copy had no
room (exit 6, "free some space (`git mlv gc` ...)"), so the user was sent round in a circle. gc
now, when its copy finds the disk full, deletes the packs that hold nothing to keep (no copy
needed), then consolidates again in the room they freed. The pool lives on a small tmpfs
(``mlv.pool``), as in test_full_disk.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, fill_disk, git, mlv, random_bytes, write


def _dead_pack_beside_live(repo: Path) -> bytes:
    """live.bin committed; junk.bin's data stored (git add), then unstaged and deleted."""
    live = random_bytes(150_000, seed=71)
    write(repo / "live.bin", live)
    git("add", "live.bin", cwd=repo)
    git("commit", "-q", "-m", "live", cwd=repo)
    write(repo / "junk.bin", random_bytes(450_000, seed=72))
    git("add", "junk.bin", cwd=repo)
    git("rm", "-q", "--cached", "junk.bin", cwd=repo)
    (repo / "junk.bin").unlink()
    return live


def _check_live(repo: Path, live: bytes) -> None:
    assert b"pool is healthy" in mlv("fsck", cwd=repo).stdout
    (repo / "live.bin").unlink()
    git("checkout", "--", "live.bin", cwd=repo)
    assert (repo / "live.bin").read_bytes() == live


@pytest.mark.slow
def test_gc_on_a_full_disk_frees_the_dead_packs_first(repo: Path, small_fs: Path) -> None:
    git("config", "mlv.pool", str(small_fs / "pool"), cwd=repo)
    live = _dead_pack_beside_live(repo)
    fill_disk(small_fs)  # as the add left it: not a byte free

    res = mlv("gc", cwd=repo, check=False)
    err = res.stderr.decode()
    assert res.returncode == 0, err  # the old code: 6, "no space left on the device ... `git mlv gc`"
    assert "Traceback" not in err
    assert "unreachable; freed" in res.stdout.decode()
    st = os.statvfs(small_fs)
    assert st.f_bavail * st.f_frsize > 300_000  # junk's data is gone
    _check_live(repo, live)


@pytest.mark.slow
def test_gc_killed_while_dropping_dead_packs_then_rerun(repo: Path, small_fs: Path) -> None:
    git("config", "mlv.pool", str(small_fs / "pool"), cwd=repo)
    write(repo / "junk.bin", random_bytes(600_000, seed=73))
    git("add", "junk.bin", cwd=repo)
    mlv("gc", cwd=repo)  # junk.bin still staged: consolidated into packs a midx names
    live = random_bytes(150_000, seed=71)
    write(repo / "live.bin", live)
    git("add", "live.bin", cwd=repo)
    git("rm", "-q", "--cached", "junk.bin", cwd=repo)
    git("commit", "-q", "-m", "live", cwd=repo)
    (repo / "junk.bin").unlink()
    fill_disk(small_fs)
    packs = small_fs / "pool" / "packs"
    before = sorted(p.name for p in packs.glob("*.pack"))

    env = {**os.environ, "GIT_MLV_TEST_CRASH_AT": "gc-dropping"}
    proc = subprocess.run([os.path.join(BIN, "git-mlv"), "gc"], cwd=repo, env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    after = sorted(p.name for p in packs.glob("*.pack"))
    assert len(after) == len(before) - 1  # killed after the first dead pack went
    assert not (packs / "pool.midx").exists()  # dropped first: the pack indexes answer
    _check_live(repo, live)

    assert "unreachable; freed" in mlv("gc", cwd=repo).stdout.decode()  # a rerun finishes
    (small_fs / "filler").unlink()
    _check_live(repo, live)
    assert " 0 unreachable" in mlv("gc", "-n", cwd=repo).stdout.decode()
