"""from-dvc of a project whose DVC cache links its files (`dvc config cache.type hardlink`): the
work-tree file and DVC's cache object are one inode, read-only (real DVC, real git).

Regression: the migration left the file so. git-mlv data looked read-only (a script writing its
next version got "permission denied"), and a write that went through (as root, or after a chmod;
`open(path, "w")` truncates that very inode) damaged DVC's cache object, which the older commits a
HEAD-only migration leaves to DVC still need. The file is now written again from the pool: an
inode of its own, with the mode of any new file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_hardlinked_files_get_an_inode_of_their_own(tmp_path: Path, dvc_env: Path,  # noqa: F811
                                                    mode: list[str]) -> None:
    repo = dvc_repo(tmp_path)
    dvc("config", "cache.type", "hardlink", cwd=repo)
    write(repo / "d.bin", b"version 1\n")
    dvc("add", "-q", "d.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    md5 = hashlib.md5(b"version 1\n").hexdigest()
    cached = repo / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    assert (repo / "d.bin").stat().st_ino == cached.stat().st_ino  # DVC linked them
    mlv("migrate", "from-dvc", *mode, cwd=repo)
    st = (repo / "d.bin").stat()
    assert st.st_nlink == 1 and st.st_ino != cached.stat().st_ino
    assert os.access(repo / "d.bin", os.W_OK) and st.st_mode & 0o200
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    (repo / "d.bin").write_bytes(b"version 2\n")
    assert cached.read_bytes() == b"version 1\n"
