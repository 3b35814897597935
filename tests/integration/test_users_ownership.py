"""A repository another user owns: git refuses it ("dubious ownership", safe.directory) until the
user says they trust it. git-mlv said "not a git repository (run `git init` first ...)", sending
the user to create a repository over someone else's; it now says what git refused and the fix."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, one_error_line, random_bytes, write

NOBODY = 65534


def test_another_users_repository_names_safe_directory(tmp_path: Path, repo: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving the repository to another user needs root (CI runs as root)")
    write(repo / "a.bin", random_bytes(20_000, seed=3))
    commit_all(repo, "v1")
    theirs = tmp_path / "theirs"
    shutil.copytree(repo, theirs, symlinks=True)
    for root, dirs, files in os.walk(theirs):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), NOBODY, NOBODY)
    os.lchown(theirs, NOBODY, NOBODY)

    err = one_error_line(mlv("status", cwd=theirs, check=False), 128)
    assert "another user owns it" in err and f"safe.directory '{theirs}'" in err, err
    assert "git init" not in err
    # the fix it names works (safe.directory on git's command line reaches git-mlv's own gits)
    p = git("-c", f"safe.directory={theirs}", "mlv", "status", cwd=theirs)
    assert b"1 file(s) tracked" in p.stdout, p.stdout
    # a folder outside any repository still gets the old words
    outside = tmp_path / "outside"
    outside.mkdir()
    err = one_error_line(mlv("status", cwd=outside, check=False), 128)
    assert "not a git repository" in err
