"""A repository whose data git-mlv tracks, used as a submodule of another.

Regression: with git 2.39, `git checkout --recurse-submodules` (or submodule.recurse=true) in the
superproject runs the submodule's checkout as `git --super-prefix=ds/ read-tree -u`, which passes
GIT_INTERNAL_SUPER_PREFIX to our filter; its first `git rev-parse` refused ("rev-parse doesn't
support --super-prefix"), the filter said "not a git repository" and git "Submodule 'ds' could not
be updated": the superproject's checkout stopped half way, the submodule on its old commit.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, write


def test_recursive_checkout_in_the_superproject_moves_the_submodules_data(
        repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(60_000, seed=1))
    commit_all(repo, "v1")
    write(repo / "data" / "a.bin", random_bytes(70_000, seed=2))
    commit_all(repo, "v2")
    mlv("push", "--all", cwd=repo)

    sup = tmp_path / "super"
    sup.mkdir()
    git("init", "-q", cwd=sup)
    git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(repo), "ds", cwd=sup)
    git("commit", "-q", "-m", "ds at v2", cwd=sup)
    git("checkout", "-q", "HEAD~1", cwd=sup / "ds")
    assert (sup / "ds" / "data" / "a.bin").read_bytes() == random_bytes(60_000, seed=1)
    git("commit", "-q", "-am", "ds at v1", cwd=sup)

    for rev, seed, size in (("HEAD~1", 2, 70_000), ("main", 1, 60_000)):
        p = git("-c", "submodule.recurse=true", "checkout", "-q", rev, cwd=sup, check=False)
        assert p.returncode == 0, p.stderr.decode()
        assert (sup / "ds" / "data" / "a.bin").read_bytes() == random_bytes(size, seed=seed)
        assert git("status", "--porcelain", cwd=sup / "ds").stdout == b""
        assert git("status", "--porcelain", cwd=sup).stdout == b""
