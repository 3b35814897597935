"""git mlv prune: deletes local data the remote holds and nothing here needs (docs/fetch-scope.md#prune).

Never deleted: what the remote lacks (a pack deleted on the remote by hand), HEAD's files, the
index, stashes, refs younger than --keep-days, unpushed commits. Deleted data comes back from the
remote on checkout, byte for byte; a kill -9 in the middle leaves a readable pool.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, commit_all, git, mlv, out, pool_size, random_bytes, sha256_file, write

OLD = "1600000000 +0000"  # 2020: a commit far older than any --keep-days


def commit_at(repo: Path, message: str, date: str | None = None) -> str:
    env = {**os.environ, **({"GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date} if date else {})}
    git("add", "-A", cwd=repo)
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=repo, env=env, check=True)
    return git("rev-parse", "HEAD", cwd=repo).stdout.decode().strip()


def present(repo: Path, rev: str) -> dict[str, bool]:
    """path -> whether its data is in the local pool, for the files of ``rev``."""
    return {f["path"]: f["present"] for f in json.loads(out(mlv("ls-files", "--json", rev, cwd=repo)))}


def prune(repo: Path, *args: str) -> dict:
    return json.loads(out(mlv("prune", "--json", *args, cwd=repo)))


@pytest.fixture
def history(repo: Path, tmp_path: Path) -> dict[str, str]:
    """c1 (old): old.bin=X, shared.bin; c2 (old): old.bin=Y; c3 (HEAD): keep.bin; all pushed, with
    the data of c1 in the first remote pack."""
    bare = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(bare), cwd=tmp_path)
    git("remote", "add", "origin", str(bare), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    shared = random_bytes(24_000, seed=7)
    write(repo / "old.bin", random_bytes(24_000, seed=1))
    write(repo / "shared.bin", shared)
    ids = {"c1": commit_at(repo, "c1", OLD)}
    git("push", "-q", "origin", "main", cwd=repo)
    ids["first_pack"] = " ".join(sorted(p.name for p in (tmp_path / "store" / "packs").glob("*.pack")))
    write(repo / "old.bin", random_bytes(24_000, seed=2))
    write(repo / "shared.bin", shared[:12_000] + random_bytes(100, seed=3) + shared[12_000:])
    ids["c2"] = commit_at(repo, "c2", OLD)
    write(repo / "keep.bin", random_bytes(24_000, seed=4))
    ids["c3"] = commit_at(repo, "c3")
    git("push", "-q", "origin", "main", cwd=repo)
    return ids


def test_prune_deletes_old_data_the_remote_holds_and_gets_it_back(repo: Path, history: dict) -> None:
    git("checkout", "-q", history["c1"], cwd=repo)
    c1_files = {p: sha256_file(repo / p) for p in ("old.bin", "shared.bin")}
    git("checkout", "-q", "main", cwd=repo)
    head_files = {p: sha256_file(repo / p) for p in ("old.bin", "shared.bin", "keep.bin")}
    before = pool_size(repo)

    dry = prune(repo, "--dry-run")
    assert pool_size(repo) == before and all(present(repo, history["c1"]).values())  # nothing deleted
    assert dry["dry_run"] and dry["files"] == 2 and dry["chunks"] > 0 and dry["bytes_freed"] > 0

    done = prune(repo)
    assert {k: done[k] for k in ("files", "chunks", "objects", "bytes_freed")} == \
        {k: dry[k] for k in ("files", "chunks", "objects", "bytes_freed")}  # dry-run said the truth
    assert pool_size(repo) < before
    assert present(repo, history["c1"]) == {"old.bin": False, "shared.bin": False}
    assert all(present(repo, "HEAD").values())  # HEAD's data stays
    assert out(mlv("fsck", cwd=repo)).count("error") == 0
    again = prune(repo)
    assert again["files"] == 0 and again["objects"] == 0  # a second run finds nothing more

    # the half of shared.bin's chunks that HEAD's version shares stayed: only the rest comes back
    git("checkout", "-q", history["c1"], cwd=repo)
    assert {p: sha256_file(repo / p) for p in c1_files} == c1_files
    git("checkout", "-q", "main", cwd=repo)
    assert {p: sha256_file(repo / p) for p in head_files} == head_files
    assert git("status", "--porcelain", cwd=repo).stdout == b""


def test_prune_keeps_what_the_remote_lost(repo: Path, history: dict, tmp_path: Path) -> None:
    for name in history["first_pack"].split():  # c1's data, deleted on the remote by hand
        (tmp_path / "store" / "packs" / name).unlink()
    res = prune(repo)
    assert res["not_on_remote"] > 0 and res["objects"] == 0  # c1's data was all there was to delete
    assert present(repo, history["c1"]) == {"old.bin": True, "shared.bin": True}
    git("checkout", "-q", history["c1"], cwd=repo)  # from the local pool: the remote lacks it
    assert git("status", "--porcelain", cwd=repo).stdout == b""


@pytest.mark.slow
def test_prune_keeps_stashes_recent_refs_unpushed_and_staged(repo: Path, history: dict) -> None:
    git("branch", "exp", history["c1"], cwd=repo)  # its tip commit is old: a recent ref needs a younger one
    assert prune(repo, "--dry-run", "--keep-days", "100000")["files"] == 0  # c1's tree is kept
    assert prune(repo, "--dry-run", "--keep-days", "7")["files"] == 2
    git("branch", "-D", "exp", cwd=repo)

    write(repo / "keep.bin", random_bytes(24_000, seed=5))  # a stash: its data on the remote too
    git("stash", "-q", cwd=repo)
    stash = git("rev-parse", "stash@{0}", cwd=repo).stdout.decode().strip()
    mlv("push", "store", "refs/stash", cwd=repo)
    git("checkout", "-q", "-b", "wip", history["c2"], cwd=repo)  # an unpushed branch, old commit
    write(repo / "wip.bin", random_bytes(24_000, seed=6))
    wip = commit_at(repo, "wip", OLD)
    mlv("push", "store", "wip", cwd=repo)
    write(repo / "staged.bin", random_bytes(24_000, seed=8))  # staged only, data pushed by hand
    git("add", "staged.bin", cwd=repo)
    res = prune(repo)
    assert res["stashes"] >= 1 and res["unpushed_commits"] == 1
    assert present(repo, "stash@{0}")["keep.bin"] is True
    assert present(repo, wip)["wip.bin"] is True
    assert present(repo, history["c1"])["old.bin"] is False
    assert json.loads(out(mlv("status", "--json", "--no-remote", cwd=repo)))["missing_data"] == []

    commit_at(repo, "staged", OLD)  # an old tip: wip is not a recent ref
    git("push", "-q", "origin", "wip", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    git("stash", "drop", "-q", cwd=repo)
    res = prune(repo)
    assert present(repo, wip)["wip.bin"] is False  # neither unpushed nor HEAD's any more
    assert present(repo, stash)["keep.bin"] is False  # the stash is gone: so is its data
    git("checkout", "-q", "wip", cwd=repo)  # ... and comes back from the remote
    assert git("status", "--porcelain", cwd=repo).stdout == b""


@pytest.mark.slow
def test_prune_killed_leaves_a_readable_pool(repo: Path, history: dict) -> None:
    # killed while copying the kept entries into a new pack (no index yet); the midx-written and
    # deleting points of the same machinery are covered by tests/unit/test_consolidate.py
    env = {**os.environ, "GIT_MLV_TEST_CRASH_AT": "consolidate-copying"}
    proc = subprocess.run([os.path.join(BIN, "git-mlv"), "prune"], cwd=repo, env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    assert all(present(repo, "HEAD").values())
    assert b"error" not in mlv("fsck", cwd=repo).stdout
    prune(repo)  # a rerun finishes the work
    assert present(repo, history["c1"]) == {"old.bin": False, "shared.bin": False}
    assert b"error" not in mlv("fsck", cwd=repo).stdout


def test_prune_refuses_without_a_remote(repo: Path) -> None:
    write(repo / "a.bin", random_bytes(5000, seed=1))
    commit_all(repo, "a")
    proc = mlv("prune", cwd=repo, check=False)
    assert proc.returncode == 2 and b"no default data remote" in proc.stderr
    assert b"Traceback" not in proc.stderr
