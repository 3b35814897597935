"""`git mlv prune` killed between deleting two packs (found killing prune at random moments): a
pruned file's manifest could survive in a pack not deleted yet while a chunk it names was gone
with another. The file counted as here (a file is here when its manifest is), so nothing fetched
it: a checkout of an older commit left it a pointer, `git mlv pull` stopped at it with "chunk ...
is not in the pool; run `git mlv pull`", and fsck called the pool damaged (exit 3). `git mlv pull`
now fetches the chunks such a file lacks, and prune deletes the packs holding pruned manifests
first (as gc does), so a kill leaves only chunks nothing names."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from git_mlv.core import index as idx
from git_mlv.core.consolidate import consolidate
from git_mlv.core.pack import KIND_CHUNK, KIND_MANIFEST
from git_mlv.ops.context import Workspace
from tests.helpers import BIN, commit_all, git, mlv, one_error_line, origin_and_store, random_bytes, write

# each of these spans several of the suite's 256 KiB packs, its manifest in the last of them
FILES = {f"data/v{i}.bin": random_bytes(700_000, seed=40 + i) for i in range(3)}


def _kill_prune_between_two_deletions(repo: Path) -> None:
    """Prune, killed right after deleting the first pack it rewrote."""
    env = {**os.environ, "GIT_MLV_TEST_CRASH_AT": "consolidate-deleting"}
    proc = subprocess.run([os.path.join(BIN, "git-mlv"), "prune", "--keep-days", "0"], cwd=repo,
                          env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr


def _pruned_history(repo: Path, tmp_path: Path) -> None:
    """FILES committed and pushed, then deleted in HEAD: prune may delete them here."""
    origin_and_store(repo, tmp_path, files=0)
    for name, data in FILES.items():
        write(repo / name, data)
    commit_all(repo, "v")
    git("push", "-q", "origin", "main", cwd=repo)
    git("rm", "-q", "-r", "data", cwd=repo)
    git("commit", "-q", "-m", "data gone from HEAD", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)


def _lose_a_chunk(repo: Path) -> None:
    """Rewrite the pack holding a chunk of data/v0.bin without it (its manifest is in another
    pack): what a prune killed between two deletions left before, or a disk losing a block."""
    oid = hashlib.sha256(FILES["data/v0.bin"]).hexdigest()
    with Workspace.discover(str(repo)) as ws:
        pool = ws.pool
        manifest = pool.locate(bytes.fromhex(oid), KIND_MANIFEST)
        assert manifest is not None
        for cid, _ in pool.file_chunks(oid):
            key = idx.key(cid, KIND_CHUNK)
            loc = pool.locate_keys([key])[0]
            if loc is not None and loc.pack != manifest.pack:
                break
        else:
            raise AssertionError("every chunk of data/v0.bin is in its manifest's pack")
        keys = np.asarray(pool.index_of(loc.pack).keys)
        assert consolidate(pool, merge=[loc.pack], keep=np.sort(keys[keys != key])) is not None
    assert b"is not in the pool" in mlv("fsck", cwd=repo, check=False).stderr


@pytest.mark.slow
def test_a_prune_killed_between_two_deletions_leaves_every_file_whole(repo: Path, tmp_path: Path) -> None:
    _pruned_history(repo, tmp_path)
    for _ in range(4):  # the order of deletion decides: before, one of these left the damage
        _kill_prune_between_two_deletions(repo)
        fsck = mlv("fsck", cwd=repo, check=False)
        assert fsck.returncode == 0, fsck.stdout + fsck.stderr
        mlv("fetch", "--all", cwd=repo)  # the files back, in new packs: kill the prune again
    _kill_prune_between_two_deletions(repo)
    mlv("prune", "--keep-days", "0", cwd=repo)  # a rerun finishes the work
    assert mlv("fsck", cwd=repo).returncode == 0
    git("checkout", "-q", "HEAD~1", cwd=repo)
    for name, data in FILES.items():
        assert (repo / name).read_bytes() == data, name
    assert git("status", "--porcelain", cwd=repo).stdout == b""


@pytest.mark.slow
def test_pull_brings_back_a_file_that_lost_a_chunk(repo: Path, tmp_path: Path) -> None:
    _pruned_history(repo, tmp_path)
    _lose_a_chunk(repo)
    git("checkout", "-q", "HEAD~1", cwd=repo)  # data/v0.bin stays a pointer: it seems to be here
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
    _pruned_history(repo, tmp_path)
    _lose_a_chunk(repo)
    other = tmp_path / "other"
    mlv("remote", "add", "other", str(other), "--local", cwd=repo)
    err = one_error_line(mlv("push", "other", "--all", cwd=repo, check=False), 3)
    assert "is not in the pool though a file here names it" in err
    assert "`git mlv fsck --repair` fetches it again" in err
    assert not list(other.glob("packs/*.idx"))  # nothing committed on the remote
    mlv("fsck", "--repair", cwd=repo)
    mlv("fetch", "--all", cwd=repo)  # as `push --all`'s own message says for files not here
    mlv("push", "other", "--all", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "-c", "mlv.fetchExclude=*", str(tmp_path / "origin.git"), str(clone),
        cwd=tmp_path)  # nothing fetched from the default remote: the bytes come from `other`
    mlv("remote", "add", "other", str(other), "--local", cwd=clone)
    git("checkout", "-q", "HEAD~1", cwd=clone)
    mlv("pull", "other", "-X", "", cwd=clone)
    for name, data in FILES.items():
        assert (clone / name).read_bytes() == data, name
