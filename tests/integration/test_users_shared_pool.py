"""A pool shared by the clones of several users of one group (``mlv.pool`` on a group folder,
``core.sharedRepository=group``, README "Settings").

Every clone leaves a record in ``<pool>/clones/`` (ops/sharedpool.py). Its folder was made with
``os.makedirs``, so with the umask's mode (0755), not the group's: the second user of the group
could not write a record there, and that error (fsutil's FileSystemError, which the best-effort
``except OSError`` did not catch) ended every command of theirs: commit, status, du.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import BIN, commit_all, git, mlv, random_bytes, write


def test_clone_records_get_the_groups_mode(tmp_path: Path, repo: Path) -> None:
    pool = tmp_path / "pool"
    git("config", "core.sharedRepository", "group", cwd=repo)
    git("config", "mlv.pool", str(pool), cwd=repo)
    old = os.umask(0o022)
    try:
        write(repo / "a.bin", random_bytes(20_000, seed=1))
        commit_all(repo, "v1")
        mlv("status", cwd=repo)
    finally:
        os.umask(old)
    clones = pool / "clones"
    assert stat.S_IMODE(clones.stat().st_mode) & 0o070 == 0o070, oct(clones.stat().st_mode)  # 0755 before
    for record in clones.iterdir():
        assert stat.S_IMODE(record.stat().st_mode) & 0o060 == 0o060
    for folder in pool.iterdir():
        if folder.is_dir():
            assert stat.S_IMODE(folder.stat().st_mode) & 0o070 == 0o070, folder


USERS = ("mlvtest-a", "mlvtest-b")
GROUP = "mlvtest-team"


@pytest.fixture
def two_users() -> Iterator[Path]:
    """Two new users in a new group, and a scratch folder both can reach; removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("creating users needs root (CI runs as root)")
    if not shutil.which("useradd") or not shutil.which("runuser"):
        pytest.skip("useradd and runuser are needed to act as another user")
    made: list[str] = []
    top = Path(tempfile.mkdtemp(prefix="mlv-users-", dir="/tmp"))
    try:
        subprocess.run(["groupadd", GROUP], check=True, capture_output=True)
        for user in USERS:
            subprocess.run(["useradd", "-M", "-d", str(top / user), "-G", GROUP, user], check=True,
                           capture_output=True)
            made.append(user)
        probe = subprocess.run(["runuser", "-u", USERS[0], "--", sys.executable, "-c", "import git_mlv"],
                               capture_output=True, cwd="/")
        if probe.returncode != 0:
            pytest.skip(f"another user cannot run this virtualenv's python ({sys.executable}): "
                        f"{probe.stderr.decode().strip().splitlines()[-1:]}")
        os.chmod(top, 0o755)
        shared = top / "shared"
        shared.mkdir()
        shutil.chown(shared, group=GROUP)
        os.chmod(shared, 0o2775)
        for user in USERS:
            (top / user).mkdir()
            shutil.chown(top / user, user=user)
        yield top
    finally:
        for user in made:
            subprocess.run(["userdel", user], capture_output=True)
        subprocess.run(["groupdel", GROUP], capture_output=True)
        shutil.rmtree(top, ignore_errors=True)


def _as(user: str, top: Path, script: str) -> subprocess.CompletedProcess[bytes]:
    home = top / user
    env = {"HOME": str(home), "PATH": f"{BIN}:/usr/bin:/bin", "GIT_CONFIG_NOSYSTEM": "1",
           "LANG": "C.UTF-8", "USER": user}
    if "PYTHONPATH" in os.environ:  # (running the test against another copy of git_mlv)
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    runuser = shutil.which("runuser") or "runuser"  # in /sbin, not on the user's PATH
    return subprocess.run([runuser, "-u", user, "--", "sh", "-ec", f"umask 022; {script}"],
                          cwd=str(home), env=env, capture_output=True)


def test_two_users_of_a_group_share_one_pool(two_users: Path) -> None:
    pool = two_users / "shared" / "pool"
    setup = (f"git config --global user.name U; git config --global user.email u@u; "
             f"git config --global init.defaultBranch main; git mlv install >/dev/null; "
             f"git init -q r; cd r; git config core.sharedRepository group; "
             f"git config mlv.pool {pool}; git mlv track '*.bin' >/dev/null; ")
    for n, user in enumerate(USERS):
        data = two_users / user / "data.bin"
        data.write_bytes(random_bytes(50_000, seed=n))
        shutil.chown(data, user=user)
        p = _as(user, two_users, setup + "mv ../data.bin a.bin; git add -A; git commit -qm v1; "
                "git mlv status; git mlv du >/dev/null; rm a.bin; git checkout -q a.bin")
        assert p.returncode == 0, (user, p.stderr.decode())
        assert p.stderr == b"", p.stderr.decode()
        assert (two_users / user / "r" / "a.bin").read_bytes() == random_bytes(50_000, seed=n)
    assert len(list((pool / "clones").iterdir())) == 2
