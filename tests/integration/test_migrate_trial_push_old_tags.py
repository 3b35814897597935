"""Pushing the rewritten tags of a history migrated from git-lfs (real git-lfs), with the branch
whose new commit adds the data remote and tracks a new pattern.

Regression: the pre-push hook warned about each old tag that "the .gitmlv of the pushed commit
does not name" the data remote ("a clone will not find this data") and that its .gitattributes
lacks the new pattern ("a clone will check those files out as pointer text"). Both were false: a
clone of a commit whose .gitmlv names no remote reads the default branch's, and the old tag holds
no file of the new pattern. The true warning stays: tags pushed where no branch names the remote.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import commit_all, git, mlv, out, random_bytes, write
from tests.integration.test_migrate_lfs import make_lfs_repo


def _migrated(tmp_path: Path) -> tuple[Path, dict[str, dict[str, bytes]]]:
    repo = tmp_path / "repo"
    repo.mkdir()
    versions = make_lfs_repo(repo)
    git("lfs", "uninstall", "--local", cwd=repo)  # done with git-lfs: its hooks go too
    out(mlv("migrate", "from-lfs", "--everything", "-q", cwd=repo))
    shutil.rmtree(repo / ".git" / "lfs")
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    mlv("track", "*.parquet", cwd=repo)
    write(repo / "t.parquet", random_bytes(3000, seed=5))
    commit_all(repo, "data remote, parquet")
    git("init", "-q", "--bare", str(tmp_path / "origin.git"), cwd=tmp_path)
    return repo, versions


def test_old_tags_pushed_with_the_branch_are_not_warned_about(tmp_path: Path) -> None:
    repo, versions = _migrated(tmp_path)
    push = git("push", "-q", str(tmp_path / "origin.git"), "main", "--tags", cwd=repo)
    err = push.stderr.decode()
    assert "warning" not in err, err
    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "v1", str(tmp_path / "origin.git"), str(clone), cwd=tmp_path)
    for name, data in versions["v1"].items():
        assert (clone / name).read_bytes() == data, name


def test_tags_pushed_where_no_branch_names_the_remote_are_warned_about(tmp_path: Path) -> None:
    repo, _ = _migrated(tmp_path)
    err = git("push", "-q", str(tmp_path / "origin.git"), "--tags", cwd=repo).stderr.decode()
    assert "does not name it: a clone will not find this data" in err, err
    assert ".gitattributes of the pushed commit" not in err, err  # no tag holds a parquet file
