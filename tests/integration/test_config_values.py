"""Settings with values a user can mistype (found trying bad input everywhere): each is one line
naming the setting, or what git does with it, never an internal error, and never a gc that
drops data the user meant to keep."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import git, mlv, one_error_line, origin_and_store, random_bytes, write


@pytest.mark.parametrize("value, words", [
    ("x", "mlv.gcReflogDays = 'x' is not a number of days"),
    ("-1", "mlv.gcReflogDays = '-1': the days must be 0 or more"),
    ("nan", "mlv.gcReflogDays = 'nan': the days must be 0 or more"),
])
def test_gc_reflog_days_must_be_days(repo: Path, value: str, words: str) -> None:
    """A word was "internal error: ValueError"; -1 counted every reflog entry as old, so gc
    dropped the data a `git reset --hard` had left to the reflog alone."""
    write(repo / "a.bin", random_bytes(30_000, seed=1))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "v1", cwd=repo)
    v2 = random_bytes(30_000, seed=2)
    write(repo / "a.bin", v2)
    git("commit", "-q", "-am", "v2", cwd=repo)
    git("reset", "-q", "--hard", "HEAD~1", cwd=repo)  # v2 lives on in the reflog only
    git("config", "mlv.gcReflogDays", value, cwd=repo)
    assert words in one_error_line(mlv("gc", cwd=repo, check=False), 2)
    git("config", "--unset", "mlv.gcReflogDays", cwd=repo)
    git("checkout", "-q", "HEAD@{1}", cwd=repo)
    assert (repo / "a.bin").read_bytes() == v2


def test_a_fetch_pattern_with_a_range_upside_down_matches_nothing(repo: Path, tmp_path: Path) -> None:
    """`[z-a]` failed every pull with "internal error: error: bad character range"; git's
    wildmatch matches no character with such a range."""
    origin = origin_and_store(repo, tmp_path, files=2)
    git("push", "-q", "origin", "main", cwd=repo)
    clone = tmp_path / "clone"
    git("clone", "-q", "-c", "mlv.fetchInclude=[z-a]*", str(origin), str(clone), cwd=tmp_path)
    assert (clone / "f0.bin").read_bytes() != (repo / "f0.bin").read_bytes()  # out of scope
    p = mlv("pull", cwd=clone, check=False)
    assert p.returncode == 0 and b"internal error" not in p.stderr, p.stderr
    mlv("pull", "-I", "", cwd=clone)
    for name in ("f0.bin", "f1.bin"):
        assert (clone / name).read_bytes() == (repo / name).read_bytes()


def test_a_shared_pool_that_is_a_file_is_named(repo: Path, tmp_path: Path) -> None:
    write(tmp_path / "notes.txt", b"not a pool\n")
    write(repo / "a.bin", random_bytes(30_000, seed=3))
    git("config", "mlv.pool", str(tmp_path / "notes.txt"), cwd=repo)
    err = one_error_line(mlv("fsck", cwd=repo, check=False), 2)
    assert "mlv.pool = " in err and "is not a folder" in err
    p = git("add", "a.bin", cwd=repo, check=False)
    assert p.returncode != 0 and b"is not a folder" in p.stderr and b"internal error" not in p.stderr
    assert (tmp_path / "notes.txt").read_bytes() == b"not a pool\n"


@pytest.mark.parametrize("how", ["option", "config"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1"])
def test_remote_gc_grace_must_be_hours(repo: Path, tmp_path: Path, how: str, value: str) -> None:
    """`gc --remote --grace-hours nan` (or mlv.remoteGcGraceHours nan) was taken: float() reads
    'nan' and 'inf', and nan < 0 is false. Each is now one line, exit 2, before the remote is
    touched (found by helper h3)."""
    origin_and_store(repo, tmp_path, files=2)
    git("push", "-q", "origin", "main", cwd=repo)
    if how == "config":
        git("config", "mlv.remoteGcGraceHours", value, cwd=repo)
        args = ["gc", "--remote", "store"]
    else:
        args = ["gc", "--remote", "store", "--grace-hours", value]
    before = sorted(p.name for p in (tmp_path / "store").rglob("*"))
    err = one_error_line(mlv(*args, cwd=repo, check=False), 2)
    assert "grace period" in err and "hours" in err, err
    assert sorted(p.name for p in (tmp_path / "store").rglob("*")) == before


def test_a_size_that_is_not_a_number_is_named_as_the_docs_spell_it(repo: Path) -> None:
    """`git -c mlv.chunkAvg=48x add` said "git config mlv.chunkavg = '48x'" (git's lower case),
    where an out-of-range value says mlv.chunkAvg, as the README's settings table writes it."""
    write(repo / "a.bin", random_bytes(30_000, seed=4))
    p = git("-c", "mlv.chunkAvg=48x", "add", "a.bin", cwd=repo, check=False)  # the filter says it
    err = p.stderr.decode()
    assert p.returncode != 0 and "git config mlv.chunkAvg = '48x' is not a number" in err, err
    assert "Traceback" not in err and "internal error" not in err, err
