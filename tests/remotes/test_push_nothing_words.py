"""A push whose data the remote already holds says so.

Before, every push ended "git-mlv: pushed data of 0 file(s), 0 B to 'store' (...); 0 file(s)
already there" when it had nothing to send: read as a failure (was anything pushed? is the data
there?), and "0 file(s) already there" was false where the pushed commits' data was verified on
the remote (the pre-push hook walks only commits not verified yet).
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import commit_all, git, mlv, origin_and_store, random_bytes, write


def _summary(stderr: bytes) -> str:
    lines = [x for x in stderr.decode().splitlines() if x.startswith("git-mlv:")]
    assert len(lines) == 1, lines
    return lines[0]


def test_a_push_with_nothing_to_send_says_the_remote_has_the_data(repo: Path, tmp_path: Path) -> None:
    origin_and_store(repo, tmp_path, files=2)
    store = tmp_path / "store"
    assert "pushed data of 2 file(s)" in _summary(mlv("push", cwd=repo).stderr)
    # nothing verified yet (no git push): every file of HEAD is looked at, and is there
    assert _summary(mlv("push", cwd=repo).stderr) == (
        f"git-mlv: nothing to push: 'store' ({store}) already has the data of 2 file(s)")
    # the hook: the pushed commits' files are there; and once verified, nothing new to walk
    first = _summary(git("push", "origin", "main", cwd=repo).stderr)
    assert first.startswith("git-mlv: nothing to push: 'store'"), first
    again = _summary(git("push", "origin", "main:other", cwd=repo).stderr)
    assert again == f"git-mlv: nothing to push: 'store' ({store}) already has the data of the pushed commits"
    # git mlv push of a verified commit: the files are as in it
    head = git("rev-parse", "HEAD", cwd=repo).stdout.decode().strip()
    assert _summary(mlv("push", cwd=repo).stderr) == (
        f"git-mlv: nothing to push: the files are as in {head[:12]}, whose data 'store' ({store}) holds")
    # a push that sends something still counts what it sent
    write(repo / "new.bin", random_bytes(20_000, seed=5))
    commit_all(repo, "new")
    line = _summary(mlv("push", cwd=repo).stderr)
    assert line.startswith("git-mlv: pushed data of 1 file(s), ") and "nothing to push" not in line, line
