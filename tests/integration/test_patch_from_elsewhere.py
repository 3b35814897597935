"""A data commit that arrives as a patch (`git format-patch` in one clone, `git am` in another)
before its data is on the remote: `git mlv status` named the commit and said "`git push` or `git mlv
push --all` sends it", but the data is in neither place and the push stops ("the data of 1 file(s)
is neither here nor on 'store'"). Status now says so, and what brings the data."""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, random_bytes, write


def test_status_does_not_promise_a_push_of_data_that_is_not_here(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(30_000, 1))
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("push", "-q", str(origin), "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)

    write(repo / "data" / "a.bin", random_bytes(40_000, 2))
    git("commit", "-q", "-am", "v2", cwd=repo)
    patch = git("format-patch", "-1", "--stdout", cwd=repo).stdout
    git("am", "-q", cwd=clone, input=patch)
    text = out(mlv("status", cwd=clone))
    assert "Commits whose data is not all on remote 'store' (1 file(s); 1 of them not here either, " \
           "so `git push` stops" in text, text
    assert "`git mlv push --all` sends it" not in text, text
    assert git("push", "-q", "origin", "main", cwd=clone, check=False).returncode != 0

    mlv("push", cwd=repo)  # what the line says: the data from the clone that made it
    mlv("pull", cwd=clone)
    assert (clone / "data" / "a.bin").read_bytes() == random_bytes(40_000, 2)
    assert "Everything is in place and on remote 'store'" in out(mlv("status", cwd=clone))
    git("push", "-q", "origin", "main", cwd=clone)


def test_status_still_sends_unpushed_data_here_to_the_push(repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "data" / "a.bin", random_bytes(30_000, 3))
    git("add", ".", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    text = out(mlv("status", cwd=repo))
    assert "(1 file(s); `git mlv push --all` sends it)" in text, text
