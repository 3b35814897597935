"""A folder data remote shared by a group: what a push creates there follows the folder's mode
(remotes/local.py, FolderRemote), as git's objects follow a shared repository's config.

Before, folders and files were made with the umask's mode (0755, 0644) whatever the remote folder
was: in a team folder (``chmod 2775``, group ``team``), the first member's push made ``packs/``
0755, and every other member's push failed with "permission denied writing .../packs/pack-....pack".
`git mlv remote add` made the folder itself 0755 too, in a team folder or with
``core.sharedRepository=group``. A second user cannot run the test virtualenv here (it lives under
/root, 0700: tests/integration/test_users_shared_pool.py skips for that), so these tests check the
modes, which is what the second user's push depended on (checked by hand with two users and a
copy of the interpreter they could run).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import commit_all, git, mlv, random_bytes, write


@pytest.fixture(autouse=True)
def umask_022() -> Iterator[None]:
    """The usual umask, whatever the test runner's (git-mlv runs as a child and inherits it)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _modes(root: Path) -> tuple[set[int], set[int]]:
    """(modes of the folders under ``root``, modes of its files), permission and setgid bits."""
    folders, files = set(), set()
    for dirpath, dirnames, filenames in os.walk(root):
        folders |= {stat.S_IMODE(os.stat(os.path.join(dirpath, d)).st_mode) for d in dirnames}
        files |= {stat.S_IMODE(os.stat(os.path.join(dirpath, f)).st_mode) for f in filenames}
    return folders, files


def _push_some(repo: Path, url: str, seed: int = 1) -> None:
    mlv("remote", "add", "store", url, "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(60_000, seed=seed))
    commit_all(repo, "v1")
    mlv("push", cwd=repo)


def test_a_push_into_a_team_folder_leaves_it_writable_by_the_team(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    os.chmod(store, 0o2775)  # what a team does to its shared folder (git init --shared=group too)
    _push_some(repo, str(store))
    folders, files = _modes(store)
    assert folders == {0o2775}, [oct(m) for m in folders]  # {0o2755} before
    assert files == {0o664}, [oct(m) for m in files]  # {0o644} before
    # a second push adds files the same way (and a consolidation may delete the first's)
    write(repo / "b.bin", random_bytes(30_000, seed=2))
    commit_all(repo, "v2")
    mlv("push", cwd=repo)
    assert _modes(store) == ({0o2775}, {0o664})


def test_a_private_folder_stays_private_and_others_never_get_write(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    os.chmod(store, 0o777)  # world-writable, as a scratch share may be: the data must not become so
    _push_some(repo, str(store))
    folders, files = _modes(store)
    assert all(m & 0o002 == 0 for m in folders | files), [oct(m) for m in folders | files]
    assert folders == {0o775} and files == {0o664}
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    git("init", "-q", str(tmp_path / "other"), cwd=tmp_path)
    other = tmp_path / "other"
    mlv("track", "*.bin", cwd=other)
    _push_some(other, str(private), seed=3)
    assert _modes(private) == ({0o755}, {0o644})  # the umask's, as before


def test_remote_add_makes_a_shared_folder(repo: Path, tmp_path: Path) -> None:
    team = tmp_path / "team"
    team.mkdir()
    os.chmod(team, 0o2775)
    mlv("remote", "add", "store", str(team / "store"), cwd=repo)
    assert stat.S_IMODE((team / "store").stat().st_mode) == 0o2775  # 0o2755 before
    git("config", "core.sharedRepository", "group", cwd=repo)
    mlv("remote", "add", "mine", str(tmp_path / "mine" / "store"), cwd=repo)
    assert stat.S_IMODE((tmp_path / "mine" / "store").stat().st_mode) & 0o2070 == 0o2070


def test_a_folder_an_older_push_made_gets_the_teams_bits_at_the_next_push(repo: Path, tmp_path: Path) -> None:
    store = tmp_path / "store"
    (store / "packs").mkdir(parents=True)
    os.chmod(store / "packs", 0o755)  # an older git-mlv's push, in a folder the team opened since
    os.chmod(store, 0o2775)
    _push_some(repo, str(store))
    assert stat.S_IMODE((store / "packs").stat().st_mode) & 0o070 == 0o070


def test_a_remote_an_older_git_mlv_made_in_a_team_folder_is_opened_to_the_team(
        repo: Path, tmp_path: Path) -> None:
    """An older `remote add` made the root 2755 in the team's 2775 folder, and its pushes made
    packs/ and repos/ 2755: the owner's next push opens all three (repos/ too, though that push
    writes nothing there), so the other members' pushes work without a chmod."""
    team = tmp_path / "team"
    team.mkdir()
    os.chmod(team, 0o2775)
    store = team / "store"
    for folder in (store, store / "packs", store / "repos"):
        folder.mkdir()
        os.chmod(folder, 0o2755)
    _push_some(repo, str(store))
    write(repo / "b.bin", random_bytes(30_000, seed=2))
    commit_all(repo, "v2")
    mlv("push", cwd=repo)  # repos/ was recorded by the first push: this one writes none there
    for folder in (store, store / "packs", store / "repos"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o2775, (folder, oct(folder.stat().st_mode))
