"""A merge that stopped on a tracked data file (both sides changed it): the index holds its sides
(stages 1-3), no stage-0 entry. Before, `git mlv checkout FILE` said no tracked file was there
(exit 2), `git mlv status FILE` the same, and `git mlv status` left it out and said "Everything is
in place". Now both name it unmerged, in git's words, with what resolves it.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, write


@pytest.fixture
def conflicted(repo: Path) -> Path:
    write(repo / "data/model.bin", random_bytes(3_000, seed=1))
    write(repo / "data/other.bin", random_bytes(3_000, seed=2))
    commit_all(repo, "base")
    git("checkout", "-q", "-b", "theirs", cwd=repo)
    write(repo / "data/model.bin", random_bytes(3_000, seed=3))
    commit_all(repo, "theirs")
    git("checkout", "-q", "main", cwd=repo)
    write(repo / "data/model.bin", random_bytes(3_000, seed=4))
    commit_all(repo, "ours")
    assert git("merge", "theirs", cwd=repo, check=False).returncode != 0
    assert git("ls-files", "-u", cwd=repo).stdout.count(b"data/model.bin") == 3
    return repo


def test_checkout_of_a_conflicted_file_says_so(conflicted: Path) -> None:
    res = mlv("checkout", "data/model.bin", cwd=conflicted, check=False)
    assert res.returncode == 1, res  # 2 and "no file tracked by git-mlv" on the old code
    text = res.stdout.decode()
    assert "data/model.bin is unmerged (both modified)" in text
    assert "git checkout --theirs -- data/model.bin" in text and "git add data/model.bin" in text
    # a folder holding it: the other files are written, the conflicted one named
    (conflicted / "data/other.bin").write_bytes(git("cat-file", "blob", ":data/other.bin",
                                                    cwd=conflicted).stdout)
    res = mlv("checkout", "data", cwd=conflicted, check=False)
    assert res.returncode == 1 and b"Checked out 1 file(s)" in res.stdout
    assert b"data/model.bin is unmerged" in res.stdout
    assert (conflicted / "data/other.bin").read_bytes() == random_bytes(3_000, seed=2)


def test_status_names_the_conflicted_file(conflicted: Path) -> None:
    for args in ([], ["data/model.bin"], ["data"]):
        res = mlv("status", *args, cwd=conflicted, check=False)
        assert res.returncode == 0, res  # `status data/model.bin`: exit 2 on the old code
        text = res.stdout.decode()
        assert "Unmerged" in text and "both modified: data/model.bin" in text, text
        assert "Everything is in place" not in text
    out = json.loads(mlv("status", "--json", cwd=conflicted).stdout)
    assert out["unmerged"] == {"data/model.bin": "both modified"}
    # resolved the way the hint says: theirs' data, then nothing unmerged
    git("checkout", "--theirs", "--", "data/model.bin", cwd=conflicted)
    assert (conflicted / "data/model.bin").read_bytes() == random_bytes(3_000, seed=3)
    git("add", "data/model.bin", cwd=conflicted)
    assert "Unmerged" not in mlv("status", cwd=conflicted).stdout.decode()


def test_a_side_that_deleted_the_file(repo: Path) -> None:
    write(repo / "data/model.bin", random_bytes(3_000, seed=1))
    commit_all(repo, "base")
    git("checkout", "-q", "-b", "theirs", cwd=repo)
    git("rm", "-q", "data/model.bin", cwd=repo)
    git("commit", "-q", "-m", "deleted", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    write(repo / "data/model.bin", random_bytes(3_000, seed=4))
    commit_all(repo, "ours")
    assert git("merge", "theirs", cwd=repo, check=False).returncode != 0
    text = mlv("status", cwd=repo).stdout.decode()
    assert "deleted by them: data/model.bin" in text and "`git rm FILE` deletes it" in text, text
    res = mlv("checkout", "data/model.bin", cwd=repo, check=False)
    assert res.returncode == 1 and b"`git rm data/model.bin` deletes it" in res.stdout, res


def test_an_odd_name_is_named_as_git_names_it_and_quoted_for_the_shell() -> None:
    """The checkout's line passed the name C-quoted (for display) into the shell commands, which
    quoted it again: `git add '"a \\"b\\".bin"'` named no file."""
    from git_mlv.ops.data import unmerged_line

    line = unmerged_line('d/a "b".bin', "both modified")
    assert line.startswith('"d/a \\"b\\".bin" is unmerged (both modified): ')
    assert "`git add 'd/a \"b\".bin'`" in line and "--theirs -- 'd/a \"b\".bin'`" in line
