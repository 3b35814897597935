"""`git mlv prune` killed between deleting two packs, then a checkout of an older commit and `git
mlv pull` (found killing prune at random moments): a pruned file's manifest could survive in a
pack not deleted yet while a chunk it names was gone with another. The file counted as here (a
file is here when its manifest is), so nothing fetched it: the checkout left it a pointer, and
`git mlv pull` stopped at it with "chunk ... is not in the pool; run `git mlv pull`" — the
command that had just failed — leaving every later file a pointer too. Only `fsck --repair` or
another prune got out of it. `git mlv pull` now fetches the chunks such a file lacks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, commit_all, git, mlv, one_error_line, origin_and_store, random_bytes, write

# each of these spans several of the suite's 256 KiB packs, its manifest in the last of them
FILES = {f"data/v{i}.bin": random_bytes(700_000, seed=40 + i) for i in range(3)}


def _killed_between_two_deletions(repo: Path) -> bool:
    """Prune, killed right after deleting the first pack it rewrote; True when that left a
    manifest whose chunk is gone (any pack but the last one written does: see the module)."""
    env = {**os.environ, "GIT_MLV_TEST_CRASH_AT": "consolidate-deleting"}
    proc = subprocess.run([os.path.join(BIN, "git-mlv"), "prune", "--keep-days", "0"], cwd=repo,
                          env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    return b"is not in the pool" in mlv("fsck", cwd=repo, check=False).stderr


def _interrupted_prune(repo: Path, tmp_path: Path) -> None:
    """FILES committed, pushed, deleted in HEAD; then a prune killed so that one of them is left
    with its manifest and without a chunk."""
    origin_and_store(repo, tmp_path, files=0)
    for name, data in FILES.items():
        write(repo / name, data)
    commit_all(repo, "v")
    git("push", "-q", "origin", "main", cwd=repo)
    git("rm", "-q", "-r", "data", cwd=repo)
    git("commit", "-q", "-m", "data gone from HEAD", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    for _ in range(6):  # the last pack written is the one deletion that leaves no such manifest
        if _killed_between_two_deletions(repo):
            return
        mlv("fetch", "--all", cwd=repo)  # the files back, in new packs: kill the prune again
    raise AssertionError("no interrupted prune left a manifest without its chunks")


@pytest.mark.slow
def test_pull_after_an_interrupted_prune_brings_every_file_back(repo: Path, tmp_path: Path) -> None:
    _interrupted_prune(repo, tmp_path)
    git("checkout", "-q", "HEAD~1", cwd=repo)  # some files stay pointers: they seem to be here
    p = mlv("pull", cwd=repo, check=False)
    assert p.returncode == 0, p.stderr
    assert b"Traceback" not in p.stderr
    for name, data in FILES.items():
        assert (repo / name).read_bytes() == data, name
    assert git("status", "--porcelain", cwd=repo).stdout == b""
    fsck = mlv("fsck", cwd=repo, check=False)
    assert fsck.returncode == 0, fsck.stdout + fsck.stderr


@pytest.mark.slow
def test_push_of_such_a_file_stops_and_says_how_to_repair(repo: Path, tmp_path: Path) -> None:
    """A push of the older commit to another data remote stopped with "object ... vanished from
    the pool during push" (exit 3): true of a concurrent gc, not of this, and no way out."""
    _interrupted_prune(repo, tmp_path)
    other = tmp_path / "other"
    mlv("remote", "add", "other", str(other), "--local", cwd=repo)
    err = one_error_line(mlv("push", "other", "--all", cwd=repo, check=False), 3)
    assert "is not in the pool though a file here names it" in err
    assert "`git mlv fsck --repair` fetches it again" in err
    assert not list(other.glob("packs/*.idx"))  # nothing committed on the remote
    mlv("fsck", "--repair", cwd=repo)
    # the files the prune did delete whole before it was killed (which, depends on the moment)
    # are not here either: fetched back, as `push --all`'s own message says
    mlv("fetch", "--all", cwd=repo)
    mlv("push", "other", "--all", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "-c", "mlv.fetchExclude=*", str(tmp_path / "origin.git"), str(clone),
        cwd=tmp_path)  # nothing fetched from the default remote: the bytes come from `other`
    mlv("remote", "add", "other", str(other), "--local", cwd=clone)
    git("checkout", "-q", "HEAD~1", cwd=clone)
    mlv("pull", "other", "-X", "", cwd=clone)
    for name, data in FILES.items():
        assert (clone / name).read_bytes() == data, name
