"""from-dvc --everything in a fresh clone of a DVC project, as a teammate makes one (real DVC, a
local DVC remote).

Regression: the data of the old commits was missing and the error said to run `dvc fetch`, which
brings the workspace's data only: after it the same error, with the same advice, came back. With
--everything it now names `dvc fetch --all-commits`, and that is enough.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)


def test_the_advice_for_missing_old_data_is_enough(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    dvc("remote", "add", "-q", "-d", "store", str(tmp_path / "dvc-store"), cwd=repo)
    for v in (1, 2):
        write(repo / "data.bin", b"version %d\n" % v)
        dvc("add", "-q", "data.bin", cwd=repo)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", f"v{v}", cwd=repo)
        dvc("push", "-q", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    dvc("fetch", "-q", cwd=clone)  # what the error said: HEAD's data only
    p = mlv("migrate", "from-dvc", "--everything", cwd=clone, check=False)
    err = p.stderr.decode()
    assert p.returncode == 1 and "the data of 1 DVC file(s) is neither in .dvc/cache" in err, err
    assert "run `dvc fetch --all-commits`" in err, err
    dvc("fetch", "-q", "--all-commits", cwd=clone)
    mlv("migrate", "from-dvc", "--everything", cwd=clone)
    git("checkout", "-q", "HEAD~1", cwd=clone)
    assert (clone / "data.bin").read_bytes() == b"version 1\n"
    assert out(git("status", "--porcelain", cwd=clone)) == ""
