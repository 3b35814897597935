"""`git mlv status` asks the pool only about the files that changed since a commit whose data is
recorded as all here (ops/complete.py), and about the files the worktree holds as pointers.
Before, it looked every tracked file up in the pool: ~0.5 s of its ~2.4 s at 100,000 files with
nothing changed. The tests count the data looked up, not time; and what status reports stays
what it was: data deleted by hand shows where the worktree shows it, and a gc makes the record
stale.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from git_mlv.core.pool import Pool
from git_mlv.ops import complete, status
from git_mlv.ops.context import Workspace
from tests.helpers import commit_all, git, mlv, random_bytes, write

FILES = {f"data/d{d}/f{i:02d}.bin": random_bytes(1_500, seed=200 * d + i)
         for d in range(3) for i in range(15)}


@pytest.fixture
def looked_up(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many files each of status's pool lookups was asked about."""
    counts: list[int] = []
    real = status.present_oids

    def counting(pool: Pool, oids: Iterable[str]) -> set[str]:
        todo = list(oids)
        counts.append(len(todo))
        return real(pool, todo)

    monkeypatch.setattr(status, "present_oids", counting)
    return counts


@pytest.fixture
def data_repo(repo: Path) -> Path:
    for path, data in FILES.items():
        write(repo / path, data)
    commit_all(repo, "data")
    _age(repo, FILES)
    return repo


def _age(repo: Path, paths: Iterable[str]) -> None:
    """Files written in the index's second are racily clean: any git command (status's `git
    diff-files`) cleans them again, and a clean after the packs are deleted by hand stores their
    data anew (test_packs_deleted_by_hand failed 1 run in a few): aged, and the index refreshed."""
    past = time.time() - 100
    for path in paths:
        os.utime(repo / path, (past, past))
    git("update-index", "-q", "--really-refresh", cwd=repo, check=False)


def _status(repo: Path) -> status.Status:
    with Workspace.discover(str(repo)) as ws:
        return status.status(ws, check_remote=False, trust_record=True)


def _head(repo: Path) -> str:
    return git("rev-parse", "HEAD", cwd=repo).stdout.decode().strip()


def test_status_asks_the_pool_only_about_the_change(data_repo: Path, looked_up: list[int]) -> None:
    st = _status(data_repo)  # no record yet: every file; it records HEAD
    assert sum(looked_up) == len(FILES) and st.files == len(FILES) and not st.missing_data
    with Workspace.discover(str(data_repo)) as ws:
        assert complete.Complete.load(ws).commits == [_head(data_repo)]
    write(data_repo / "data/d1/f03.bin", random_bytes(1_200, seed=1))
    write(data_repo / "data/new.bin", random_bytes(900, seed=2))
    commit_all(data_repo, "one change")
    looked_up.clear()
    st = _status(data_repo)
    assert sum(looked_up) == 2, looked_up  # before: 46
    assert (st.files, st.missing_data, st.not_checked_out) == (len(FILES) + 1, [], [])
    with Workspace.discover(str(data_repo)) as ws:  # and it recorded the new HEAD
        assert complete.Complete.load(ws).commits[0] == _head(data_repo)
    looked_up.clear()
    _status(data_repo)
    assert sum(looked_up) == 0, looked_up
    assert mlv("status", "--no-remote", cwd=data_repo).stdout.decode().endswith(
        "Everything is in place\n")


def test_staged_data_not_here_is_named_and_not_recorded(data_repo: Path, looked_up: list[int]) -> None:
    _status(data_repo)
    # a pointer staged whose data this pool never had (copied from a teammate's clone)
    pointer = Pointer("ab" * 32, 5).encode()
    blob = git("hash-object", "-w", "--stdin", cwd=data_repo, input=pointer).stdout.decode().strip()
    git("update-index", "--add", "--cacheinfo", f"100644,{blob},data/theirs.bin", cwd=data_repo)
    looked_up.clear()
    st = _status(data_repo)
    assert st.missing_data == ["data/theirs.bin"] and sum(looked_up) == 1, (st, looked_up)
    with Workspace.discover(str(data_repo)) as ws:
        assert complete.Complete.load(ws).commits == [_head(data_repo)]


def _delete_packs(repo: Path, keep: Iterable[str] = ()) -> None:
    """Delete the pool's packs by hand, as a user clears a cache: no gc, no token bump."""
    for f in (repo / ".git" / "mlv" / "packs").iterdir():
        if f.suffix in (".pack", ".idx", ".midx") and f.stem not in keep:
            f.unlink()


def test_packs_deleted_by_hand(data_repo: Path) -> None:
    """The record says HEAD's data is here; its packs were deleted by hand, another pack is left.
    A file the worktree holds as pointer text is named: the worktree has the last word."""
    _status(data_repo)
    packs = data_repo / ".git" / "mlv" / "packs"
    before = {f.stem for f in packs.glob("*.pack")}
    write(data_repo / "data/local.bin", random_bytes(3_000, seed=9))
    git("add", "data/local.bin", cwd=data_repo)  # a pack of its own: the pool is not empty
    _age(data_repo, ["data/local.bin"])  # else git's racy check cleans it again: stored anew
    _delete_packs(data_repo, keep={f.stem for f in packs.glob("*.pack")} - before)
    victim = "data/d2/f07.bin"
    (data_repo / victim).write_bytes(git("show", f"HEAD:{victim}", cwd=data_repo).stdout)
    with Workspace.discover(str(data_repo)) as ws:
        assert complete.Complete.load(ws).base(complete.start(ws.pool), ws.pool)  # trusted
    st = _status(data_repo)
    assert (st.missing_data, st.not_checked_out) == ([victim], [victim]), st
    # every pack gone: no record is trusted, and every file is named
    _delete_packs(data_repo)
    st = _status(data_repo)
    assert sorted(st.missing_data) == sorted([*FILES, "data/local.bin"]), st


def test_gc_makes_the_record_stale(data_repo: Path, looked_up: list[int]) -> None:
    _status(data_repo)
    mlv("gc", cwd=data_repo)
    looked_up.clear()
    st = _status(data_repo)
    assert sum(looked_up) == len(FILES) and not st.missing_data, looked_up


def test_fsck_does_not_trust_the_record(data_repo: Path) -> None:
    """fsck is there to find data deleted by hand: a file whose worktree holds its data is named
    when the pack that held it is gone, record or not."""
    _status(data_repo)
    packs = data_repo / ".git" / "mlv" / "packs"
    before = {f.stem for f in packs.glob("*.pack")}
    write(data_repo / "data/local.bin", random_bytes(3_000, seed=9))
    git("add", "data/local.bin", cwd=data_repo)
    _delete_packs(data_repo, keep={f.stem for f in packs.glob("*.pack")} - before)
    p = mlv("fsck", cwd=data_repo, check=False)
    assert p.returncode != 0 and b"data/d0/f00.bin" in p.stdout + p.stderr, p


@pytest.fixture
def remote_asked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many files each of status's questions to the remote's cached indexes was about."""
    from git_mlv.ops import remote_state

    counts: list[int] = []
    real = remote_state.RemoteLookup.lacking

    def counting(self: remote_state.RemoteLookup, oids: Iterable[str]) -> set[str]:
        todo = set(oids)
        counts.append(len(todo))
        return real(self, todo)

    monkeypatch.setattr(remote_state.RemoteLookup, "lacking", counting)
    return counts


def _status_and_commits(repo: Path) -> status.Status:
    with Workspace.discover(str(repo)) as ws:
        return status.status_and_commits(ws)[0]


def test_the_remote_is_asked_only_about_what_differs_from_a_pushed_head(
        data_repo: Path, tmp_path: Path, remote_asked: list[int]) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=data_repo)
    mlv("push", cwd=data_repo)
    st = _status_and_commits(data_repo)
    assert sum(remote_asked) == 0 and st.remote == "store" and st.not_on_remote == [], remote_asked
    write(data_repo / "data/staged.bin", random_bytes(2_000, seed=3))
    git("add", "data/staged.bin", cwd=data_repo)
    remote_asked.clear()
    st = _status_and_commits(data_repo)
    assert st.not_on_remote == ["data/staged.bin"] and sum(remote_asked) == 1, remote_asked  # before: 46
    # commits not pushed: the files that differ from the commit verified on the remote are asked
    # (before: every file), and theirs named
    commit_all(data_repo, "staged")
    write(data_repo / "data/d0/f01.bin", random_bytes(2_000, seed=4))
    commit_all(data_repo, "changed")
    remote_asked.clear()
    st = _status_and_commits(data_repo)
    assert st.not_on_remote == ["data/d0/f01.bin", "data/staged.bin"], st
    assert sum(remote_asked) == 2, remote_asked  # before: len(FILES) + 1
    mlv("push", cwd=data_repo)
    remote_asked.clear()
    assert _status_and_commits(data_repo).not_on_remote == [] and sum(remote_asked) == 0


def test_status_of_some_paths_records_nothing(data_repo: Path) -> None:
    with Workspace.discover(str(data_repo)) as ws:
        st = status.status(ws, check_remote=False, paths=[str(data_repo / "data/d0")], trust_record=True)
        assert st.files == 15 and complete.Complete.load(ws).commits == []  # only part was looked at


def test_status_compares_the_index_with_head_once(data_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What is staged, what differs from the recorded commit (HEAD, usually) and whether the index
    is HEAD's tree are one `git diff-index --cached HEAD` (before: three git commands)."""
    from git_mlv.gitio.git import Repo

    _status(data_repo)  # records HEAD
    calls: list[str] = []
    real = Repo.git

    def counting(self: Repo, *args: str, check: bool = True) -> bytes:
        calls.append(args[0])
        return real(self, *args, check=check)

    monkeypatch.setattr(Repo, "git", counting)
    write(data_repo / "data/staged.bin", random_bytes(2_000, seed=3))
    git("add", "data/staged.bin", cwd=data_repo)
    st = _status(data_repo)
    assert [c for c in calls if c.startswith("diff")] == ["diff-index"], calls
    assert st.files == len(FILES) + 1 and not st.missing_data and not st.staged_outside
