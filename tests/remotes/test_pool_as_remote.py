"""A folder data remote that is a git-mlv pool: this repository's own (`remote add store .git/mlv`,
or the folder `mlv.pool` names) or another clone's.

A pool and a remote both keep packs in ``packs/``, so such a remote "held" every file of the pool:
`git mlv push` said "nothing to push", and `git mlv prune` deleted local data "held by remote
'store'" — the only copy (a checkout of the old commit then left a pointer, its data nowhere).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, one_error_line, random_bytes, write


def test_the_repositorys_own_pool_is_refused_as_a_data_remote(repo: Path, tmp_path: Path) -> None:
    err = one_error_line(mlv("remote", "add", "store", ".git/mlv", cwd=repo, check=False), 2)
    assert "is a git-mlv pool" in err and "name a folder of its own" in err, err
    # set by hand (or a pool moved onto the remote's folder with mlv.pool): every command refuses it
    write(repo / "a.bin", random_bytes(30_000, seed=1))
    commit_all(repo, "v1")
    git("config", "mlv-remote.store.url", str(repo / ".git" / "mlv"), cwd=repo)
    git("config", "mlv.remote", "store", cwd=repo)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    res = git("push", "origin", "main", cwd=repo, check=False)
    assert res.returncode != 0 and b"is a git-mlv pool" in res.stderr, res.stderr
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    git("rm", "-q", "a.bin", cwd=repo)
    git("commit", "-q", "-m", "rm", cwd=repo)
    err = one_error_line(mlv("prune", "--keep-days", "0", cwd=repo, check=False), 2)
    assert "is a git-mlv pool" in err, err
    git("checkout", "-q", "HEAD~1", cwd=repo)
    assert (repo / "a.bin").read_bytes() == random_bytes(30_000, seed=1)  # the data is still here


def test_another_clones_pool_is_refused_as_a_data_remote(repo: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    git("init", "-q", str(other), cwd=tmp_path)
    mlv("track", "*.bin", cwd=other)
    write(other / "x.bin", random_bytes(30_000, seed=2))
    commit_all(other, "x")
    err = one_error_line(mlv("remote", "add", "store", str(other / ".git" / "mlv"), cwd=repo, check=False), 2)
    assert "is a git-mlv pool" in err, err
