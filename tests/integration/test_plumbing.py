"""Single-shot clean/smudge (for tools that cannot speak the process protocol), and pytest-git."""

from __future__ import annotations

import os
from pathlib import Path

from git_mlv.core.pointer import Pointer
from tests.helpers import BIN, git, mlv, out, random_bytes


def test_single_shot_clean_and_smudge(repo: Path) -> None:
    data = random_bytes(70_000, 5)
    pointer = mlv("clean", "x.bin", cwd=repo, input=data).stdout
    p = Pointer.parse(pointer)
    assert p.size == len(data)
    assert mlv("smudge", "x.bin", cwd=repo, input=pointer).stdout == data
    assert mlv("clean", cwd=repo, input=pointer).stdout == pointer  # idempotent
    other = Pointer("e" * 64, 5).encode()
    proc = mlv("smudge", "y.bin", cwd=repo, input=other)
    assert proc.stdout == other and b"git mlv pull" in proc.stderr


def test_filter_config_uses_process_and_single_shot(repo: Path) -> None:
    cfg = out(git("config", "--get-regexp", r"^filter\.mlv\.", cwd=repo))
    exe = os.path.join(BIN, "git-mlv")  # the git-mlv that ran `install`, by its full path
    assert f"filter.mlv.process {exe} filter-process" in cfg
    assert "filter.mlv.required true" in cfg
    assert f"filter.mlv.clean {exe} clean -- %f" in cfg
    assert f"filter.mlv.executable {exe}" in cfg


def test_one_filter_process_per_git_command(repo: Path) -> None:
    for i in range(30):
        (repo / "data").mkdir(exist_ok=True)
        (repo / "data" / f"{i}.bin").write_bytes(random_bytes(2000, i))
    proc = git("-c", "trace2.eventTarget=", "add", "-A", cwd=repo)
    assert proc.returncode == 0
    import os
    import subprocess

    env = dict(os.environ, GIT_TRACE="1")
    traced = subprocess.run(["git", "add", "--renormalize", "."], cwd=repo, env=env,
                            capture_output=True)
    starts = traced.stderr.count(b"git-mlv filter-process")
    assert starts <= 1, traced.stderr.decode()[-2000:]


def test_with_pytest_git_fixture(git_repo: object) -> None:
    """pytest-git's `git_repo` (design card) works with our filter like any repository."""
    ws = Path(git_repo.workspace)  # type: ignore[attr-defined]
    mlv("track", "*.bin", cwd=ws)
    data = random_bytes(40_000, 6)
    (ws / "w.bin").write_bytes(data)
    git("add", "-A", cwd=ws)
    git("commit", "-q", "-m", "x", cwd=ws)
    assert Pointer.try_parse(git("cat-file", "blob", "HEAD:w.bin", cwd=ws).stdout) is not None
    (ws / "w.bin").unlink()
    git("checkout", "--", "w.bin", cwd=ws)
    assert (ws / "w.bin").read_bytes() == data
