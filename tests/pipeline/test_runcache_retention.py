"""Run-cache retention (docs/pipelines.md "Retention"): gc kept every run-cache entry's outputs
forever, so a parameter sweep's models filled the disk and `git mlv gc` freed none of them, here and
on the remote. Entries recorded or used in the last mlv.gcRunCacheDays days (90) stay; older ones
are dropped, their outputs collected unless something else needs them, and their runs run again."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from git_mlv.ops.context import Workspace
from git_mlv.pipeline.runcache import RunCache
from tests.helpers import commit_all, git, mlv, one_error_line, out, pool_size, write

# an incompressible 300 KB model from the learning rate; $RUNLOG counts the runs
TRAIN = """\
import os, random, yaml
open(os.environ["RUNLOG"], "a").write("train\\n")
lr = yaml.safe_load(open("params.yaml"))["lr"]
open("model.bin", "wb").write(random.Random(str(lr)).randbytes(300_000))
"""
OLD = time.time() - 100 * 86400


def sweep(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
          tried: tuple[str, ...] = ("0.2", "0.3")) -> Path:
    """lr 0.1 committed, the ``tried`` ones run and left in the run-cache; params back at 0.1.
    Returns the log of runs ($RUNLOG). (Also tests/remotes/test_runcache_retention_remote.py.)"""
    log = tmp_path / "runs.log"
    monkeypatch.setenv("RUNLOG", str(log))
    write(repo / "train.py", TRAIN.encode())
    write(repo / "params.yaml", b"lr: 0.1\n")
    mlv("run", "-n", "train", "-d", "train.py", "-p", "lr", "-o", "model.bin", "python train.py", cwd=repo)
    commit_all(repo, "lr 0.1")
    for lr in tried:
        write(repo / "params.yaml", f"lr: {lr}\n".encode())
        mlv("repro", cwd=repo)
    git("checkout", "-q", "--", ".", cwd=repo)
    assert log.read_text().split() == ["train"] * (1 + len(tried))
    return log


def _keys_by_lr(repo: Path) -> dict[str, Path]:
    """Each run-cache key file, by the learning rate its entry was run with."""
    with Workspace.discover(str(repo)) as ws:
        rc = RunCache(ws.pool, ws.repo.mlv_dir)
        found = {}
        for key in rc.keys():  # noqa: SIM118 (a RunCache, not a dict)
            entry = rc.lookup(key)
            assert entry is not None
            found[str(entry["params"]["params.yaml:lr"])] = Path(rc.dir) / key
    return found


def _age(path: Path) -> None:
    os.utime(path, (OLD, OLD))


def _repro_at(repo: Path, lr: str) -> str:
    write(repo / "params.yaml", f"lr: {lr}\n".encode())
    return out(mlv("repro", cwd=repo))


def test_gc_drops_entries_unused_for_the_retention_days(repo: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    log = sweep(repo, tmp_path, monkeypatch)
    text = out(mlv("gc", cwd=repo))
    assert "kept 3 run-cache entries recorded or used in the last 90 day(s), outputs 878.9 KiB" in text, text
    assert "git -c mlv.gcRunCacheDays=0 mlv gc" in text

    keys = _keys_by_lr(repo)
    for path in keys.values():
        _age(path)
    assert "Restored 'train' from run-cache" in _repro_at(repo, "0.3")  # a use: 0.3 is new again
    git("checkout", "-q", "--", ".", cwd=repo)
    before = pool_size(repo)
    report = json.loads(out(mlv("gc", "--dry-run", "--json", cwd=repo)))
    assert (report["runcache_kept"], report["runcache_dropped"]) == (1, 2)
    assert sorted(p.name for p in keys.values() if p.exists()) == sorted(p.name for p in keys.values())

    text = out(mlv("gc", cwd=repo))
    assert "dropped 2 run-cache entries not used in the last 90 day(s)" in text, text
    assert not keys["0.1"].exists() and not keys["0.2"].exists() and keys["0.3"].exists()
    assert before - pool_size(repo) > 250_000  # 0.2's model went; 0.1's is committed, 0.3's kept
    assert mlv("fsck", cwd=repo).returncode == 0

    runs = len(log.read_text().split())
    assert "Restored 'train' from run-cache" in _repro_at(repo, "0.3")
    assert len(log.read_text().split()) == runs
    _repro_at(repo, "0.2")
    assert len(log.read_text().split()) == runs + 1  # its entry is gone: it ran again

    git("checkout", "-q", "--", ".", cwd=repo)
    git("checkout", "-q", "HEAD", "--", "model.bin", cwd=repo)  # the committed one is whole
    assert mlv("status", cwd=repo).returncode == 0
    text = out(git("-c", "mlv.gcRunCacheDays=0", "mlv", "gc", cwd=repo))
    assert "dropped 2 run-cache entries (mlv.gcRunCacheDays=0)" in text, text  # 0.3's and 0.2's new one
    assert not any((Path(repo) / ".git" / "mlv" / "runcache").iterdir())


@pytest.mark.parametrize("value, words", [
    ("soon", "mlv.gcRunCacheDays = 'soon' is not a number of days (default 90)"),
    ("-3", "mlv.gcRunCacheDays = '-3': the days must be 0 or more"),
])
def test_the_retention_must_be_days(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    value: str, words: str) -> None:
    sweep(repo, tmp_path, monkeypatch)
    keys = _keys_by_lr(repo)
    git("config", "mlv.gcRunCacheDays", value, cwd=repo)
    assert words in one_error_line(mlv("gc", cwd=repo, check=False), 2)
    assert all(p.exists() for p in keys.values())


def test_a_remote_keeps_and_sends_only_recent_entries(repo: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "store"
    mlv("remote", "add", "store", str(store), "--default", cwd=repo)
    log = sweep(repo, tmp_path, monkeypatch)
    _age(_keys_by_lr(repo)["0.1"])  # old here: a push does not make it new there
    mlv("push", cwd=repo)
    remote_keys = {p.name: p for p in (store / "runcache").iterdir()}
    keys = _keys_by_lr(repo)
    assert set(remote_keys) == {keys["0.2"].name, keys["0.3"].name}
    _age(remote_keys[keys["0.2"].name])  # pushed long ago (its local copy is new: used here)

    clone = tmp_path / "clone"
    git("clone", "-q", str(repo), str(clone), cwd=tmp_path)
    mlv("install", cwd=clone)
    mlv("fetch", cwd=clone)
    assert _keys_by_lr(clone).keys() == {"0.3"}  # the old key is not fetched
    fetched = _keys_by_lr(clone)["0.3"].stat().st_mtime
    assert abs(fetched - remote_keys[keys["0.3"].name].stat().st_mtime) < 2  # the remote's time

    # collecting the remote: the old key goes, and the model only it needed once it is old here too
    _age(keys["0.2"])
    before = sum(p.stat().st_size for p in (store / "packs").glob("*.pack"))
    text = out(mlv("gc", "--remote", "store", "--grace-hours", "0", cwd=repo))
    assert "deleted 1 run-cache key(s)" in text, text
    assert {p.name for p in (store / "runcache").iterdir()} == {keys["0.3"].name}
    assert before - sum(p.stat().st_size for p in (store / "packs").glob("*.pack")) > 250_000

    fresh = tmp_path / "fresh"
    git("clone", "-q", str(repo), str(fresh), cwd=tmp_path)
    mlv("install", cwd=fresh)
    mlv("pull", cwd=fresh)
    runs = len(log.read_text().split())
    assert "Restored 'train' from run-cache" in _repro_at(fresh, "0.3")
    _repro_at(fresh, "0.2")
    assert len(log.read_text().split()) == runs + 1
