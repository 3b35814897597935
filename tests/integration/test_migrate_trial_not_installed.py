"""A migration run by someone who never ran `git mlv install` (git does not know filter=mlv).

Regression: the migration wrote pointers and ``filter=mlv`` lines but left git without the filter,
so git ignored it: `git checkout` of an older commit refused ("Your local changes to the following
files would be overwritten") or checked out pointer text, and `git add` put new files in git whole.
Now a migration that moved a ref installs git-mlv for the repository, as `track` does, and says so.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers import NOT_INSTALLED_NOTE as _NOTE
from tests.helpers import git, mlv, out, random_bytes, write


def _usable(repo: Path, old: bytes, new: bytes) -> None:
    """The work tree is clean, an older commit checks out with its bytes, a new file is filtered."""
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    git("checkout", "-q", "HEAD~1", cwd=repo)
    assert (repo / "a.bin").read_bytes() == old
    git("checkout", "-q", "main", cwd=repo)
    assert (repo / "a.bin").read_bytes() == new
    write(repo / "b.bin", random_bytes(9000, seed=9))
    git("add", "b.bin", cwd=repo)
    staged = git("cat-file", "-p", ":b.bin", cwd=repo).stdout
    assert staged.startswith(b"version https://git-mlv"), staged[:40]


def test_import_installs_the_filter(uninstalled: Path) -> None:
    repo = uninstalled
    old, new = random_bytes(5000, seed=1), random_bytes(6000, seed=2)
    for i, data in enumerate((old, new)):
        write(repo / "a.bin", data)
        git("add", "a.bin", cwd=repo)
        git("commit", "-q", "-m", f"c{i}", cwd=repo)
    res = out(mlv("migrate", "import", "--include=*.bin", "--everything", "-q", cwd=repo))
    _usable(repo, old, new)
    assert _NOTE in res, res
    assert git("config", "--local", "filter.mlv.process", cwd=repo).stdout.strip()
    assert _NOTE not in out(mlv("migrate", "import", "--include=*.bin", "--everything", cwd=repo))


def test_from_lfs_installs_the_filter(uninstalled: Path) -> None:
    assert shutil.which("git-lfs"), "git-lfs is not installed (apt-get install git-lfs; .ci/run does)"
    repo = uninstalled
    git("lfs", "install", "--local", cwd=repo)
    git("lfs", "track", "*.bin", cwd=repo)
    old, new = random_bytes(5000, seed=3), random_bytes(6000, seed=4)
    for i, data in enumerate((old, new)):
        write(repo / "a.bin", data)
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", f"c{i}", cwd=repo)
    res = out(mlv("migrate", "from-lfs", "--everything", "-q", cwd=repo))
    _usable(repo, old, new)
    assert _NOTE in res, res
