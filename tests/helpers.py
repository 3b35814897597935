"""Helpers shared by the tests: run git and git-mlv, make data, hash files."""

from __future__ import annotations

import errno
import hashlib
import os
import subprocess
import sys
from pathlib import Path

BIN = os.path.dirname(os.path.abspath(sys.executable))


def run(args: list[str], cwd: str | Path, check: bool = True, input: bytes | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run a command; on an unexpected failure raise with its stderr in the message."""
    proc = subprocess.run(args, cwd=cwd, capture_output=True, input=input, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(map(str, args))} exited {proc.returncode}\n"
            f"stdout: {proc.stdout.decode(errors='replace')}\n"
            f"stderr: {proc.stderr.decode(errors='replace')}"
        )
    return proc


def git(*args: str, cwd: str | Path, check: bool = True, input: bytes | None = None
        ) -> subprocess.CompletedProcess[bytes]:
    """Run the real git binary."""
    return run(["git", *args], cwd=cwd, check=check, input=input)


def mlv(*args: str, cwd: str | Path, check: bool = True, input: bytes | None = None
        ) -> subprocess.CompletedProcess[bytes]:
    """Run ``git-mlv`` from this virtualenv (as git would find it on PATH)."""
    return run([os.path.join(BIN, "git-mlv"), *args], cwd=cwd, check=check, input=input)


def out(proc: subprocess.CompletedProcess[bytes]) -> str:
    """A process's stdout as text."""
    return proc.stdout.decode()


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file's content."""
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def random_bytes(n: int, seed: int = 0) -> bytes:
    """Deterministic incompressible bytes."""
    import random

    return random.Random(seed).randbytes(n)


def write(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path``, creating folders."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def commit_all(repo: str | Path, message: str) -> None:
    """``git add -A && git commit -q -m MESSAGE``."""
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", message, cwd=repo)


def clean_trace(trace: Path) -> list[str]:
    """The lines of an ``MLV_CLEAN_TRACE`` file (none when the filter wrote none)."""
    return trace.read_text().splitlines() if trace.exists() else []


def pool_size(repo: str | Path) -> int:
    """Bytes stored in the repo's pool packs."""
    packs = Path(repo) / ".git" / "mlv" / "packs"
    return sum(p.stat().st_size for p in packs.glob("*.pack")) if packs.exists() else 0


def origin_and_store(repo: Path, tmp_path: Path, files: int = 1) -> Path:
    """Give ``repo`` a bare git remote ``origin`` and a default folder data remote ``store``
    (``tmp_path/store``), and commit ``files`` small data files; returns the bare repo's path."""
    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", str(origin), cwd=tmp_path)
    git("remote", "add", "origin", str(origin), cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for i in range(files):
        write(repo / f"f{i}.bin", random_bytes(30_000, seed=1000 + i))
    commit_all(repo, "data")
    return origin


def push_files(repo: Path, tmp_path: Path, files: dict[str, bytes], pattern: str) -> None:
    """In ``repo`` (a git repository): track ``pattern``, add a default folder data remote
    ``store`` (``tmp_path/store``), commit ``files`` (path -> bytes) as "v1" and push their data:
    a source for get and import."""
    mlv("track", pattern, cwd=repo)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for name, data in files.items():
        write(repo / name, data)
    commit_all(repo, "v1")
    mlv("push", cwd=repo)


def one_error_line(p: subprocess.CompletedProcess[bytes], code: int) -> str:
    """The single `git-mlv: error:` line of a process that exited ``code`` (no traceback)."""
    err = p.stderr.decode()
    assert p.returncode == code, err
    assert err.startswith("git-mlv: error: ") and err.count("\n") == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return err

# what track, add, pull, checkout and the migrations say when they install git-mlv for a repository
NOT_INSTALLED_NOTE = ("git-mlv was not installed: configured it for this repository "
                      "(`git mlv install --local`)")


def pointers_without_data(repo: Path, seed: int) -> list[str]:
    """Commit 15 tracked files (one name needing C quotes), then lose the pool and check them out
    again: each is a pointer whose data is not here, as in a clone before `git mlv pull`."""
    import shutil

    names = ['a"q.bin'] + [f"f{i:02}.bin" for i in range(14)]
    for n, name in enumerate(names):
        write(repo / name, random_bytes(3_000, seed=seed + n))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    shutil.rmtree(repo / ".git" / "mlv")
    for name in names:
        (repo / name).unlink()
    git("checkout", "--", ".", cwd=repo)
    return names


def commit_on_dropped_branch(repo: Path, path: str, data: bytes, branch: str = "experiment",
                             message: str = "dropped") -> None:
    """Commit ``data`` at ``path`` on a new branch, go back to main and delete the branch: the
    commit is then kept by the reflog alone (an experiment given up)."""
    git("checkout", "-q", "-b", branch, cwd=repo)
    write(repo / path, data)
    commit_all(repo, message)
    git("checkout", "-q", "main", cwd=repo)
    git("branch", "-q", "-D", branch, cwd=repo)


def fill_disk(folder: Path) -> None:
    """Write a file in ``folder`` until its file system is full (the full-disk tests' tmpfs)."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
    finally:
        os.close(fd)
