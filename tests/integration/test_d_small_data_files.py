"""Data files smaller than pointer text (label files, small JSON: under 1 KB) cost `git mlv
status`, `checkout` and `pull` what larger files cost: nothing per file git's stat data proves
unchanged. A stat-clean file can hold its pointer's text only if its recorded size is that text's
length (or 3 more, with CRLF line ends), which the pointer cache knows (gitio/indexstat.py,
``IndexTable.pointer_sized``). Before, every size under 1,027 bytes was a suspect: at 100,000
files of 75 bytes `git mlv status` looked at every file (2.0 s, `git status` 0.24 s), and
`checkout`/`pull` walked every file (more than a batch of suspects).

The tests count the files examined (``worktree_state`` calls), not time.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from git_mlv.gitio import indexstat
from git_mlv.ops import data, status
from git_mlv.ops.context import Workspace
from tests.helpers import commit_all, git, random_bytes, write
from tests.integration.test_scale_pull_worktree import examined

# sizes on both sides of the shortest pointer (119 bytes) and of a pointer's usual length (~130)
FILES = {f"data/d{d}/f{i:02d}.txt": random_bytes(20 + 50 * i, seed=40 * d + i)
         for d in range(2) for i in range(18)}


@pytest.fixture
def small_repo(repo: Path) -> Path:
    for path, content in FILES.items():
        write(repo / path, content)
    commit_all(repo, "labels")
    past = time.time() - 100  # older than the index: nothing racily clean
    for p in FILES:
        os.utime(repo / p, (past, past))
    git("update-index", "-q", "--really-refresh", cwd=repo)
    _status(repo)  # records HEAD complete, teaches the pointer cache
    return repo


def _status(repo: Path) -> status.Status:
    with Workspace.discover(str(repo)) as ws:
        return status.status(ws, check_remote=False, trust_record=True)


def test_status_examines_no_small_file_unchanged(small_repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert all(git("cat-file", "-s", f"HEAD:{p}", cwd=small_repo).stdout.strip() != str(len(c))
               for p, c in FILES.items())  # stored as pointers
    seen = examined(monkeypatch, status)
    st = _status(small_repo)
    assert st.files == len(FILES) and not (st.modified or st.missing_data or st.not_checked_out)
    assert seen == []  # before: every file under 1,027 bytes (36)


def test_pointer_text_in_a_small_file_is_still_found(small_repo: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Pointer text, plain or with CRLF line ends, where small data was, aged so that git's stat
    data holds its size: found by status and by checkout (which writes the data back into both)."""
    plain, crlf = "data/d0/f03.txt", "data/d1/f01.txt"
    pointer = git("cat-file", "blob", f":{plain}", cwd=small_repo).stdout
    (small_repo / plain).write_bytes(pointer)
    (small_repo / crlf).write_bytes(
        git("cat-file", "blob", f":{crlf}", cwd=small_repo).stdout.replace(b"\n", b"\r\n"))
    past = time.time() - 50
    for p in (plain, crlf):
        os.utime(small_repo / p, (past, past))
    git("update-index", "-q", "--really-refresh", cwd=small_repo, check=False)
    seen = examined(monkeypatch, status)
    st = _status(small_repo)
    assert st.not_checked_out == [plain] and st.converted_pointers == [crlf]
    assert sorted(os.path.relpath(p, small_repo) for p in seen) == [plain, crlf]
    # checkout without PATHs: the pointer cache decides (as for more than _REFINE_MIN files)
    monkeypatch.setattr(indexstat, "_REFINE_MIN", 0, raising=False)
    seen = examined(monkeypatch, data)
    with Workspace.discover(str(small_repo)) as ws:
        res = data.checkout(ws)
    assert sorted(res.restored) == [plain, crlf]
    assert all((small_repo / p).read_bytes() == FILES[p] for p in (plain, crlf))
    assert sorted(os.path.relpath(p, small_repo) for p in seen) == [plain, crlf]  # before: 36


def test_checkout_examines_no_small_file_unchanged(small_repo: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexstat, "_REFINE_MIN", 0, raising=False)
    seen = examined(monkeypatch, data)
    with Workspace.discover(str(small_repo)) as ws:
        res = data.checkout(ws)
    assert res.restored == [] and seen == []  # before: every file (36)
