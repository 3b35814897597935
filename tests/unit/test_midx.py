"""The multi-pack index: round trip, damage (readers fall back, fsck says so), versions, cheap refresh."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest

from git_mlv.core import index as idx
from git_mlv.core import midx as mx
from git_mlv.core.consolidate import consolidate, geometric_split, write_midx
from git_mlv.core.pack import KIND_CHUNK
from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.errors import CorruptObject
from tests.unit.test_pool import read_back, rnd

# tiny packs, no automatic consolidation: the tests decide when a midx is written
SMALL = Settings(chunk_avg=1024, chunk_min=256, chunk_max=4096, pack_size=64 * 1024, auto_packs=0)



def make_pool(root: Path, n: int = 12) -> dict[str, bytes]:
    """``n`` files, each written by its own writer (one pack each, as ``n`` git adds would)."""
    files = {}
    for i in range(n):
        data = rnd(3000 + 2500 * i, seed=i)
        with Pool(str(root), SMALL) as pool:
            files[pool.writer().add_bytes(data).oid] = data
    return files


def packs_of(root: Path) -> list[Path]:
    return sorted((root / "packs").glob("*.pack"))


def test_round_trip(tmp_path: Path) -> None:
    files = make_pool(tmp_path)
    with Pool(str(tmp_path), SMALL) as pool:
        assert pool.packset.midx is None
        write_midx(pool)
    with Pool(str(tmp_path), SMALL) as pool:
        pool.refresh()
        m = pool.packset.midx
        assert m is not None
        m.verify()
        assert sorted(m.pack_names) == sorted(p.name[:-5] for p in packs_of(tmp_path))
        assert pool.packset.uncovered() == []  # every pack is found through the midx alone
        total = sum(idx.IndexFile(str(p)[:-5] + ".idx").count for p in packs_of(tmp_path))
        assert m.count == total  # one row per key: these files share no chunk
        for oid, data in files.items():
            assert read_back(pool, oid) == data
        # the midx answers what each pack index answers, row for row
        for pack in pool.packs():
            index = pool.index_of(pack)
            for e in index:
                loc = pool.locate(e.id, e.kind)
                assert loc is not None and loc.pack == pack and loc.entry == e


def test_encode_keeps_one_row_per_key_and_sorted_names(tmp_path: Path) -> None:
    make_pool(tmp_path, 3)
    with Pool(str(tmp_path), SMALL) as pool:
        pool.refresh()
        packs = pool.packs()
        one = pool.index_of(packs[0])
        sources = [mx.source_of(one, packs[0]), mx.source_of(one, packs[0]),
                   *(mx.source_of(pool.index_of(p), p) for p in packs[1:])]
        data = mx.encode(sources)
    mx.check_bytes(data, "test")
    count, names = mx.HEADER.unpack_from(data, 0)[3], mx.HEADER.unpack_from(data, 0)[2]
    assert names == 3
    assert count == sum(idx.IndexFile(str(p)[:-5] + ".idx").count for p in packs_of(tmp_path))
    raw = [data[mx.HEADER.size + i * 16: mx.HEADER.size + (i + 1) * 16] for i in range(names)]
    assert raw == sorted(raw)


def _records_offset(path: Path) -> int:
    data = path.read_bytes()
    _, _, packs, count = mx.HEADER.unpack_from(data, 0)
    return mx.HEADER.size + packs * mx.NAME_SIZE + count * idx.KEY_SIZE


@pytest.mark.parametrize("region", ["header", "names", "keys", "records", "trailer", "truncated"])
def test_damaged_midx_never_gives_a_wrong_answer(tmp_path: Path, region: str) -> None:

    files = make_pool(tmp_path)
    with Pool(str(tmp_path), SMALL) as pool:
        write_midx(pool)
    path = tmp_path / "packs" / mx.LOCAL_NAME
    data = bytearray(path.read_bytes())
    rec = _records_offset(path)
    if region == "truncated":
        data = data[: len(data) // 2]
    else:
        at = {"header": 0, "names": mx.HEADER.size + 3, "keys": rec - 100, "trailer": len(data) - 5,
              # flip the offset of every record: each one now points into the middle of an entry
              "records": rec}[region]
        if region == "records":
            for r in range(rec, len(data) - mx.TRAILER_SIZE, mx.RECORD_SIZE):
                data[r] ^= 0x08
        else:
            data[at] ^= 0x55
    path.write_bytes(bytes(data))
    with Pool(str(tmp_path), SMALL) as pool:
        for oid, want in files.items():
            assert read_back(pool, oid) == want  # through the midx, or around it
        problems = mx.check_file(pool.packset.midx_path, pool.pack_dir)
    assert problems and "git mlv gc" in problems[0]


def test_midx_naming_a_missing_pack_is_ignored(tmp_path: Path) -> None:
    files = make_pool(tmp_path)
    with Pool(str(tmp_path), SMALL) as pool:
        write_midx(pool)
        victim = pool.packs()[0]
        lost = {e.id for e in pool.index_of(victim)}
    os.unlink(victim)  # deleted by hand: the midx still names it
    os.unlink(victim[:-5] + ".idx")
    with Pool(str(tmp_path), SMALL) as pool:
        pool.refresh()
        assert pool.packset.midx is None  # not trusted: the pack indexes answer
        readable = 0
        for oid, want in files.items():
            chunks = pool.resolve(oid)
            if chunks is not None and not lost & {cid for cid, _ in chunks}:
                assert read_back(pool, oid) == want
                readable += 1
        assert readable >= len(files) - 2


def test_unknown_version_is_refused(tmp_path: Path) -> None:
    make_pool(tmp_path, 3)
    with Pool(str(tmp_path), SMALL) as pool:
        write_midx(pool)
    path = tmp_path / "packs" / mx.LOCAL_NAME
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 8, 99)
    path.write_bytes(bytes(data))
    with Pool(str(tmp_path), SMALL) as pool, pytest.raises(mx.UnsupportedVersion, match="upgrade git-mlv"):
        pool.refresh()
    with pytest.raises(mx.UnsupportedVersion):
        mx.check_bytes(bytes(data), "remote")


def test_refresh_lists_the_folder_only_when_it_changed(tmp_path: Path) -> None:
    make_pool(tmp_path, 3)
    old = os.stat(tmp_path / "packs").st_mtime_ns - 5_000_000_000
    os.utime(tmp_path / "packs", ns=(old, old))  # a folder last changed 5 s ago: listing is trusted
    with Pool(str(tmp_path), SMALL) as pool:
        pool.refresh()
        assert pool.packset.relists == 1
        for _ in range(100):
            assert pool.resolve("ab" * 32, refresh=True) is None  # a miss refreshes every time
        assert pool.packset.relists == 1
        with Pool(str(tmp_path), SMALL) as other:  # another process adds a pack
            oid = other.writer().add_bytes(rnd(5000, 99)).oid
        assert pool.resolve(oid, refresh=True) is not None
        assert pool.packset.relists == 2


def test_a_reader_finds_objects_moved_by_a_consolidation(tmp_path: Path) -> None:
    files = make_pool(tmp_path)
    reader = Pool(str(tmp_path), SMALL)
    locs = {oid: reader.locate(bytes.fromhex(oid), KIND_CHUNK) or reader.locate(bytes.fromhex(oid), 2)
            for oid in files}
    assert all(loc is not None for loc in locs.values())
    with Pool(str(tmp_path), SMALL.replace(pack_size=1 << 20)) as other:
        res = consolidate(other)
    assert res is not None and res.merged >= 2
    for oid, want in files.items():  # stale locations: the packs are gone, found again once
        assert read_back(reader, oid) == want
    reader.close()


def test_geometric_split() -> None:
    assert geometric_split([]) == 0
    assert geometric_split([100]) == 0
    assert geometric_split([1, 2, 4, 8]) == 0  # already a progression
    assert geometric_split([1, 1, 4, 8]) == 2
    # git's example: the merge of the small ones outgrows the next, which joins it
    assert geometric_split([1, 1, 1, 3, 16]) == 4
    assert geometric_split([5, 5, 5, 5, 5]) == 5


def test_search_agrees_with_a_dict() -> None:
    keys = np.sort(np.array([os.urandom(33) for _ in range(500)], dtype="S33"))
    probe = np.array([bytes(k) for k in keys[::7]] + [os.urandom(33) for _ in range(50)], dtype="S33")
    hit, rows = idx.search(keys, probe)
    assert hit.tolist() == [True] * len(keys[::7]) + [False] * 50
    assert all(keys[r] == probe[i] for i, r in enumerate(rows.tolist()) if hit[i])


def test_corrupt_remote_midx_bytes_are_rejected(tmp_path: Path) -> None:
    make_pool(tmp_path, 3)
    with Pool(str(tmp_path), SMALL) as pool:
        pool.refresh()
        data = bytearray(mx.encode([mx.source_of(pool.index_of(p), p) for p in pool.packs()]))
    rec = len(data) - mx.TRAILER_SIZE - 24
    data[rec + 16] = 7  # a pack number out of range, checksum fixed up: still refused
    import hashlib

    data[-32:] = hashlib.sha256(bytes(data[:-32])).digest()
    with pytest.raises(CorruptObject, match="names a pack"):
        mx.check_bytes(bytes(data), "remote")


def _rss_of_mapping(path: str) -> int:
    """KB of ``path``'s mapping resident in this process (Linux: /proc/self/smaps)."""
    total, inside = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if len(head) >= 5 and "-" in head[0] and ":" in head[3]:
                inside = len(head) > 5 and head[5] == path
            elif inside and head[0] == "Rss:":
                total += int(head[1])
    return total


def test_drop_pages_hands_back_rss_and_lookups_still_answer(tmp_path: Path) -> None:
    """A long command's later phase (a push's index consolidation) first gives back the index
    pages its lookups touched (issue 9's 200 MB bar at 600,000 files); answers do not change."""
    files = make_pool(tmp_path, n=4)
    with Pool(str(tmp_path), SMALL) as pool:
        write_midx(pool)
    with Pool(str(tmp_path), SMALL) as pool:
        pool.refresh()
        m = pool.packset.midx
        assert m is not None
        m.verify()  # reads every page of the mapping
        wanted = np.array(m.keys)  # a copy, not a view
        before = _rss_of_mapping(m.path)
        assert before > 0
        pool.drop_pages()
        assert _rss_of_mapping(m.path) < before
        found, rows = m.search(wanted)  # numpy views of the mapping stay valid after the drop
        assert found.all() and (rows == np.arange(len(wanted))).all()
        for oid, data in files.items():
            assert read_back(pool, oid) == data
