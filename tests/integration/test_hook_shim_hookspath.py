"""The hook shim's "git-mlv is not on PATH ... or remove .git/hooks/pre-push" named .git/hooks even
when core.hooksPath put our hooks elsewhere (husky, a team's hooks folder): the user removed a file
that was not there. Shim v5 names the hook file git ran ($0)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import git, mlv


def test_hook_names_the_hooks_path_folder_when_git_mlv_is_gone(repo: Path, tmp_path: Path) -> None:
    folder = tmp_path / "team-hooks"
    git("config", "core.hooksPath", str(folder), cwd=repo)
    mlv("install", "--local", cwd=repo)
    assert (folder / "pre-push").is_file()
    git("config", "filter.mlv.executable", str(tmp_path / "gone" / "git-mlv"), cwd=repo)
    (repo / "a.txt").write_text("a\n")
    git("add", "a.txt", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    git("init", "-q", "--bare", str(tmp_path / "o.git"), cwd=tmp_path)
    with pytest.MonkeyPatch.context() as mp:  # git on PATH, git-mlv not
        mp.setenv("PATH", os.pathsep.join(d for d in os.environ["PATH"].split(os.pathsep)
                                          if d and not os.path.exists(os.path.join(d, "git-mlv"))))
        p = git("push", "-q", str(tmp_path / "o.git"), "main", cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode != 0
    assert f"or remove {folder / 'pre-push'}\n" in err, err
    assert ".git/hooks" not in err, err
