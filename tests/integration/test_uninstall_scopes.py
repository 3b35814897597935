"""`git mlv uninstall` (the global config) in a repository with its own `install --local` (which
track, add, pull and checkout do in a clone made before the install): before, it said "git-mlv
filter removed (global)" while git kept running the filter there, and took the repository's hooks
away. Now the hooks of a repository that still sets the filter stay, and a note names the config
that still sets it."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from tests.helpers import git, mlv, one_error_line, random_bytes, write


def test_uninstall_says_where_git_mlv_is_still_configured(repo: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "gitconfig"  # this test's global config: the session's is shared
    shutil.copy(Path(os.environ["HOME"]) / ".gitconfig", own)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(own))
    mlv("install", "--local", cwd=repo)
    pre_push = repo / ".git" / "hooks" / "pre-push"

    proc = mlv("uninstall", cwd=repo)
    assert "filter.mlv" not in own.read_text()
    err = proc.stderr.decode()
    assert "git still runs git-mlv here: the local config sets it (its hooks stay); " \
           "`git mlv uninstall --local` removes it" in err, err
    assert "hook pre-push removed" not in proc.stdout.decode()
    assert "git-mlv hook pre-push" in pre_push.read_text()  # a push still uploads the data
    write(repo / "a.bin", random_bytes(30_000, seed=751))
    git("add", "a.bin", cwd=repo)
    assert git("cat-file", "-s", ":a.bin", cwd=repo).stdout.strip() != b"30000"  # still a pointer

    proc = mlv("uninstall", "--local", cwd=repo)
    assert "hook pre-push removed" in proc.stdout.decode()
    assert b"still runs" not in proc.stderr  # configured nowhere now
    assert b"this repository tracks data with git-mlv" in proc.stderr
    assert git("config", "--get", "filter.mlv.process", cwd=repo, check=False).returncode == 1


def test_uninstall_local_outside_a_repository_is_one_line(tmp_path: Path) -> None:
    """Before: "git-mlv filter removed (local)", exit 0, and nothing removed."""
    (tmp_path / "plain").mkdir()
    err = one_error_line(mlv("uninstall", "--local", cwd=tmp_path / "plain", check=False), 2)
    assert "--local needs a git repository: cd into one first" in err


def test_uninstall_in_a_repository_with_data_warns(repo: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: only "git-mlv filter removed (global)"; then git showed every data file modified
    and `git add -A` put the data itself into git."""
    own = tmp_path / "gitconfig"
    shutil.copy(Path(os.environ["HOME"]) / ".gitconfig", own)
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(own))
    data = random_bytes(30_000, seed=752)
    write(repo / "a.bin", data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    err = mlv("uninstall", cwd=repo).stderr.decode()
    assert "this repository tracks data with git-mlv (.gitattributes): without the filter, git may " \
           "show its checked-out data files as modified, and `git add` of one stores the data itself " \
           "in git; `git mlv install` puts the filter back" in err, err
    later = time.time() + 5  # git reads the file again (an editor saved it, a copy touched it)
    os.utime(repo / "a.bin", (later, later))
    assert git("status", "--porcelain", cwd=repo).stdout == b" M a.bin\n"  # what the note announced
    mlv("install", cwd=repo)
    git("update-index", "--really-refresh", cwd=repo, check=False)
    assert git("status", "--porcelain", cwd=repo).stdout == b""
    assert (repo / "a.bin").read_bytes() == data
    plain = tmp_path / "plain"  # no tracked pattern: no note
    git("init", "-q", str(plain), cwd=tmp_path)
    assert b"tracks data" not in mlv("uninstall", cwd=plain).stderr
