"""`git mlv checkout` and `git mlv pull` while another git process holds the index's lock (an
editor's background `git status`, a second pull started by hand): found interrupting a pull and
running it again while the first still ran. Every file was written, then the command failed with
"git-mlv: error: git update-index: failed" (exit 1), naming neither the lock nor whether the files
were right: `update-index -q` exits 128 on a taken lock without a word. A lock released soon is
now waited for; one held throughout leaves the files right and git to re-read them, with a
warning that says so."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from tests.helpers import git, mlv, origin_and_store, random_bytes, write

FILES = {"a.bin": random_bytes(40_000, seed=1), "data/b.bin": random_bytes(90_000, seed=2)}


def _pointers_in_worktree(repo: Path) -> None:
    for name in FILES:  # as a checkout without the data leaves them
        (repo / name).write_bytes(git("cat-file", "blob", f"HEAD:{name}", cwd=repo).stdout)


def _index_sizes(repo: Path) -> list[int]:
    """The sizes git's index records for FILES (a pointer's size until git re-stats the file)."""
    out = git("ls-files", "--debug", *FILES, cwd=repo).stdout.decode()
    return [int(line.split("size: ")[1].split()[0]) for line in out.splitlines() if "size: " in line]


def _committed(repo: Path) -> None:
    for name, data in FILES.items():
        write(repo / name, data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)


def test_checkout_under_a_lock_held_throughout_writes_the_files_and_warns(repo: Path) -> None:
    _committed(repo)
    _pointers_in_worktree(repo)
    lock = repo / ".git" / "index.lock"
    lock.write_bytes(b"")  # what a running git holds (O_EXCL): git-mlv must not take or remove it
    p = mlv("checkout", cwd=repo, check=False)
    assert p.returncode == 0, p.stderr
    err = p.stderr.decode()
    assert "another git process held git's index (its index.lock)" in err and "Traceback" not in err
    assert "update-index" not in err
    assert lock.exists()
    for name, data in FILES.items():
        assert (repo / name).read_bytes() == data
    lock.unlink()
    assert git("status", "--porcelain", cwd=repo).stdout == b""  # git re-read them: the same pointers
    assert _index_sizes(repo) == [len(d) for d in FILES.values()]


def test_pull_waits_for_a_lock_released_soon(repo: Path, tmp_path: Path) -> None:
    origin = origin_and_store(repo, tmp_path, files=0)
    _committed(repo)
    git("push", "-q", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "-c", "mlv.fetchExclude=*", str(origin), str(clone), cwd=tmp_path)
    assert _index_sizes(clone) != [len(d) for d in FILES.values()]
    lock = clone / ".git" / "index.lock"
    lock.write_bytes(b"")
    release = threading.Timer(1.0, lock.unlink)
    release.start()
    started = time.monotonic()
    p = mlv("pull", "-X", "", cwd=clone, check=False)
    release.join()
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - started > 1.0
    assert b"index.lock" not in p.stderr and b"update-index" not in p.stderr
    for name, data in FILES.items():
        assert (clone / name).read_bytes() == data
    assert _index_sizes(clone) == [len(d) for d in FILES.values()]  # re-stated by the pull itself
    assert git("status", "--porcelain", cwd=clone).stdout == b""
