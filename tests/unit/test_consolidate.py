"""Consolidation: packs do not pile up, a kill -9 anywhere loses nothing, readers and writers in other
processes keep working while it runs."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from git_mlv.core import index as idx
from git_mlv.core import midx as mx
from git_mlv.core.compress import decompress
from git_mlv.core.consolidate import auto_consolidate, consolidate
from git_mlv.core.crashpoint import ENV
from git_mlv.core.hashing import digest
from git_mlv.core.pack import KIND_CHUNK, scan
from git_mlv.core.pool import Location, Pool
from git_mlv.core.settings import Settings
from tests.unit.test_pool import read_back, rnd

SETTINGS = dict(chunk_avg=1024, chunk_min=256, chunk_max=4096, pack_size=256 * 1024)
MANUAL = Settings(**SETTINGS, auto_packs=0)  # type: ignore[arg-type]



def add_files(root: Path, n: int, seed: int = 0, settings: Settings = MANUAL) -> dict[str, bytes]:
    """``n`` files, one writer (one pack) each, as ``n`` separate git adds."""
    files = {}
    for i in range(n):
        data = rnd(2000 + 1500 * i, seed=seed + i)
        with Pool(str(root), settings) as pool:
            files[pool.writer().add_bytes(data).oid] = data
    return files


def pack_count(root: Path) -> int:
    return len(list((root / "packs").glob("*.pack")))


def check_pool(root: Path, files: dict[str, bytes]) -> None:
    """What fsck checks, without git: every index and entry, the midx, every file byte for byte."""
    with Pool(str(root), MANUAL) as pool:
        pool.refresh()
        assert mx.check_file(pool.packset.midx_path, pool.pack_dir) == []
        for pack in pool.packs():
            index = pool.index_of(pack)
            index.verify()
            entries, _, complete = scan(pack)
            assert complete and len(entries) >= index.count
            for e in index:
                head, stored = pool.read_entry(Location(pack, e))
                if e.kind == KIND_CHUNK:
                    assert digest(decompress(head.codec, stored, head.raw_len)) == e.id
        for oid, data in files.items():
            assert read_back(pool, oid) == data
    assert not list((root / "packs").glob("*.new"))


def test_auto_consolidation_keeps_packs_few(tmp_path: Path) -> None:
    auto = Settings(**SETTINGS, auto_packs=4)  # type: ignore[arg-type]
    files = add_files(tmp_path, 40, settings=auto)
    assert pack_count(tmp_path) <= 10  # 40 writers, 40 packs without consolidation
    with Pool(str(tmp_path), auto) as pool:
        pool.refresh()
        assert len(pool.packset.uncovered()) < 4
        assert pool.packset.midx is not None
    check_pool(tmp_path, files)


def test_consolidation_merges_small_packs_only(tmp_path: Path) -> None:
    files = add_files(tmp_path, 10)
    big = rnd(600_000, 77)  # several full packs
    with Pool(str(tmp_path), MANUAL) as pool:
        files[pool.writer().add_bytes(big).oid] = big
    full = {p.name for p in (tmp_path / "packs").glob("*.pack") if p.stat().st_size >= 256 * 1024}
    assert len(full) >= 2
    with Pool(str(tmp_path), MANUAL) as pool:
        pool.refresh()
        before = pool.packs()
        res = consolidate(pool)
    assert res is not None and res.merged >= 2 and res.objects_dropped == 0
    after = {p.name for p in (tmp_path / "packs").glob("*.pack")}
    assert full <= after  # full packs are never rewritten
    assert len(after) < len(before)
    check_pool(tmp_path, files)


CRASH = textwrap.dedent("""
    import sys
    from git_mlv.core.consolidate import consolidate
    from git_mlv.core.pool import Pool
    from git_mlv.core.settings import Settings
    pool = Pool(sys.argv[1], Settings(chunk_avg=1024, chunk_min=256, chunk_max=4096,
                                      pack_size=256 * 1024, auto_packs=0))
    pool.writer()  # holds gc.lock shared, as the end of a git add does
    consolidate(pool)
    print("finished")
""")


@pytest.mark.parametrize("point", ["consolidate-copying", "consolidate-copied", "consolidate-midx",
                                   "consolidate-deleting"])
def test_kill_9_during_consolidation(tmp_path: Path, point: str) -> None:
    files = add_files(tmp_path, 12)
    with Pool(str(tmp_path), MANUAL) as pool:  # a midx already there: the new one replaces it
        consolidate(pool)
    files.update(add_files(tmp_path, 8, seed=100))
    before = pack_count(tmp_path)
    proc = subprocess.run([sys.executable, "-c", CRASH, str(tmp_path)], capture_output=True,
                          env={**os.environ, ENV: point})
    assert proc.returncode == -9, proc.stderr.decode()[-2000:]
    check_pool(tmp_path, files)  # readable at once: nothing lost, no wrong answer
    rerun = subprocess.run([sys.executable, "-c", CRASH, str(tmp_path)], capture_output=True)
    assert rerun.returncode == 0 and b"finished" in rerun.stdout, rerun.stderr.decode()[-2000:]
    check_pool(tmp_path, files)
    assert pack_count(tmp_path) < before
    with Pool(str(tmp_path), MANUAL) as pool:
        pool.refresh()
        assert pool.packset.uncovered() == []


READER = textwrap.dedent("""
    import hashlib, sys, time
    from git_mlv.core.pool import Pool
    from git_mlv.core.settings import Settings
    root, oids, until = sys.argv[1], sys.argv[2].split(","), float(sys.argv[3])
    pool = Pool(root, Settings(chunk_avg=1024, chunk_min=256, chunk_max=4096, pack_size=256 * 1024))
    rounds = 0
    while time.time() < until:  # one long-lived reader (a filter process) and fresh ones
        for p in (pool, Pool(root, pool.settings)):
            for oid in oids:
                h = hashlib.sha256()
                for piece in p.iter_file(oid):
                    h.update(piece)
                assert h.hexdigest() == oid, oid
        rounds += 1
    print(rounds)
""")


@pytest.mark.slow
def test_readers_and_writers_in_other_processes_during_consolidations(tmp_path: Path) -> None:
    files = add_files(tmp_path, 10)
    until = time.time() + 5
    readers = [subprocess.Popen([sys.executable, "-c", READER, str(tmp_path), ",".join(files), str(until)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    writer_script = textwrap.dedent("""
        import random, sys, time
        from git_mlv.core.pool import Pool
        from git_mlv.core.settings import Settings
        s = Settings(chunk_avg=1024, chunk_min=256, chunk_max=4096, pack_size=256 * 1024, auto_packs=2)
        i, until = int(sys.argv[2]), float(sys.argv[3])
        while time.time() < until:  # each round a git add that ends in a consolidation
            with Pool(sys.argv[1], s) as pool:
                print(pool.writer().add_bytes(random.Random(i).randbytes(3000 + i)).oid, i, flush=True)
            i += 2
    """)
    writers = [subprocess.Popen([sys.executable, "-c", writer_script, str(tmp_path), str(1000 + k),
                                 str(until)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
               for k in range(2)]
    for proc in readers + writers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()[-3000:]
        if proc in readers:
            assert int(out) >= 1
        else:
            for line in out.decode().split("\n"):
                if line:
                    oid, seed = line.split()
                    files[oid] = random.Random(int(seed)).randbytes(3000 + int(seed))
    check_pool(tmp_path, files)
    assert len(files) > 14


def test_auto_consolidation_is_skipped_while_another_runs(tmp_path: Path) -> None:
    from git_mlv.core.fsutil import try_lock, unlock

    add_files(tmp_path, 9)
    held = try_lock(str(tmp_path / "midx.lock"), create=True)
    assert held is not None
    with Pool(str(tmp_path), Settings(**SETTINGS, auto_packs=4)) as pool:  # type: ignore[arg-type]
        assert auto_consolidate(pool) is None
    unlock(held)
    assert pack_count(tmp_path) == 9


def test_merge_checks_each_entry_header(tmp_path: Path) -> None:
    from git_mlv.errors import CorruptObject

    add_files(tmp_path, 6)
    victim = sorted((tmp_path / "packs").glob("*.pack"))[0]
    index = idx.IndexFile(str(victim)[:-5] + ".idx")
    e = index.entry(0)
    index.close()
    raw = bytearray(victim.read_bytes())
    raw[e.offset + 3] ^= 0x01  # the entry's id, under its CRC
    victim.write_bytes(bytes(raw))
    with Pool(str(tmp_path), MANUAL) as pool, pytest.raises(CorruptObject, match="consolidation stopped"):
        consolidate(pool, merge=pool.packs())
    assert pack_count(tmp_path) >= 6  # nothing deleted
