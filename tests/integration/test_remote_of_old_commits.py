"""Commits whose .gitmlv names no data remote (made before `remote add`, or rewritten by `migrate
--everything`) still get their data: from the remotes this clone used, else from the .gitmlv of
the branch origin/HEAD names (found by a user: `git clone -b v1` left pointers and `git mlv pull`
there said there was no data remote)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, out, random_bytes, write


@pytest.fixture
def origin(repo: Path, tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    """A bare origin: tag v1 (data, no .gitmlv), then main adds the data remote; all pushed."""
    old = random_bytes(40_000, seed=61)
    write(repo / "data" / "old.bin", old)
    commit_all(repo, "v1: before any data remote")
    git("tag", "v1", cwd=repo)
    git("rm", "-q", "data/old.bin", cwd=repo)
    write(repo / "data" / "new.bin", random_bytes(30_000, seed=62))
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    commit_all(repo, "v2: a data remote")
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    git("push", "-q", "origin", "HEAD:main", "v1", cwd=repo)
    mlv("push", "--all", cwd=repo)  # v1's data too
    return bare, {"data/old.bin": old}


def test_switching_to_a_commit_without_gitmlv_fetches_from_the_remote_this_clone_uses(
        origin: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    bare, files = origin
    clone = tmp_path / "clone"
    git("clone", "-q", str(bare), str(clone), cwd=tmp_path)
    git("checkout", "-q", "v1", cwd=clone)
    assert (clone / "data" / "old.bin").read_bytes() == files["data/old.bin"]
    assert out(git("status", "--porcelain", cwd=clone)) == ""


def test_a_clone_of_such_a_tag_reads_the_default_branchs_gitmlv(
        origin: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    bare, files = origin
    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "v1", str(bare), str(clone), cwd=tmp_path)
    assert (clone / "data" / "old.bin").read_bytes() == files["data/old.bin"]
    assert git("config", "mlv-remote.store.trustedUrl", cwd=clone).returncode == 0  # trusted on use
    (clone / "data" / "old.bin").unlink()
    git("checkout", "--", "data", cwd=clone)
    mlv("pull", cwd=clone)  # before: "no default data remote", exit 2
    assert (clone / "data" / "old.bin").read_bytes() == files["data/old.bin"]


def test_what_gitmlv_says_wins(origin: tuple[Path, dict[str, bytes]], tmp_path: Path) -> None:
    """A .gitmlv that names a remote is used as it is: the fallback is only for one naming none."""
    bare, _ = origin
    clone = tmp_path / "clone"
    git("clone", "-q", str(bare), str(clone), cwd=tmp_path)  # trusts 'store' on first use
    write(clone / ".gitmlv", b'[core]\n\tremote = other\n[remote "other"]\n\turl = ../elsewhere\n')
    rows = [line.split() for line in out(mlv("remote", "list", cwd=clone)).splitlines()[2:]]
    assert [r[:2] for r in rows] == [["*", "other"]]
