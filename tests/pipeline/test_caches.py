"""Stat cache and run-cache, on their own (a real pool in a temp dir)."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from git_mlv.core.pool import Pool
from git_mlv.pipeline import fingerprint
from git_mlv.pipeline.fingerprint import Fingerprinter, encode_listing
from git_mlv.pipeline.runcache import RunCache, live_oids, make_key
from git_mlv.pipeline.statcache import RACY_NS, StatCache


def age(path: Path, seconds: float) -> None:
    t = time.time_ns() - int(seconds * 1e9)
    os.utime(path, ns=(t, t))


def test_statcache_hit_miss_and_racy(tmp_path: Path) -> None:
    f = tmp_path / "big"
    f.write_bytes(b"x" * 1000)
    age(f, 10)
    c = StatCache(str(tmp_path / "mlv"))
    os.makedirs(tmp_path / "mlv")
    c.put(str(f), os.stat(f), "o1")
    c.close()
    c = StatCache(str(tmp_path / "mlv"))
    assert c.get(str(f), os.stat(f)) == "o1"
    f.write_bytes(b"y" * 1000)  # same size, new mtime
    age(f, 10)
    assert c.get(str(f), os.stat(f)) is None
    fresh = tmp_path / "fresh"
    fresh.write_bytes(b"z")
    c.put(str(fresh), os.stat(fresh), "o2")
    assert c.get(str(fresh), os.stat(fresh)) is None  # racy: modified within RACY_NS of hashing
    assert RACY_NS >= 1_000_000_000


def test_statcache_survives_a_damaged_file(tmp_path: Path) -> None:
    (tmp_path / "statcache").write_bytes(b"not a database" * 100)
    f = tmp_path / "f"
    f.write_bytes(b"1")
    age(f, 10)
    c = StatCache(str(tmp_path))
    assert c.get(str(f), os.stat(f)) is None
    c.put(str(f), os.stat(f), "o")
    c.close()
    assert StatCache(str(tmp_path)).get(str(f), os.stat(f)) == "o"


def test_fingerprint_uses_the_cache_and_hashes_dirs(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a").write_bytes(b"A")
    (tmp_path / "d" / "sub" / "b").write_bytes(b"BB")
    fp = Fingerprinter(str(tmp_path))
    rec = fp.record("d")
    assert rec is not None and rec.is_dir and rec.size == 3
    listing = encode_listing([("a", hashlib.sha256(b"A").hexdigest(), 1),
                              ("sub/b", hashlib.sha256(b"BB").hexdigest(), 2)])
    assert rec.oid == hashlib.sha256(listing).hexdigest()
    assert fp.record("missing") is None
    # a lying cache entry proves the cache is consulted instead of the file being read
    age(tmp_path / "d" / "a", 10)
    cache = StatCache(str(tmp_path))
    cache.put(str(tmp_path / "d" / "a"), os.stat(tmp_path / "d" / "a"), "f" * 64)
    assert Fingerprinter(str(tmp_path), cache).file(str(tmp_path / "d" / "a"))[0] == "f" * 64


class _CountingDb:
    """A sqlite connection that counts the statements run through it."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db, self.statements = db, 0

    def execute(self, *args: object) -> sqlite3.Cursor:
        self.statements += 1
        return self.db.execute(*args)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


def test_a_folder_dependency_asks_the_cache_once_a_folder(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """`git mlv repro` of a stage depending on 100,000 unchanged files took ~8 s: one statcache
    query a file. A folder's rows are now read at once (neighbours whose names start the same,
    and subfolders, are not taken for its files), and the listing is the same as without a cache."""
    files = {f"{d}/f{i:02d}": b"%s %d" % (d.encode(), i) for d in ("x", "x/y", "x-z", "x0")
             for i in range(30)}
    for rel, data in files.items():
        p = tmp_path / "top" / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        age(p, 10)
    os.makedirs(tmp_path / "mlv")
    want = {d: Fingerprinter(str(tmp_path / "top")).record(d) for d in ("x", "x-z", "x0")}
    warm = StatCache(str(tmp_path / "mlv"))
    for d in want:
        assert Fingerprinter(str(tmp_path / "top"), warm).record(d) == want[d]
    warm.close()
    cache = StatCache(str(tmp_path / "mlv"))
    counting = _CountingDb(cache._open())
    cache._db = counting  # type: ignore[assignment]
    hashed: list[str] = []
    fp = Fingerprinter(str(tmp_path / "top"), cache)
    real_hash = fingerprint.hash_file
    monkeypatch.setattr(fingerprint, "hash_file", lambda path: hashed.append(path) or real_hash(path))
    assert fp.record("x") == want["x"]
    assert (counting.statements, hashed) == (2, [])  # x and x/y; before: 60, one a file
    assert fp.record("x0") == want["x0"] and fp.record("x-z") == want["x-z"]
    assert (counting.statements, hashed) == (4, [])
    (tmp_path / "top" / "x" / "y" / "f07").write_bytes(b"changed")
    changed = fp.record("x")
    assert changed is not None and changed != want["x"]
    assert hashed == [str(tmp_path / "top" / "x" / "y" / "f07")]
    monkeypatch.setattr(fingerprint, "hash_file", real_hash)
    assert changed == Fingerprinter(str(tmp_path / "top")).record("x")


def test_runcache_record_lookup_and_live_oids(tmp_path: Path) -> None:
    mlv = str(tmp_path / "mlv")
    pool = Pool(mlv)
    w = pool.writer()
    out = w.add_bytes(b"model bytes")
    inner = w.add_bytes(b"inside a dir")
    listing = w.add_bytes(encode_listing([("x", inner.oid, inner.size)]))
    rc = RunCache(pool, mlv)
    key = make_key("python t.py", {"t.py": "1" * 64}, {"p.yaml:lr": 0.1})
    assert key == make_key("python t.py", {"t.py": "1" * 64}, {"p.yaml:lr": 0.1})
    assert key != make_key("python t.py", {"t.py": "1" * 64}, {"p.yaml:lr": 0.2})
    assert rc.lookup(key) is None
    entry = {"cmd": "python t.py", "deps": {"t.py": "1" * 64}, "params": {"p.yaml:lr": 0.1},
             "outs": {"m.bin": {"oid": out.oid, "size": out.size},
                      "feats": {"oid": listing.oid, "size": inner.size, "dir": True}}}
    eoid = rc.record(key, entry)
    pool.close()
    pool = Pool(mlv)
    rc = RunCache(pool, mlv)
    assert rc.lookup(key) == entry
    assert rc.keys() == [key]
    assert rc.entry_oids() == {eoid}
    assert (tmp_path / "mlv" / "runcache" / key).read_text() == eoid + "\n"
    assert b"".join(pool.iter_file(eoid)) == json.dumps(
        entry, sort_keys=True, separators=(",", ":")).encode()
    assert live_oids(pool, mlv) == {eoid, out.oid, listing.oid, inner.oid}
