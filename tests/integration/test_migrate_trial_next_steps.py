"""What a migration tells the user about clones made before it (docs/migrate.md#after-the-migration).

Regression: after a rewrite was pushed (the printed `git push --force-with-lease`), nothing said
that every clone made before still holds the old history: there `git pull` stopped at "refusing
to merge unrelated histories", or, when the first commit did not change, merged the old commits
(their plain-git blobs) back in. The summary now says so and what teammates run instead; the
steps it gives are checked here on a real old clone.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, random_bytes, write

_NOTE = "Clones made before hold the old history"


def _origin_and_old_clone(tmp_path: Path) -> tuple[Path, Path]:
    repo, origin, old = tmp_path / "repo", tmp_path / "origin.git", tmp_path / "old"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("init", "-q", str(repo), cwd=tmp_path)
    write(repo / "README", b"readme\n")
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "root", cwd=repo)
    write(repo / "a.bin", random_bytes(9000, seed=1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    git("remote", "add", "origin", str(origin), cwd=repo)
    git("push", "-q", "-u", "origin", "main", cwd=repo)
    git("clone", "-q", str(origin), str(old), cwd=tmp_path)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("add", ".gitmlv", cwd=repo)
    git("commit", "-q", "-m", "data remote", cwd=repo)
    return repo, old


def test_a_pushed_rewrite_says_what_old_clones_do(tmp_path: Path) -> None:
    repo, old = _origin_and_old_clone(tmp_path)
    res = out(mlv("migrate", "import", "--include=*.bin", "--everything", "-q", cwd=repo))
    assert "git push --force-with-lease origin main" in res and _NOTE in res, res
    git("push", "-q", "--force-with-lease", "origin", "main", cwd=repo)
    # in the old clone, what the note says
    assert git("pull", "-q", "--no-rebase", cwd=old, check=False).returncode != 0
    git("fetch", "-q", cwd=old)
    git("reset", "-q", "--hard", "origin/main", cwd=old)
    mlv("pull", cwd=old)
    assert (old / "a.bin").read_bytes() == (repo / "a.bin").read_bytes() == random_bytes(9000, seed=1)
    assert out(git("cat-file", "-p", "HEAD:a.bin", cwd=old)).startswith("version https://git-mlv")
    assert out(git("status", "--porcelain", cwd=old)) == ""


def test_a_new_commit_on_top_says_nothing_of_old_clones(tmp_path: Path) -> None:
    repo, _ = _origin_and_old_clone(tmp_path)
    res = out(mlv("migrate", "import", "--include=*.bin", "--no-rewrite", "-q", cwd=repo))
    assert "git push origin main" in res and _NOTE not in res, res
