"""What a HEAD-only conversion (from-lfs / from-dvc without --everything) says about older commits.

Regression: the summary said only "New commit ... on main" (and, for DVC, to delete .dvc "when you
no longer need it"), while the older commits still hold git-lfs pointers or .dvc files whose data
is only in git-lfs's store or .dvc/cache: uninstalling git-lfs, or deleting .dvc as suggested, cut
them off. Now the summary says so, and that --everything converts them too (checked here).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, random_bytes, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401
from tests.integration.test_migrate_lfs import make_lfs_repo


def test_from_lfs_head_only_names_the_older_commits(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    make_lfs_repo(repo)
    res = out(mlv("migrate", "from-lfs", "-q", cwd=repo))
    assert "Older commits keep their git-lfs pointers: keep git-lfs" in res, res
    res = out(mlv("migrate", "from-lfs", "--everything", "-q", cwd=repo))
    assert "Older commits keep" not in res
    blob = git("cat-file", "-p", "v1:model1.bin", cwd=repo).stdout
    assert blob.startswith(b"version https://git-mlv"), blob[:50]


def test_from_dvc_head_only_names_the_older_commits(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "model.bin", random_bytes(4000, seed=1))
    dvc("add", "-q", "model.bin", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "model", cwd=repo)
    res = out(mlv("migrate", "from-dvc", "-q", cwd=repo))
    assert "Older commits keep their .dvc files: their data is only in .dvc/cache" in res, res
    assert "Older commits keep" not in out(mlv("migrate", "from-dvc", "--everything", "-q", cwd=repo))
