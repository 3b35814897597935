"""Manuals through git and man: `git mlv --help` (git runs `man git-mlv`), `git help -m mlv`,
`git mlv help VERB`. The pages must be where man looks (PATH's ../share/man: `make venv` links them
there for an editable install; a wheel installs them there)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, run


@pytest.fixture(autouse=True)
def plain_pager(monkeypatch: pytest.MonkeyPatch) -> None:
    assert shutil.which("man"), "man is not installed (apt-get install man-db; .ci/run does)"
    monkeypatch.setenv("MANPAGER", "cat")
    monkeypatch.setenv("MANWIDTH", "100")
    monkeypatch.delenv("MANPATH", raising=False)


def test_git_mlv_dash_dash_help_opens_the_manual(tmp_path: Path) -> None:
    text = out(git("mlv", "--help", cwd=tmp_path))
    assert "GIT-MLV(1)" in text and "git mlv migrate" in text and "See git-mlv-migrate(1)" in text
    assert "GIT-MLV(1)" in out(git("help", "-m", "mlv", cwd=tmp_path))


def test_help_verb(tmp_path: Path) -> None:
    text = out(mlv("help", "migrate", cwd=tmp_path))
    assert "GIT-MLV-MIGRATE(1)" in text and "--no-rewrite" in text and "from-dvc" in text
    proc = mlv("help", "nosuchverb", cwd=tmp_path, check=False)
    assert proc.returncode == 2 and b"nosuchverb" in proc.stderr


def test_help_without_man_prints_the_usage(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"  # a PATH with git and python but no man
    bindir.mkdir()
    for tool in ("git",):
        os.symlink(shutil.which(tool) or tool, bindir / tool)
    exe = shutil.which("git-mlv")
    assert exe
    proc = run([exe, "help", "track"], cwd=tmp_path, env={**os.environ, "PATH": str(bindir)})
    assert "usage: git mlv track" in proc.stdout.decode()


def test_no_verb_prints_the_usage_and_fails_as_git_does(tmp_path: Path) -> None:
    """`git` alone prints its usage to stdout and exits 1; `git mlv` alone did the same but exited
    0, so a script running `git mlv $VERB` with an empty variable took it for success."""
    assert git(cwd=tmp_path, check=False).returncode == 1  # git's own behaviour, which we follow
    for proc in (git("mlv", cwd=tmp_path, check=False), mlv(cwd=tmp_path, check=False)):
        assert proc.returncode == 1, proc
        assert out(proc).startswith("usage: git mlv") and "status" in out(proc)
        assert proc.stderr == b""
