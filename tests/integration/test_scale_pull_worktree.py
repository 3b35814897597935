"""`git mlv pull`'s worktree pass (and `git mlv checkout`'s without paths) looks only at the
files that may be pointers, by git's stat data (gitio/indexstat.py): a small size recorded in the
index, assume-valid, or listed by `git diff-files`. Before, it lstat'ed every tracked file in
Python and looked each pointer up: 2.7 s of a 3.1 s pull with nothing to fetch at 200,000 files.
The tests count the files the pass examines (``data.worktree_state`` calls), not time.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from git_mlv.gitio import indexstat
from git_mlv.gitio.git import Repo
from git_mlv.ops import data, sync_fetch
from git_mlv.ops.context import Workspace
from tests.helpers import commit_all, git, mlv, origin_and_store, random_bytes, write

FILES = {f"data/d{d}/f{i:02d}.bin": random_bytes(2_000, seed=300 * d + i)
         for d in range(2) for i in range(20)}


def clone_of(repo: Path, tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A clone of ``files`` committed in ``repo``, whose index holds their real sizes (not racily
    clean: git records size 0 for a file written in the second its index was)."""
    origin = origin_and_store(repo, tmp_path, files=0)
    for path, blob in files.items():
        write(repo / path, blob)
    commit_all(repo, "data")
    git("push", "-q", "origin", "main", cwd=repo)
    c = tmp_path / "clone"
    git("clone", "-q", str(origin), str(c), cwd=tmp_path)
    time.sleep(1.1)
    git("update-index", "-q", "--really-refresh", cwd=c)
    return c


@pytest.fixture
def clone(repo: Path, tmp_path: Path) -> Path:
    """A clone of ``repo``'s 40 data files (``clone_of``)."""
    return clone_of(repo, tmp_path, FILES)


def examined(monkeypatch: pytest.MonkeyPatch, module: Any = data) -> list[str]:
    """The worktree files ``module.worktree_state`` is asked about (ops/data.py's, or the name
    another module imported it under: ops/status.py's)."""
    seen: list[str] = []
    real = module.worktree_state

    def spy(full: str, pb: object) -> str:
        seen.append(full)
        return real(full, pb)  # type: ignore[no-any-return]

    monkeypatch.setattr(module, "worktree_state", spy)
    return seen


def test_pull_with_nothing_to_do_examines_no_file(clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mlv("pull", cwd=clone)
    seen = examined(monkeypatch)
    with Workspace.discover(str(clone)) as ws:
        res = sync_fetch.pull(ws)
    assert res.restored == [] and res.missing == []
    assert seen == []  # before: all 40


def test_pull_examines_the_pointers_git_left_and_the_files_deleted(
        repo: Path, clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    changed = "data/d1/f05.bin"
    write(repo / changed, random_bytes(2_000, seed=777))
    commit_all(repo, "one change")
    git("push", "-q", "origin", "main", cwd=repo)
    git("fetch", "-q", "origin", cwd=clone)
    # git's checkout leaves the changed file a pointer (out of the scope for that command)
    git("-c", f"mlv.fetchExclude={changed}", "merge", "-q", "--ff-only", "origin/main", cwd=clone)
    gone = "data/d0/f03.bin"
    (clone / gone).unlink()
    pointer = "data/d0/f04.bin"  # pointer text written by hand: stat-dirty
    (clone / pointer).write_bytes(git("show", f"HEAD:{pointer}", cwd=clone).stdout)
    seen = examined(monkeypatch)
    with Workspace.discover(str(clone)) as ws:
        res = sync_fetch.pull(ws)
    assert sorted(res.restored) == sorted([changed, gone, pointer])
    assert len(seen) == 3  # before: all 40
    assert (clone / changed).read_bytes() == (repo / changed).read_bytes()
    assert (clone / gone).read_bytes() == FILES[gone]
    assert (clone / pointer).read_bytes() == FILES[pointer]
    assert git("status", "--porcelain", cwd=clone).stdout == b""


def test_checkout_examines_only_the_files_that_may_be_pointers(
        clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`git mlv checkout` without paths: the same pass as the pull's."""
    pointer = "data/d1/f09.bin"
    (clone / pointer).write_bytes(git("show", f"HEAD:{pointer}", cwd=clone).stdout)
    seen = examined(monkeypatch)
    with Workspace.discover(str(clone)) as ws:
        res = data.checkout(ws)
    assert res.restored == [pointer] and len(seen) == 1  # before: all 40
    assert (clone / pointer).read_bytes() == FILES[pointer]


def test_the_index_is_read_as_git_lists_it(tmp_path: Path) -> None:
    """Extended flags (version 3: skip-worktree), assume-valid, long and short names, an
    executable: every entry parsed is git's, and the small ones are those git records as small."""
    r = tmp_path / "plain"
    git("init", "-q", str(r), cwd=tmp_path)
    long = "sub/" + "/".join(["n" * 200] * 3) + ".bin"
    names = {"a.txt": b"x" * 10, "big.bin": b"y" * 5000, long: b"z" * 4000,
             "sub/skip.bin": b"s" * 30, "sub/assumed.bin": b"v" * 6000, "run.sh": b"#!/bin/sh\n"}
    for name, blob in names.items():
        write(r / name, blob)
    (r / "run.sh").chmod(0o755)
    git("add", "-A", cwd=r)
    git("commit", "-qm", "c", cwd=r)
    git("update-index", "--skip-worktree", "sub/skip.bin", cwd=r)
    git("update-index", "--assume-unchanged", "sub/assumed.bin", cwd=r)
    time.sleep(1.1)
    git("update-index", "-q", "--refresh", cwd=r)
    write(r / "big.bin", b"changed")
    found = indexstat.worktree_suspects(Repo.discover(str(r)))
    assert found is not None
    by_path = {e.path: e for e in found}
    assert set(by_path) == {"a.txt", "run.sh", "sub/skip.bin", "sub/assumed.bin", "big.bin"}
    listed = git("ls-files", "-s", cwd=r).stdout.decode().splitlines()
    blobs = {line.split("\t")[1]: line.split()[1] for line in listed}
    assert all(e.blob == blobs[p] for p, e in by_path.items())
    assert by_path["run.sh"].mode == 0o100755 and not by_path["a.txt"].skip_worktree
    assert by_path["sub/skip.bin"].skip_worktree
    git("update-index", "--no-assume-unchanged", "sub/assumed.bin", cwd=r)
    found = indexstat.worktree_suspects(Repo.discover(str(r)))
    assert found is not None
    assert {e.path for e in found} == {"a.txt", "run.sh", "sub/skip.bin", "big.bin"}
    data_ = (r / ".git" / "index").read_bytes()
    small = indexstat.small_or_listed(data_, set(), limit=10)
    assert small is not None and {e.path for e in small} == {"a.txt", "run.sh", "sub/skip.bin"}
    # more than the limit (a worktree of pointers): None, the caller's pass reads every file
    assert indexstat.small_or_listed(data_, set(), limit=2) is None
