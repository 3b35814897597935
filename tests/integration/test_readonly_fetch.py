"""`git mlv fetch` and `pull` in a repository that cannot be written (a read-only mount of a
dataset, a CI cache), with every file's data already here: nothing is to be written, yet both
stopped with exit 6 ("read-only file system writing .git/mlv/gc.lock"): the fetch opened the
pool's writer (which takes gc.lock shared) only to commit nothing (ops/sync_fetch.py:
``pool.writer().commit()`` after the transfer, ``pool.writer().flush()`` after the run-cache's).
They now say what they always say, exit 0; a fetch that has data to write still stops with exit
6 and the line that says why.

The fix: ops/sync_fetch.py commits and flushes only a writer that was opened (Pool.opened_writer),
and makes the run-cache folder only when keys arrived.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, write
from tests.remotes.test_readonly_cache import _mount_read_only, mounts  # noqa: F401 - the fixture


def test_fetch_and_pull_with_nothing_to_write_work_read_only(
        tmp_path: Path, repo: Path, mounts: list[Path]) -> None:  # noqa: F811
    src = tmp_path / "src"
    src.mkdir()
    work = src / "repo"
    shutil.move(str(repo), work)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=work)
    write(work / "a.bin", random_bytes(50_000, seed=1))
    commit_all(work, "v1")
    mlv("push", cwd=work)
    clone = src / "clone"  # a second one, whose data is not here: the fetch must write
    git("clone", "-q", "-c", "mlv.fetchExclude=*", str(work), str(clone), cwd=src)
    ro = tmp_path / "ro"
    _mount_read_only(src, ro, mounts)
    touch = subprocess.run(["touch", str(ro / "repo" / ".git" / "mlv" / "x")], capture_output=True)
    assert touch.returncode != 0

    for words in (["fetch"], ["pull"], ["fetch", "--all"]):
        p = mlv(*words, cwd=ro / "repo", check=False)
        assert p.returncode == 0, (words, p.stderr.decode())
        assert b"Fetched 0 of " in p.stdout + p.stderr, (words, p.stdout, p.stderr)

    p = mlv("fetch", "--all", cwd=ro / "clone", check=False)  # --all: out of the scope too
    assert p.returncode == 6, p.stderr.decode()
    assert b"read-only file system" in p.stderr, p.stderr
