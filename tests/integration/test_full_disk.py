"""A full disk is an expected condition (issue 8): one clear line, a documented exit code (6), a
readable pool, and a rerun after freeing space that finishes the work with exact bytes.

The pool lives on a real, small tmpfs (``mount -t tmpfs -o size=...``, as root: CI runs as root),
put there with ``mlv.pool`` so the worktree has room and only the pool's writes fail.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import git, mlv, random_bytes, sha256_file, write


def _remount(mnt: Path, size: str) -> None:
    subprocess.run(["mount", "-o", f"remount,size={size}", str(mnt)], check=True)


def _one_clear_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text and "internal error" not in text
    lines = [x for x in text.splitlines() if "no space left on the device" in x]
    assert lines, text
    assert "free some space" in lines[0] and "/pool/" in lines[0]
    return lines[0]


@pytest.mark.slow
def test_add_on_a_full_disk_then_rerun(repo: Path, small_fs: Path) -> None:
    git("config", "mlv.pool", str(small_fs / "pool"), cwd=repo)
    files = {f"f{i}.bin": random_bytes(400_000, seed=i) for i in range(3)}
    for name, data in files.items():
        write(repo / name, data)
    res = git("add", *files, cwd=repo, check=False)
    assert res.returncode != 0  # git refuses the add cleanly: nothing staged
    _one_clear_line(res.stderr)
    assert git("diff", "--cached", "--name-only", cwd=repo).stdout == b""
    assert mlv("fsck", cwd=repo).returncode == 0  # the pool stayed readable
    _remount(small_fs, "4m")
    git("add", *files, cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    assert b"pool is healthy" in mlv("fsck", cwd=repo).stdout
    for name in files:
        (repo / name).unlink()
    git("checkout", "--", ".", cwd=repo)
    for name, data in files.items():
        assert (repo / name).read_bytes() == data


@pytest.mark.slow
def test_fetch_on_a_full_disk_then_rerun(repo: Path, tmp_path: Path, small_fs: Path) -> None:
    store = tmp_path / "store"
    mlv("remote", "add", "store", str(store), "--default", cwd=repo)
    for i in range(3):
        write(repo / f"f{i}.bin", random_bytes(400_000, seed=10 + i))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    mlv("push", cwd=repo)
    clone = tmp_path / "clone"
    git("init", "-q", str(clone), cwd=tmp_path)
    git("config", "mlv.pool", str(small_fs / "pool"), cwd=clone)
    git("-c", "filter.mlv.process=", "-c", "filter.mlv.smudge=cat", "-c", "filter.mlv.required=false",
        "pull", "-q", str(repo), "main", cwd=clone)  # pointers only: the fetch below brings the data
    res = mlv("fetch", cwd=clone, check=False)
    assert res.returncode == 6
    _one_clear_line(res.stderr)
    # the pool stayed readable (no damage, 3); the files' data is not here yet (4)
    assert mlv("fsck", cwd=clone, check=False).returncode == 4
    _remount(small_fs, "4m")
    mlv("pull", cwd=clone)
    assert b"pool is healthy" in mlv("fsck", cwd=clone).stdout
    for i in range(3):
        assert sha256_file(clone / f"f{i}.bin") == sha256_file(repo / f"f{i}.bin")
