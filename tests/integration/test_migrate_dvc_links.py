"""migrate from-dvc of a project whose DVC cache is linked into the work tree (`cache.type
symlink`, made by the real DVC): the files must become the data itself, not stay links into
.dvc/cache that git sees as a type change and that `rm -rf .dvc` (the next step docs/migrate.md
gives) leaves dangling."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, random_bytes, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo, files_under  # noqa: F401


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_symlinked_cache_files_become_regular_files(tmp_path: Path, dvc_env: Path,  # noqa: F811
                                                    mode: list[str]) -> None:
    repo = dvc_repo(tmp_path)
    dvc("config", "cache.type", "symlink", cwd=repo)
    for i in range(2):
        write(repo / "data" / f"part{i}.bin", random_bytes(6000 + i, seed=i))
    write(repo / "model.bin", random_bytes(7000, seed=9))
    dvc("add", "-q", "data", "model.bin", cwd=repo)
    assert (repo / "model.bin").is_symlink()  # DVC really linked it
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "dvc add", cwd=repo)
    want = files_under(repo, "data", "model.bin")

    mlv("migrate", "from-dvc", *mode, cwd=repo)
    for name in want:
        assert not (repo / name).is_symlink(), name
    assert out(git("status", "--porcelain", "--", "data", "model.bin", cwd=repo)) == ""
    git("rm", "-r", "-q", ".dvc", ".dvcignore", cwd=repo)
    git("commit", "-q", "-m", "no more DVC", cwd=repo)
    shutil.rmtree(repo / ".dvc")  # its cache, which git does not track
    assert files_under(repo, "data", "model.bin") == want
