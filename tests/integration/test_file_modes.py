"""One rule for the mode of every file git-mlv creates (issue 8): the umask's, widened by
core.sharedRepository as git widens its own files, so a pool shared with mlv.pool is readable."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.helpers import git, random_bytes, run, write


def _sh(cmd: str, cwd: Path, umask: str) -> None:
    run(["sh", "-c", f"umask {umask} && {cmd}"], cwd=cwd)


def _modes(root: Path) -> tuple[set[int], set[int]]:
    files, dirs = set(), set()
    for dirpath, dirnames, filenames in os.walk(root):
        dirs |= {stat.S_IMODE(os.stat(os.path.join(dirpath, d)).st_mode) for d in dirnames}
        files |= {stat.S_IMODE(os.stat(os.path.join(dirpath, f)).st_mode) for f in filenames}
    return files, dirs


@pytest.mark.slow
@pytest.mark.parametrize("umask,file_mode,dir_mode", [("022", 0o644, 0o755), ("002", 0o664, 0o775)])
def test_pool_files_follow_the_umask(repo: Path, tmp_path: Path, umask: str, file_mode: int,
                                     dir_mode: int) -> None:
    write(repo / "data" / "a.bin", random_bytes(100_000, seed=1))
    write(repo / "b.bin", random_bytes(3000, seed=2))
    store = tmp_path / "store"
    _sh(f"git mlv remote add store {store} --default && git add -A && git commit -qm one && "
        "git mlv push -q && git mlv status >/dev/null && rm -r data && git checkout -- data && "
        "git mlv gc >/dev/null", repo, umask)
    files, dirs = _modes(repo / ".git" / "mlv")
    assert files == {file_mode}, [oct(m) for m in files]  # packs, indexes, locks, caches alike
    assert dirs == {dir_mode}
    assert stat.S_IMODE(os.stat(repo / "data" / "a.bin").st_mode) == file_mode  # restored file
    files, _ = _modes(store)
    assert files == {file_mode}


def test_shared_repository_group_makes_the_pool_group_writable(repo: Path) -> None:
    git("config", "core.sharedRepository", "group", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(100_000, seed=1))
    _sh("git add -A && git commit -qm one", repo, "077")
    files, dirs = _modes(repo / ".git" / "mlv")
    assert files == {0o660}, [oct(m) for m in files]
    assert all(m & 0o070 == 0o070 and m & stat.S_ISGID for m in dirs), [oct(m) for m in dirs]
