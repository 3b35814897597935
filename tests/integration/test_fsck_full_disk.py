"""`git mlv fsck` only reads, so it works on a full disk. Before, its pass over the index ran `git
diff`, whose clean filter stores what it cleans: with a tracked file modified, fsck on a full disk
exited 1 ("git diff: clean filter 'mlv' failed"). The pool lives on a real, small tmpfs (the
``small_fs`` fixture, as root), filled to the last byte.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, fill_disk, git, mlv, random_bytes, sha256_file, write


def test_fsck_on_a_full_disk(repo: Path, small_fs: Path) -> None:
    git("config", "mlv.pool", str(small_fs / "pool"), cwd=repo)
    write(repo / "a.bin", random_bytes(300_000, seed=1))
    write(repo / "b.bin", random_bytes(2_000, seed=2))
    commit_all(repo, "data")
    before = sha256_file(repo / "a.bin")
    write(repo / "a.bin", random_bytes(200_000, seed=3))  # modified: cleaning it stores data
    write(repo / "b.bin", random_bytes(2_000, seed=4))  # the same size, racily clean maybe
    fill_disk(small_fs)
    res = mlv("fsck", cwd=repo, check=False)
    assert res.returncode == 0, res.stderr.decode()  # 1 on the old code
    assert b"pool is healthy" in res.stdout and res.stderr == b""
    # git was not asked to clean anything: the worktree is as it was, the index too
    assert git("diff", "--cached", "--name-only", cwd=repo).stdout == b""
    assert sha256_file(repo / "a.bin") != before
    (small_fs / "filler").unlink()
    assert sorted(git("diff", "--name-only", cwd=repo).stdout.split()) == [b"a.bin", b"b.bin"]


def test_fsck_names_a_modified_file_without_data_as_not_in_the_worktree(
        repo: Path, small_fs: Path) -> None:
    """A file whose data is not here and whose worktree copy is something else: its data is not in
    the worktree either, as fsck said when it ran `git diff` (now told by hashing the file)."""
    git("config", "mlv.pool", str(small_fs / "pool"), cwd=repo)
    write(repo / "kept.bin", random_bytes(3_000, seed=5))
    write(repo / "gone.bin", random_bytes(3_000, seed=6))
    commit_all(repo, "data")
    for f in (small_fs / "pool" / "packs").iterdir():
        f.unlink()  # the data deleted by hand
    write(repo / "gone.bin", random_bytes(3_000, seed=7))  # and this one changed since
    fill_disk(small_fs)
    res = mlv("fsck", "--json", cwd=repo, check=False)
    assert res.returncode == 4, res.stderr.decode()
    out = json.loads(res.stdout)
    assert sorted(out["missing"]) == ["gone.bin", "kept.bin"]
    assert out["in_worktree"] == ["kept.bin"]
