"""Running git: the one place that starts git processes and turns their failures into MlvErrors."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property

from ..errors import MlvError, NotARepository, UsageError

# Bytes of git's output split into records at a time (Repo.git_records): large reads, few calls.
RECORDS_READ = 1 << 20


class GitError(MlvError):
    """A git command failed."""


def run(args: Sequence[str], cwd: str | None = None, input: bytes | None = None,
        check: bool = True, env: dict[str, str] | None = None) -> bytes:
    """Run ``git ARGS`` and return its stdout; a GitError with git's own message on failure."""
    try:
        proc = subprocess.run(
            ["git", *args], cwd=cwd, input=input, capture_output=True, env=env
        )
    except FileNotFoundError:
        raise MlvError("git is not installed or not on PATH") from None
    if check and proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise GitError(f"git {args[0]}: {msg[-1] if msg else 'failed'}")
    return proc.stdout


def parse_config_z(raw: bytes) -> dict[str, str]:
    """The output of ``git config -l -z`` as a dict (keys as git prints them; last value wins)."""
    out: dict[str, str] = {}
    for item in raw.split(b"\0"):
        if item:
            k, _, v = item.decode("utf-8", errors="surrogateescape").partition("\n")
            out[k] = v
    return out


def text(args: Sequence[str], cwd: str | None = None, check: bool = True) -> str:
    """``run`` decoded and stripped."""
    return run(args, cwd=cwd, check=check).decode("utf-8", errors="surrogateescape").strip()


class Repo:
    """Where a git repository's parts are; found from ``cwd`` with one ``git rev-parse``.

    A plain class, not a dataclass: importing ``dataclasses`` at every filter start cost more
    than the rest of a one-file smudge's imports (core/record.py)."""

    def __init__(self, worktree: str | None, git_dir: str, common_dir: str,
                 _config: dict[str, str] | None = None) -> None:
        self.worktree = worktree
        self.git_dir = git_dir
        self.common_dir = common_dir
        self._config = _config
        self.in_git_dir = False  # found from inside the .git folder of a repository with a work tree

    def __repr__(self) -> str:
        return f"Repo(worktree={self.worktree!r}, git_dir={self.git_dir!r}, common_dir={self.common_dir!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Repo):
            return NotImplemented
        return (self.worktree, self.git_dir, self.common_dir) == (other.worktree, other.git_dir,
                                                                  other.common_dir)

    __hash__ = None  # type: ignore[assignment]  # mutable, as the dataclass was

    @classmethod
    def discover(cls, cwd: str | None = None, with_config: bool = False) -> Repo:
        """The repository containing ``cwd`` (default: the current directory).

        ``with_config`` reads the config (``config``) at the same time, with a second git running
        beside the first: for a process that needs both before its first answer (the filter).
        """
        config = subprocess.Popen(["git", "config", "-l", "-z"], cwd=cwd, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL) if with_config else None
        proc = subprocess.run(
            ["git", "rev-parse", "--is-bare-repository", "--absolute-git-dir",
             "--git-common-dir", "--show-toplevel"],
            cwd=cwd, capture_output=True,
        )
        raw = config.communicate()[0] if config is not None else None
        repo = cls._parsed(proc, cwd)
        if raw is not None:  # run in cwd, inside the repository: the same config as at its top
            repo._config = parse_config_z(raw)
        return repo

    @classmethod
    def _parsed(cls, proc: subprocess.CompletedProcess[bytes], cwd: str | None) -> Repo:
        out = proc.stdout.decode("utf-8", errors="surrogateescape").splitlines()
        if proc.returncode != 0 and len(out) < 3:
            raise NotARepository(_refusal(proc.stderr.decode("utf-8", errors="replace")))
        bare = out[0] == "true"
        git_dir = out[1]
        common = out[2]
        if not os.path.isabs(common):
            common = os.path.normpath(os.path.join(cwd or os.getcwd(), common))
        worktree = None if bare or len(out) < 4 else out[3]
        repo = cls(worktree, git_dir, common)
        repo.in_git_dir = not bare and worktree is None
        return repo

    @property
    def top(self) -> str:
        """The worktree root; an error in a bare repository."""
        if self.worktree is None:
            if self.in_git_dir:  # before, the bare-repository line below: it is not one
                raise MlvError("this command needs the work tree, and this is inside the repository's "
                               ".git folder: cd out of it (to the folder that holds .git)")
            raise MlvError("this command needs a work tree; run it inside a checkout, not a bare repo")
        return self.worktree

    @property
    def mlv_dir(self) -> str:
        """The pool's folder: ``mlv.pool`` when set (a pool shared by clones), else .git/mlv. A
        relative ``mlv.pool`` is relative to ``anchor``, whatever folder or linked worktree a
        command runs in: before, it was relative to the current folder, and a command run in a
        subdirectory looked in another pool."""
        shared = self.config.get("mlv.pool")
        if shared:
            path = os.path.normpath(os.path.join(self.anchor, os.path.expanduser(shared)))
            if os.path.exists(path) and not os.path.isdir(path):  # was "internal error: Not a directory"
                raise UsageError(f"git config mlv.pool = {shared!r} is not a folder: name the folder "
                                 "of a shared pool (or unset it)")
            return path
        return os.path.join(self.common_dir, "mlv")

    @property
    def anchor(self) -> str:
        """What relative paths in the repository's settings are relative to (``mlv.pool``, a
        folder data remote's URL): the main worktree's root, the same from a subfolder or a
        linked worktree: the folder holding the common ``.git``; in the main worktree of a
        ``--separate-git-dir`` repository, its root; else (bare) the git dir itself."""
        common = self.common_dir
        if os.path.basename(common) == ".git":
            return os.path.dirname(common)
        if self.worktree and os.path.realpath(self.git_dir) == os.path.realpath(common):
            return self.worktree
        return common

    @property
    def config(self) -> dict[str, str]:
        """Effective git config (``git config -l``; keys lower-cased, last value wins)."""
        if self._config is None:
            raw = run(["config", "-l", "-z"], cwd=self.worktree or self.git_dir, check=False)
            self._config = parse_config_z(raw)
        return self._config

    def git(self, *args: str, check: bool = True) -> bytes:
        """Run git in this repository's work tree (or git dir when bare)."""
        return run(args, cwd=self.worktree or self.git_dir, check=check)

    def git_later(self, *args: str) -> Callable[[], bytes]:
        """Start ``git ARGS`` now; the function returned waits for its stdout (GitError on failure).

        For work that can overlap ours: git runs on the other core meanwhile.
        """
        try:
            proc = subprocess.Popen(["git", *args], cwd=self.worktree or self.git_dir,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise MlvError("git is not installed or not on PATH") from None

        def wait() -> bytes:
            out, err = proc.communicate()
            if proc.returncode != 0:
                msg = err.decode(errors="replace").strip().splitlines()
                raise GitError(f"git {args[0]}: {msg[-1] if msg else 'failed'}")
            return out

        return wait

    def git_records(self, *args: str, sep: bytes = b"\0") -> Iterator[bytes]:
        """Run ``git ARGS`` and yield its output's records (split at ``sep``) as they arrive: memory
        stays flat whatever the output's size (``ls-files`` of 600,000 files prints 45 MB)."""
        try:
            proc = subprocess.Popen(["git", *args], cwd=self.worktree or self.git_dir,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except FileNotFoundError:
            raise MlvError("git is not installed or not on PATH") from None
        assert proc.stdout is not None and proc.stderr is not None
        try:
            rest = b""
            while chunk := proc.stdout.read(RECORDS_READ):
                parts = (rest + chunk).split(sep)
                rest = parts.pop()
                yield from parts
            if rest:
                yield rest
            err = proc.stderr.read()
            if proc.wait() != 0:
                msg = err.decode(errors="replace").strip().splitlines()
                raise GitError(f"git {args[0]}: {msg[-1] if msg else 'failed'}")
        finally:
            if proc.poll() is None:  # the caller stopped early
                proc.kill()
                proc.wait()
            proc.stdout.close()
            proc.stderr.close()

    def git_text(self, *args: str, check: bool = True) -> str:
        """``git`` decoded and stripped."""
        return self.git(*args, check=check).decode("utf-8", errors="surrogateescape").strip()

    @cached_property
    def hooks_dir(self) -> str:
        """Where git looks for hooks (respects core.hooksPath)."""
        path = self.git_text("rev-parse", "--git-path", "hooks")
        return path if os.path.isabs(path) else os.path.join(self.worktree or self.git_dir, path)


def _refusal(err: str) -> str:
    """What to say when git found no repository: git's reason when it refused one it found (a
    repository owned by another user, git's safe.directory; an unreadable .git), rather than
    "not a git repository", which sent users to `git init`."""
    m = re.search(r"dubious ownership in repository at '(.*)'", err)
    if m:
        return (f"git refuses the repository at {m.group(1)}: another user owns it (git's safe.directory); "
                f"if you trust it: git config --global --add safe.directory '{m.group(1)}'")
    for line in err.splitlines():
        if line.startswith("fatal: ") and "not a git repository" not in line:
            return f"git: {line[len('fatal: '):]}"
    return "not a git repository (run `git init` first, or cd into one)"
