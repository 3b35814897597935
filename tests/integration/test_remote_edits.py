"""`git mlv remote add/modify/remove` beside a pipeline: git locks a config file by creating
`<file>.lock`, and `.gitmlv.lock` is the pipeline's own lock file (DESIGN.md), so editing `.gitmlv`
with `git config -f` failed once a stage had run ("could not lock config file"), and `remove`
said it removed a remote it had not (found trying the CLI as a new user)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from git_mlv.remotes.base import RemoteError
from git_mlv.remotes.url import open_remote
from tests.helpers import git, mlv, write


def _keys(repo: Path) -> dict[str, str]:
    raw = git("config", "-f", str(repo / ".gitmlv"), "-l", "-z", cwd=repo).stdout.decode()
    return dict(item.split("\n", 1) for item in raw.split("\0") if item)


def test_remotes_are_edited_beside_the_pipelines_lock(repo: Path, tmp_path: Path) -> None:
    mlv("run", "-n", "make", "-o", "out.bin", "--", sys.executable, "-c",
        "open('out.bin', 'wb').write(b'x' * 5000)", cwd=repo)
    lock = (repo / ".gitmlv.lock").read_bytes()  # the pipeline's, written by the run
    assert b'[stage "make"]' in lock

    mlv("remote", "add", "store", str(tmp_path / "a"), "--default", cwd=repo)
    keys = _keys(repo)
    assert keys["remote.store.url"] == str(tmp_path / "a") and keys["core.remote"] == "store"
    assert keys["stage.make.out"] == "out.bin"  # the stage is still there

    mlv("remote", "modify", "store", "url", str(tmp_path / "b"), cwd=repo)
    assert _keys(repo)["remote.store.url"] == str(tmp_path / "b")

    mlv("remote", "remove", "store", cwd=repo)
    keys = _keys(repo)
    assert not any(k.startswith("remote.") or k == "core.remote" for k in keys), keys
    assert keys["stage.make.out"] == "out.bin"
    assert (repo / ".gitmlv.lock").read_bytes() == lock  # never touched
    assert not list(repo.glob(".gitmlv-edit-*"))  # no copy left behind


def test_a_relative_folder_url_typed_in_a_subfolder_is_taken_from_there(repo: Path) -> None:
    """Relative folder URLs are stored relative to the repository's root (docs/remotes.md), but
    typed relative to where the user is, as every other path the CLI takes."""
    sub = repo / "sub" / "deeper"
    sub.mkdir(parents=True)
    mlv("remote", "add", "near", "../store", "--default", cwd=sub)
    assert _keys(repo)["remote.near.url"] == "sub/store"
    mlv("remote", "modify", "near", "url", "../../elsewhere", cwd=sub)
    assert _keys(repo)["remote.near.url"] == "elsewhere"
    mlv("remote", "add", "top", "../store", cwd=repo)  # at the root: as typed
    assert _keys(repo)["remote.top.url"] == "../store"


def test_push_never_creates_a_folder_remote_that_is_gone(repo: Path, tmp_path: Path) -> None:
    """`remote add` creates a new folder remote's folder; afterwards a missing folder (a share not
    mounted, a folder moved) is an error, not a new empty remote that the push fills and reports
    as done (and that `prune` would then trust)."""
    share = tmp_path / "mnt" / "store"
    mlv("remote", "add", "store", str(share), "--default", cwd=repo)
    assert share.is_dir()
    (repo / "a.bin").write_bytes(b"x" * 30_000)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    share.rmdir()  # unmounted
    proc = mlv("push", cwd=repo, check=False)
    err = proc.stderr.decode().strip()
    assert proc.returncode != 0 and "does not exist" in err and "\n" not in err, err
    assert not share.exists()  # nothing created
    share.mkdir()
    assert mlv("push", cwd=repo).returncode == 0 and list((share / "packs").glob("*.idx"))


def test_a_folder_that_is_gone_is_no_empty_remote_to_read_either(tmp_path: Path) -> None:
    """Listing a folder remote whose folder is gone: for a command, an error (a fetch said "not on
    the remote" for every file); for the library's own use (tests, tools), an empty remote."""
    gone = str(tmp_path / "gone")
    with pytest.raises(RemoteError, match="does not exist"):
        open_remote(gone, create_folder=False).list("packs/")
    assert open_remote(gone).list("packs/") == {}
    (tmp_path / "gone").mkdir()
    assert open_remote(gone, create_folder=False).list("packs/") == {}  # new and empty: fine


def test_a_folder_remote_inside_the_work_tree_is_warned_about(repo: Path) -> None:
    """`git mlv remote add x 'not a url'` made a folder in the work tree, whose packs a push then
    left in `git status`: said at once, unless .gitignore already keeps it out."""
    proc = mlv("remote", "add", "x", "not a url", cwd=repo)
    err = proc.stderr.decode()
    assert "inside this repository's work tree" in err and "remote modify x url" in err
    write(repo / ".gitignore", b"/store/\n")
    assert b"work tree" not in mlv("remote", "add", "kept", "store", cwd=repo).stderr  # ignored
    assert b"work tree" not in mlv("remote", "add", "out", "../elsewhere", cwd=repo).stderr
