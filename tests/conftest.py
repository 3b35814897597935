"""Hermetic test environment: a temp HOME, no system git config, tiny chunk and pack sizes.

Every test that drives git gets a HOME whose global git config installs git-mlv (as a user would
with `git mlv install`) and shrinks chunks and packs so small data still runs the multi-chunk,
multi-pack paths (borg's conftest does the same).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from git_mlv.gitio import walk
from tests.helpers import git, mlv

BIN = os.path.dirname(os.path.abspath(sys.executable))

# Property tests without hypothesis's timing checks: its default 200 ms deadline per example (and
# the too_slow health check) failed a run whenever a loaded machine stalled the test once for a
# quarter second ("FlakyFailure: unreliable results"), though the suite's examples take 1-4 ms
# (--hypothesis-show-statistics). Loaded here, before the test modules: their own @settings(...)
# start from it. tests/unit/test_hypothesis_profile.py stalls one example on purpose.
# "suite" draws the same examples every run (derandomize): `make test` and CI pass or fail on the
# code, not on the draw; HYPOTHESIS_PROFILE=explore draws new ones each run, to hunt for bugs.
settings.register_profile("explore", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("suite", settings.get_profile("explore"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

# Small sizes so a few hundred KB of test data makes many chunks and several packs.
TEST_CONFIG = {
    "mlv.chunkAvg": "4096",
    "mlv.chunkMin": "1024",
    "mlv.chunkMax": "16384",
    "mlv.packSize": "262144",
}


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One HOME for the session with git-mlv installed globally."""
    home = tmp_path_factory.mktemp("home")
    return home


@pytest.fixture(autouse=True)
def hermetic_env(session_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Scrub GIT_* and point HOME, XDG and git's identity at the test's own."""
    _hermetic(session_home, monkeypatch)


def _hermetic(session_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for k in list(os.environ):
        if k.startswith(("GIT_", "MLV_", "AWS_", "AZURE_", "GOOGLE_", "CLOUDSDK_")) or k in (
                "XDG_CONFIG_HOME", "STORAGE_EMULATOR_HOST"):
            monkeypatch.delenv(k, raising=False)
    # git-mlv's processes cache their compiled modules, as on a user's machine (pip compiles an
    # installed package; an editable one is compiled at first import). With the variable set (this
    # kind of machine sets it), every one of the suite's ~1,800 git-mlv processes compiled each
    # module it imported from source: ~0.2 CPU-s of a 0.7 CPU-s `git mlv status`.
    monkeypatch.delenv("PYTHONDONTWRITEBYTECODE", raising=False)
    monkeypatch.setenv("HOME", str(session_home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(session_home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "test@example.com")
    monkeypatch.setenv("PATH", BIN + os.pathsep + os.environ.get("PATH", ""))
    gitconfig = session_home / ".gitconfig"
    if not gitconfig.exists():
        git("config", "--global", "init.defaultBranch", "main", cwd=session_home)
        git("config", "--global", "advice.detachedHead", "false", cwd=session_home)
        git("config", "--global", "protocol.file.allow", "always", cwd=session_home)
        for k, v in TEST_CONFIG.items():
            git("config", "--global", k, v, cwd=session_home)
        mlv("install", "--global", cwd=session_home)


@pytest.fixture(scope="session")
def repo_template(tmp_path_factory: pytest.TempPathFactory, session_home: Path) -> Path:
    """``git init`` and ``git mlv track`` run once per worker: ``repo`` copies the result. The
    ``git-mlv track`` process alone cost ~0.35 s of CPU, and some 260 tests take a ``repo``."""
    path = tmp_path_factory.mktemp("repo-template") / "repo"
    path.mkdir()
    with pytest.MonkeyPatch.context() as mp:  # hermetic_env is per test: the same settings here
        _hermetic(session_home, mp)
        git("init", "-q", cwd=path)
        mlv("track", "*.bin", "data/**", cwd=path)
    return path


@pytest.fixture
def repo(tmp_path: Path, repo_template: Path) -> Path:
    """A fresh git repository tracking ``*.bin`` and ``data/**`` with git-mlv (a copy of
    ``repo_template``, with fresh times: a git repository holds no absolute path of its own)."""
    path = tmp_path / "repo"
    shutil.copytree(repo_template, path, symlinks=True, copy_function=shutil.copy)
    return path


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs, unmounted afterwards (the full-disk tests; mounting needs root, as CI runs)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                          capture_output=True)
    if proc.returncode != 0:  # a missing capability fails the test: it must not pass silently
        raise AssertionError(f"cannot mount a tmpfs (run the tests as root): {proc.stderr.decode()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many blobs each ``walk.pointer_blobs`` call was asked about (the path-scope and
    push-scope tests count the pointers a command reads)."""
    counts: list[int] = []
    real = walk.pointer_blobs

    def counting(repo: walk.Repo, oids: Iterable[str], *args: object, **kw: object
                 ) -> dict[str, walk.PointerBlob]:
        todo = list(oids)
        counts.append(len(todo))
        return real(repo, todo, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(walk, "pointer_blobs", counting)
    return counts


@pytest.fixture
def uninstalled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new repository whose user has not run `git mlv install` (an empty global config)."""
    empty = tmp_path / "gitconfig"
    empty.write_text("[user]\n\tname = T\n\temail = t@example.com\n[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    path = tmp_path / "repo"
    git("init", "-q", str(path), cwd=tmp_path)
    return path
