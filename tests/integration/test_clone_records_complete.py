"""A clone whose checkout left every file as data records HEAD complete (ops/complete.py), so its
first `git mlv fetch` looks at nothing: before, it read every pointer of the tree once (~1 s at
100,000 files). A clone that left a file a pointer, or a pool with a past, records nothing."""

from __future__ import annotations

from pathlib import Path

from git_mlv.ops import complete, sync_fetch
from git_mlv.ops.context import Workspace
from tests.helpers import commit_all, git, origin_and_store, random_bytes, write

FILES = {f"data/d{d}/f{i:02d}.bin": random_bytes(1_500, seed=300 * d + i)
         for d in range(2) for i in range(10)}


def _origin(repo: Path, tmp_path: Path) -> Path:
    origin = origin_and_store(repo, tmp_path, files=0)
    for path, data in FILES.items():
        write(repo / path, data)
    commit_all(repo, "data")
    git("push", "-q", "origin", "main", cwd=repo)
    return origin


def _recorded(clone: Path) -> list[str]:
    with Workspace.discover(str(clone)) as ws:
        return complete.Complete.load(ws).commits


def test_a_clone_records_head_and_its_first_fetch_looks_at_nothing(repo: Path, tmp_path: Path) -> None:
    origin = _origin(repo, tmp_path)
    c = tmp_path / "clone"
    git("clone", "-q", str(origin), str(c), cwd=tmp_path)
    head = git("rev-parse", "HEAD", cwd=c).stdout.decode().strip()
    assert _recorded(c) == [head]
    with Workspace.discover(str(c)) as ws:
        res = sync_fetch.fetch(ws)
    assert (res.files, res.fetched, res.since) == (0, 0, head), res  # before: 20 files looked at
    for path, data in FILES.items():
        assert (c / path).read_bytes() == data, path


def test_a_clone_that_left_pointers_records_nothing(repo: Path, tmp_path: Path) -> None:
    origin = _origin(repo, tmp_path)
    c = tmp_path / "clone"
    git("-c", "mlv.fetchExclude=data/d1/**", "clone", "-q", str(origin), str(c), cwd=tmp_path)
    assert _recorded(c) == []


def test_a_worktree_of_a_pool_with_a_past_records_nothing(repo: Path, tmp_path: Path) -> None:
    _origin(repo, tmp_path)
    with Workspace.discover(str(repo)) as ws:
        complete.bump(ws.pool)  # as a gc would have: deletions may have happened
        before = complete.Complete.load(ws).commits
    git("worktree", "add", "-q", str(tmp_path / "wt"), "-b", "other", cwd=repo)
    assert _recorded(repo) == before


def test_a_sparse_clone_records_nothing(repo: Path, tmp_path: Path) -> None:
    origin = _origin(repo, tmp_path)
    c = tmp_path / "clone"
    git("clone", "-q", "--sparse", str(origin), str(c), cwd=tmp_path)
    git("sparse-checkout", "set", "data/d0", cwd=c)
    assert _recorded(c) == []
