"""A big file's fetch holds a few dozen bytes a chunk, not Python objects per chunk (remotes/fetch.py,
fetchverify.py): a manifest is kept as its bytes with numpy views of its chunks, what is needed as
columns, the ranges' order from one window's chunks. Before, a tuple per chunk (the decoded
manifest), a dict of chunk keys, a set of ids and a map of every chunk built for each window cost
~400 bytes a chunk: 6.5 MB a GiB of file, a 20 GiB model over the 150 MB bar.

Measured under tracemalloc on two files, one four times the other, of tiny chunks (so a few MB
make tens of thousands), with the bytes in flight capped small: the peak may grow by the chunk
count times a bound well under the old cost.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.remotes import fetch
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.local import FolderRemote
from git_mlv.remotes.transfer import RetryPolicy, push_objects
from tests.helpers import random_bytes

# small packs: the pool writer holds an entry per object of its open pack (bounded by the pack size)
TINY = Settings(chunk_avg=256, chunk_min=64, chunk_max=1024, pack_size=1 << 20)
MAX_BYTES_PER_CHUNK = 250  # measured ~150 (before: ~440)


def _fetch_peak(tmp_path: Path, size: int, seed: int) -> tuple[int, int]:
    """(tracemalloc's peak over fetch_files of one ``size``-byte file, its chunk count)."""
    src = Pool(str(tmp_path / f"a{seed}"), TINY)
    dst = Pool(str(tmp_path / f"b{seed}"), TINY)
    remote = FolderRemote(str(tmp_path / f"store{seed}"))
    rindex = RemoteIndex(remote, str(tmp_path / f"ac{seed}"))
    dindex = RemoteIndex(remote, str(tmp_path / f"bc{seed}"))
    try:
        w = src.writer()
        oid = w.add_bytes(random_bytes(size, seed)).oid
        w.commit()
        push_objects(src, remote, rindex, [oid], TINY.pack_size, RetryPolicy(attempts=1))
        chunks = len(src.file_chunks(oid))
        dst.writer()
        dindex.refresh()
        tracemalloc.start()
        try:
            got = fetch.fetch_files(dst, remote, dindex, [oid], RetryPolicy(attempts=1), sizes={oid: size})
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        dst.writer().commit()
        assert got.fetched == {oid}, got.failed
        return peak, chunks
    finally:
        for x in (rindex, dindex, src, dst):
            x.close()


@pytest.mark.slow
def test_a_big_files_fetch_holds_little_per_chunk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # bytes in flight capped (a tuning constant, not a fault): they would otherwise grow with the
    # file up to 32 MiB and hide what the chunks cost
    monkeypatch.setattr(fetch, "MAX_FETCH_IN_FLIGHT", 1 << 20)
    small, n_small = _fetch_peak(tmp_path, 3 << 20, 1)
    large, n_large = _fetch_peak(tmp_path, 12 << 20, 2)
    per_chunk = (large - small) / (n_large - n_small)
    assert per_chunk < MAX_BYTES_PER_CHUNK, (per_chunk, small, large, n_small, n_large)
