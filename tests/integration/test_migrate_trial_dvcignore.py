"""from-dvc and the files DVC's .gitignore lines hid inside a DVC folder output (made by the real DVC).

`dvc add data/imgs` writes ``/imgs`` into data/.gitignore, which hid from git every file in that
folder, those ``.dvcignore`` kept out of DVC too. The migration drops the line (git-mlv tracks the
folder's files), so such files became untracked without a word, and `git add -A` stored them with
the data. Now the ``.dvcignore`` lines that match them are appended to the ``.gitignore`` of the
``.dvcignore``'s folder (same syntax, same folder: same meaning), and the files no line covers
(added after `dvc add`) are named, with the fix. A line that matches nothing in an output (``/src/``:
keeping code out of DVC's walks) is not copied: it would hide new source files from git.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.ops.migrate_dvcignore import _HEADER
from tests.helpers import git, mlv, out, random_bytes, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_files_dvc_ignored_in_an_output_folder_are_named(tmp_path: Path, dvc_env: Path,  # noqa: F811
                                                         mode: list[str]) -> None:
    repo = dvc_repo(tmp_path)
    write(repo / ".dvcignore", b"/src/\n*.tmp\n")
    for i in range(2):
        write(repo / "data" / "imgs" / f"{i}.png", random_bytes(3000 + i, seed=i))
    write(repo / "data" / "imgs" / "scratch.tmp", b"half-written\n")
    dvc("add", "-q", "data/imgs", cwd=repo)
    write(repo / ".gitignore", b"/build")  # no final newline: appended after one
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "dvc add", cwd=repo)
    write(repo / "data" / "imgs" / "late.png", b"added after dvc add\n")
    write(repo / "notes.bin", b"untracked before, not DVC's\n")  # not in an output: not named
    res = out(mlv("migrate", "from-dvc", *mode, cwd=repo))
    assert "1 line(s) of .dvcignore appended to .gitignore" in res, res
    assert (repo / ".gitignore").read_bytes() == b"/build\n" + _HEADER.encode() + b"*.tmp\n"
    assert "1 untracked file(s) in the converted outputs" in res and "data/imgs/late.png" in res, res
    assert "scratch.tmp" not in res and "notes.bin" not in res
    assert git("check-ignore", "-q", "data/imgs/scratch.tmp", cwd=repo, check=False).returncode == 0
    (repo / "data" / "imgs" / "late.png").unlink()
    assert out(git("status", "--porcelain", cwd=repo)) == " M .gitignore\n?? notes.bin\n"
    assert out(mlv("migrate", "from-dvc", *mode, cwd=repo)).startswith("Nothing to change")
