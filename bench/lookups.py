"""Lookups against pools of 10 to 10,000 packs' worth of objects (issue 9: "lookups flat").

Each pool holds P packs of ``--per-pack`` objects (a small commit each), as a pool looks after
consolidation: a multi-pack index over all of them but the last few, which are found through their
own indexes. The same pools are then read without the midx (every pack index searched, as before
issue 9). The packs are empty shells: a lookup reads indexes only, and writing 10^6 real chunks
would take minutes without changing what is measured.

    .venv/bin/python bench/lookups.py [--packs 10,100,1000,10000] [--per-pack 100]

Prints a markdown table: per-key lookups (hits and misses), a vectorised ``contains`` of 20k keys,
opening the pool (listing + midx) and writing the midx (what a consolidation pays).
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import tempfile
import time

import numpy as np

from git_mlv.core import index as idx
from git_mlv.core import midx as mx
from git_mlv.core.consolidate import write_midx
from git_mlv.core.pack import END_MAGIC, HEADER, MAGIC, TRAILER, VERSION, Entry
from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings

UNCOVERED = 4  # packs written since the last consolidation (fewer than mlv.autoPacks)
QUERIES = 20_000


def build(root: str, packs: int, per_pack: int, rng: np.random.Generator) -> np.ndarray:
    """A pool folder of ``packs`` shells with random keys; returns every key."""
    pack_dir = os.path.join(root, "packs")
    os.makedirs(pack_dir)
    all_keys = []
    for _ in range(packs):
        name = os.path.join(pack_dir, f"pack-{secrets.token_hex(16)}")
        with open(name + ".pack", "wb") as f:
            f.write(HEADER.pack(MAGIC, VERSION, 0) + TRAILER.pack(END_MAGIC, 0))
        ids = rng.bytes(32 * per_pack)
        entries = [Entry(ids[i * 32:(i + 1) * 32], 1, 1, 16 + 100 * i, 90, 200) for i in range(per_pack)]
        idx.write(name + ".idx", entries)
        all_keys += [idx.key(e.id, 1) for e in entries]
    return np.array(all_keys, dtype=f"S{idx.KEY_SIZE}")


def measure(root: str, keys: np.ndarray, rng: np.random.Generator) -> dict[str, float]:
    hits = keys[rng.integers(0, len(keys), QUERIES)]
    misses = np.array([secrets.token_bytes(32) + b"\x01" for _ in range(QUERIES)], dtype=f"S{idx.KEY_SIZE}")
    out = {}
    t = time.perf_counter()
    pool = Pool(root, Settings(auto_packs=0))
    pool.refresh()
    out["open_ms"] = (time.perf_counter() - t) * 1e3
    for label, probe in (("hit_us", hits), ("miss_us", misses)):
        sample = [bytes(k) for k in probe[:5000]]
        t = time.perf_counter()
        for k in sample:
            pool.locate(k[:32], k[32])
        out[label] = (time.perf_counter() - t) / len(sample) * 1e6
    t = time.perf_counter()
    found = pool.contains(list(hits))
    out["contains_ms"] = (time.perf_counter() - t) * 1e3
    assert bool(found.all())
    pool.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--packs", default="10,100,1000,10000")
    ap.add_argument("--per-pack", type=int, default=100)
    args = ap.parse_args()
    rng = np.random.default_rng(1)
    print("| packs' worth | objects | midx: hit µs | miss µs | contains 20k ms | open ms | write midx ms "
          "| no midx: hit µs | miss µs | contains 20k ms |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for packs in (int(p) for p in args.packs.split(",")):
        root = tempfile.mkdtemp(prefix="mlv-lookups-")
        try:
            keys = build(root, packs, args.per_pack, rng)
            plain = measure(root, keys, rng)
            with Pool(root, Settings(auto_packs=0)) as pool:  # the midx over all but the newest few
                newest = pool.packs()[-min(UNCOVERED, packs - 1):] if packs > 1 else []
                t = time.perf_counter()
                write_midx(pool, exclude=set(newest))
                write_ms = (time.perf_counter() - t) * 1e3
            # the midx was written without the newest packs: they stay found through their indexes
            m = mx.MidxFile(os.path.join(root, "packs", mx.LOCAL_NAME))
            assert len(m.pack_names) == packs - len(newest)
            m.close()
            with_midx = measure(root, keys, rng)
            print(f"| {packs:,} | {len(keys):,} | {with_midx['hit_us']:.1f} | {with_midx['miss_us']:.1f} "
                  f"| {with_midx['contains_ms']:.1f} | {with_midx['open_ms']:.1f} | {write_ms:.0f} "
                  f"| {plain['hit_us']:.1f} | {plain['miss_us']:.1f} | {plain['contains_ms']:.1f} |",
                  flush=True)
        finally:
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
