"""`git mlv status` in a clone that has never pushed, with a commit of its own: nothing was verified
on the data remote, so every status walked the whole history for "commits whose data is not on
the remote" (twice: the pointers, then the commits adding the missing ones) and recorded nothing
while that commit stayed unpushed: 4.7-5.8 s at 200,000 files, against 2.6 s without it. The git
remotes' branches whose data the data remote holds are now recorded as verified, so the next
status walks only the commits beyond them, and asks the remote only about the files that differ
from the newest verified commit (before, about every file while a local commit was unpushed). The
test counts the pointers each walk returns and the files asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from git_mlv.ops import remote_state, status, verified
from git_mlv.ops.context import Workspace
from tests.helpers import commit_all, git, mlv, origin_and_store, random_bytes, write


def test_status_of_a_clone_with_an_unpushed_commit_walks_only_that_commit(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    origin = origin_and_store(repo, tmp_path, files=0)
    for i in range(30):
        write(repo / f"data/f{i:02d}.bin", random_bytes(1_500, seed=i))
    commit_all(repo, "data")
    git("push", "-q", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    write(clone / "data/mine.bin", random_bytes(1_200, seed=99))
    commit_all(clone, "mine, not pushed")
    walked: list[int] = []
    real = verified.pointers_since

    def spy(*args: Any, **kw: Any) -> Any:
        found = real(*args, **kw)
        walked.append(len(found.ids))
        return found

    monkeypatch.setattr(verified, "pointers_since", spy)
    asked: list[int] = []
    real_lacking = remote_state.RemoteLookup.lacking

    def lacking(self: remote_state.RemoteLookup, oids: Any) -> Any:
        asked.append(len(oids))
        return real_lacking(self, oids)

    monkeypatch.setattr(remote_state.RemoteLookup, "lacking", lacking)
    for _ in range(2):
        asked.clear()
        with Workspace.discover(str(clone)) as ws:
            st, unpushed = status.status_and_commits(ws)
        assert unpushed is not None and unpushed.files == 1 and len(unpushed.commits) == 1
        assert st.not_on_remote == ["data/mine.bin"]
    # the second status walked only the clone's own commit (before: all 31 pointers, each time),
    # and asked the remote's indexes only about the file that differs from a verified commit
    assert walked[-1] == 1, walked
    assert sum(asked) == 1, asked  # before: 31
    # pushed, nothing is reported, and a new local commit is walked alone again
    p = mlv("push", cwd=clone)
    assert p.returncode == 0, p.stderr
    with Workspace.discover(str(clone)) as ws:
        unpushed = remote_state.commits_not_on_remote(ws)
    assert unpushed is not None and unpushed.files == 0


def test_branches_whose_data_the_remote_lacks_are_not_recorded(
        repo: Path, tmp_path: Path) -> None:
    """origin/main's commit was pushed to git without its data (hooks off): it is not taken for
    verified, and every status still names it."""
    origin_and_store(repo, tmp_path, files=0)
    write(repo / "data/a.bin", random_bytes(1_500, seed=1))
    commit_all(repo, "data")
    git("-c", "core.hooksPath=/dev/null", "push", "-q", "origin", "main", cwd=repo)
    assert git("rev-parse", "origin/main", cwd=repo).returncode == 0
    for _ in range(2):
        with Workspace.discover(str(repo)) as ws:
            unpushed = remote_state.commits_not_on_remote(ws)
        assert unpushed is not None and unpushed.files == 1 and len(unpushed.commits) == 1
