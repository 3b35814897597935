"""from-lfs leaves alone a file that holds git-lfs pointer text at a path git-lfs never filtered.

Regression: every blob that looked like a git-lfs pointer was converted, whatever .gitattributes
said. A test fixture holding pointer text (tests/fixtures/pointer.txt, plain git) then stopped the
migration ("git-lfs object(s) are not in .git/lfs/objects ...; run `git lfs fetch --all`", which
cannot help: the fixture names no real object), or, its object present, changed bytes. Now only
paths a filter=lfs line of the history applies to (root and folder .gitattributes) are converted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from git_mlv.core.pointer import Pointer
from tests.helpers import git, mlv, out, random_bytes, write

FIXTURE = (b"version https://git-lfs.github.com/spec/v1\n"
           b"oid sha256:" + b"4d7a" * 16 + b"\nsize 12345\n")


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_pointer_text_outside_lfs_patterns_is_kept(tmp_path: Path, mode: list[str]) -> None:
    assert shutil.which("git-lfs"), "git-lfs is not installed (apt-get install git-lfs; .ci/run does)"
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    git("lfs", "install", "--local", cwd=repo)
    write(repo / "tests" / "fixtures" / "pointer.txt", FIXTURE)  # plain git: no lfs line yet
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "fixture", cwd=repo)
    write(repo / "data" / ".gitattributes", b"*.bin filter=lfs diff=lfs merge=lfs -text\n")
    model = random_bytes(5000, seed=1)
    write(repo / "data" / "model.bin", model)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "model", cwd=repo)
    assert git("cat-file", "-p", "HEAD:data/model.bin", cwd=repo).stdout.startswith(b"version https://git-lfs")

    res = out(mlv("migrate", "from-lfs", *mode, "-q", cwd=repo))
    assert "Converted 1 git-lfs file(s)" in res, res
    for rev in ("HEAD", "HEAD~1") if mode else ("HEAD",):
        assert git("cat-file", "blob", f"{rev}:tests/fixtures/pointer.txt", cwd=repo).stdout == FIXTURE
    assert Pointer.parse(git("cat-file", "blob", "HEAD:data/model.bin", cwd=repo).stdout).size == 5000
    shutil.rmtree(repo / ".git" / "lfs")
    (repo / "data" / "model.bin").unlink()
    git("checkout", "--", "data/model.bin", cwd=repo)
    assert (repo / "data" / "model.bin").read_bytes() == model
    assert (repo / "tests" / "fixtures" / "pointer.txt").read_bytes() == FIXTURE
    assert out(git("status", "--porcelain", cwd=repo)) == ""


@pytest.mark.parametrize("mode", [[], ["--everything"]])
def test_staged_pointer_text_outside_lfs_patterns_is_kept(tmp_path: Path, mode: list[str]) -> None:
    """The same for files staged before the migration: a staged git-lfs file is converted in the
    index, a staged fixture holding pointer text stays as it is (before: converted, or the
    migration stopped on its missing object)."""
    assert shutil.which("git-lfs"), "git-lfs is not installed (apt-get install git-lfs; .ci/run does)"
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    git("lfs", "install", "--local", cwd=repo)
    git("lfs", "track", "*.bin", cwd=repo)
    write(repo / "a.bin", random_bytes(3000, seed=1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "a", cwd=repo)
    write(repo / "tests" / "pointer.txt", FIXTURE)
    write(repo / "b.bin", random_bytes(4000, seed=2))
    git("add", "-A", cwd=repo)
    out(mlv("migrate", "from-lfs", *mode, "-q", cwd=repo))
    assert git("cat-file", "blob", ":tests/pointer.txt", cwd=repo).stdout == FIXTURE
    assert Pointer.parse(git("cat-file", "blob", ":b.bin", cwd=repo).stdout).size == 4000
