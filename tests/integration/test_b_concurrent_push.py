"""Two pushes of one clone to one data remote at once (two terminals; the pre-push hooks of two
linked worktrees) lose nothing.

Before, each push began by deleting the packs the clone's ``pending`` list named without an index
on the remote: a crash's leftovers, or, as here, the packs of the other push in flight. The
first push, held between a pack and its index, then wrote an index naming a deleted pack (a
remote whose index says it holds data it does not) and failed on its next pack ("pack-... does
not exist", exit 5). Now a push collects only while no other upload of the pool to that remote
holds ``push.lock`` (remotes/pending.py).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

from tests.helpers import BIN, git, mlv, random_bytes, sha256_file, write
from tests.remotes.test_readonly_cache import _mount_read_only, mounts  # noqa: F401 - the fixture


def _wait_for(path: Path, proc: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the push never reached the pause point"
        time.sleep(0.01)


def _committed(repo: Path, tmp_path: Path) -> tuple[Path, Path, dict[str, bytes]]:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    store = tmp_path / "store"
    mlv("remote", "add", "store", str(store), "--default", cwd=repo)
    files = {f"data/f{i}.bin": random_bytes(150_000, seed=4200 + i) for i in range(5)}
    for name, data in files.items():
        write(repo / name, data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    return origin, store, files


def _while_held(repo: Path, tmp_path: Path, other: Path) -> subprocess.CompletedProcess[bytes]:
    """`git mlv push` in ``repo`` held between its first pack and that pack's index, while
    `git mlv push` runs in ``other``; both must succeed. The other's result."""
    paused, resume = tmp_path / "paused", tmp_path / "resume"
    env = {**os.environ, "GIT_MLV_TEST_PAUSE_AT": "push-pack-published",
           "GIT_MLV_TEST_PAUSED": str(paused), "GIT_MLV_TEST_RESUME": str(resume)}
    first = subprocess.Popen([os.path.join(BIN, "git-mlv"), "push"], cwd=repo, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for(paused, first)  # its first pack is on the remote, its index not yet
        second = mlv("push", cwd=other, check=False)
    finally:
        resume.touch()
        out, err = first.communicate(timeout=60)
    assert second.returncode == 0, second.stderr
    assert first.returncode == 0, err
    return second


def _remote_whole(origin: Path, store: Path, tmp_path: Path, files: dict[str, bytes]) -> None:
    names = set(os.listdir(store / "packs"))
    no_pack = [n for n in names if n.endswith(".idx") and n[:-4] + ".pack" not in names]
    assert not no_pack  # an index on the remote names a pack that is not there
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    mlv("pull", cwd=clone)
    for name, data in files.items():
        assert sha256_file(clone / name) == hashlib.sha256(data).hexdigest()
        assert (clone / name).read_bytes() == data


def test_two_pushes_of_one_clone_at_once(repo: Path, tmp_path: Path) -> None:
    origin, store, files = _committed(repo, tmp_path)
    _while_held(repo, tmp_path, repo)
    _remote_whole(origin, store, tmp_path, files)


def test_a_push_from_a_read_only_mount_of_the_clone(repo: Path, tmp_path: Path,
                                                    mounts: list[Path]) -> None:  # noqa: F811
    """The other push sees the clone through a read-only mount: its cache state moves to a
    scratch folder, seeded with ``pending`` (the held push's names). Its push.lock must still be
    the clone's, not one in the scratch folder that nobody else holds."""
    origin, store, files = _committed(repo, tmp_path)
    mlv("push", cwd=repo)  # (the cache folder and its lock file exist, as after any push)
    write(repo / "data" / "more.bin", random_bytes(300_000, seed=4300))
    files["data/more.bin"] = (repo / "data" / "more.bin").read_bytes()
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "more", cwd=repo)
    git("push", "-q", "--no-verify", "origin", "main", cwd=repo)
    view = tmp_path / "view"
    _mount_read_only(repo, view, mounts)
    _while_held(repo, tmp_path, view)
    _remote_whole(origin, store, tmp_path, files)
