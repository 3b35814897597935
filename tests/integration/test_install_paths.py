"""git-mlv installed in a virtualenv, git run where it is not on PATH (another conda env active, an
IDE's git started without the environment): `git mlv install` names the git-mlv it ran from, so
git's filter and our hooks still find it. Before, every checkout of tracked data failed
("git-mlv: not found") and the pre-push hook refused every push."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from git_mlv.gitio.shimtext import HOOKS, previous_shims, shim
from tests.helpers import BIN, commit_all, git, mlv, origin_and_store, random_bytes, sha256_file, write


@pytest.fixture
def without_git_mlv(monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH keeps git and everything else, but no folder holding a git-mlv."""
    folders = [d for d in os.environ["PATH"].split(os.pathsep)
               if d and not os.path.exists(os.path.join(d, "git-mlv"))]
    monkeypatch.setenv("PATH", os.pathsep.join(folders))


def test_git_finds_git_mlv_off_path(repo: Path, tmp_path: Path) -> None:
    origin = origin_and_store(repo, tmp_path, files=2)
    want = {n: sha256_file(repo / n) for n in ("f0.bin", "f1.bin")}
    folders = [d for d in os.environ["PATH"].split(os.pathsep)
               if d and not os.path.exists(os.path.join(d, "git-mlv"))]
    with pytest.MonkeyPatch.context() as mp:  # committed above with git-mlv on PATH; from here, not
        mp.setenv("PATH", os.pathsep.join(folders))
        assert BIN not in folders
        _push_clone_commit(repo, origin, tmp_path, want)


def _push_clone_commit(repo: Path, origin: Path, tmp_path: Path, want: dict[str, str]) -> None:
    push = git("push", "-q", "origin", "main", cwd=repo)  # the pre-push hook uploads the data
    assert b"pushed data of 2 file(s)" in push.stderr, push.stderr
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)  # the filter smudges
    assert {n: sha256_file(clone / n) for n in want} == want

    write(clone / "f0.bin", random_bytes(40_000, seed=7))  # clean, in a commit, then a switch back
    commit_all(clone, "changed")
    pointer = git("cat-file", "-p", "HEAD:f0.bin", cwd=clone).stdout
    assert pointer.startswith(b"version https://git-mlv.dev/spec/v1\n"), pointer[:80]
    git("checkout", "-q", "HEAD~1", cwd=clone)
    assert sha256_file(clone / "f0.bin") == want["f0.bin"]


def test_hook_names_what_to_do_when_git_mlv_is_gone(repo: Path, tmp_path: Path,
                                                    without_git_mlv: None) -> None:
    origin_and_store(repo, tmp_path)
    git("config", "filter.mlv.executable", str(tmp_path / "removed-env" / "bin" / "git-mlv"), cwd=repo)
    p = git("push", "-q", "origin", "main", cwd=repo, check=False)
    assert p.returncode != 0
    assert b"git-mlv is not on PATH: activate the environment it is installed in" in p.stderr


@pytest.mark.parametrize("version", [0, 1])  # v4, v3
def test_earlier_shims_are_replaced(repo: Path, version: int) -> None:
    hooks = repo / ".git" / "hooks"
    for name in HOOKS:
        (hooks / name).write_text(previous_shims(name)[version])
    report = mlv("install", "--local", cwd=repo).stdout.decode()
    for name in HOOKS:
        assert (hooks / name).read_text() == shim(name), name
        assert name in report
    for name in HOOKS:  # and the filter's own check at its start, without an install
        (hooks / name).write_text(previous_shims(name)[version])
    write(repo / "data" / "a.bin", random_bytes(5000, seed=3))
    git("add", "data", cwd=repo)
    for name in HOOKS:
        assert (hooks / name).read_text() == shim(name), name


def test_status_says_when_the_installed_git_mlv_is_gone(repo: Path, tmp_path: Path) -> None:
    """The environment `install` ran from was deleted: git fails every checkout with "not found",
    and status says why and what to do."""
    assert b"is not there any more" not in mlv("status", cwd=repo).stderr
    gone = tmp_path / "deleted-env" / "bin" / "git-mlv"
    git("config", "filter.mlv.executable", str(gone), cwd=repo)
    err = mlv("status", cwd=repo).stderr.decode()
    assert f"git runs git-mlv at {gone}" in err and "run `git mlv install` again" in err
