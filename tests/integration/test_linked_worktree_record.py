"""A checkout in a linked worktree while the data remote cannot be reached: the filter warned
with the cause, then the post-checkout hook asked the same remote again and warned a second time
(linked worktrees had no smudge record, which tells the hook that this git command's filter
already failed: docs/formats.md#smudge-record). A slow remote cost its wait twice. The record is
now kept in the worktree's own git folder; the main worktree behaves as before."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, random_bytes, write


def test_a_failing_remote_is_asked_once_in_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(20_000, 1))
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(20_000, 2))
    git("commit", "-q", "-am", "v2", cwd=repo)
    mlv("push", "--all", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)  # v2's data only
    (tmp_path / "store").rename(tmp_path / "store.away")

    for where in (clone, tmp_path / "wt"):
        if where != clone:
            git("worktree", "add", "-q", "--detach", str(where), "HEAD", cwd=clone)
        p = git("checkout", "-q", "HEAD~1", cwd=where)
        err = p.stderr.decode()
        assert err.count("does not exist") == 1, err  # the cause, once
        assert "data of 'data/a.bin' is not here" in err, err
        assert (where / "data" / "a.bin").read_bytes().startswith(b"version ")
        assert git("status", "--porcelain", cwd=where).stdout == b""
        git("checkout", "-q", "-", cwd=where)

    (tmp_path / "store.away").rename(tmp_path / "store")
    wt = tmp_path / "wt"
    git("checkout", "-q", "HEAD~1", cwd=wt)
    assert (wt / "data" / "a.bin").read_bytes() == random_bytes(20_000, 1)
