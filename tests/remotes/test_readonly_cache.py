"""A repository whose ``.git`` cannot be written (a read-only mount of a dataset, a CI cache) still
talks to its data remote: the remote's cached indexes (``<pool>/remotes/NAME``, remotes/cache.py)
are an optimisation, and a cache folder that refuses a write moves to a scratch folder.

Before, the cache's first write (its folder, its ``url`` or ``listed`` file) ended the command:
`git mlv status` said "The data remote could not be asked: read-only file system writing
.git/mlv/remotes", and `git mlv prune --dry-run` and `git mlv push` stopped with exit 6.
The read-only bind mount makes root meet EROFS, as in tests/integration/test_users_readonly.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, sha256_file, write


@pytest.fixture
def mounts(tmp_path: Path) -> Iterator[list[Path]]:
    """Mount points to unmount afterwards (the test mounts them)."""
    if os.geteuid() != 0:
        pytest.skip("a read-only bind mount needs root (CI runs as root)")
    made: list[Path] = []
    yield made
    for mnt in made:
        subprocess.run(["umount", "-l", str(mnt)], check=False, capture_output=True)


def _mount_read_only(src: Path, mnt: Path, mounts: list[Path]) -> None:
    mnt.mkdir()
    for args in (["mount", "--bind", str(src), str(mnt)], ["mount", "-o", "remount,ro,bind", str(mnt)]):
        proc = subprocess.run(args, capture_output=True)
        if proc.returncode != 0:  # a missing capability fails the test: it must not pass silently
            raise AssertionError(f"cannot bind-mount read-only: {proc.stderr.decode()}")
        if args[1] == "--bind":
            mounts.append(mnt)


@pytest.mark.parametrize("cached", [False, True], ids=["never-listed", "listed-before"])
def test_a_read_only_repository_asks_and_pushes_to_its_data_remote(
        tmp_path: Path, repo: Path, mounts: list[Path], monkeypatch: pytest.MonkeyPatch, cached: bool
) -> None:
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # where the scratch cache goes: empty afterwards
    src = tmp_path / "src"
    src.mkdir()
    work = src / "repo"
    shutil.move(str(repo), work)
    store = tmp_path / "store"
    mlv("remote", "add", "store", str(store), "--default", cwd=work)
    write(work / "a.bin", random_bytes(100_000, seed=1))
    commit_all(work, "v1")
    mlv("push", cwd=work)
    write(work / "b.bin", random_bytes(60_000, seed=2))
    commit_all(work, "v2: not pushed")
    if not cached:
        shutil.rmtree(work / ".git" / "mlv" / "remotes")
    ro = tmp_path / "ro"
    _mount_read_only(src, ro, mounts)
    here = ro / "repo"
    assert subprocess.run(["touch", str(here / ".git" / "mlv" / "x")], capture_output=True).returncode != 0

    p = mlv("status", cwd=here)
    said = p.stdout.decode() + p.stderr.decode()
    assert "could not be asked" not in said and "read-only" not in said, said
    assert "b.bin" in said  # not on the remote yet: the remote was asked
    p = mlv("prune", "--dry-run", cwd=here, check=False)
    assert p.returncode == 0, p.stderr.decode()
    assert b"held by remote 'store'" in p.stdout, p.stdout
    p = mlv("push", cwd=here, check=False)
    assert p.returncode == 0, p.stderr.decode()
    assert b"pushed data of 1 file(s)" in p.stderr, p.stderr
    assert list(scratch.iterdir()) == []  # the scratch cache went with the command

    # what the read-only repository pushed is on the remote: a clone gets it
    clone = tmp_path / "clone"
    git("clone", "-q", str(here), str(clone), cwd=tmp_path)
    assert sha256_file(clone / "b.bin") == sha256_file(here / "b.bin")
