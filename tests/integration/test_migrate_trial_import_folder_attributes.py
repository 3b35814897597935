"""migrate import where a folder's .gitattributes takes the filter away from files --include chooses
(`*.bin -filter` in data/.gitattributes: the team keeps those in git).

Regression: they were converted all the same, though the folder's line wins over the root's: git
never smudged them, `git status` showed data/a.bin modified right after the migration and every
checkout, of each rewritten tag too, wrote pointer text where the data had been. They are now left
in git, named in a warning; the other chosen files are converted.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, random_bytes, write


@pytest.mark.parametrize("mode", [["--no-rewrite"], ["--everything"]])
def test_files_a_folder_keeps_out_of_filters_stay_in_git(tmp_path: Path, mode: list[str]) -> None:
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    write(repo / "data" / ".gitattributes", b"*.bin -filter\n")
    write(repo / "data" / "a.bin", random_bytes(5000, seed=1))
    write(repo / "b.bin", random_bytes(5000, seed=2))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    git("tag", "v1", cwd=repo)
    write(repo / "b.bin", random_bytes(6000, seed=3))
    git("commit", "-q", "-am", "v2", cwd=repo)
    p = mlv("migrate", "import", "--include", "*.bin", *mode, cwd=repo)
    assert ("warning: data/a.bin: left in git, not converted: a folder's .gitattributes takes the filter "
            "away there") in p.stderr.decode() + out(p), p.stderr.decode()
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    assert git("show", "HEAD:data/a.bin", cwd=repo).stdout == random_bytes(5000, seed=1)  # git's blob
    assert git("show", "HEAD:b.bin", cwd=repo).stdout.startswith(b"version https://git-mlv.dev/spec/v1")
    if mode == ["--everything"]:
        git("checkout", "-q", "v1", cwd=repo)
        assert (repo / "data" / "a.bin").read_bytes() == random_bytes(5000, seed=1)
        assert (repo / "b.bin").read_bytes() == random_bytes(5000, seed=2)
        assert out(git("status", "--porcelain", cwd=repo)) == ""
