"""A repository git-mlv may read but not write: a read-only mount (a dataset shared on a read-only
volume, a CI cache), or another user's repository. Reading commands must work there: git re-reads a
stat-dirty data file through the clean filter, `git mlv status` and `du` fill the pointer cache,
`git mlv diff` wants a scratch folder; none of these may need to write the pool.

The read-only mount makes root meet EROFS (root ignores permission bits, and CI runs as root);
another user's repository (EACCES) is tested in tests/integration/test_users_shared.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, one_error_line, random_bytes, write


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/ro``: a read-only bind mount of ``tmp_path/src`` (filled by the test first)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    src, mnt = tmp_path / "src", tmp_path / "ro"
    src.mkdir()
    mnt.mkdir()
    yield src
    subprocess.run(["umount", "-l", str(mnt)], check=False, capture_output=True)


def _mount_read_only(src: Path, mnt: Path) -> None:
    for args in (["mount", "--bind", str(src), str(mnt)], ["mount", "-o", "remount,ro,bind", str(mnt)]):
        proc = subprocess.run(args, capture_output=True)
        if proc.returncode != 0:  # a missing capability fails the test: it must not pass silently
            raise AssertionError(f"cannot bind-mount read-only: {proc.stderr.decode()}")


def test_reading_commands_in_a_read_only_repository(read_only: Path, repo_template: Path) -> None:
    repo = read_only / "repo"
    shutil.copytree(repo_template, repo, symlinks=True)
    git("config", "mlv.threads", "1", cwd=repo)  # no clean-ahead: the filter's own clean runs
    write(repo / "a.bin", random_bytes(200_000, seed=7))  # many chunks, under the racy-check size
    write(repo / "small.bin", b"x" * 5000)
    write(repo / "data" / "t.csv", b"a,b\n1,2\n")
    commit_all(repo, "v1")
    write(repo / "data" / "t.csv", b"a,b\n1,2\n3,4\n")
    commit_all(repo, "v2")
    for name in ("a.bin", "small.bin"):  # stat-dirty: git passes them through clean again
        os.utime(repo / name, (1_000_000_000, 1_000_000_000))
    shutil.rmtree(repo / ".git" / "mlv" / "pointer-cache")  # status and du would fill it
    mnt = read_only.parent / "ro"
    _mount_read_only(read_only, mnt)
    ro = mnt / "repo"
    assert subprocess.run(["touch", str(ro / ".git" / "mlv" / "x")], capture_output=True).returncode != 0

    p = git("diff", "--stat", "HEAD~1", cwd=ro)
    assert p.stderr == b"" and b"data/t.csv" in p.stdout and b"a.bin" not in p.stdout
    p = git("status", "--porcelain", cwd=ro)
    assert p.stdout == b"", p.stdout
    assert b"+a max 3" in git("log", "-p", "-1", cwd=ro).stdout  # the summary, from the pool
    p = mlv("status", cwd=ro)
    assert b"3 file(s) tracked" in p.stdout and p.stderr == b"", p.stderr
    p = mlv("diff", "HEAD~1", "HEAD", cwd=ro)
    assert b"data/t.csv" in p.stdout and b"1 -> 2" in p.stdout
    mlv("du", cwd=ro)
    assert b"pool is healthy" in mlv("fsck", cwd=ro).stdout
    mlv("checkout", cwd=ro)  # nothing to write: no pointer in the worktree
    mlv("ls-files", cwd=ro)


def test_a_changed_file_in_a_read_only_repository_says_why(read_only: Path, repo_template: Path) -> None:
    """New content cannot be stored: git diff names the file and the read-only path, no traceback."""
    repo = read_only / "repo"
    shutil.copytree(repo_template, repo, symlinks=True)
    write(repo / "a.bin", random_bytes(200_000, seed=8))
    commit_all(repo, "v1")
    write(repo / "a.bin", random_bytes(200_000, seed=9))
    mnt = read_only.parent / "ro"
    _mount_read_only(read_only, mnt)
    p = git("diff", "--stat", cwd=mnt / "repo", check=False)
    err = p.stderr.decode()
    assert "read-only" in err and "a.bin" in err and "Traceback" not in err, err


def test_pipeline_commands_in_a_read_only_repository(read_only: Path, repo_template: Path) -> None:
    """`repro --dry-run` only reads: it said "another `git mlv repro` is running" when the work
    tree's repro lock could not be opened for writing; `repro` itself now says why it cannot."""
    repo = read_only / "repo"
    shutil.copytree(repo_template, repo, symlinks=True)
    write(repo / "in.bin", random_bytes(20_000, seed=4))
    mlv("run", "-q", "-n", "prep", "-d", "in.bin", "-o", "out.bin", "cp in.bin out.bin", cwd=repo)
    commit_all(repo, "v1")
    mnt = read_only.parent / "ro"
    _mount_read_only(read_only, mnt)
    ro = mnt / "repo"
    p = mlv("repro", "--dry-run", cwd=ro)
    assert b"up to date" in p.stdout, p.stdout
    mlv("dag", cwd=ro)
    mlv("metrics", "show", cwd=ro)
    err = one_error_line(mlv("repro", cwd=ro, check=False), 6)
    assert "read-only" in err and "mlv-repro.lock" in err and "another" not in err, err


def test_git_diff_where_the_summary_cache_cannot_be_written(read_only: Path, repo_template: Path) -> None:
    """`git diff` / `git log -p` of a table whose summary is not cached, in a repository whose
    summary cache holds others (its folder for that oid's first two hex digits exists, as most of
    the 256 do in a busy repository): the cache's write is best effort and must not stop git."""
    import hashlib

    from git_mlv.ops.summarycache import VERSION

    repo = read_only / "repo"
    shutil.copytree(repo_template, repo, symlinks=True)
    old, new = b"a,b\n1,2\n", b"a,b\n1,2\n5,6\n"
    write(repo / "data" / "t.csv", old)
    commit_all(repo, "v1")
    write(repo / "data" / "t.csv", new)
    commit_all(repo, "v2")
    for content in (old, new):
        oid = hashlib.sha256(content).hexdigest()
        (repo / ".git" / "mlv" / "summaries" / f"v{VERSION}" / oid[:2]).mkdir(parents=True, exist_ok=True)
    mnt = read_only.parent / "ro"
    _mount_read_only(read_only, mnt)
    p = git("log", "-p", "-1", cwd=mnt / "repo")
    assert b"+a max 5" in p.stdout and p.stderr == b"", p.stderr
