"""`git mlv status` with nothing changed costs what git's own stat pass costs: files git's stat data
proves unchanged (``git diff-files`` does not list them, and their recorded size is too big for
pointer text) are counted, not stat'ed again nor looked up one by one (ops/status.py,
``_loud_batches``). Before, every file was listed by ``ls-files``, its pointer looked up and its
file stat'ed: 3.29 s at 200,000 files against 0.70 s for `git status`.

The tests count the files status examines, not time; and every state a worktree can be in is
reported exactly as the walk over every file reports it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from pathlib import Path

import pytest

from git_mlv.ops import data, status
from git_mlv.ops.context import Workspace
from tests.helpers import commit_all, git, random_bytes, write
from tests.integration.test_scale_pull_worktree import examined

FILES = {f"data/d{d}/f{i:02d}.bin": random_bytes(1_500 + 100 * i, seed=300 * d + i)
         for d in range(2) for i in range(12)}


def _age(repo: Path) -> None:
    """Files older than the index, and the index refreshed: nothing is racily clean."""
    past = time.time() - 100
    for root, _, names in os.walk(repo):
        if ".git" in Path(root).parts:
            continue
        for n in names:
            os.utime(os.path.join(root, n), (past, past))
    git("update-index", "-q", "--really-refresh", cwd=repo, check=False)


@pytest.fixture
def data_repo(repo: Path) -> Path:
    for path, content in FILES.items():
        write(repo / path, content)
    write(repo / "code.py", b"print(1)\n" * 200)
    commit_all(repo, "data")
    _age(repo)
    return repo


def _status(repo: Path) -> status.Status:
    with Workspace.discover(str(repo)) as ws:
        return status.status(ws, check_remote=False, trust_record=True)


def test_nothing_changed_examines_no_file(data_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _status(data_repo)  # records HEAD complete
    seen = examined(monkeypatch, status)
    st = _status(data_repo)
    assert st.files == len(FILES) and not (st.modified or st.missing_data or st.not_checked_out)
    assert seen == []  # before: every tracked file (24)
    # one file changed: that one is examined, and reported
    victim = "data/d1/f05.bin"
    write(data_repo / victim, random_bytes(2_000, seed=99))
    st = _status(data_repo)
    assert [os.path.relpath(p, data_repo) for p in seen] == [victim]
    assert st.modified == [victim] and st.files == len(FILES)


def _every_state(repo: Path) -> None:
    """A worktree in every state status tells apart."""
    w = repo
    write(w / "data/d0/f01.bin", random_bytes(1_800, seed=7))  # modified
    (w / "data/d0/f02.bin").unlink()  # deleted
    pointer = git("cat-file", "blob", ":data/d0/f03.bin", cwd=w).stdout
    (w / "data/d0/f03.bin").write_bytes(pointer)  # pointer text
    crlf = git("cat-file", "blob", ":data/d0/f04.bin", cwd=w).stdout.replace(b"\n", b"\r\n")
    (w / "data/d0/f04.bin").write_bytes(crlf)  # pointer text with CRLF line ends
    (w / "data/d0/f05.bin").unlink()
    (w / "data/d0/f05.bin").mkdir()  # a file replaced by a folder
    (w / "data/d0/f05.bin" / "inside").write_bytes(b"x")
    write(w / "data/small.bin", b"tiny data\n")  # data smaller than pointer text, staged
    git("add", "data/small.bin", cwd=w)
    write(w / "data/new.bin", random_bytes(3_000, seed=8))  # new, staged
    git("add", "data/new.bin", cwd=w)
    git("mv", "data/d1/f00.bin", "moved.dat", cwd=w)  # staged out of the patterns
    (w / "data/d1/f01.bin").write_bytes(git("cat-file", "blob", ":data/d1/f01.bin", cwd=w).stdout)
    git("update-index", "--assume-unchanged", "data/d1/f01.bin", cwd=w)  # git does not look
    git("update-index", "--skip-worktree", "data/d1/f02.bin", cwd=w)  # outside a sparse checkout
    (w / "data/d1/f02.bin").unlink()
    write(w / "code.py", b"print(2)\n")  # a plain git file changed


def test_every_state_reported_as_the_full_walk_reports_it(
        data_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _status(data_repo)
    _every_state(data_repo)
    seen = examined(monkeypatch, status)
    quick = _status(data_repo)
    assert 0 < len(seen) < len(FILES)  # the quiet files were only counted
    monkeypatch.setattr(status, "_loud_batches", lambda *a: None)  # the walk over every file
    seen.clear()
    full = _status(data_repo)
    assert len(seen) > len(FILES) - 3
    assert dataclasses.asdict(quick) == dataclasses.asdict(full)
    # moved.dat (data at a path outside the patterns, its entry a pointer) is listed when git's
    # racy check looks at its content, which depends on the second it was moved in
    assert [p for p in quick.modified if p != "moved.dat"] == [
        "data/d0/f01.bin", "data/d0/f02.bin", "data/d0/f05.bin"]
    assert quick.not_checked_out == ["data/d0/f02.bin", "data/d0/f03.bin", "data/d1/f01.bin"]
    assert quick.converted_pointers == ["data/d0/f04.bin"] and quick.sparse == 1
    assert quick.staged_outside == ["moved.dat"]


def test_version_4_index(data_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    git("update-index", "--index-version", "4", cwd=data_repo)
    _status(data_repo)
    seen = examined(monkeypatch, status)
    assert _status(data_repo).files == len(FILES) and seen == []
    shutil.rmtree(data_repo / "data/d1")  # every file of a folder deleted
    st = _status(data_repo)
    gone = sorted(p for p in FILES if p.startswith("data/d1/"))
    assert st.modified == gone and st.not_checked_out == gone


def test_checkout_finds_what_status_finds(data_repo: Path) -> None:
    """`git mlv checkout` without PATHs reads the index the same way (gitio/indexstat.py)."""
    victim = "data/d0/f07.bin"
    (data_repo / victim).write_bytes(git("cat-file", "blob", f":{victim}", cwd=data_repo).stdout)
    with Workspace.discover(str(data_repo)) as ws:
        res = data.checkout(ws)
    assert res.restored == [victim] and (data_repo / victim).read_bytes() == FILES[victim]
