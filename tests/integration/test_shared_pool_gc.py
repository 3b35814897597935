"""`git mlv gc` in one clone of a shared pool (`mlv.pool`) keeps what the other clones need.

Regression: gc decided from the refs and index of the clone it ran in, and deleted the data of
commits and staged files that only another clone had (docs/formats.md#shared-pool).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from tests.helpers import commit_all, commit_on_dropped_branch, git, mlv, out, random_bytes, write


def _clone(tmp_path: Path, name: str, pool: Path) -> Path:
    path = tmp_path / name
    git("init", "-q", str(path), cwd=tmp_path)
    git("config", "mlv.pool", str(pool), cwd=path)
    mlv("track", "*.bin", cwd=path)
    return path


def _present(repo: Path) -> dict[str, bool]:
    return {f["path"]: f["present"] for f in json.loads(mlv("ls-files", "--json", cwd=repo).stdout)}


def test_gc_keeps_the_data_of_every_clone_of_the_pool(tmp_path: Path) -> None:
    pool = tmp_path / "pool"
    a, b = _clone(tmp_path, "a", pool), _clone(tmp_path, "b", pool)
    write(b / "committed.bin", random_bytes(200_000, seed=1))
    commit_all(b, "b's own commit")
    write(b / "staged.bin", random_bytes(100_000, seed=2))
    git("add", "staged.bin", cwd=b)  # in b's index only
    write(a / "a.bin", random_bytes(50_000, seed=3))
    commit_all(a, "a")
    commit_on_dropped_branch(a, "dropped.bin", random_bytes(70_000, seed=4), branch="scratch",
                             message="nobody keeps this")
    git("reflog", "expire", "--expire=now", "--all", cwd=a)
    # and let git prune unreachable commits now (`git gc --prune=now`): gc keeps the data of
    # those git still holds (gc.pruneExpire, two weeks: gitio/gcroots.py)
    git("config", "gc.pruneExpire", "now", cwd=a)

    text = out(mlv("gc", cwd=a))
    assert f"kept what 1 other clone(s) sharing the pool need: {b.resolve() / '.git'}" in text, text
    assert "unreachable; freed 0 B" not in text, text  # what no clone needs still goes
    assert _present(b) == {"committed.bin": True, "staged.bin": True}
    for name, seed, n in (("committed.bin", 1, 200_000), ("staged.bin", 2, 100_000)):
        (b / name).unlink()
        git("checkout", "--", name, cwd=b)
        assert (b / name).read_bytes() == random_bytes(n, seed=seed)
    assert _present(a) == {"a.bin": True}

    # b is deleted: its record is forgotten, and its data goes at the next gc
    shutil.rmtree(b)
    text = out(mlv("gc", "--dry-run", cwd=a))
    assert f"would forget clone(s) gone from this host: {b.resolve() / '.git'}" in text, text
    assert len(list((pool / "clones").iterdir())) == 2
    text = out(mlv("gc", cwd=a))
    assert "forgot clone(s) gone from this host" in text and "other clone" not in text, text
    assert len(list((pool / "clones").iterdir())) == 1  # a's own
    assert "kept what" not in out(mlv("gc", cwd=a))
    assert (a / "a.bin").read_bytes() == random_bytes(50_000, seed=3)


def test_a_clone_on_another_host_stops_gc(tmp_path: Path) -> None:
    pool = tmp_path / "pool"
    a = _clone(tmp_path, "a", pool)
    write(a / "a.bin", random_bytes(50_000, seed=3))
    commit_all(a, "a")
    record = pool / "clones" / "0123456789abcdef"
    record.write_text(json.dumps({"gitDir": "/home/x/project/.git", "host": "elsewhere.invalid"}))
    before = sorted(p.name for p in (pool / "packs").iterdir())
    proc = mlv("gc", cwd=a, check=False)
    err = proc.stderr.decode()
    assert proc.returncode == 2 and len(err.splitlines()) == 1, err
    assert "host elsewhere.invalid (/home/x/project/.git)" in err and str(record) in err, err
    assert sorted(p.name for p in (pool / "packs").iterdir()) == before

    record.write_text("not json")
    proc = mlv("gc", cwd=a, check=False)
    assert proc.returncode == 2 and "not a readable record" in proc.stderr.decode()
    record.unlink()
    mlv("gc", cwd=a)


def test_a_relative_pool_path_is_the_same_pool_from_any_folder(tmp_path: Path) -> None:
    """`mlv.pool = ../pool` is relative to the folder holding .git; it was relative to the current
    folder, so a command run in a subdirectory (or gc reading another clone) saw another pool."""
    a = _clone(tmp_path, "a", Path("../pool"))
    b = _clone(tmp_path, "b", Path("../pool"))
    (a / "sub").mkdir()
    write(a / "sub" / "x.bin", random_bytes(60_000, seed=5))
    commit_all(a, "x")
    write(b / "y.bin", random_bytes(60_000, seed=6))
    commit_all(b, "y")
    assert sorted(p.name for p in (tmp_path / "pool" / "clones").iterdir()) and not (a / "pool").exists()
    listed = json.loads(mlv("ls-files", "--json", cwd=a / "sub").stdout)
    assert [(f["path"], f["present"]) for f in listed] == [("sub/x.bin", True)]
    text = out(mlv("gc", cwd=a / "sub"))
    assert "kept what 1 other clone(s)" in text, text
    assert _present(b) == {"y.bin": True}


def test_a_clone_git_will_not_read_stops_gc(tmp_path: Path) -> None:
    """Another user's clone (git's safe.directory check refuses it): its config read as empty
    would have looked like "uses another pool now", its record forgotten and its data deleted."""
    pool = tmp_path / "pool"
    a, b = _clone(tmp_path, "a", pool), _clone(tmp_path, "b", pool)
    write(b / "b.bin", random_bytes(80_000, seed=7))
    commit_all(b, "b")
    records = sorted(p.name for p in (pool / "clones").iterdir())
    packs = sorted(p.name for p in (pool / "packs").iterdir())
    subprocess.run(["chown", "-R", "nobody", str(b)], check=True)  # the tests run as root (CI)
    try:
        proc = mlv("gc", cwd=a, check=False)
        err = proc.stderr.decode()
        assert proc.returncode == 2 and len(err.splitlines()) == 1, err
        assert f"git cannot read the clone at {b.resolve() / '.git'}" in err and "safe.directory" in err
        assert set(records) <= {p.name for p in (pool / "clones").iterdir()}  # b's is kept
        assert sorted(p.name for p in (pool / "packs").iterdir()) == packs
    finally:
        subprocess.run(["chown", "-R", f"{os.getuid()}", str(b)], check=True)
    assert "kept what 1 other clone(s)" in out(mlv("gc", cwd=a))
    assert _present(b) == {"b.bin": True}


def test_a_clone_whose_pool_names_another_repositorys_git_mlv(tmp_path: Path) -> None:
    """b's mlv.pool is a's own .git/mlv; a has no mlv.pool. gc in either keeps the other's data:
    a did not know its pool was shared, and b's gc did not know a (never recorded)."""
    a = tmp_path / "a"
    git("init", "-q", str(a), cwd=tmp_path)
    mlv("track", "*.bin", cwd=a)
    write(a / "a.bin", random_bytes(60_000, seed=10))
    commit_all(a, "a")
    b = _clone(tmp_path, "b", a / ".git" / "mlv")
    write(b / "b.bin", random_bytes(60_000, seed=11))
    commit_all(b, "b")

    text = out(mlv("gc", cwd=b))  # a never recorded itself: it is the pool's owner
    assert f"kept what 1 other clone(s) sharing the pool need: {a.resolve() / '.git'}" in text, text
    assert _present(a) == {"a.bin": True}
    text = out(mlv("gc", cwd=a))
    assert f"kept what 1 other clone(s) sharing the pool need: {b.resolve() / '.git'}" in text, text
    assert _present(b) == {"b.bin": True}
    text = out(mlv("gc", cwd=b))  # a has recorded itself meanwhile: still counted once
    assert "kept what 1 other clone(s)" in text, text
