"""remotes/transfer on every backend: pool -> remote -> another pool, byte for byte, only what is missing."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from git_mlv.core import index as idx
from git_mlv.core.pack import ENTRY_SIZE, KIND_MANIFEST
from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.remotes.base import ObjectInfo, Remote
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.fetch import fetch_files
from git_mlv.remotes.transfer import RetryPolicy, push_objects
from tests.helpers import random_bytes

SMALL = Settings(chunk_avg=4096, chunk_min=1024, chunk_max=16384, pack_size=128 * 1024)
RETRY = RetryPolicy(attempts=2, base_delay=0.05)
_T = TypeVar("_T")


_OPEN: list[Pool | Remote | RemoteIndex] = []


def _keep(obj: _T) -> _T:
    """``obj`` (a pool, remote or remote index), closed when the test ends: left open, each test
    kept ~6 descriptors (gc.lock, packs, sockets) for the worker's life, ~160 over this file, and
    a later test that lowers RLIMIT_NOFILE failed in the same worker."""
    _OPEN.append(obj)  # type: ignore[arg-type]
    return obj


@pytest.fixture(autouse=True)
def _close_what_was_opened() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def make_pool(root: Path, files: dict[str, bytes]) -> tuple[Pool, dict[str, bytes]]:
    """A pool holding ``files``; returns it and {oid: content}."""
    pool = _keep(Pool(str(root), SMALL))
    w = pool.writer()
    by_oid = {w.add_bytes(data).oid: data for data in files.values()}
    w.commit()
    return pool, by_oid


def read_all(pool: Pool, oid: str) -> bytes:
    return b"".join(pool.iter_file(oid))


class Recording(Remote):
    """A real remote that remembers the order of its puts (instrumentation, not a mock)."""

    def __init__(self, inner: Remote) -> None:
        self.inner, self.url, self.parallelism = inner, inner.url, inner.parallelism
        self.puts: list[str] = []
        self.ranges = 0

    def exists(self, name: str) -> bool:
        return self.inner.exists(name)

    def get(self, name: str) -> bytes:
        return self.inner.get(name)

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        self.ranges += 1
        return self.inner.get_range(name, offset, length)

    def put(self, name: str, data: bytes) -> None:
        self.inner.put(name, data)
        self.puts.append(name)

    def list_info(self, prefix: str) -> dict[str, ObjectInfo]:
        return self.inner.list_info(prefix)

    def delete(self, name: str) -> None:
        self.inner.delete(name)


def files_set(seed: int = 0) -> dict[str, bytes]:
    return {
        "big": random_bytes(300_000, seed + 1),  # many chunks: has a manifest
        "text": b"some,csv,row\n" * 20_000,  # compressible, several chunks
        "small": random_bytes(700, seed + 2),  # one chunk, no manifest
        "empty": b"",
    }


def test_push_then_fetch_into_another_pool(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, by_oid = make_pool(tmp_path / "a", files_set())
    remote = Recording(_keep(backend.open()))
    rindex = _keep(RemoteIndex(remote, str(tmp_path / "a-cache")))
    stats = push_objects(src, remote, rindex, by_oid, SMALL.pack_size, RETRY)
    assert stats.packs >= 3 and not stats.missing_locally
    # each pack before its index; every manifest in the last pack, put after every other index
    order = {name: i for i, name in enumerate(remote.puts)}
    assert len(order) == 2 * stats.packs
    assert all(order[n[:-4] + ".pack"] < i for n, i in order.items() if n.endswith(".idx"))
    last_idx = remote.puts[-1]
    assert last_idx.endswith(".idx") and remote.puts[-2] == last_idx[:-4] + ".pack"
    for name in [n for n in remote.puts if n.endswith(".idx")]:
        kinds = {e.kind for e in _index_entries(remote.get(name))}
        assert (KIND_MANIFEST in kinds) == (name == last_idx)

    again = push_objects(src, remote, rindex, by_oid, SMALL.pack_size, RETRY)
    assert again.bytes_sent == 0 and again.packs == 0

    dst = _keep(Pool(str(tmp_path / "b"), SMALL))
    got = fetch_files(dst, remote, _keep(RemoteIndex(remote, str(tmp_path / "b-cache"))), by_oid, RETRY)
    dst.writer().commit()
    assert got.present == set(by_oid) and not got.damaged and not got.not_on_remote
    for oid, data in by_oid.items():
        assert read_all(dst, oid) == data


def _index_entries(data: bytes) -> list:  # type: ignore[type-arg]
    """The entries of index bytes (as the local pool would read them)."""
    import numpy as np

    count = idx.HEADER.unpack_from(data, 0)[2]
    keys = [data[16 + i * 33:16 + (i + 1) * 33] for i in range(count)]
    recs = np.frombuffer(data, dtype=idx.record_dtype(), count=count, offset=16 + 33 * count)
    from git_mlv.core.pack import Entry

    return [Entry(k[:32], k[32], int(r["codec"]), int(r["offset"]), int(r["stored_len"]), int(r["raw_len"]))
            for k, r in zip(keys, recs)]


def test_fetch_reads_only_the_needed_ranges(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {f"f{i}": random_bytes(40_000, seed=100 + i) for i in range(30)}
    src, by_oid = make_pool(tmp_path / "a", files)
    remote = Recording(_keep(backend.open()))
    push_objects(src, remote, _keep(RemoteIndex(remote, str(tmp_path / "ac"))), by_oid, SMALL.pack_size,
                 RETRY)
    total = sum(remote.inner.list("packs/").values())
    want = list(by_oid)[:2]
    dst = _keep(Pool(str(tmp_path / "b"), SMALL))
    got = fetch_files(dst, remote, _keep(RemoteIndex(remote, str(tmp_path / "bc"))), want, RETRY)
    dst.writer().commit()
    assert got.fetched == set(want)
    assert got.bytes_received < total / 5
    assert remote.ranges <= 4  # the chunks of a file sit together: a range or two each
    for oid in want:
        assert hashlib.sha256(read_all(dst, oid)).hexdigest() == oid


def test_incremental_push_sends_only_new_chunks(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    v1 = random_bytes(400_000, seed=7)
    v2 = v1[:200_000] + b"an edit in the middle" + v1[200_000:]
    pool, oids = make_pool(tmp_path / "a", {"v1": v1})
    remote = _keep(backend.open())
    rindex = _keep(RemoteIndex(remote, str(tmp_path / "ac")))
    push_objects(pool, remote, rindex, oids, SMALL.pack_size, RETRY)
    oid2 = pool.writer().add_bytes(v2).oid
    pool.writer().commit()
    stats = push_objects(pool, remote, rindex, [oid2], SMALL.pack_size, RETRY)
    assert 0 < stats.bytes_sent < 0.2 * len(v2)


def test_a_corrupted_remote_pack_never_reaches_the_pool(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    files = {"a": random_bytes(30_000, seed=11), "b": random_bytes(200_000, seed=12)}
    src, by_oid = make_pool(tmp_path / "a", files)
    remote = _keep(backend.open())
    push_objects(src, remote, _keep(RemoteIndex(remote, str(tmp_path / "ac"))), by_oid, 1 << 20, RETRY)
    (pack,) = [n for n in remote.list("packs/") if n.endswith(".pack")]
    entries = _index_entries(remote.get(pack[:-5] + ".idx"))
    oid_a = hashlib.sha256(files["a"]).hexdigest()
    victim = next(e for e in entries if e.id.hex() == oid_a)  # "a" is one chunk
    data = bytearray(remote.get(pack))
    data[victim.offset + ENTRY_SIZE + 100] ^= 0xFF  # one bit of stored bytes: headers stay valid
    remote.put(pack, bytes(data))

    dst = _keep(Pool(str(tmp_path / "b"), SMALL))
    got = fetch_files(dst, remote, _keep(RemoteIndex(remote, str(tmp_path / "bc"))), by_oid, RETRY)
    dst.writer().commit()
    assert any(oid_a[:12] in m and "damaged" in m for m in got.damaged)
    assert oid_a not in got.present and not dst.has_file(oid_a, refresh=True)
    oid_b = hashlib.sha256(files["b"]).hexdigest()
    assert read_all(dst, oid_b) == files["b"]  # the rest still arrives


def test_a_pack_without_index_is_ignored_and_collected(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src, by_oid = make_pool(tmp_path / "a", {"x": random_bytes(50_000, seed=3)})
    remote = _keep(backend.open())
    rindex = _keep(RemoteIndex(remote, str(tmp_path / "ac")))
    orphan = "packs/pack-" + "ab" * 16 + ".pack"
    remote.put(orphan, b"half a pack")  # what a push killed before its index leaves
    rindex.set_pending({orphan})
    dst = _keep(Pool(str(tmp_path / "b"), SMALL))
    bindex = _keep(RemoteIndex(remote, str(tmp_path / "bc")))
    assert not fetch_files(dst, remote, bindex, by_oid, RETRY).present
    push_objects(src, remote, rindex, by_oid, SMALL.pack_size, RETRY)
    assert not remote.exists(orphan) and rindex.pending() == set()


def test_an_indexed_pack_missing_from_a_short_listing_is_not_collected(tmp_path: Path) -> None:
    """A pack still pending from a killed push whose index did land, on a remote whose listing
    leaves it out (fake-gcs-server listed nothing after a kill, tests/remotes/servers.py): the
    push asks for the index itself and keeps the pack. The short listing is a stand-in (the
    folder's ``list`` filtered): no folder lists short on demand."""
    from git_mlv.remotes.local import FolderRemote

    src, by_oid = make_pool(tmp_path / "a", {"x": random_bytes(50_000, seed=4)})
    remote = FolderRemote(str(tmp_path / "store"))
    push_objects(src, remote, _keep(RemoteIndex(remote, str(tmp_path / "c0"))), by_oid, SMALL.pack_size,
                 RETRY)
    (pack,) = [n for n in remote.list("packs/") if n.endswith(".pack")]
    rindex = _keep(RemoteIndex(remote, str(tmp_path / "c1")))
    rindex.set_pending({pack})  # as if the push had been killed after the index went up
    full = remote.list
    remote.list = lambda prefix: {n: s for n, s in full(prefix).items()  # type: ignore[method-assign]
                                  if not n.startswith(pack[:-5])}
    push_objects(src, remote, rindex, by_oid, SMALL.pack_size, RETRY)
    assert remote.exists(pack) and rindex.pending() == set()
    remote.list = full  # type: ignore[method-assign]
    dst = _keep(Pool(str(tmp_path / "b"), SMALL))
    got = fetch_files(dst, remote, _keep(RemoteIndex(remote, str(tmp_path / "bc"))), by_oid, RETRY)
    dst.writer().commit()
    assert sorted(got.present) == sorted(by_oid) and all(
        read_all(dst, oid) == read_all(src, oid) for oid in by_oid)


@pytest.mark.parametrize("kind", ["folder"])
def test_missing_locally_is_reported(kind: str, tmp_path: Path) -> None:
    from git_mlv.remotes.local import FolderRemote

    pool, _ = make_pool(tmp_path / "a", {})
    remote = FolderRemote(str(tmp_path / "store"))
    stats = push_objects(pool, remote, _keep(RemoteIndex(remote, str(tmp_path / "c"))), ["ab" * 32],
                         SMALL.pack_size, RETRY)
    assert stats.missing_locally == ["ab" * 32] and stats.bytes_sent == 0


def test_fetch_when_some_chunks_are_here_already(tmp_path: Path) -> None:
    """Streaming whole-file hashing stalls on chunks that are already local; the rest is read back."""
    from git_mlv.remotes.local import FolderRemote

    v1 = random_bytes(300_000, seed=21)
    v2 = v1[:150_000] + b"changed" + v1[150_000:]
    src, oids = make_pool(tmp_path / "a", {"v1": v1, "v2": v2})
    remote = FolderRemote(str(tmp_path / "store"))
    push_objects(src, remote, _keep(RemoteIndex(remote, str(tmp_path / "ac"))), oids, SMALL.pack_size, RETRY)
    dst, _ = make_pool(tmp_path / "b", {"v1": v1})
    oid2 = hashlib.sha256(v2).hexdigest()
    got = fetch_files(dst, remote, _keep(RemoteIndex(remote, str(tmp_path / "bc"))), [oid2], RETRY)
    dst.writer().commit()
    assert got.fetched == {oid2} and not got.damaged
    assert read_all(dst, oid2) == v2
    assert got.bytes_received < 0.5 * len(v2)


def test_a_manifest_that_lies_about_its_file_is_rejected(tmp_path: Path) -> None:
    """A self-consistent manifest whose chunks do not hash to its oid never enters the pool."""
    from git_mlv.core.compress import compress
    from git_mlv.core.manifest import Manifest
    from git_mlv.core.pack import END_MAGIC, HEADER, MAGIC, TRAILER, VERSION, Entry, encode_entry
    from git_mlv.remotes.local import FolderRemote

    real = random_bytes(100_000, seed=31)
    src, oids = make_pool(tmp_path / "a", {"real": real})
    remote = FolderRemote(str(tmp_path / "store"))
    push_objects(src, remote, _keep(RemoteIndex(remote, str(tmp_path / "ac"))), oids, SMALL.pack_size, RETRY)
    (oid,) = oids
    fake_oid = hashlib.sha256(b"something else").digest()
    body = Manifest(len(real), tuple(src.file_chunks(oid))).encode()
    codec, stored = compress(body, 1)
    pack = HEADER.pack(MAGIC, VERSION, 0) + encode_entry(fake_oid, KIND_MANIFEST, codec, len(body), stored)
    pack += TRAILER.pack(END_MAGIC, 1)
    entry = Entry(fake_oid, KIND_MANIFEST, codec, HEADER.size, len(stored), len(body))
    name = "packs/pack-" + "cd" * 16
    remote.put(name + ".pack", pack)
    remote.put(name + ".idx", idx.encode([entry]))

    dst = _keep(Pool(str(tmp_path / "b"), SMALL))
    got = fetch_files(dst, remote, _keep(RemoteIndex(remote, str(tmp_path / "bc"))), [fake_oid.hex()], RETRY)
    dst.writer().commit()
    assert not got.present and any("do not hash to its id" in m for m in got.damaged)
    assert not dst.has_file(fake_oid.hex(), refresh=True)


def test_push_after_a_consolidation_moved_the_planned_objects(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The upload reads objects where the plan found them; a consolidation between the plan and
    the upload (another git-mlv process) deletes those packs: the upload looks them up again.
    The consolidation is real; the wrapper only runs it at that moment."""
    from git_mlv.core.consolidate import consolidate
    from git_mlv.remotes import pushplan
    from git_mlv.remotes.local import FolderRemote

    files = {f"f{i}": random_bytes(30_000 + 7_000 * i, seed=40 + i) for i in range(12)}
    pool = _keep(Pool(str(tmp_path / "a"), SMALL))
    by_oid = {}
    for data in files.values():  # one pack per file: many packs to merge
        w = pool.writer()
        by_oid[w.add_bytes(data).oid] = data
        w.commit()
    planned: list[pushplan.PackPlan] = []
    real_plan = pushplan.plan_packs

    def plan_then_consolidate(p: Pool, keys, pack_size: int) -> pushplan.PackPlan:  # type: ignore[no-untyped-def]
        plan = real_plan(p, keys, pack_size)
        planned.append(plan)
        assert consolidate(p, merge=list(plan.packs)) is not None
        return plan

    monkeypatch.setattr(pushplan, "plan_packs", plan_then_consolidate)
    remote = FolderRemote(str(tmp_path / "store"))
    stats = push_objects(pool, remote, _keep(RemoteIndex(remote, str(tmp_path / "ac"))), by_oid,
                         SMALL.pack_size, RETRY)
    assert planned and not any(Path(p).exists() for p in planned[0].packs)  # the plan's packs went
    assert stats.files == len(by_oid) and not stats.missing_locally
    dst = _keep(Pool(str(tmp_path / "b"), SMALL))
    got = fetch_files(dst, remote, _keep(RemoteIndex(remote, str(tmp_path / "bc"))), by_oid, RETRY)
    dst.writer().commit()
    assert set(got.present) == set(by_oid)
    assert all(read_all(dst, oid) == data for oid, data in by_oid.items())


def test_push_refuses_a_local_entry_whose_header_is_damaged(tmp_path: Path) -> None:
    """A local pack entry whose header no longer matches its index is never sent: the push stops
    with a line naming the pack, and nothing of that pack is indexed on the remote."""
    from git_mlv.errors import CorruptObject
    from git_mlv.remotes.local import FolderRemote

    pool, by_oid = make_pool(tmp_path / "a", {"x": random_bytes(20_000, seed=5)})
    (pack,) = (tmp_path / "a" / "packs").glob("*.pack")
    data = bytearray(pack.read_bytes())
    data[16 + 3] ^= 0x01  # a bit of the first entry's id: its header CRC no longer matches
    pack.write_bytes(bytes(data))
    remote = FolderRemote(str(tmp_path / "store"))
    with pytest.raises(CorruptObject, match="damaged"):
        push_objects(pool, remote, _keep(RemoteIndex(remote, str(tmp_path / "ac"))), by_oid,
                     SMALL.pack_size, RETRY)
    assert not [n for n in remote.list("packs/") if n.endswith(".idx")]


def test_push_refuses_a_local_entry_whose_stored_bytes_are_damaged(tmp_path: Path) -> None:
    """Bit rot in the stored bytes of a local entry (its header intact) stops the push before the
    remote indexes a copy of it: a remote copy that every clone rejects, and that a later push,
    finding it listed, would never send again, is worse than no push. Every region of the data is
    tried: first entry, a middle one, the last byte of the last one."""
    from git_mlv.errors import CorruptObject
    from git_mlv.remotes.local import FolderRemote

    files = {f"f{i}": random_bytes(9_000, seed=70 + i) for i in range(6)}
    for n, where in enumerate(("first", "middle", "last")):
        pool, by_oid = make_pool(tmp_path / f"a{n}", files)
        pack = Path(sorted(pool.packs())[0])
        index = pool.index_of(str(pack))
        entries = sorted((index.entry(i) for i in range(index.count)), key=lambda e: e.offset)
        e = {"first": entries[0], "middle": entries[len(entries) // 2], "last": entries[-1]}[where]
        data = bytearray(pack.read_bytes())
        data[e.offset + ENTRY_SIZE + (e.stored_len - 1 if where == "last" else e.stored_len // 2)] ^= 0x10
        pack.write_bytes(bytes(data))
        remote = FolderRemote(str(tmp_path / f"store{n}"))
        with pytest.raises(CorruptObject, match=f"object {e.id.hex()[:12]} at {e.offset} is damaged"):
            push_objects(pool, remote, _keep(RemoteIndex(remote, str(tmp_path / f"ac{n}"))), by_oid,
                         SMALL.pack_size, RETRY)
        indexed = [n for n in remote.list("packs/") if n.endswith(".idx")]
        rindex = _keep(RemoteIndex(remote, str(tmp_path / f"check{n}")))
        rindex.refresh()
        assert not rindex.contains([idx.key(e.id, e.kind)]).any(), indexed  # never on the remote
        pool.close()
