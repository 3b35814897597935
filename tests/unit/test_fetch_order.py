"""The fetch's streaming whole-file hash when chunks arrive out of file order (remotes/fetch.py)."""

from __future__ import annotations

import hashlib
import os

from git_mlv.core.manifest import Manifest, chunk_table
from git_mlv.core.pack import Entry
from git_mlv.remotes.fetchverify import FileHash as _FileHash
from git_mlv.remotes.fetchverify import StreamingVerifier as _StreamingVerifier
from git_mlv.remotes.fetchverify import in_file_order as _in_file_order
from git_mlv.remotes.ranges import Range


def _file(n: int) -> tuple[str, Manifest, list[bytes]]:
    parts = [os.urandom(100 + i) for i in range(n)]
    m = Manifest(sum(map(len, parts)), tuple((hashlib.sha256(p).digest(), len(p)) for p in parts))
    return hashlib.sha256(b"".join(parts)).hexdigest(), m, parts


def test_chunks_that_arrive_early_are_held_until_their_turn() -> None:
    oid, m, parts = _file(6)
    f = _FileHash(oid, chunk_table(m.encode())[1])
    v = _StreamingVerifier([f], budget=1 << 20)
    for i in (3, 4, 0, 1, 5, 2):  # a new version: its changed chunks sit in another pack
        v.feed(m.chunks[i][0], parts[i])
    assert f.pos == 6 and f.hash.hexdigest() == oid
    assert v.ahead == {} and v.ahead_bytes == 0  # nothing held once used


def test_past_the_budget_the_file_is_left_for_the_pool() -> None:
    oid, m, parts = _file(4)
    f = _FileHash(oid, chunk_table(m.encode())[1])
    v = _StreamingVerifier([f], budget=0)
    for i in (1, 0, 2, 3):
        v.feed(m.chunks[i][0], parts[i])
    assert f.pos == 1  # chunk 1 came early and could not be held: _finish_hash reads the rest


def test_ranges_are_fetched_in_the_order_files_need_them() -> None:
    _, m, _ = _file(3)
    rank = {cid: i for i, (cid, _) in enumerate(m.chunks)}  # the window's chunks, in file order

    def rng(pack: str, cid: bytes, offset: int) -> Range:
        return Range(pack, offset, offset + 10, (Entry(cid, 1, 0, offset, 10, 10),))

    single = rng("a.pack", b"\1" * 32, 0)  # a one-chunk file: after the files with manifests
    third, first, second = rng("a.pack", m.chunks[2][0], 20), rng("b.pack", m.chunks[0][0], 0), \
        rng("a.pack", m.chunks[1][0], 40)
    assert _in_file_order([single, third, first, second], rank) == [first, second, third, single]


def test_a_clone_fetches_in_batches_of_bounded_bytes() -> None:
    from git_mlv.core.pointer import Pointer
    from git_mlv.ops import delayed as flt

    def rec(size: int) -> bytes:
        p = Pointer("ab" * 32, size)
        return flt.record("data/x", p, p.encode())

    mib = 1 << 20
    queue = flt.Records()
    for r in [rec(mib)] * 100 + [rec(400 * mib), rec(300 * mib)] + [rec(10)] * 5:
        queue.append(r)
    sizes = []
    while queue:
        sizes.append(sum(flt.record_size(r) for r in flt.take_batch(queue)))
    assert sizes == [64 * mib, 36 * mib, 400 * mib, 300 * mib, 50]


def test_delayed_records_come_back_in_order_across_segments() -> None:
    from git_mlv.core.pointer import Pointer
    from git_mlv.ops import delayed as flt

    q = flt.Records()
    recs = []
    for i in range(40_000):  # ~2.7 MB: three segments
        p = Pointer(f"{i:064x}", i)
        extra = b"zz-extra x\n" if i % 7 == 0 else b""  # a pointer with extra keys: the other form
        blob = p.encode() + extra
        recs.append(flt.record(f"data/d{i % 100:03d}/f{i:07d}.bin", p, blob))
        q.append(recs[-1])
    assert len(q) == 40_000 and list(q)[:3] == recs[:3]
    got = q.take(3) + q.take(25_000)
    q.append(b"last")
    got += q.take(100_000)
    assert got == recs + [b"last"] and len(q) == 0 and q.take(5) == []
    assert flt.unpack(recs[7])[1].endswith(b"zz-extra x\n")
