"""An SFTP data remote shared by a group: what a push creates follows the remote folder's group
bits (remotes/sharemodes.py), as a folder remote's does (test_folder_shared_modes.py). Before,
sftp-server's umask gave ``packs/`` 0755 and packs 0644 in a team's ``chmod 2775`` folder: the
other members' pushes, consolidations and ``gc --remote`` could not write there. The sshd of the
fixture serves this machine's files, so the modes are read here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers import commit_all, mlv, random_bytes, write
from tests.remotes.conftest import make_backend

# the usual umask for git-mlv (sshd's own is its setting: the fixture's inherits the runner's)
from tests.remotes.test_folder_shared_modes import _modes, umask_022  # noqa: F401 - autouse fixture


def test_a_push_over_sftp_into_a_team_folder_leaves_it_writable_by_the_team(
        repo: Path, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = make_backend("ssh", request, tmp_path, monkeypatch)
    store = tmp_path / "store"
    store.mkdir()
    os.chmod(store, 0o2775)  # a team's shared folder
    backend.configure(repo)
    write(repo / "a.bin", random_bytes(60_000, seed=1))
    commit_all(repo, "v1")
    mlv("push", cwd=repo)
    folders, files = _modes(store)
    assert folders and files
    assert all(m & 0o2070 == 0o2070 for m in folders), [oct(m) for m in folders]  # 0o755 before
    assert all(m & 0o060 == 0o060 for m in files), [oct(m) for m in files]  # 0o644 before
    assert not any(m & 0o002 for m in folders | files)  # never the others' write


def test_a_private_folder_stays_as_the_server_makes_it(
        repo: Path, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    backend = make_backend("ssh", request, tmp_path, monkeypatch)
    store = tmp_path / "store"
    store.mkdir()
    os.chmod(store, 0o700)
    backend.configure(repo)
    write(repo / "a.bin", random_bytes(60_000, seed=2))
    commit_all(repo, "v1")
    mlv("push", cwd=repo)
    folders, files = _modes(store)
    # no group write, no setgid: what the server's umask gave (a folder granting the group nothing)
    assert not any(m & 0o2020 for m in folders | files), ([oct(m) for m in folders], [oct(m) for m in files])
