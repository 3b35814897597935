"""The pointer cache (docs/formats.md#pointer-cache): round trip, merging, damage, versions."""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

from git_mlv.core.pointer import Pointer
from git_mlv.gitio import pointer_cache as pc
from git_mlv.gitio import pointer_remember as pr
from git_mlv.gitio.pointer_cache import PointerBlob, PointerCache


def pointer(i: int) -> PointerBlob:
    p = Pointer(hashlib.sha256(b"%d" % i).hexdigest(), 1000 + i)
    return PointerBlob(p.oid, p.size, len(p.encode()))


def gid(i: int) -> str:
    """A git-like object id (40 hex); some end in zero bytes, which numpy's S dtype likes to strip."""
    return hashlib.sha1(b"obj%d" % i).hexdigest()[:36] + ("0000" if i % 3 == 0 else "abcd")


def test_round_trip_and_misses(tmp_path: Path) -> None:
    cache = PointerCache(str(tmp_path / "pc"))
    assert cache.lookup([gid(1)]) == ({}, [gid(1)])  # no folder yet: everything missing
    cache.add({gid(i): pointer(i) for i in range(50)} | {gid(50): None})
    known, missing = PointerCache(str(tmp_path / "pc")).lookup([gid(i) for i in range(60)] + [gid(3)])
    assert missing == [gid(i) for i in range(51, 60)]
    assert known == {gid(i): pointer(i) for i in range(50)} | {gid(50): None}
    # oids that end in zero bytes come back whole
    zero_end = PointerBlob("ab" * 30 + "0000", 7, 120)
    cache.add({gid(99): zero_end})
    assert PointerCache(str(tmp_path / "pc")).lookup([gid(99)])[0] == {gid(99): zero_end}


def test_sha256_ids_are_cut_to_20_bytes(tmp_path: Path) -> None:
    long_id = hashlib.sha256(b"x").hexdigest()
    PointerCache(str(tmp_path)).add({long_id: pointer(1)})
    assert PointerCache(str(tmp_path)).lookup([long_id])[0] == {long_id: pointer(1)}


def test_files_merge_geometrically(tmp_path: Path) -> None:
    cache = PointerCache(str(tmp_path))
    n = 0
    for _ in range(64):  # 64 additions of 10 entries
        cache.add({gid(n + k): pointer(n + k) for k in range(10)})
        n += 10
        assert len(cache.files()) <= 8  # ~log2(64) + 1, never one file per addition
    known, missing = PointerCache(str(tmp_path)).lookup([gid(i) for i in range(n)])
    assert not missing and len(known) == n
    assert not list(tmp_path.glob(".tmp-*"))  # no temp files left behind


def test_damaged_file_is_ignored_and_removed(tmp_path: Path) -> None:
    cache = PointerCache(str(tmp_path))
    cache.add({gid(i): pointer(i) for i in range(20)})
    (path,) = cache.files()
    data = bytearray(Path(path).read_bytes())
    data[pc.HEADER.size + 20 * pc.KEY_SIZE + 5] ^= 1  # one bit of one oid
    Path(path).write_bytes(bytes(data))
    fresh = PointerCache(str(tmp_path))
    known, missing = fresh.lookup([gid(i) for i in range(20)])
    assert known == {} and len(missing) == 20  # a miss reads the blob: never a wrong oid
    assert fresh.damaged == [path] and not os.path.exists(path)


def test_other_version_is_ignored_not_removed(tmp_path: Path) -> None:
    body = pc.HEADER.pack(pc.MAGIC, 99, 0)
    path = tmp_path / "pc-0000000000000000.mpc"
    path.write_bytes(body + hashlib.sha256(body).digest())
    cache = PointerCache(str(tmp_path))
    assert cache.lookup([gid(1)]) == ({}, [gid(1)])
    assert path.exists() and cache.damaged == []
    assert struct.unpack_from("<I", path.read_bytes(), 8)[0] == 99


def test_unwritable_folder_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    cache = PointerCache(str(tmp_path / "file" / "pc"))  # a folder under a file: cannot be created
    cache.add({gid(1): pointer(1)})
    assert cache.lookup([gid(1)]) == ({}, [gid(1)])


def test_blob_id_is_gits() -> None:
    assert pr.blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"  # git hash-object /dev/null
    assert pr.blob_id(b"hello\n") == "ce013625030ba8dba906f756967f9e9ca394464a"
    assert pr.blob_id(b"hello\n", "sha256") == (
        "2cf8d83d9ee29543b34a87727421fdecb7e3f3a183d337639025de576db9ebb4")


def test_remember_written_keys_by_blob_id(tmp_path: Path) -> None:
    p = Pointer("cd" * 32, 42)
    text = p.encode()
    pr.remember_written(str(tmp_path), [text, b"not a pointer"])
    known, _ = PointerCache(str(tmp_path)).lookup([pr.blob_id(text)])
    assert known == {pr.blob_id(text): PointerBlob(p.oid, p.size, len(text))}


def test_big_merges_and_duplicate_rows_keep_every_entry_once(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The numpy merge (over _SMALL_MERGE entries) and rows added twice: one entry per id, each the
    right pointer, in a file that passes its own checks."""
    monkeypatch.setattr(pc, "_SMALL_MERGE", 0)
    cache = PointerCache(str(tmp_path))
    for start in (0, 30, 60, 30):  # the last adds ids already there
        cache.add({gid(i): pointer(i) for i in range(start, start + 40)})
    texts = [Pointer(hashlib.sha256(b"w%d" % i).hexdigest(), i).encode() for i in range(50)]
    pr.remember_written(str(tmp_path), texts + texts[:10])  # a pointer noted on both passes
    cache = PointerCache(str(tmp_path))
    ids = [gid(i) for i in range(100)] + [pr.blob_id(t) for t in texts]
    known, missing = cache.lookup(ids)
    assert not missing
    assert {i: known[i] for i in ids[:100]} == {gid(i): pointer(i) for i in range(100)}
    assert [known[pr.blob_id(t)] for t in texts] == [
        PointerBlob(Pointer.parse(t).oid, Pointer.parse(t).size, len(t)) for t in texts]
    assert sum(pc._File(f).count for f in cache.files()) == 150  # each id once


def test_known_pointers_are_not_written_again(tmp_path: Path) -> None:
    """The filter's cheap check (binary searches, no numpy): pointers the cache holds, in any of
    its files, add no file; one it lacks adds one, and then every one of them is found."""
    root = str(tmp_path / "pc")
    texts = [Pointer(hashlib.sha256(b"%d" % i).hexdigest(), 10 + i).encode() for i in range(40)]
    pr.remember_written(root, texts[:30])
    pr.remember_written(root, texts[30:35])
    files = sorted(os.listdir(root))
    keys = [pc.key_of(pr.blob_id(t)) for t in texts]
    assert pr.known(root, keys[:35]) and pr.known(root, [keys[0], keys[29], keys[34]])
    assert not pr.known(root, keys[:36]) and not pr.known(root, [bytes(20)])
    pr.remember_written(root, [texts[3], texts[33]])  # both known: nothing written
    assert sorted(os.listdir(root)) == files
    pr.remember_written(root, [texts[3], texts[39]])  # one new
    assert sorted(os.listdir(root)) != files
    known, missing = PointerCache(root).lookup([pr.blob_id(t) for t in texts[:35] + texts[39:]])
    assert not missing and len(known) == 36
    assert pr.known(str(tmp_path / "none"), []) and not pr.known(str(tmp_path / "none"), keys[:1])
