"""`-X theirs` / `-X ours` settle a data file both sides changed, as git settles a binary file.

git passes -X to its own merge drivers only; before, `git merge -X theirs` (and rebase, cherry-pick,
pull with it) left every such data file a conflict holding ours. The driver now reads the option
from the git process that runs it (cli/cmd_merge_driver.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, random_bytes, write

BASE, OURS, THEIRS = (random_bytes(40_000, seed=s) for s in (731, 732, 733))


def _branches(repo: Path) -> None:
    """main changed a.bin one way, `other` (from the same base) another."""
    write(repo / "a.bin", BASE)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "base", cwd=repo)
    git("checkout", "-q", "-b", "other", cwd=repo)
    write(repo / "a.bin", THEIRS)
    git("commit", "-q", "-am", "theirs", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    write(repo / "a.bin", OURS)
    git("commit", "-q", "-am", "ours", cwd=repo)


def _blob(repo: Path, rev: str) -> str:
    return git("rev-parse", f"{rev}:a.bin", cwd=repo).stdout.decode().strip()


@pytest.mark.parametrize("cmd, want", [
    (["merge", "-X", "theirs", "other", "-m", "m"], THEIRS),
    (["merge", "--strategy-option=ours", "other", "-m", "m"], OURS),
    (["merge", "-Xours", "-Xtheirs", "other", "-m", "m"], THEIRS),  # the last one wins, as in git
    (["cherry-pick", "-X", "theirs", "other"], THEIRS),
])
def test_strategy_option_settles_data(repo: Path, cmd: list[str], want: bytes) -> None:
    _branches(repo)
    proc = git(*cmd, cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr
    assert git("status", "--porcelain", cwd=repo).stdout == b""
    assert (repo / "a.bin").read_bytes() == want
    side = "other" if want == THEIRS else "main@{1}"
    assert _blob(repo, "HEAD") == _blob(repo, side)  # the pointer of that side, committed


def test_rebase_and_pull_with_theirs(repo: Path, tmp_path: Path) -> None:
    _branches(repo)
    git("checkout", "-q", "other", cwd=repo)
    assert git("rebase", "-X", "theirs", "main", cwd=repo, check=False).returncode == 0
    assert (repo / "a.bin").read_bytes() == THEIRS  # theirs: the commit being replayed
    assert git("status", "--porcelain", cwd=repo).stdout == b""

    origin = tmp_path / "origin.git"
    git("clone", "-q", "--bare", str(repo), str(origin), cwd=tmp_path)
    git("reset", "-q", "--hard", "main", cwd=repo)
    git("remote", "add", "origin", str(origin), cwd=repo)
    git("fetch", "-q", "origin", cwd=repo)
    git("reset", "-q", "--hard", "HEAD~1", cwd=repo)
    write(repo / "a.bin", random_bytes(40_000, seed=734))
    git("commit", "-q", "-am", "mine", cwd=repo)
    proc = git("pull", "-q", "--no-rebase", "-X", "theirs", "origin", "main", cwd=repo, check=False)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "a.bin").read_bytes() == OURS  # origin's main: the `ours` commit of _branches


def test_without_an_option_both_changed_is_a_conflict(repo: Path) -> None:
    _branches(repo)
    proc = git("merge", "other", cwd=repo, check=False)
    assert proc.returncode == 1
    assert b"kept ours" in proc.stderr
    assert git("status", "--porcelain", cwd=repo).stdout == b"UU a.bin\n"
    assert (repo / "a.bin").read_bytes() == OURS


def test_a_rebase_conflict_says_which_side_ours_is(repo: Path) -> None:
    """In a rebase git's "ours" is the branch rebased onto: "kept ours" alone read as "your data
    was kept" to whoever rebased their own commit."""
    _branches(repo)
    git("checkout", "-q", "other", cwd=repo)
    proc = git("rebase", "main", cwd=repo, check=False)
    assert proc.returncode == 1
    assert b"kept ours, which in a rebase is the branch you rebase onto. Take your commit's with " \
           b"`git checkout --theirs -- 'a.bin'`" in proc.stderr, proc.stderr
    assert (repo / "a.bin").read_bytes() == OURS  # main's
    git("checkout", "--theirs", "--", "a.bin", cwd=repo)
    assert (repo / "a.bin").read_bytes() == THEIRS  # the commit being replayed
