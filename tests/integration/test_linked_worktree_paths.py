"""Relative paths in a repository's settings mean the same place from a linked worktree.

Regression: a folder data remote `../store` (stored relative to the repository's root) was taken
relative to the linked worktree's own root: from `git worktree add ../deep/wt`, push looked for
`deep/store` and a checkout there could not fetch. Likewise a relative `mlv.pool`.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, write


def _worktree_with_data(repo: Path, tmp_path: Path, seed: int) -> Path:
    """A linked worktree at tmp_path/deep/wt (branch `side`), with w.bin committed in it."""
    commit_all(repo, "start")
    (tmp_path / "deep").mkdir()
    wt = tmp_path / "deep" / "wt"
    git("worktree", "add", "-q", str(wt), "-b", "side", cwd=repo)
    write(wt / "w.bin", random_bytes(90_000, seed=seed))
    commit_all(wt, "from the worktree")
    return wt


def test_a_relative_folder_remote_from_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", "../store", cwd=repo)
    assert "url = ../store" in (repo / ".gitmlv").read_text()
    wt = _worktree_with_data(repo, tmp_path, seed=8)
    mlv("push", cwd=wt)
    assert (tmp_path / "store" / "packs").is_dir() and not (tmp_path / "deep" / "store").exists()

    # a second clone, its pool empty, gets the file from that remote
    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "side", str(repo), str(clone), cwd=tmp_path)
    mlv("pull", cwd=clone)
    assert (clone / "w.bin").read_bytes() == random_bytes(90_000, seed=8)


def test_a_relative_pool_from_a_linked_worktree(repo: Path, tmp_path: Path) -> None:
    git("config", "mlv.pool", "../pool", cwd=repo)
    _worktree_with_data(repo, tmp_path, seed=9)
    assert (tmp_path / "pool" / "packs").is_dir() and not (tmp_path / "deep" / "pool").exists()
    git("merge", "-q", "side", cwd=repo)
    assert (repo / "w.bin").read_bytes() == random_bytes(90_000, seed=9)
