"""`git mlv untrack` of a pattern whose files are committed: they stay pointers in git's index (git
stat-matches them, so nothing looks changed), and a commit of .gitattributes alone gave every clone
the pointer text instead of the data, in silence. untrack now says so and how to put them back in
git whole; done as it says, a clone without git-mlv gets the bytes."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, write


def test_untrack_names_pointers_left_and_renormalize_puts_them_back(repo: Path, tmp_path: Path) -> None:
    mlv("track", "*.csv", cwd=repo)
    table = b"a,b\n" + b"".join(b"%d,%d\n" % (i, i * i) for i in range(3000))
    write(repo / "t.csv", table)
    write(repo / "data" / "keep.bin", random_bytes(5000, seed=1))  # still tracked by data/**
    commit_all(repo, "data")
    assert git("cat-file", "-p", "HEAD:t.csv", cwd=repo).stdout.startswith(b"version https://git-mlv")

    out = mlv("untrack", "*.csv", cwd=repo).stdout.decode()
    assert "1 file(s) are still git-mlv pointers in git's index (e.g. t.csv)" in out
    assert "git add --renormalize ." in out
    assert "keep.bin" not in out

    git("add", "--renormalize", ".", cwd=repo)
    git("commit", "-qm", "csv back in git", cwd=repo)
    assert git("cat-file", "-p", "HEAD:t.csv", cwd=repo).stdout == table
    plain = tmp_path / "plain"  # a clone by someone without git-mlv: the table's bytes
    git("-c", "filter.mlv.process=", "-c", "filter.mlv.required=false", "clone", "-q", str(repo),
        str(plain), cwd=tmp_path)
    assert (plain / "t.csv").read_bytes() == table
    assert "still git-mlv pointers" not in mlv("untrack", "*.bin", cwd=repo).stdout.decode()
