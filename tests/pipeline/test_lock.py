"""The lock file: exact canonical text, round trip through git's parser, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.gitio.git import Repo
from git_mlv.pipeline import lock
from git_mlv.pipeline.lock import LockEntry, LockError, Record
from tests.helpers import git

A = "a" * 64
B = "b" * 64
C = "c" * 64


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    git("init", "-q", cwd=tmp_path)
    return Repo.discover(str(tmp_path))


def entries() -> dict[str, LockEntry]:
    return {
        "train": LockEntry(
            cmd='python train.py --tag "x y"',
            deps={"train.py": Record(A, 10), "data": Record(B, 300, True)},
            params={"params.yaml:lr": "0.1", "params.yaml:name": '"adam w"'},
            outs={"model.h5": ("out", Record(C, 5)), "m.json": ("metric", Record(A, 7)),
                  "log": ("outnocache", Record(B, 0))},
        ),
        "a": LockEntry(cmd="true", wdir="src"),
    }


def test_exact_text(repo: Repo) -> None:
    lock.save(repo, entries())
    assert Path(repo.top, ".gitmlv.lock").read_text() == (
        '[stage "a"]\n'
        "\tcmd = true\n"
        "\twdir = src\n"
        '[stage "train"]\n'
        '\tcmd = "python train.py --tag \\"x y\\""\n'
        f"\tdep = {B} 300 data/\n"
        f"\tdep = {A} 10 train.py\n"
        "\tparam = params.yaml:lr=0.1\n"
        '\tparam = "params.yaml:name=\\"adam w\\""\n'
        f"\tout = {C} 5 model.h5\n"
        f"\toutnocache = {B} 0 log\n"
        f"\tmetric = {A} 7 m.json\n"
    )


def test_round_trip(repo: Repo) -> None:
    lock.save(repo, entries())
    assert lock.load(repo) == entries()


def test_unchanged_lock_is_not_rewritten(repo: Repo) -> None:
    lock.save(repo, entries())
    p = Path(repo.top, ".gitmlv.lock")
    ino = p.stat().st_ino
    lock.save(repo, entries())
    assert p.stat().st_ino == ino
    lock.save(repo, {})
    assert p.read_text() == ""


def test_conflict_markers_give_a_clear_error(repo: Repo) -> None:
    Path(repo.top, ".gitmlv.lock").write_text('<<<<<<< HEAD\n[stage "a"]\n\tcmd = x\n')
    with pytest.raises(LockError, match=r"^\.gitmlv\.lock is malformed: bad config line 1; resolve"):
        lock.load(repo)


def test_malformed_record(repo: Repo) -> None:
    Path(repo.top, ".gitmlv.lock").write_text('[stage "a"]\n\tcmd = x\n\tdep = nothex 1 f\n')
    with pytest.raises(LockError, match=r"^\.gitmlv\.lock: stage 'a': malformed record 'nothex 1 f'; "
                       r"resolve it by hand, or delete \.gitmlv\.lock and run `git mlv repro`$"):
        lock.load(repo)
