"""A push to an SSH remote killed while it uploads a pack leaves a temp file on the server, and
`git mlv gc --remote` deletes it once older than the grace period.

Before, the SFTP upload wrote ``packs/.tmp-<hex>`` and renamed it: a `kill -9` between left that
file (up to a whole pack, mlv.packSize) hidden from every listing, so nothing ever deleted it (8
kills of `git mlv push` to a real sshd left 3 such files here). The temp file is now named after
its object (``.tmp-<hex>-pack-<id>.pack``), and the SSH remote lists them as a folder remote lists
what a killed push staged: gc --remote collects them as it collects any pack without an index.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers import BIN, git, mlv, random_bytes, write
from tests.remotes.conftest import sshd  # noqa: F401 - the fixture, from the remote tests
from tests.remotes.servers import SSHServer


def test_gc_remote_deletes_what_a_killed_ssh_push_left(repo: Path, tmp_path: Path, sshd: SSHServer,  # noqa: F811
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    store = tmp_path / "store"
    mlv("remote", "add", "store", f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{store}", "--default",
        cwd=repo)
    data = random_bytes(300_000, seed=81)
    write(repo / "data.bin", data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)

    env = {**os.environ, "GIT_MLV_TEST_CRASH_AT": "ssh-put-written"}
    proc = subprocess.run([os.path.join(BIN, "git-mlv"), "push"], cwd=repo, env=env, capture_output=True)
    assert proc.returncode == -9, proc.stderr
    left = [p.name for p in (store / "packs").iterdir() if p.name.startswith(".tmp-")]
    assert left  # the pack at the crash point (and any other upload under way)

    mlv("push", cwd=repo)  # a rerun finishes
    git("push", "-q", "origin", "main", cwd=repo)
    assert all((store / "packs" / n).exists() for n in left)  # hidden: only gc --remote deletes them
    mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=repo)
    assert not [p.name for p in (store / "packs").iterdir() if p.name.startswith(".tmp-")]

    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)
    mlv("pull", cwd=clone)
    assert (clone / "data.bin").read_bytes() == data
