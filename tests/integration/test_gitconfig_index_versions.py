"""git's index in the forms users' settings give it: version 4 (``feature.manyFiles=true``, the
setting git recommends for repositories of many files, or ``index.version=4``), a split index
(``core.splitIndex``) and a sparse index (``sparse-checkout --sparse-index``).

`git mlv pull` / `checkout` look only at the files git's stat data says may be pointers
(gitio/indexstat.py). Version 4 was not read there: every file of a manyFiles repository was
examined again, the cost c937e3d removed for everyone else. Split and sparse indexes are not read
(their entries live elsewhere or are folded): every file is examined, and the results stay right.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.gitio import indexstat
from git_mlv.ops import data
from tests.helpers import git, mlv, random_bytes
from tests.integration.test_scale_pull_worktree import clone_of, examined

FILES = {f"data/d{d}/sub{i % 3}/file-with-a-long-name-{i:02d}.bin": random_bytes(2_000, seed=50 * d + i)
         for d in range(2) for i in range(15)}


@pytest.fixture
def clone(repo: Path, tmp_path: Path) -> Path:
    """A clone of 30 data files (and a plain one), its index holding their real sizes."""
    return clone_of(repo, tmp_path, {**FILES, "code.py": b"print(1)\n"})


def _checkout_in_process(clone: Path) -> data.CheckoutResult:
    from git_mlv.ops.context import Workspace

    with Workspace.discover(str(clone)) as ws:
        return data.checkout(ws)


def test_version_4_index_is_read_as_git_reads_it(clone: Path) -> None:
    git("update-index", "--index-version", "4", cwd=clone)
    raw = (clone / ".git" / "index").read_bytes()
    assert raw[4:8] == b"\0\0\0\4"
    entries = indexstat.small_or_listed(raw, set(), small=1 << 40)
    assert entries is not None  # None on the old code: every file examined
    staged = git("ls-files", "-s", "-z", cwd=clone).stdout.split(b"\0")
    want = []
    for line in filter(None, staged):
        meta, path = line.split(b"\t", 1)
        mode, oid, _ = meta.split()
        want.append((path.decode(), int(mode, 8), oid.decode()))
    assert [(e.path, e.mode, e.blob) for e in entries] == want
    # only the small ones and the listed ones, as for version 2
    listed = {b"data/d1/sub2/file-with-a-long-name-14.bin"}
    picked = indexstat.small_or_listed(raw, listed)
    assert picked is not None
    assert [e.path for e in picked] == [".gitattributes", ".gitmlv", "code.py", *map(bytes.decode, listed)]


def test_many_files_setting_keeps_checkout_to_the_suspects(
        clone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git("config", "feature.manyFiles", "true", cwd=clone)
    git("update-index", "--index-version", "4", cwd=clone)  # manyFiles applies to new indexes
    pointer = "data/d0/sub1/file-with-a-long-name-04.bin"  # pointer text written by hand
    (clone / pointer).write_bytes(git("show", f"HEAD:{pointer}", cwd=clone).stdout)
    gone = "data/d1/sub0/file-with-a-long-name-09.bin"
    (clone / gone).unlink()
    seen = examined(monkeypatch)
    res = _checkout_in_process(clone)
    assert sorted(res.restored) == sorted([pointer, gone])
    assert len(seen) == 2  # 30 on the old code
    for path in (pointer, gone):
        assert (clone / path).read_bytes() == FILES[path]
    assert git("status", "--porcelain", cwd=clone).stdout == b""


@pytest.mark.parametrize("form", ["split", "sparse"])
def test_split_and_sparse_indexes_fall_back_to_every_file(
        clone: Path, form: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if form == "split":
        git("config", "core.splitIndex", "true", cwd=clone)
        git("update-index", "--split-index", cwd=clone)
        assert list((clone / ".git").glob("sharedindex.*"))
    else:
        git("sparse-checkout", "set", "--cone", "--sparse-index", "data/d0", cwd=clone)
        assert not (clone / "data" / "d1").exists()
    assert indexstat.worktree_suspects(_repo(clone)) is None
    pointer = "data/d0/sub1/file-with-a-long-name-04.bin"
    (clone / pointer).write_bytes(git("show", f"HEAD:{pointer}", cwd=clone).stdout)
    seen = examined(monkeypatch)
    res = _checkout_in_process(clone)
    assert res.restored == [pointer] and (clone / pointer).read_bytes() == FILES[pointer]
    assert len(seen) == (30 if form == "split" else 15)  # the sparse one: only the cone's files
    assert (clone / "data" / "d1").exists() == (form == "split")
    mlv("status", cwd=clone)
    assert git("status", "--porcelain", cwd=clone).stdout == b""


def _repo(path: Path):  # type: ignore[no-untyped-def]
    from git_mlv.gitio.git import Repo

    return Repo.discover(str(path))
