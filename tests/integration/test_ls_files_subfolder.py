"""`git mlv ls-files` typed in a subfolder lists what `git ls-files` lists there: the files under
it, named relative to it (``--full-name``: from the top; ``--json``: always from the top, as
`git status --porcelain` and `git mlv status --json` name them). The same for ``ls-files REV``,
as `git ls-tree REV` does. Before, it listed the whole repository, named from the top, so a name
it printed was not a path `git add` or `git mlv checkout` typed there would find.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write


def names(text: str) -> list[str]:
    """The paths of `git mlv ls-files`' lines."""
    return [line[27:] for line in text.splitlines()]


def test_ls_files_in_a_subfolder_lists_it_as_git_does(repo: Path) -> None:
    for n, path in enumerate(("a.bin", "data/x.bin", "data/deep/y.bin", "data2/z.bin")):
        write(repo / path, random_bytes(300, seed=n))
    commit_all(repo, "data")
    here = repo / "data"
    assert out(git("ls-files", "*.bin", cwd=here)).split() == ["deep/y.bin", "x.bin"]

    for rev in ((), ("HEAD",)):
        assert names(out(mlv("ls-files", *rev, cwd=here))) == ["deep/y.bin", "x.bin"]
        assert names(out(mlv("ls-files", "--full-name", *rev, cwd=here))) == \
            ["data/deep/y.bin", "data/x.bin"]
        listed = json.loads(out(mlv("ls-files", "--json", *rev, cwd=here)))
        assert [f["path"] for f in listed] == ["data/deep/y.bin", "data/x.bin"]
        # a PATH outside the current folder is named as git names it
        assert names(out(mlv("ls-files", *rev, "../a.bin", "deep", cwd=here))) == ["../a.bin", "deep/y.bin"]
        assert out(git("ls-files", "../a.bin", "deep", cwd=here)).split() == ["../a.bin", "deep/y.bin"]

    # a folder without tracked data lists nothing, as git does (not an error)
    (repo / "empty").mkdir()
    p = mlv("ls-files", cwd=repo / "empty")
    assert (p.returncode, p.stdout) == (0, b"")
    # at the top: everything, from the top
    assert names(out(mlv("ls-files", cwd=repo))) == ["a.bin", "data/deep/y.bin", "data/x.bin", "data2/z.bin"]


def test_a_word_that_names_nothing_is_named_as_typed(repo: Path) -> None:
    """In a subfolder, `ls-files z.bin` said "'sub/z.bin' is neither a tracked path nor a
    revision ... `git fetch origin sub/z.bin` brings it", and `checkout v1` did not see that v1
    is a tag ("no file ... under 'sub/v1'"): the words are the user's, relative to where they
    were typed, as git's "pathspec 'z.bin' did not match"."""
    write(repo / "sub" / "b.bin", random_bytes(300, seed=9))
    commit_all(repo, "data")
    git("tag", "v1", cwd=repo)
    here = repo / "sub"
    for words, said in ((("ls-files", "z.bin"), "'z.bin' is neither a tracked path nor a revision"),
                        (("ls-files", "z.bin"), "`git fetch origin z.bin`"),
                        (("status", "z.bin"), "no file tracked by git-mlv is at or under 'z.bin'"),
                        (("checkout", "../nope"), "no file tracked by git-mlv is at or under '../nope'"),
                        (("ls-files", "HEAD", "z.bin"), "at HEAD is at or under 'z.bin'"),
                        (("checkout", "v1"), "'v1' is a revision: `git checkout v1` switches to it")):
        p = mlv(*words, cwd=here, check=False)
        err = p.stderr.decode()
        assert p.returncode == 2 and err.count("\n") == 1, (words, err)
        assert said in err and "sub/" not in err, (words, err)
