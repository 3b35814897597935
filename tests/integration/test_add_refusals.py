"""`git mlv add` refuses, before it writes anything, the paths git would not add (found trying the
CLI with a data scientist's mistakes): `git mlv add ""` (a shell variable that came out empty)
tracked `**`, so every file of the repository, code included, became data; `git mlv add
.git/config` wrote a pattern for it and printed "Added 1 path(s)"; an ignored file changed and
staged .gitattributes, then failed with git's last hint line, `"git config
advice.addIgnoredFile false"`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import git, mlv, one_error_line, random_bytes, write


def _untouched(repo: Path, attributes: bytes) -> None:
    assert (repo / ".gitattributes").read_bytes() == attributes
    assert git("diff", "--cached", "--name-only", cwd=repo).stdout == b""


@pytest.mark.parametrize("path, words", [
    ("", "an empty path names nothing"),
    (".git/config", ".git/config: inside the repository's .git folder"),
    (".git", ".git: inside the repository's .git folder"),
    ("x.log", "x.log: ignored by .gitignore:1 (*.log)"),
    ("build", "build: ignored by .gitignore:2 (build/)"),
    ("build/q.bin", "build/q.bin: ignored by .gitignore:2 (build/)"),
])
def test_add_refuses_what_git_would_not_add(repo: Path, path: str, words: str) -> None:
    write(repo / ".gitignore", b"*.log\nbuild/\n")
    write(repo / "train.py", b"print('code, not data')\n")
    write(repo / "x.log", random_bytes(2_000, seed=1))
    write(repo / "build" / "q.bin", random_bytes(2_000, seed=2))
    write(repo / "ok.dat", random_bytes(2_000, seed=3))
    attributes = (repo / ".gitattributes").read_bytes()
    err = one_error_line(mlv("add", "ok.dat", path, cwd=repo, check=False), 2)
    assert words in err
    _untouched(repo, attributes)  # ok.dat, named first, was not tracked nor staged either
    out = git("check-attr", "filter", "train.py", "ok.dat", cwd=repo).stdout.decode()
    assert out.count("unspecified") == 2


def test_add_from_a_subfolder_names_the_path_as_typed(repo: Path) -> None:
    write(repo / ".gitignore", b"*.log\n")
    write(repo / "x.log", random_bytes(2_000, seed=1))
    (repo / "sub").mkdir()
    attributes = (repo / ".gitattributes").read_bytes()
    err = one_error_line(mlv("add", "../x.log", cwd=repo / "sub", check=False), 2)
    assert "../x.log: ignored by .gitignore:1 (*.log)" in err
    _untouched(repo, attributes)
    mlv("add", "y.dat", cwd=repo, check=False)  # a missing file: still its own error
    write(repo / "sub" / "a[1].dat", random_bytes(3_000, seed=4))  # a glob character, not ignored
    mlv("add", "a[1].dat", cwd=repo / "sub")
    assert git("diff", "--cached", "--name-only", cwd=repo).stdout.split() == [
        b".gitattributes", b"sub/a[1].dat"]


@pytest.mark.parametrize("path, words", [
    ("link.bin", "link.bin: a symbolic link (to store/real.dat)"),
    ("linkdir", "linkdir: a symbolic link (to store)"),
    ("linkdir/real.dat", "linkdir/real.dat: beyond the symbolic link linkdir (to store)"),
])
def test_add_refuses_symbolic_links(repo: Path, path: str, words: str) -> None:
    """git stores a link as a link: before, `git mlv add link.bin` said "Tracking /link.bin" and
    "Added 1 path(s)" while no data was stored (a clone got a link to a file it lacks), and `git
    mlv add linkdir/real.dat` wrote its .gitattributes line, then failed with git's "beyond a
    symbolic link". Both are refused before anything is written; the target itself adds as data."""
    data = random_bytes(3_000, seed=5)
    write(repo / "store" / "real.dat", data)
    (repo / "link.bin").symlink_to("store/real.dat")
    (repo / "linkdir").symlink_to("store")
    attributes = (repo / ".gitattributes").read_bytes()
    err = one_error_line(mlv("add", path, cwd=repo, check=False), 2)
    assert words in err
    _untouched(repo, attributes)
    mlv("add", "store/real.dat", cwd=repo)
    assert git("cat-file", "-p", ":store/real.dat", cwd=repo).stdout.startswith(b"version ")
    git("commit", "-q", "-m", "data", cwd=repo)
    (repo / "store" / "real.dat").unlink()
    git("checkout", "--", "store/real.dat", cwd=repo)
    assert (repo / "store" / "real.dat").read_bytes() == data


@pytest.mark.parametrize("path, words", [
    ("inner", "inner: is a git repository of its own"),
    ("inner/x.bin", "inner/x.bin: is inside inner, which is a git repository of its own"),
])
def test_add_refuses_another_repository(repo: Path, path: str, words: str) -> None:
    """A folder that is a git repository of its own (a clone inside the project): before, `git mlv
    add inner` staged a submodule link and said "Added 1 path(s)", none of its files data, and `git
    mlv add inner/x.bin` wrote its .gitattributes line while git added nothing. Both are refused
    before anything is written; once inner/.git is gone, the same command adds the file as data."""
    inner = repo / "inner"
    git("init", "-q", str(inner), cwd=repo)
    data = random_bytes(5_000, seed=9)
    write(inner / "x.bin", data)
    git("add", "x.bin", cwd=inner)
    git("commit", "-q", "-m", "i", cwd=inner)
    attributes = (repo / ".gitattributes").read_bytes()
    err = one_error_line(mlv("add", path, cwd=repo, check=False), 2)
    assert words in err and "remove inner/.git" in err
    _untouched(repo, attributes)
    shutil.rmtree(inner / ".git")
    mlv("add", path, cwd=repo)
    assert git("cat-file", "-p", ":inner/x.bin", cwd=repo).stdout.startswith(b"version ")
    git("commit", "-q", "-m", "data", cwd=repo)
    (inner / "x.bin").unlink()
    git("checkout", "--", "inner/x.bin", cwd=repo)
    assert (inner / "x.bin").read_bytes() == data


def test_add_of_many_files_names_the_one_line_form(repo: Path) -> None:
    """`git mlv add imgs/*.png` (the shell expanding every name) wrote a .gitattributes line per
    file, which git matches against every path it looks at: 2,000 lines made a check-attr of the
    2,000 files 10x slower, and it grows as the square. add still does it (the paths may be what
    the user means), but now names the folder and the pattern that take one line."""
    names = [f"imgs/i{i}.png" for i in range(120)]
    for n in names:
        write(repo / n, b"img %d\n" % len(n))
    out = mlv("add", *names, cwd=repo).stdout.decode()
    assert "120 files got a line each in .gitattributes" in out
    assert "`git mlv add imgs` (everything under it) or `git mlv track 'imgs/*.png'`" in out
    assert git("diff", "--cached", "--name-only", cwd=repo).stdout.count(b"\n") == 121
    write(repo / "few" / "a.png", b"a")
    assert "Note:" not in mlv("add", "few/a.png", cwd=repo).stdout.decode()
