"""Patterns `git mlv track` used to write though they match no file (found typing what a data
scientist types): `git mlv track data/` and `git mlv track data` for the folder data — the first
thing one tries — wrote lines git never applies to a file (a pattern ending in / names folders,
and a folder's attributes do not reach the files in it), so the next `git add data` stored every
file whole in git, and the history kept them; `./data/*.csv` and `data/../x.bin` matched nothing
either (git does not resolve ./ and ../ in .gitattributes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import git, mlv, one_error_line, random_bytes, write


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A repository with data files and nothing tracked yet."""
    repo = tmp_path / "bare"
    git("init", "-q", str(repo), cwd=tmp_path)
    write(repo / "data" / "train.csv", random_bytes(40_000, seed=1))
    write(repo / "data" / "sub" / "x.bin", random_bytes(40_000, seed=2))
    write(repo / "x.bin", random_bytes(40_000, seed=3))
    return repo


def _filters(repo: Path, *paths: str) -> list[str]:
    out = git("check-attr", "filter", "--", *paths, cwd=repo).stdout.decode()
    return [line.rsplit(": ", 1)[1] for line in out.splitlines()]


@pytest.mark.parametrize("typed, cwd, words", [
    ("data/", ".", '"data/" matches no file: in .gitattributes a pattern ending in / names folders'),
    ("data", ".", '"data" is a folder, and a pattern matches files: track "data/**"'),
    ("sub", "data", '"sub" is a folder, and a pattern matches files: track "sub/**"'),
    (".", ".", '"." matches no file: track "**" for every file'),
    ("/", ".", '"/" matches no file'),
    ("../x/*", ".", '"../x/*" reaches outside the repository'),
    ("../../y", "data", '"../../y" reaches outside the repository'),
])
def test_track_refuses_a_pattern_that_matches_no_file(bare: Path, typed: str, cwd: str,
                                                      words: str) -> None:
    err = one_error_line(mlv("track", "*.h5", typed, cwd=bare / cwd, check=False), 2)
    assert words in err
    assert not (bare / ".gitattributes").exists()  # *.h5, given first, was not written either


def test_track_data_folder_as_suggested_makes_its_files_data(bare: Path) -> None:
    mlv("track", "data/**", cwd=bare)
    git("add", "-A", cwd=bare)
    git("commit", "-q", "-m", "data", cwd=bare)
    for path in ("data/train.csv", "data/sub/x.bin"):
        assert Pointer.try_parse(git("cat-file", "blob", f"HEAD:{path}", cwd=bare).stdout) is not None
    assert Pointer.try_parse(git("cat-file", "blob", "HEAD:x.bin", cwd=bare).stdout) is None


@pytest.mark.parametrize("typed, cwd, written, data, other", [
    ("./data/*.csv", ".", "data/*.csv", "data/train.csv", "x.bin"),
    ("./x.bin", ".", "/x.bin", "x.bin", "data/sub/x.bin"),  # still the top's x.bin only
    ("data/../x.bin", ".", "/x.bin", "x.bin", "data/sub/x.bin"),
    ("../x.bin", "data", "/x.bin", "x.bin", "data/sub/x.bin"),
    ("./sub/*.bin", "data", "data/sub/*.bin", "data/sub/x.bin", "x.bin"),
])
def test_track_resolves_dot_segments_as_paths_do(bare: Path, typed: str, cwd: str, written: str,
                                                  data: str, other: str) -> None:
    mlv("track", typed, cwd=bare / cwd)
    assert mlv("track", cwd=bare).stdout.decode().split() == [written]
    assert _filters(bare, data, other) == ["mlv", "unspecified"]


def test_track_says_when_the_shell_expanded_the_pattern(bare: Path) -> None:
    """`git mlv track *.bin` unquoted: the shell passed x.bin and y.bin, which were tracked by name,
    and a new .bin file went into git whole, silently. Now track says so and names the quoted
    pattern; following it makes the next new file data."""
    write(bare / "y.bin", random_bytes(40_000, seed=4))
    note = 'quote the pattern: git mlv track "*.bin"'
    assert note in mlv("track", "x.bin", "y.bin", cwd=bare).stdout.decode()
    write(bare / "data" / "b.csv", random_bytes(4_000, seed=6))
    assert 'git mlv track "data/*.csv"' in mlv("track", "data/train.csv", "data/b.csv",
                                               cwd=bare).stdout.decode()
    for typed in (["*.bin"], ["x.bin"], ["x.bin", "data/train.csv"]):  # a pattern, one name, mixed
        assert "quote the pattern" not in mlv("track", *typed, cwd=bare).stdout.decode()
    mlv("untrack", "x.bin", "y.bin", "/x.bin", cwd=bare, check=False)
    write(bare / "new.bin", random_bytes(40_000, seed=5))
    git("add", "-A", cwd=bare)
    assert Pointer.parse(git("cat-file", "-p", ":new.bin", cwd=bare).stdout).size == 40_000


def test_track_and_untrack_keep_a_crlf_gitattributes_crlf(bare: Path) -> None:
    """A .gitattributes written on Windows (CRLF line ends): before, one `track` rewrote every
    line with LF, and `git diff` showed the whole file changed. Its lines keep CRLF now, and the
    new line is written with CRLF too; git reads the patterns either way."""
    write(bare / ".gitattributes", b"*.txt text\r\n*.png binary\r\n")
    mlv("track", "*.csv", cwd=bare)
    text = (bare / ".gitattributes").read_bytes()
    assert text.startswith(b"*.txt text\r\n*.png binary\r\n") and text.endswith(b"\r\n")
    assert text.count(b"\n") == text.count(b"\r\n") == 3
    assert _filters(bare, "data/train.csv") == ["mlv"]
    mlv("untrack", "*.csv", cwd=bare)
    assert (bare / ".gitattributes").read_bytes() == b"*.txt text\r\n*.png binary\r\n"
