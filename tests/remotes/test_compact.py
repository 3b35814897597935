"""Remote index consolidation on every backend: few index files however many pushes, readers that
list during a consolidation, kill -9 at every step, and an incremental index cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from git_mlv.core.crashpoint import ENV
from git_mlv.core.pool import Pool
from git_mlv.remotes.base import Remote
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.compact import compact_indexes
from git_mlv.remotes.fetch import fetch_files
from git_mlv.remotes.transfer import push_objects
from tests.helpers import random_bytes
from tests.remotes.conftest import Backend, make_backend
from tests.remotes.test_transfer import RETRY, SMALL, Recording, read_all


def index_files(remote: Remote) -> list[str]:
    return sorted(n for n in remote.list("packs/") if n.endswith((".idx", ".midx")))


def push_rounds(tmp_path: Path, remote: Remote, rounds: int, threshold: int, seed: int = 0
                ) -> dict[str, bytes]:
    """``rounds`` pushes of a few new files each (one index each), consolidating after each."""
    pool = Pool(str(tmp_path / f"src{seed}"), SMALL)
    rindex = RemoteIndex(remote, str(tmp_path / f"src{seed}-cache"))
    files: dict[str, bytes] = {}
    for r in range(rounds):
        w = pool.writer()
        new = {}
        for k in range(2):
            data = random_bytes(3000 + 4000 * k + r, seed=seed * 1000 + 10 * r + k)
            new[w.add_bytes(data).oid] = data
        w.commit()
        rindex.refresh()
        push_objects(pool, remote, rindex, new, SMALL.pack_size, RETRY)
        compact_indexes(remote, rindex, RETRY, threshold)
        files.update(new)
    pool.close()
    rindex.close()
    return files


def fetch_all(tmp_path: Path, remote: Remote, files: dict[str, bytes], name: str = "dst") -> RemoteIndex:
    """Fetch every file into a fresh pool with a fresh cache; check every byte."""
    rindex = RemoteIndex(remote, str(tmp_path / f"{name}-cache"))
    dst = Pool(str(tmp_path / name), SMALL)
    got = fetch_files(dst, remote, rindex, files, RETRY)
    dst.writer().commit()
    assert got.present == set(files) and not got.damaged, got.damaged
    for oid, data in files.items():
        assert read_all(dst, oid) == data
    dst.close()
    return rindex


# Azurite stalls ~7 s on each delete (pyarrow's lease release, remotes/arrowfs.py): the long
# tests run on the three backends whose listing and delete differ most; the race runs on all.
THREE = ["folder", "s3", "ssh"]


@pytest.mark.parametrize("kind", THREE)
def test_many_pushes_leave_few_index_files(kind: str, tmp_path: Path, request: pytest.FixtureRequest,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    remote = make_backend(kind, request, tmp_path, monkeypatch).open()
    files = push_rounds(tmp_path, remote, 16, threshold=3)
    listing = remote.list("packs/")
    assert len([n for n in listing if n.endswith(".pack")]) >= 16  # packs are not moved
    assert len(index_files(remote)) <= 5  # 16 without consolidation
    assert any(n.endswith(".midx") for n in listing)
    rindex = fetch_all(tmp_path, remote, files)
    assert rindex.downloads == len(index_files(remote))  # a clone reads a handful of files
    rindex.close()


@pytest.mark.parametrize("kind", THREE)
def test_cache_is_incremental(kind: str, tmp_path: Path, request: pytest.FixtureRequest,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    remote = make_backend(kind, request, tmp_path, monkeypatch).open()
    files = push_rounds(tmp_path, remote, 8, threshold=3)
    rindex = RemoteIndex(remote, str(tmp_path / "reader-cache"))
    rindex.refresh()
    first = rindex.downloads
    rindex.refresh()
    assert rindex.downloads == first  # nothing new: nothing downloaded
    more = push_rounds(tmp_path, remote, 1, threshold=0, seed=7)
    rindex.refresh()
    assert rindex.downloads == first + 1  # one push: one index
    assert all(rindex.contains([bytes.fromhex(o) + b"\x01"])[0] or
               rindex.contains([bytes.fromhex(o) + b"\x02"])[0] for o in {**files, **more})
    rindex.close()


class ConsolidatesOnFirstIndexRead(Recording):
    """A real remote on which another clone consolidates the indexes just after our listing:
    the first index we download has been replaced by a midx (instrumentation, not a mock)."""

    def __init__(self, inner: Remote, cache: str) -> None:
        super().__init__(inner)
        self.cache = cache
        self.done = False

    def get(self, name: str) -> bytes:
        if name.endswith(".idx") and not self.done:
            self.done = True
            other = RemoteIndex(self.inner, self.cache)
            other.refresh()
            res = compact_indexes(self.inner, other, RETRY, 2)
            assert res is not None and name in res.replaced
            other.close()
        return self.inner.get(name)


def test_a_clone_started_during_a_consolidation_gets_every_byte(backend: Backend, tmp_path: Path) -> None:
    remote = backend.open()
    files = push_rounds(tmp_path, remote, 6, threshold=0)  # six index files, none consolidated
    racing = ConsolidatesOnFirstIndexRead(remote, str(tmp_path / "other-cache"))
    rindex = fetch_all(tmp_path, racing, files)
    assert racing.done
    assert len(index_files(remote)) < 6
    rindex.close()


COMPACT = textwrap.dedent("""
    import json, sys
    from git_mlv.remotes.cache import RemoteIndex
    from git_mlv.remotes.compact import compact_indexes
    from git_mlv.remotes.transfer import RetryPolicy
    from git_mlv.remotes.url import open_remote
    remote = open_remote(sys.argv[1], json.loads(sys.argv[2]))
    rindex = RemoteIndex(remote, sys.argv[3])
    rindex.refresh()
    res = compact_indexes(remote, rindex, RetryPolicy(attempts=2, base_delay=0.05), 2)
    print("compacted", len(res.replaced) if res else 0)
""")


@pytest.mark.parametrize(("kind", "point"), [("folder", "remote-compact-uploaded"),
                                             ("folder", "remote-compact-deleting"),
                                             ("s3", "remote-compact-uploaded"),
                                             ("s3", "remote-compact-deleting")])
def test_kill_9_during_a_remote_consolidation(kind: str, point: str, tmp_path: Path,
                                              request: pytest.FixtureRequest,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    backend = make_backend(kind, request, tmp_path, monkeypatch)
    remote = backend.open()
    files = push_rounds(tmp_path, remote, 6, threshold=0)
    before = index_files(remote)
    args = [sys.executable, "-c", COMPACT, backend.url, __import__("json").dumps(backend.options)]
    proc = subprocess.run([*args, str(tmp_path / "killed-cache")], capture_output=True,
                          env={**os.environ, ENV: point})
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    fetch_all(tmp_path, remote, files, "after-kill").close()  # nothing lost, readable at once
    rerun = subprocess.run([*args, str(tmp_path / "killed-cache")], capture_output=True)
    assert rerun.returncode == 0, rerun.stderr.decode()[-2000:]
    assert len(index_files(remote)) < len(before)
    fetch_all(tmp_path, remote, files, "after-rerun").close()
