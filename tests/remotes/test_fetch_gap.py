"""How much of a remote pack a fetch reads when the wanted objects lie among others (issue 9: the
clone of a 1,000-push history finds its files' chunks among their older versions)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from git_mlv.core import index as idx
from git_mlv.core.pack import KIND_CHUNK
from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.remotes.base import Remote
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.fetch import fetch_files
from git_mlv.remotes.local import FolderRemote
from git_mlv.remotes.transfer import RetryPolicy, push_objects
from tests.helpers import random_bytes

# files below chunk_min: one chunk each, side by side in one pack
ONE_CHUNK = Settings(chunk_avg=65536, chunk_min=16384, chunk_max=262144, pack_size=8 << 20)
RETRY = RetryPolicy(attempts=2, base_delay=0.05)
SIZE, FILES, EVERY = 12_000, 64, 8  # 7 unwanted 12 KB objects between two wanted ones: 84 KB


class Counting(FolderRemote):
    """A real folder remote that counts its ranged reads (instrumentation, not a mock)."""

    def __init__(self, root: str, gap: int | None = None) -> None:
        super().__init__(root)
        self.ranges: list[int] = []
        if gap is not None:
            self.range_gap = gap

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        self.ranges.append(length)
        return super().get_range(name, offset, length)


def _fetch_every_eighth(tmp_path: Path, remote: Counting) -> tuple[dict[str, bytes], Pool, int]:
    src = Pool(str(tmp_path / "src"), ONE_CHUNK)
    w = src.writer()
    by_oid = {w.add_bytes(random_bytes(SIZE, seed=500 + i)).oid: random_bytes(SIZE, seed=500 + i)
              for i in range(FILES)}
    w.commit()
    push_objects(src, remote, RemoteIndex(remote, str(tmp_path / "srcc")), by_oid, 8 << 20, RETRY)
    want = {o: d for i, (o, d) in enumerate(by_oid.items()) if i % EVERY == 0}
    dst = Pool(str(tmp_path / "dst"), ONE_CHUNK)
    remote.ranges.clear()
    got = fetch_files(dst, remote, RemoteIndex(remote, str(tmp_path / "dstc")), want, RETRY,
                      sizes={o: SIZE for o in want})
    dst.writer().commit()
    assert got.fetched == set(want) and not got.damaged
    return want, dst, got.bytes_received


@pytest.mark.parametrize("gap", [None, Remote.range_gap])
def test_a_folder_fetch_reads_what_it_needs_not_the_gaps(tmp_path: Path, gap: int | None) -> None:
    """A folder remote reads each wanted object alone (a request costs less than 84 KB of reading);
    with a network remote's gap the same fetch reads across them, in fewer requests. The bytes
    arrive equal either way."""
    remote = Counting(str(tmp_path / "remote"), gap)
    want, dst, received = _fetch_every_eighth(tmp_path, remote)
    needed = len(want) * SIZE
    if gap is None:  # FolderRemote.range_gap
        assert len(remote.ranges) == len(want)
        assert received < needed * 1.1
    else:
        assert len(remote.ranges) == 1
        assert received > needed * (EVERY - 1)
    for oid, data in want.items():
        assert b"".join(dst.iter_file(oid)) == data
        assert hashlib.sha256(data).hexdigest() == oid


def test_files_of_the_next_batch_ride_along_in_bytes_already_read(tmp_path: Path) -> None:
    """A clone fetches in batches; with a network remote's gap, a batch reads the bytes of files of
    the next one too: those (``upcoming``) are stored then, and the next batch reads nothing."""
    remote = Counting(str(tmp_path / "remote"), Remote.range_gap)
    src = Pool(str(tmp_path / "src"), ONE_CHUNK)
    w = src.writer()
    data = [random_bytes(SIZE, seed=900 + i) for i in range(FILES)]
    oids = [w.add_bytes(d).oid for d in data]
    w.commit()
    push_objects(src, remote, RemoteIndex(remote, str(tmp_path / "srcc")), oids, 8 << 20, RETRY)
    # the files between the first batch's (those after its last one lie outside what it reads)
    first, later = oids[::EVERY], [o for i, o in enumerate(oids[:-EVERY]) if i % EVERY]
    dst = Pool(str(tmp_path / "dst"), ONE_CHUNK)
    rindex = RemoteIndex(remote, str(tmp_path / "dstc"))
    remote.ranges.clear()
    got = fetch_files(dst, remote, rindex, first, RETRY, sizes={o: SIZE for o in first},
                      upcoming={o: SIZE for o in later})
    assert got.fetched == set(first) and not got.damaged and len(remote.ranges) == 1
    got = fetch_files(dst, remote, rindex, later, RETRY, sizes={o: SIZE for o in later})
    assert got.present == set(later) and not got.fetched  # already here: nothing read again
    assert len(remote.ranges) == 1
    dst.writer().commit()
    for oid, content in list(zip(oids, data))[:-EVERY + 1]:
        assert b"".join(dst.iter_file(oid)) == content


def test_a_damaged_rider_is_not_stored(tmp_path: Path) -> None:
    """An upcoming file whose bytes on the remote do not hash to its id is never stored: the
    batch that asks for it later reads it again and reports it."""
    remote = Counting(str(tmp_path / "remote"), Remote.range_gap)
    src = Pool(str(tmp_path / "src"), ONE_CHUNK)
    w = src.writer()
    data = [random_bytes(SIZE, seed=700 + i) for i in range(3)]
    oids = [w.add_bytes(d).oid for d in data]
    w.commit()
    push_objects(src, remote, RemoteIndex(remote, str(tmp_path / "srcc")), oids, 8 << 20, RETRY)
    rindex = RemoteIndex(remote, str(tmp_path / "dstc"))
    rindex.refresh()
    pack, e = rindex.lookup([idx.key(bytes.fromhex(oids[1]), KIND_CHUNK)])[0] or ("", None)
    assert e is not None
    path = tmp_path / "remote" / pack
    raw = bytearray(path.read_bytes())
    raw[e.end - 1] ^= 0xFF  # the middle file's last byte
    path.write_bytes(bytes(raw))
    dst = Pool(str(tmp_path / "dst"), ONE_CHUNK)
    got = fetch_files(dst, remote, rindex, [oids[0], oids[2]], RETRY, sizes={o: SIZE for o in oids},
                      upcoming={oids[1]: SIZE})
    assert got.fetched == {oids[0], oids[2]}
    assert not dst.has_file(oids[1])
    got = fetch_files(dst, remote, rindex, [oids[1]], RETRY, sizes={oids[1]: SIZE})
    assert oids[1] in got.failed and got.damaged
