"""--everything in a fresh clone, where the team's other branches exist only as origin/X.

Regression: --everything rewrites local branches and tags (as documented), so in a clone the
remote-only branches were left unconverted without a word, and after the printed push the remote
still held them with the old files. The summary now names them and the fix; following it lands
each on the same new history.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, out, random_bytes, write


def test_remote_only_branches_are_named(tmp_path: Path) -> None:
    verb = ["import", "--include=*.bin"]
    origin = tmp_path / "origin"
    git("init", "-q", str(origin), cwd=tmp_path)
    write(origin / "model.bin", random_bytes(5000, seed=1))
    git("add", "-A", cwd=origin)
    git("commit", "-q", "-m", "c1", cwd=origin)
    git("checkout", "-q", "-b", "feat", cwd=origin)
    write(origin / "model.bin", random_bytes(5000, seed=2))
    git("commit", "-q", "-am", "feat", cwd=origin)
    git("checkout", "-q", "main", cwd=origin)
    clone = tmp_path / "clone"
    git("clone", "-q", str(origin), str(clone), cwd=tmp_path)

    res = out(mlv("migrate", *verb, "--everything", "-q", cwd=clone))
    assert "1 remote branch(es) have no local branch and were not converted: origin/feat;" in res, res
    assert "`git branch feat origin/feat`" in res and "origin/main" not in res.split("To publish")[0]
    git("branch", "feat", "origin/feat", cwd=clone)
    res = out(mlv("migrate", *verb, "--everything", "-q", cwd=clone))
    assert "remote branch(es)" not in res, res
    base = out(git("merge-base", "feat", "main", cwd=clone)).strip()
    assert base == out(git("rev-parse", "main", cwd=clone)).strip()  # feat sits on the new main
    assert git("cat-file", "-p", "feat:model.bin", cwd=clone).stdout.startswith(b"version https://git-mlv")
