"""`git mlv run -o` / `stage add` of an output that a .gitignore line hides (real git, real git-mlv).

Regression: `run` said "Tracking /models/m.bin" and nothing else while a `models/` line (common in
a DVC user's .gitignore) kept the model out of `git add -A`: no commit versioned it, and a
`git checkout v1` brought back the old metrics but not the model. Each stored output and metrics
file git ignores is now named in a warning, with the line that hides it.
"""

from __future__ import annotations

from pathlib import Path

from tests.helpers import git, mlv, write


def test_an_ignored_output_is_named(repo: Path) -> None:
    write(repo / ".gitignore", b"models/\n*.log\n")
    p = mlv("run", "-n", "t", "-o", "models/m.bin", "-O", "run.log", "-M", "scores.json",
            "mkdir -p models && echo 1 > models/m.bin && echo {} > scores.json && echo > run.log", cwd=repo)
    err = p.stderr.decode()
    assert err == ("git-mlv: warning: models/m.bin is ignored by git (.gitignore:1: models/): `git add` "
                   "leaves it out, so no commit versions it; remove that line, or "
                   "`git add -f models/m.bin`\n"), err
    write(repo / ".gitignore", b"*.log\n")
    git("add", "-A", cwd=repo)
    assert "models/m.bin" in git("ls-files", cwd=repo).stdout.decode()
    p = mlv("stage", "add", "-f", "-n", "t", "-o", "models/m.bin", "-O", "run.log", "-M", "scores.json",
            "true", cwd=repo)
    assert p.stderr == b""  # a -O output may well be ignored: it is not versioned anyway
    write(repo / ".gitignore", b"out/\n")
    err = mlv("stage", "add", "-n", "d", "-o", "out", "mkdir out", cwd=repo).stderr.decode()
    assert "warning: out is ignored by git (.gitignore:1: out/)" in err, err  # a folder not made yet
