"""`migrate import` of the checked-out branch alone, in a repository with tags and other branches.

Regression: only the branch moved (as documented), but nothing said that the tags and branches of
its history still pointed at the old, unconverted commits: `git push --tags` or a checkout of a
release tag brought the big blobs back, and the user thought the history converted. The summary
now names them; converting them as REFs lands them on the same new commits.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, random_bytes, write


def test_refs_left_on_the_old_history_are_named(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git("init", "-q", str(repo), cwd=tmp_path)
    for i in range(3):
        write(repo / "model.bin", random_bytes(5000 + i, seed=i))
        git("add", "-A", cwd=repo)
        git("commit", "-q", "-m", f"c{i}", cwd=repo)
        if i == 0:
            git("tag", "-a", "v1", "-m", "release 1", cwd=repo)
            git("branch", "old-work", cwd=repo)
        if i == 1:
            git("tag", "light", cwd=repo)

    res = out(mlv("migrate", "import", "--include=*.bin", "-q", cwd=repo))
    assert "warning: 3 branch(es)/tag(s) still point at the old, unconverted commits: old-work, light, v1;" \
        in res, res
    res = out(mlv("migrate", "import", "--include=*.bin", "-q", "v1", "light", "old-work", cwd=repo))
    assert "still point at the old" not in res, res
    for ref in ("v1", "light", "old-work"):
        git("merge-base", "--is-ancestor", ref, "main", cwd=repo)  # on the converted history
        blob = git("cat-file", "-p", f"{ref}:model.bin", cwd=repo).stdout
        assert blob.startswith(b"version https://git-mlv"), ref
