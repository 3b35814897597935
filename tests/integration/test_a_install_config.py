"""install and uninstall where git cannot write the config, or where it holds nothing of ours.

On a read-only .git (a dataset on a read-only volume; root meets EROFS through a read-only bind
mount, as CI runs as root), `git mlv install --local` said "git config: error: could not lock config
file .git/config: Read-only file system", exit 1, not README's file-system line (exit 6, the path,
what to do). `git mlv uninstall` in a scope that never set the filter said "git-mlv filter removed
(global)", and swallowed any failure of git config, so a config git could not write was reported
removed while git kept running the filter."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import git, mlv, one_error_line


@pytest.fixture
def mounted(tmp_path: Path) -> Iterator[Path]:
    """``tmp_path/ro``, unmounted afterwards; the test fills ``tmp_path/src`` and mounts it."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    (tmp_path / "ro").mkdir()
    yield tmp_path / "ro"
    subprocess.run(["umount", "-l", str(tmp_path / "ro")], check=False, capture_output=True)


def test_install_on_a_read_only_git_folder_says_so(mounted: Path, repo_template: Path,
                                                   tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(repo_template, src, symlinks=True)
    config = hashlib.sha256((src / ".git" / "config").read_bytes()).hexdigest()
    for args in (["mount", "--bind", str(src), str(mounted)],
                 ["mount", "-o", "remount,ro,bind", str(mounted)]):
        proc = subprocess.run(args, capture_output=True)
        if proc.returncode != 0:  # a missing capability fails the test: it must not pass silently
            raise AssertionError(f"cannot bind-mount read-only: {proc.stderr.decode()}")
    err = one_error_line(mlv("install", "--local", cwd=mounted, check=False), 6)
    assert "read-only file system writing" in err and ".git/config" in err, err
    assert "remount it read-write" in err, err
    assert hashlib.sha256((src / ".git" / "config").read_bytes()).hexdigest() == config


def test_uninstall_of_a_scope_that_never_set_it(repo: Path) -> None:
    """The session's HOME installs globally; the repository's own config sets nothing."""
    proc = mlv("uninstall", "--local", cwd=repo)
    assert "git-mlv filter was not set in the local config: nothing to remove there" in \
        proc.stdout.decode(), proc.stdout
    assert "filter removed" not in proc.stdout.decode()
    mlv("install", "--local", cwd=repo)
    assert "git-mlv filter removed (local)" in mlv("uninstall", "--local", cwd=repo).stdout.decode()
    assert git("config", "--local", "--get", "filter.mlv.process", cwd=repo, check=False).returncode == 1
