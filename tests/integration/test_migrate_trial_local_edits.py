"""from-lfs and from-dvc with uncommitted edits to files the migration rewrites (other than data).

Regression: only the root ``.gitattributes`` was checked. An edited ``a/.gitattributes`` (git-lfs
lines in a folder) was left as it was beside the new commit, with a warning: it still sent
``a/b/x.dat`` to git-lfs, so the file showed as modified and ``git commit -a`` stored a git-lfs
pointer again. A ``dvc.lock`` that a ``dvc repro`` had rewritten and nobody committed was left
untracked, and the new ``.gitmlv.lock``, made from the committed one, called the stage stale: a
training run done again. The migration now refuses before any ref moves, naming the files.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers import git, mlv, out, random_bytes, write
from tests.integration.test_migrate_dvc import dvc, dvc_env, dvc_repo  # noqa: F401  (dvc_env: a fixture)


def _refs(repo: Path) -> str:
    return out(git("for-each-ref", cwd=repo))


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_from_lfs_refuses_an_edited_folder_gitattributes(tmp_path: Path, mode: list[str]) -> None:
    assert shutil.which("git-lfs"), "git-lfs is not installed (apt-get install git-lfs; .ci/run does)"
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    git("lfs", "install", "--local", cwd=repo)
    (repo / "a").mkdir()
    git("lfs", "track", "b/*.dat", cwd=repo / "a")
    write(repo / "a" / "b" / "x.dat", random_bytes(3000, seed=1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "c1", cwd=repo)
    with open(repo / "a" / ".gitattributes", "a") as f:
        f.write("*.psd filter=lfs diff=lfs merge=lfs -text\n")
    before = _refs(repo)
    p = mlv("migrate", "from-lfs", *mode, cwd=repo, check=False)
    err = p.stderr.decode()
    assert p.returncode == 1, (p.returncode, err, out(p))
    assert err == ("git-mlv: error: a/.gitattributes: uncommitted changes to file(s) the migration "
                   "rewrites; commit or stash them first (nothing was changed)\n"), err
    assert _refs(repo) == before  # no ref moved, no backup, no scratch ref left
    assert b"*.psd" in (repo / "a" / ".gitattributes").read_bytes()
    git("commit", "-q", "-am", "psd", cwd=repo)
    mlv("migrate", "from-lfs", *mode, cwd=repo)
    assert out(git("status", "--porcelain", cwd=repo)) == ""
    assert (repo / "a" / ".gitattributes").read_text() == (
        "b/*.dat filter=mlv diff=mlv merge=mlv -text\n*.psd filter=mlv diff=mlv merge=mlv -text\n")


def test_from_dvc_refuses_an_uncommitted_dvc_lock(tmp_path: Path, dvc_env: Path) -> None:  # noqa: F811
    repo = dvc_repo(tmp_path)
    write(repo / "params.yaml", b"lr: 1\n")
    write(repo / "dvc.yaml", b"stages:\n  train:\n    cmd: cp params.yaml model.txt\n"
                             b"    params: [lr]\n    outs: [model.txt]\n")
    dvc("repro", "-q", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    write(repo / "params.yaml", b"lr: 2\n")
    dvc("repro", "-q", cwd=repo)  # the run nobody committed yet
    before = _refs(repo)
    p = mlv("migrate", "from-dvc", cwd=repo, check=False)
    assert p.returncode == 1, (p.stderr.decode(), out(p))
    assert p.stderr.decode().startswith("git-mlv: error: dvc.lock: uncommitted changes"), p.stderr.decode()
    assert _refs(repo) == before
    git("commit", "-q", "-am", "v2", cwd=repo)
    mlv("migrate", "from-dvc", cwd=repo)
    assert "Everything is up to date." in out(mlv("repro", "--dry-run", cwd=repo))
