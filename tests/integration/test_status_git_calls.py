"""`git mlv status` asks git what it needs once: it read `.gitmlv` six times and `.git/config`
three times (`git config -f .gitmlv -l`, `git config --local -l`: nine processes, ~5 ms each on a
loaded machine) and ran `git ls-files -u` for conflicts the index it had just read could tell it
it did not have. The config files are read once per version of them in a process (a change is
read again: remote_config._read_config_file), and conflicts are asked of git only when the index
holds one. Counted with GIT_TRACE, which names every git command run.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.helpers import BIN, commit_all, git, mlv, random_bytes, run, write


def _git_commands(repo: Path, tmp_path: Path, *args: str) -> list[str]:
    trace = tmp_path / "trace"
    trace.unlink(missing_ok=True)
    p = run([os.path.join(BIN, "git-mlv"), *args], cwd=repo, env={**os.environ, "GIT_TRACE": str(trace)})
    assert p.returncode == 0
    return [line.split("built-in: ", 1)[1] for line in trace.read_text().splitlines() if "built-in: " in line]


def test_status_reads_each_config_once_and_asks_for_conflicts_only_when_there_are(
        repo: Path, tmp_path: Path) -> None:
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    write(repo / "a.bin", random_bytes(5_000, seed=1))
    commit_all(repo, "data")
    mlv("push", cwd=repo)
    mlv("status", cwd=repo)  # records HEAD as complete: the quick path from now on

    ran = _git_commands(repo, tmp_path, "status")
    assert sum("config -f" in c and ".gitmlv" in c for c in ran) == 1, ran
    assert sum(c.startswith("git config --local") for c in ran) == 1, ran
    assert not any(c.startswith("git ls-files -u") for c in ran), ran

    # a conflict: asked, and named
    git("checkout", "-q", "-b", "other", cwd=repo)
    write(repo / "a.bin", random_bytes(5_000, seed=2))
    commit_all(repo, "theirs")
    git("checkout", "-q", "main", cwd=repo)
    write(repo / "a.bin", random_bytes(5_000, seed=3))
    commit_all(repo, "ours")
    git("merge", "-q", "other", cwd=repo, check=False)
    ran = _git_commands(repo, tmp_path, "status")
    assert any(c.startswith("git ls-files -u") for c in ran), ran
    assert "both modified: a.bin" in mlv("status", cwd=repo).stdout.decode()
