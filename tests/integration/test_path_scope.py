"""Commands given a path look at that path, not at the whole repository.

`git mlv status PATH`, `ls-files [REV] PATH`, `checkout PATH` and `pull PATH` listed every tracked
file of the index (or of REV's tree) and kept those under PATH in Python: at 100,000 files,
`git mlv checkout` of one file took 1.4 s and `pull` of one file 2.1 s, against 0.35-0.45 s in a
repository of 200 files. git now lists only what is at or under the paths (literal pathspecs);
the test counts the pointer blobs each command reads.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.gitio import walk
from git_mlv.ops import data, ls_files, status
from git_mlv.ops.context import Workspace
from tests.helpers import git, sha256_file, write

MANY = 200  # in data/big; three more in data/one


@pytest.fixture
def tree(repo: Path) -> Path:
    for i in range(MANY):
        write(repo / "data" / "big" / f"f{i:03d}.bin", b"big %d\n" % i)
    for name in ("a.bin", "b.bin", "c d.bin"):
        write(repo / "data" / "one" / name, b"one " + name.encode() + b"\n" * 100)
    write(repo / "data" / "one1" / "x.bin", b"a sibling whose name starts the same\n")
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    return repo


def test_path_commands_read_only_the_path(tree: Path, asked: list[int],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree)
    ws = Workspace.discover(str(tree))
    one = ["data/one/a.bin", "data/one/b.bin", "data/one/c d.bin"]

    assert [f.path for f in ls_files.ls_files(ws, None, ["data/one"])] == one
    assert [f.path for f in ls_files.ls_files(ws, "HEAD", ["data/one"])] == one
    assert [f.path for f in ls_files.ls_files(ws, "HEAD", ["data/one/c d.bin", "data/one1"])] \
        == ["data/one/c d.bin", "data/one1/x.bin"]
    st = status.status(ws, check_remote=False, paths=["data/one/b.bin"])
    assert (st.files, st.modified, st.not_checked_out) == (1, [], [])

    # a file left as its pointer text is written again from the pool, byte for byte
    target = tree / "data" / "one" / "c d.bin"
    want = sha256_file(target)
    target.write_bytes(git("show", "HEAD:data/one/c d.bin", cwd=tree).stdout)
    assert sha256_file(target) != want
    assert data.checkout(ws, ["data/one/c d.bin"]).restored == ["data/one/c d.bin"]
    assert sha256_file(target) == want
    assert data.worktree_pointers(ws, ["data/one"])[0].keys() == {
        f.oid for f in ls_files.ls_files(ws, None, ["data/one"])}

    # before: every call was asked about all 205 blobs (.gitattributes too)
    assert max(asked) <= 4, asked

    # the whole repository, or many paths, are still listed whole and filtered right
    asked.clear()
    assert len(ls_files.ls_files(ws, None, ["."])) == MANY + 4
    many = [f"data/big/f{i:03d}.bin" for i in range(walk._PATHSPEC_MAX + 1)]
    assert [f.path for f in ls_files.ls_files(ws, "HEAD", many)] == many
    assert min(asked) == MANY + 5  # and .gitattributes


def test_path_from_a_subfolder_and_a_typo(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tree / "data" / "one")
    ws = Workspace.discover(str(tree / "data" / "one"))
    assert [f.path for f in ls_files.ls_files(ws, "HEAD", ["b.bin"])] == ["data/one/b.bin"]
    assert [f.path for f in ls_files.ls_files(ws, None, ["."])] == \
        ["data/one/a.bin", "data/one/b.bin", "data/one/c d.bin"]
    with pytest.raises(data.UsageError, match="at HEAD is at or under 'z' "):  # as typed here
        ls_files.ls_files(ws, "HEAD", ["z"])
    with pytest.raises(data.UsageError, match="under 'z' "):
        data.checkout(ws, ["z", "a.bin"])
