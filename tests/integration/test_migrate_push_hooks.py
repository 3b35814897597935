"""After a migration, the first `git push` uploads the data (real DVC, real git, a folder remote).

A migration writes pointers without git's filter, and the filter is what installs git-mlv's hooks
when it first starts. `migrate from-dvc` of files DVC kept out of git's index, then `remote add`,
`git commit` of .gitmlv and `git push` started no filter (the files were older than the index): no
pre-push hook ran, the push uploaded nothing, and every clone got pointers whose data was nowhere.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from tests.helpers import git, mlv, out, random_bytes, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo, files_under  # noqa: F401


def test_first_push_after_from_dvc_uploads_the_data(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    for i in range(3):
        write(repo / "data" / f"part{i}.bin", random_bytes(30000 + i, seed=i))
    write(repo / "labels.csv", b"".join(b"%d,%d\n" % (k, k % 7) for k in range(2000)))
    dvc("add", "-q", "data", "labels.csv", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "dvc add", cwd=repo)
    want = files_under(repo, "data", "labels.csv")
    # Files written in the same second as git's index are "racily clean": git re-reads them
    # through the filter, which would install the hooks by chance. A day-old project has none.
    for name in want:
        os.utime(repo / name, (time.time() - 86400,) * 2)

    mlv("migrate", "from-dvc", cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("add", ".gitmlv", cwd=repo)
    git("commit", "-q", "-m", "data remote", cwd=repo)
    git("init", "-q", "--bare", str(tmp_path / "origin.git"), cwd=tmp_path)
    git("push", "-q", str(tmp_path / "origin.git"), "main", cwd=repo)

    git("clone", "-q", str(tmp_path / "origin.git"), "clone", cwd=tmp_path)
    clone = tmp_path / "clone"
    assert files_under(clone, "data", "labels.csv") == want
    assert "Everything is in place" in out(mlv("status", cwd=clone))
