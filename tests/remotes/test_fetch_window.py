"""A fetch locates and reads a big file's chunks a window at a time (remotes/fetch.FETCH_WINDOW):
what it holds per chunk (remote locations, ranges) then follows the window, not the file. A 5 GiB
file's 75,000 chunks at once peaked at 168 MB (helper I's trial; the bar is 150 MB). The window is
made small here so that a small file spans several; the bytes must come back whole and verified."""

from __future__ import annotations

from pathlib import Path

import pytest

from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.remotes import fetch
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.local import FolderRemote
from git_mlv.remotes.transfer import RetryPolicy, push_objects
from tests.helpers import random_bytes

SMALL = Settings(chunk_avg=8192, chunk_min=2048, chunk_max=32768, pack_size=1 << 20)
RETRY = RetryPolicy(attempts=2, base_delay=0.05)


def test_a_big_file_is_fetched_a_window_of_chunks_at_a_time(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    big = random_bytes(3 << 20, seed=71)  # ~380 chunks
    files = [big, big[: 1 << 20] + random_bytes(5000, seed=72), random_bytes(1500, seed=73)]
    src = Pool(str(tmp_path / "src"), SMALL)
    w = src.writer()
    oids = [w.add_bytes(d).oid for d in files]
    w.commit()
    remote = FolderRemote(str(tmp_path / "remote"))
    push_objects(src, remote, RemoteIndex(remote, str(tmp_path / "srcc")), {o: 0 for o in oids},
                 1 << 20, RETRY)

    looked: list[int] = []
    lookup = fetch._remote_lookup

    def counting(rindex: RemoteIndex, keys: list[bytes]) -> list:  # type: ignore[type-arg]
        looked.append(len(keys))
        return lookup(rindex, keys)

    monkeypatch.setattr(fetch, "FETCH_WINDOW", 50, raising=False)
    monkeypatch.setattr(fetch, "_remote_lookup", counting)
    progress: list[tuple[int, int]] = []
    dst = Pool(str(tmp_path / "dst"), SMALL)
    got = fetch.fetch_files(dst, remote, RemoteIndex(remote, str(tmp_path / "dstc")), oids, RETRY,
                            progress=lambda done, total: progress.append((done, total)),
                            sizes={o: len(d) for o, d in zip(oids, files)})
    dst.writer().commit()
    assert got.fetched == set(oids) and not got.damaged and not got.failed
    chunk_lookups = looked[2:]  # the first two: the files' manifests and one-chunk files
    assert len(chunk_lookups) >= 6 and max(chunk_lookups) <= 50, looked  # before: one of ~350
    done, total = progress[-1]
    assert done == total >= 3 << 20, progress[-3:]  # the bar ends full though its total grew
    fresh = Pool(str(tmp_path / "dst"), SMALL)  # read back from disk, every chunk verified
    for oid, data in zip(oids, files):
        assert b"".join(fresh.iter_file(oid)) == data
