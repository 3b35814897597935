"""`migrate import` run on files git-lfs tracks (instead of `migrate from-lfs`).

Regression: the chosen blobs were git-lfs pointer text, and import stored that text in the pool
as the data: it said "Converted 6 file(s) (774 B)", and every version then checked out as git-lfs
pointer text. Now import stops before any ref moves, naming the file and `migrate from-lfs`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, out
from tests.integration.test_migrate_lfs import make_lfs_repo


@pytest.mark.parametrize("mode", [["--everything"], ["--everything", "--dry-run"], ["--no-rewrite"]])
def test_import_refuses_git_lfs_pointers(tmp_path: Path, mode: list[str]) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    versions = make_lfs_repo(repo)
    before = out(git("for-each-ref", cwd=repo))
    proc = mlv("migrate", "import", "--include=*.bin", *mode, "-q", cwd=repo, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 1 and "is a git-lfs pointer" in err and "migrate from-lfs" in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert out(git("for-each-ref", cwd=repo)) == before
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    for name, data in versions["v3"].items():
        assert (repo / name).read_bytes() == data


def test_from_lfs_first_then_import_has_nothing_left(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    make_lfs_repo(repo)
    mlv("migrate", "from-lfs", "--everything", "-q", cwd=repo)
    res = out(mlv("migrate", "import", "--include=*.bin", "--everything", "-q", cwd=repo))
    assert res.startswith("Nothing to change"), res
