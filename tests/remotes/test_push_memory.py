"""A push to a folder remote writes up to a GiB of packs before it makes them durable and indexes
them (remotes/local.py ``stage_bytes``); each staged pack kept its list of Entry objects until
then, ~240 bytes a file: a 300,000-file push peaked at 193 MB, 72 MB of it those objects (a
600,000-file push over issue 9's 200 MB bar). Staged packs keep their index's bytes instead.

Measured under tracemalloc at each pack staged, on 20,000 one-object files in 1 MiB packs (all
twenty staged in one batch): what the push holds then, a file. Before, ~410 bytes; now ~245."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.remotes.base import Data, Staged
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.local import FolderRemote
from git_mlv.remotes.transfer import RetryPolicy, push_objects
from tests.helpers import random_bytes

SMALL_PACKS = Settings(pack_size=1 << 20)
FILES = 20_000
MAX_BYTES_PER_FILE = 320


class _Watched(FolderRemote):
    """A folder remote noting the memory traced at each pack staged."""

    held = 0

    def stage(self, name: str, data: Data) -> Staged:
        self.held = max(self.held, tracemalloc.get_traced_memory()[0])
        return super().stage(name, data)


def test_staged_packs_hold_little_per_file(tmp_path: Path) -> None:
    pool = Pool(str(tmp_path / "pool"), SMALL_PACKS)
    remote = _Watched(str(tmp_path / "store"))
    assert remote.stage_bytes // SMALL_PACKS.pack_size > 1  # packs are staged in batches
    rindex = RemoteIndex(remote, str(tmp_path / "cache"))
    try:
        w = pool.writer()
        data = random_bytes(FILES * 1000, 7)
        oids = [w.add_bytes(data[i * 1000:(i + 1) * 1000]).oid for i in range(FILES)]
        w.commit()
        del data
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            stats = push_objects(pool, remote, rindex, oids, SMALL_PACKS.pack_size, RetryPolicy(attempts=1))
        finally:
            tracemalloc.stop()
        assert stats.objects == FILES and stats.packs >= 20
        per_file = (remote.held - base) / FILES
        assert per_file < MAX_BYTES_PER_FILE, f"{per_file:.0f} bytes a file held while packs are staged"
        fresh = Pool(str(tmp_path / "fresh"), SMALL_PACKS)  # every byte there: fetched back whole
        from git_mlv.remotes import fetch

        got = fetch.fetch_files(fresh, remote, RemoteIndex(remote, str(tmp_path / "c2")), oids[::997],
                                RetryPolicy(attempts=1))
        fresh.writer().commit()
        assert got.fetched == set(oids[::997])
        assert all(b"".join(fresh.iter_file(o)) == b"".join(pool.iter_file(o)) for o in oids[::997])
        fresh.close()
    finally:
        rindex.close()
        pool.close()
