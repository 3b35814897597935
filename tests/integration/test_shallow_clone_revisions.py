"""A shallow clone (`git clone --depth 1`) has no tags: `git mlv ls-files v1` said which fetch
brings the tag, but `git mlv diff v1 v2` only said "'v1' is neither a revision nor a path in the
work tree or the revisions compared", as for a typo. Both now say how to get it; once fetched and
unshallowed, an old tag's data comes from the data remote byte for byte."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, one_error_line, out, random_bytes, write


def test_diff_in_a_shallow_clone_says_which_fetch_brings_the_tag(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for tag, seed in (("v1", 1), ("v2", 2)):
        write(repo / "data" / "a.bin", random_bytes(30_000 + seed, seed))
        git("add", ".", cwd=repo)
        git("commit", "-q", "-m", tag, cwd=repo)
        git("tag", tag, cwd=repo)
    mlv("push", "--all", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "--depth", "1", f"file://{repo}", str(clone), cwd=tmp_path)

    err = one_error_line(mlv("diff", "v1", "v2", cwd=clone, check=False), 2)
    assert "'v1' is neither a revision nor a path" in err and "`git fetch --tags`" in err, err
    err = one_error_line(mlv("diff", "data/nope.bin", cwd=clone, check=False), 2)
    assert "git fetch" not in err, err  # a path is a typo, not a tag

    git("fetch", "-q", "--unshallow", "--tags", cwd=clone)
    assert "1 modified" in out(mlv("diff", "v1", "v2", cwd=clone))
    git("checkout", "-q", "v1", cwd=clone)
    assert (clone / "data" / "a.bin").read_bytes() == random_bytes(30_001, 1)
    assert git("status", "--porcelain", cwd=clone).stdout == b""
