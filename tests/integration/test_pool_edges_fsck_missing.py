"""`git mlv fsck` after data was lost: it re-hashed the pool it found and said "pool is healthy"
(exit 0) with `.git/mlv` deleted, or with every file of a clone left as a pointer. Now it also
names the files of the index whose data is not here, says how they come back, and exits 4
(docs/formats.md#fsck-missing)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write

A, B = random_bytes(60_000, seed=11), random_bytes(5_000, seed=12)


def _files(repo: Path) -> None:
    write(repo / "a.bin", A)
    write(repo / "data" / "b.bin", B)
    # written seconds before the index, so that they are not racily clean: git would otherwise
    # send them through the clean filter again to compare them, which stores their data in the
    # pool again, and a second fsck would find nothing missing (seen in CI)
    past = time.time() - 10
    for p in (repo / "a.bin", repo / "data" / "b.bin"):
        os.utime(p, (past, past))
    commit_all(repo, "data")


def test_fsck_names_files_whose_pool_was_deleted(repo: Path) -> None:
    _files(repo)
    assert b"pool is healthy" in mlv("fsck", cwd=repo).stdout
    shutil.rmtree(repo / ".git" / "mlv")
    proc = mlv("fsck", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 4, (proc.stdout, err)
    assert b"pool is healthy" not in proc.stdout
    assert "2 file(s) of the index" in err and "a.bin (its data is in the worktree)" in err, err
    assert "git add --renormalize" in err and "no data remote is configured" not in err, err
    res = json.loads(out(mlv("fsck", "--json", cwd=repo, check=False)))
    assert res["missing"] == ["a.bin", "data/b.bin"] and res["in_worktree"] == res["missing"]
    # what it says to do works: the worktree's copies go back into the pool, byte for byte
    git("add", "--renormalize", "--", "a.bin", "data/b.bin", cwd=repo)
    assert b"pool is healthy" in mlv("fsck", cwd=repo).stdout
    (repo / "a.bin").unlink()
    git("checkout", "--", "a.bin", cwd=repo)
    assert (repo / "a.bin").read_bytes() == A


def test_fsck_names_a_clones_pointers_and_says_pull(repo: Path, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    _files(repo)
    git("push", "-q", "origin", "main", cwd=repo)
    (tmp_path / "store").rename(tmp_path / "away")
    clone = tmp_path / "clone"
    git("clone", "-q", str(bare), str(clone), cwd=tmp_path)
    proc = mlv("fsck", cwd=clone, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 4, (proc.stdout, err)
    assert "a.bin\n" in err and "data/b.bin\n" in err and "in the worktree" not in err, err
    assert "`git mlv pull` fetches them from data remote 'store'" in err, err
    # a file left out of the fetch scope on purpose is not missing for fsck
    git("config", "mlv.fetchExclude", "data/**", cwd=clone)
    res = json.loads(out(mlv("fsck", "--json", cwd=clone, check=False)))
    assert res["missing"] == ["a.bin"] and res["remote"] == "store", res
    (tmp_path / "away").rename(tmp_path / "store")
    mlv("pull", cwd=clone)
    assert (clone / "a.bin").read_bytes() == A
    assert mlv("fsck", cwd=clone).returncode == 0


def test_fsck_of_a_clone_without_checkout_is_healthy(repo: Path, tmp_path: Path) -> None:
    """`git clone --no-checkout`: no index entries yet, so nothing is missing (not here *yet*)."""
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    _files(repo)
    git("push", "-q", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "--no-checkout", str(bare), str(clone), cwd=tmp_path)
    proc = mlv("fsck", cwd=clone)
    assert b"pool is healthy" in proc.stdout, proc
