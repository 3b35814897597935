"""A team moves its data remote (remote remove, remote add, commit .gitmlv), then pushes a tag of
an older release, whose .gitmlv names the old remote.

Before, the pre-push hook warned "data remote 'new' (...) is in your .gitmlv, but the .gitmlv of
the pushed commit ... does not name it: a clone will not find this data. Commit .gitmlv and push
again" about the tag: false (a clone of the tag reads the old remote its .gitmlv names, which
holds its data) and impossible to follow (no commit changes a tag's .gitmlv).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, random_bytes, write


def test_pushing_an_old_tag_after_the_remote_moved_does_not_warn(repo: Path, tmp_path: Path) -> None:
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "old", str(tmp_path / "old"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(30_000, seed=1))
    commit_all(repo, "v1")
    git("tag", "v1", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    mlv("remote", "remove", "old", cwd=repo)
    mlv("remote", "add", "new", str(tmp_path / "new"), "--default", cwd=repo)
    write(repo / "b.bin", random_bytes(30_000, seed=2))
    commit_all(repo, "moved")
    res = git("push", "origin", "main", "v1", cwd=repo)
    assert b"a clone will not find this data" not in res.stderr, res.stderr.decode()
    clone = tmp_path / "clone"
    git("clone", "-q", "-b", "v1", str(origin), str(clone), cwd=tmp_path)
    assert (clone / "a.bin").read_bytes() == random_bytes(30_000, seed=1)  # from the old remote
    # the warning still comes for the tip being pushed whose .gitmlv lacks the remote
    mlv("remote", "add", "third", str(tmp_path / "third"), "--default", cwd=repo)  # not committed
    write(repo / "c.bin", random_bytes(30_000, seed=3))
    git("add", "c.bin", cwd=repo)
    git("commit", "-q", "-m", "c", cwd=repo)
    res = git("push", "origin", "main", cwd=repo)
    assert b"a clone will not find this data" in res.stderr, res.stderr.decode()
