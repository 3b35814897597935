"""Every name `git mlv add` takes, and every pattern `git mlv track` takes, is written to
.gitattributes so that git reads back that name or pattern, and nothing else; what cannot be
written is refused before anything is. `git check-attr` is the judge.

Found trying odd names: a tab split the line (`/a` was tracked, and the file itself went into git
whole), a newline made two lines (`l.dat` tracked in every folder), a byte that is not UTF-8 ended
in a traceback, and `git mlv track '#*.bin'` wrote a comment.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import git, mlv, random_bytes, write


@pytest.fixture
def bare(tmp_path: Path) -> Path:
    """A repository with no pattern tracked yet."""
    path = tmp_path / "repo"
    path.mkdir()
    git("init", "-q", cwd=path)
    return path


def filters(repo: Path, paths: list[str]) -> dict[str, str]:
    """The ``filter`` attribute git gives each path (any bytes in the names: -z)."""
    data = b"".join(os.fsencode(p) + b"\0" for p in paths)
    fields = git("check-attr", "-z", "--stdin", "filter", cwd=repo, input=data).stdout.split(b"\0")
    return {os.fsdecode(fields[i]): fields[i + 2].decode() for i in range(0, len(fields) - 2, 3)}


def staged_pointers(repo: Path) -> dict[str, bool]:
    """Each staged path: whether its blob is one of our pointers."""
    res = {}
    for entry in git("ls-files", "-s", "-z", cwd=repo).stdout.split(b"\0"):
        if entry:
            meta, path = entry.split(b"\t", 1)
            blob = git("cat-file", "blob", meta.split()[1].decode(), cwd=repo).stdout
            res[os.fsdecode(path)] = Pointer.try_parse(blob) is not None
    return res


ODD = ["a\tb.dat", "n\nl.dat", "cr\r.dat", os.fsdecode(b"x\xe9.dat"), "#lead.dat", "!bang.dat",
       '"q.dat', 'q"/in.dat', '"d/in.dat', "back\\slash.dat", "sp ace\ttab.dat", "[attr]m/x.dat",
       "bell\a\x7f.dat", "sep\u2028.dat", "ünï.dat", '"e"/x.dat']
NEIGHBOURS = ["a", "b.dat", "l.dat", "n", "cr", "x.dat", "lead.dat", "bang.dat", "q.dat", "in.dat",
              "d/in.dat", "backslash.dat", "m/x.dat", "sp ace tab.dat", "sep.dat", "e"]


@pytest.mark.parametrize("name", ODD)
def test_add_writes_an_odd_name_so_git_matches_exactly_it(bare: Path, name: str) -> None:
    for i, path in enumerate([name, *NEIGHBOURS]):
        write(bare / path, random_bytes(3_000, seed=i))
    mlv("add", name, cwd=bare)
    assert filters(bare, [name, *NEIGHBOURS]) == {name: "mlv", **{n: "unspecified" for n in NEIGHBOURS}}
    assert staged_pointers(bare) == {".gitattributes": False, name: True}


def test_add_writes_one_line_a_name(bare: Path) -> None:
    for i, name in enumerate(ODD):
        write(bare / name, random_bytes(1_000, seed=i))
    mlv("add", *ODD, cwd=bare)
    assert set(filters(bare, ODD).values()) == {"mlv"}
    text = (bare / ".gitattributes").read_bytes()
    assert len(text.splitlines()) == len(ODD)
    assert b'"/a\\tb.dat" filter=mlv' in text and b'"/x\\351.dat" filter=mlv' in text
    assert b"/\\#lead.dat filter=mlv" in text and b"/\\!bang.dat filter=mlv" in text
    assert b"/\xc3\xbcn\xc3\xaf.dat filter=mlv" in text  # unicode as it is


def test_listing_round_trips_through_untrack(bare: Path) -> None:
    for i, name in enumerate(ODD):
        write(bare / name, random_bytes(2_000, seed=i))
    mlv("add", *ODD, cwd=bare)
    listed = mlv("track", cwd=bare).stdout.decode("utf-8", "surrogateescape").split("\n")[:-1]
    assert len(listed) == len(ODD)  # one line a pattern: the odd ones C-quoted
    assert '"/a\\tb.dat"' in listed and '"/x\\351.dat"' in listed and "/\\#lead.dat" in listed
    as_json = json.loads(mlv("track", "--json", cwd=bare).stdout)
    assert "/a\tb.dat" in as_json and "/n\nl.dat" in as_json
    out = mlv("untrack", *listed[:5], cwd=bare).stdout.decode()
    assert "was not tracked" not in out
    mlv("untrack", *as_json[5:], cwd=bare)  # the patterns as they are
    assert (bare / ".gitattributes").read_bytes() == b""


def test_track_escapes_what_git_would_misread(bare: Path) -> None:
    out = mlv("track", "#*.h5", '"q*', "sp ace*", "t\tab*", cwd=bare).stdout.decode()
    assert 'Tracking "#*.h5"' in out
    text = (bare / ".gitattributes").read_text()
    assert "\\#*.h5 filter=mlv" in text and '\\"q* filter=mlv' in text
    assert "sp[[:space:]]ace* filter=mlv" in text  # as before: spaces as git-lfs writes them
    got = filters(bare, ["#w.h5", "d/#w.h5", "w.h5", '"qz', "qz", "sp ace1", "t\tab1", "t", "ab1"])
    assert got == {"#w.h5": "mlv", "d/#w.h5": "mlv", "w.h5": "unspecified", '"qz': "mlv",
                   "qz": "unspecified", "sp ace1": "mlv", "t\tab1": "mlv", "t": "unspecified",
                   "ab1": "unspecified"}
    assert mlv("track", cwd=bare).stdout.decode().split("\n")[:3] == ["#*.h5", '"q*', "sp ace*"]
    again = mlv("track", "\\#*.h5", cwd=bare).stdout.decode()  # the same pattern, escaped by hand
    assert '"\\#*.h5" already tracked' in again
    assert mlv("untrack", "#*.h5", '"q*', "sp ace*", cwd=bare).stdout.decode().count("Untracked") == 3
    assert (bare / ".gitattributes").read_text() == '"t\\tab*" filter=mlv diff=mlv merge=mlv -text\n'


@pytest.mark.parametrize("args, words", [
    (["track", "*.h5\n*.bin"], b"cannot hold a line break"),
    (["track", "ok.bin", "a\rb"], b"cannot hold a line break"),
    (["track", "[attr]big"], b"attribute macro"),
    (["track", "!neg"], b"negative patterns"),
])
def test_track_refuses_what_git_cannot_read_back(bare: Path, args: list[str], words: bytes) -> None:
    proc = mlv(*args, cwd=bare, check=False)
    assert proc.returncode == 2 and words in proc.stderr and proc.stderr.count(b"\n") == 1
    assert not (bare / ".gitattributes").exists()


def test_add_refuses_a_name_whose_line_git_would_ignore(bare: Path) -> None:
    """git 2.39.1 and later ignore a .gitattributes line of 2048 bytes or more."""
    deep = "/".join(["d" * 200] * 10)
    write(bare / deep / "f.dat", b"x" * 100)  # a line of 2055 bytes
    write(bare / "ok.dat", b"y" * 100)
    proc = mlv("add", "ok.dat", f"{deep}/f.dat", cwd=bare, check=False)
    assert proc.returncode == 2 and b"git ignores a line of 2048 bytes" in proc.stderr
    assert proc.stderr.count(b"\n") == 1
    assert not (bare / ".gitattributes").exists()
    assert git("ls-files", cwd=bare).stdout == b""
    shorter = "/".join(["d" * 200] * 9)  # the folder instead: 1852 bytes
    mlv("add", shorter, cwd=bare)
    assert filters(bare, [f"{deep}/f.dat"]) == {f"{deep}/f.dat": "mlv"}


def test_patterns_typed_in_a_subdirectory_are_relative_to_it(bare: Path) -> None:
    """`git mlv track 'sub/**'` typed in data/ tracked `sub/**` at the root: data/sub's files went
    into git whole. A pattern now means what it would in that folder's own .gitattributes."""
    data = bare / "data"
    (data / "sub").mkdir(parents=True)
    proc = mlv("track", "*.csv", "sub/**", "/top.bin", "we[ir]rd dir/*.h5", cwd=data)
    assert 'Tracking "data/**/*.csv"' in proc.stdout.decode()
    (bare / "a b[1]").mkdir()
    mlv("track", "x.bin", cwd=bare / "a b[1]")  # the folder's glob characters are escaped
    paths = ["data/x.csv", "data/a/b/y.csv", "x.csv", "data/sub/q.txt", "sub/q.txt", "data/top.bin",
             "data/c/top.bin", "data/weird dir/m.h5", "data/wexrd dir/m.h5", "a b[1]/x.bin",
             "a b[1]/d/x.bin", "a b1/x.bin"]
    got = git("check-attr", "filter", "--", *paths, cwd=bare).stdout.decode().splitlines()
    tracked = {line.split(": ")[0] for line in got if line.endswith(": mlv")}
    assert tracked == {"data/x.csv", "data/a/b/y.csv", "data/sub/q.txt", "data/top.bin",
                       "data/weird dir/m.h5", "a b[1]/x.bin", "a b[1]/d/x.bin"}, got
    out = mlv("untrack", "*.csv", cwd=data).stdout.decode()
    assert out == 'Untracked "data/**/*.csv"\n', out
    assert "data/**/*.csv" not in (bare / ".gitattributes").read_text()
    assert not (data / ".gitattributes").exists()
