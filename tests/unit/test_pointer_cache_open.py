"""Opening a pointer cache file checks its checksum without copying the file: before, the check
hashed a slice of the map, a bytes copy of the whole file (64 bytes an entry: 38 MB at 600,000
files) on top of the pages it reads, in every command that opens the cache (fetch, pull, status,
ls-files, prune). A damaged file is still dropped."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

from git_mlv.gitio.pointer_cache import PointerBlob, PointerCache

N = 50_000


def test_open_checks_without_copying_the_file(tmp_path: Path) -> None:
    root = str(tmp_path / "pc")
    blobs = {hashlib.sha1(b"%d" % i).hexdigest(): PointerBlob(hashlib.sha256(b"%d" % i).hexdigest(), i, 130)
             for i in range(N)}
    PointerCache(root).add(blobs)
    files = list((tmp_path / "pc").glob("*.mpc"))
    assert len(files) == 1 and files[0].stat().st_size >= 64 * N
    probe = next(iter(blobs))
    PointerCache(root).lookup([probe])  # warm: first-use imports and numpy's set-up
    tracemalloc.start()
    try:
        known, missing = PointerCache(root).lookup([probe])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert known == {probe: blobs[probe]} and missing == []
    assert peak < files[0].stat().st_size // 4, f"{peak} bytes to open a {files[0].stat().st_size}-byte file"
    # a damaged file is still refused (and removed)
    raw = bytearray(files[0].read_bytes())
    raw[100] ^= 1
    files[0].write_bytes(bytes(raw))
    cache = PointerCache(root)
    assert cache.lookup([probe]) == ({}, [probe]) and cache.damaged == [str(files[0])]
