"""from-dvc and the files DVC's .gitignore lines hid inside a DVC folder output (made by the real DVC).

`dvc add data/imgs` writes ``/imgs`` into data/.gitignore, which hid from git every file in that
folder, those ``.dvcignore`` kept out of DVC too. The migration drops the line (git-mlv tracks the
folder's files), so such files became untracked without a word, and `git add -A` stored them with
the data. Now the migration names them, with the fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, random_bytes, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_files_dvc_ignored_in_an_output_folder_are_named(tmp_path: Path, dvc_env: Path,  # noqa: F811
                                                         mode: list[str]) -> None:
    repo = dvc_repo(tmp_path)
    write(repo / ".dvcignore", b"*.tmp\n")
    for i in range(2):
        write(repo / "data" / "imgs" / f"{i}.png", random_bytes(3000 + i, seed=i))
    write(repo / "data" / "imgs" / "scratch.tmp", b"half-written\n")
    dvc("add", "-q", "data/imgs", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "dvc add", cwd=repo)
    write(repo / "notes.bin", b"untracked before, not DVC's\n")  # not in an output: not named
    res = out(mlv("migrate", "from-dvc", *mode, cwd=repo))
    assert "1 untracked file(s) in the converted outputs" in res and "data/imgs/scratch.tmp" in res, res
    assert "notes.bin" not in res
    assert out(mlv("migrate", "from-dvc", *mode, cwd=repo)).startswith("Nothing to change")
