"""gitio.indexfile against the real git: what it writes git reads back unchanged, and an entry that
keeps its stat data is not re-read through the clean filter."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from git_mlv.gitio import indexentry, indexfile
from tests.helpers import git, out, write


def _old(path: Path) -> None:
    t = time.time() - 60  # not racily clean: older than the index git writes next
    os.utime(path, (t, t))


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "r"
    r.mkdir()
    git("init", "-q", "-b", "main", cwd=r)
    for name in ("a", "b b", "dir/c", "dir/sub/d", "z"):
        _old(write(r / name, f"{name}\n".encode()))
    git("add", "-A", cwd=r)
    git("commit", "-q", "-m", "one", cwd=r)
    write(r / "new", b"new\n")
    git("add", "-N", "new", cwd=r)  # intent-to-add: an extended flag, index version 3
    blob = out(git("hash-object", "-w", "--stdin", cwd=r, input=b"x\n")).strip()
    git("update-index", "--index-info", cwd=r,
        input=f"100644 {blob} 1\tconflict\n100644 {blob} 2\tconflict\n".encode())
    return r


def test_rewrite_keeps_everything(repo: Path) -> None:
    path = repo / ".git" / "index"
    before = out(git("ls-files", "-s", "--debug", cwd=repo))
    status = out(git("status", "--porcelain", cwd=repo))
    idx = indexfile.Index(str(path))
    assert idx.version == 3 and len(idx.entries) == 8
    idx.write()
    assert out(git("ls-files", "-s", "--debug", cwd=repo)) == before
    assert out(git("status", "--porcelain", cwd=repo)) == status


def test_kept_stat_is_not_re_read(repo: Path, tmp_path: Path) -> None:
    mark = tmp_path / "filter-ran"
    git("config", "filter.up.clean", f"sh -c 'touch {mark}; tr a-z A-Z'", cwd=repo)
    git("update-index", "-q", "--refresh", cwd=repo, check=False)  # a fresh index with valid stat data
    _old(write(repo / ".gitattributes", b"a filter=up\n"))
    upper = out(git("hash-object", "-w", "--stdin", cwd=repo, input=b"A\n")).strip()
    gone = "0" * 40
    indexfile.apply(str(repo / ".git" / "index"), [
        indexfile.Update(b"a", upper),
        indexfile.Update(b"z", ""),  # removed from the index
        indexfile.Update(b"added", upper, keep_stat=False, stat=None),  # new, no stat: git looks
        indexfile.Update(b"conflict", gone),  # an unresolved conflict is left alone
    ])
    assert not mark.exists()
    st = out(git("status", "--porcelain", cwd=repo)).splitlines()
    assert not mark.exists(), "git re-read a file whose entry kept its stat"
    assert "M  a" in st and "D  z" in st and "AD added" in st and "UD conflict" in st
    assert out(git("ls-files", "-s", "a", cwd=repo)).split()[1] == upper


def test_entry_finder_matches_the_full_parse(repo: Path) -> None:
    git("add", "-A", cwd=repo)  # "new" becomes a plain entry again; add one more path that ends like another
    write(repo / "sub" / "d", b"not dir/sub/d\n")
    git("add", "sub/d", cwd=repo)
    git("update-index", "--index-version", "3", cwd=repo)
    path = str(repo / ".git" / "index")
    full = indexfile.Index(path)
    finder = indexentry.EntryFinder(path)
    try:
        stage0 = [e for e in full.entries if e.stage == 0]
        assert len(stage0) >= 6
        for e in stage0:
            found = finder.stage0(e.path)
            assert found is not None and (found.stat, found.oid, found.flags) == (e.stat, e.oid, e.flags)
        assert finder.stage0(b"conflict") is None  # stages 1 and 2: conflicted
        assert finder.stage0(b"d") is None and finder.stage0(b"missing") is None
        assert finder.stage0(b"sub/d").oid != finder.stage0(b"dir/sub/d").oid  # type: ignore[union-attr]
    finally:
        finder.close()
    git("update-index", "--index-version", "4", cwd=repo)
    with pytest.raises(indexfile.IndexFormatError):
        indexentry.EntryFinder(path)
