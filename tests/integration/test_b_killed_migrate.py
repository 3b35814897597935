"""`git mlv migrate import` killed after it moved the branch, before it updated index and work tree.

The refs move in one transaction at the very end; then the index and work tree are brought along
(ops/migrate_sync.py). A kill -9 between the two (seen 1 in 10 random kills of a 1 s migration
here) left the new commit checked out over the old index: `git status` showed `.gitattributes`
deleted and every converted file modified, staged; the rerun refused (".gitattributes has
uncommitted changes; commit or stash them first"), and committing as told would have put the
data back into git and dropped the migration's attributes. The state is made here as the kill
leaves it: the migration runs, then the index and `.gitattributes` it replaced are put back.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from git_mlv.gitio.catfile import CatFile
from git_mlv.ops.context import Workspace
from git_mlv.ops.migrate_sync import finish_killed_move
from tests.helpers import git, mlv, random_bytes, sha256_file, write


def _killed_after_move(tmp_path: Path) -> tuple[Path, dict[str, str], str]:
    repo = tmp_path / "plain"
    git("init", "-q", str(repo), cwd=tmp_path)
    write(repo / "readme", b"hi\n")
    write(repo / "data" / "a.bin", random_bytes(60_000, seed=21))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "one", cwd=repo)
    write(repo / "data" / "b.bin", random_bytes(60_000, seed=22))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "two", cwd=repo)
    shas = {p: sha256_file(repo / p) for p in ("data/a.bin", "data/b.bin")}
    shutil.copy(repo / ".git" / "index", tmp_path / "index.old")
    mlv("migrate", "import", "--include", "data/**", "--everything", cwd=repo)
    migrated = git("rev-parse", "HEAD", cwd=repo).stdout.decode().strip()
    shutil.copy(tmp_path / "index.old", repo / ".git" / "index")  # as the kill left them
    (repo / ".gitattributes").unlink()
    assert git("status", "--porcelain", cwd=repo).stdout.decode().split() == [
        "D", ".gitattributes", "M", "data/a.bin", "M", "data/b.bin"]
    return repo, shas, migrated


def _finished(repo: Path, shas: dict[str, str], migrated: str) -> None:
    assert git("rev-parse", "HEAD", cwd=repo).stdout.decode().strip() == migrated
    assert git("status", "--porcelain", cwd=repo).stdout == b""
    assert b"filter=mlv" in (repo / ".gitattributes").read_bytes()
    for p, sha in shas.items():
        assert sha256_file(repo / p) == sha
        assert git("cat-file", "-p", f":{p}", cwd=repo).stdout.startswith(b"version ")


def test_finish_killed_move(tmp_path: Path) -> None:
    repo, shas, migrated = _killed_after_move(tmp_path)
    ws = Workspace.discover(str(repo))
    with CatFile(ws.repo) as cat:
        assert finish_killed_move(ws, cat) == "main"
        assert finish_killed_move(ws, cat) is None  # done: the index holds the new tree
    _finished(repo, shas, migrated)
    # a later commit of the user's (reflog message set): never taken for a killed migration
    write(repo / "readme", b"edited\n")
    git("commit", "-q", "-am", "three", cwd=repo)
    git("reset", "-q", "--soft", "HEAD~", cwd=repo)
    ws = Workspace.discover(str(repo))
    with CatFile(ws.repo) as cat:
        assert finish_killed_move(ws, cat) is None
    assert git("diff", "--cached", "--name-only", cwd=repo).stdout == b"readme\n"


def test_rerun_after_a_kill_between_move_and_checkout_finishes(tmp_path: Path) -> None:
    repo, shas, migrated = _killed_after_move(tmp_path)
    mlv("migrate", "import", "--include", "data/**", "--everything", cwd=repo)
    _finished(repo, shas, migrated)
