"""A push to a folder remote writes a batch of packs, then makes each durable (fsync) and visible
(rename) before its index: the ordering a reader relies on (a pack is whole before an index names
it) holds in every batch, failures leave no temp files, and the data round-trips byte for byte."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from git_mlv.core.pool import Pool
from git_mlv.remotes import local
from git_mlv.remotes.base import Data, RemoteError, Staged
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.fetch import fetch_files
from git_mlv.remotes.local import FolderRemote
from git_mlv.remotes.transfer import push_objects
from tests.helpers import random_bytes
from tests.remotes.test_transfer import RETRY, SMALL, make_pool, read_all


class Logged(FolderRemote):
    """A real folder remote that logs what it is asked to do, in order (instrumentation)."""

    def __init__(self, root: str, fail_stage_at: int = 0) -> None:
        super().__init__(root)
        self.log: list[tuple[str, str]] = []
        self.fail_stage_at = fail_stage_at

    def stage(self, name: str, data: Data) -> Staged:
        self.log.append(("stage", name))
        if self.fail_stage_at and sum(op == "stage" for op, _ in self.log) == self.fail_stage_at:
            raise RemoteError(f"{name}: refused (test)")
        inner = super().stage(name, data)
        log = self.log

        class Published(Staged):
            def publish(self) -> None:
                inner.publish()
                log.append(("publish", name))

            def discard(self) -> None:
                inner.discard()

        return Published()

    def put(self, name: str, data: Data) -> None:
        super().put(name, data)
        self.log.append(("put", name))


def _files() -> dict[str, bytes]:
    return {f"f{i}": random_bytes(150_000, seed=40 + i) for i in range(6)}


def _fetched_whole(remote: FolderRemote, by_oid: dict[str, bytes], tmp_path: Path) -> None:
    """Every file fetched from ``remote`` into a new pool reads back byte for byte."""
    dst = Pool(str(tmp_path / "b"), SMALL)
    got = fetch_files(dst, remote, RemoteIndex(remote, str(tmp_path / "bc")), by_oid, RETRY)
    dst.writer().commit()
    assert got.present == set(by_oid)
    for oid, data in by_oid.items():
        assert read_all(dst, oid) == data


def _temp_files(root: Path) -> list[str]:
    return [p.name for p in [*root.rglob(".tmp-*"), *root.rglob(".staged-*")]]


def test_a_staged_object_is_invisible_until_published(tmp_path: Path) -> None:
    remote = FolderRemote(str(tmp_path / "store"))
    name = "packs/pack-" + "cd" * 16 + ".pack"
    staged = remote.stage(name, b"x" * 5000)
    assert not remote.exists(name) and remote.list("packs/") == {}
    assert len(_temp_files(tmp_path / "store")) == 1
    staged.publish()
    assert remote.get(name) == b"x" * 5000 and _temp_files(tmp_path / "store") == []
    remote.stage("packs/pack-" + "ef" * 16 + ".pack", b"y").discard()
    assert remote.list("packs/") == {name: 5000} and _temp_files(tmp_path / "store") == []


def test_packs_go_up_in_batches_each_whole_before_its_index(tmp_path: Path) -> None:
    src, by_oid = make_pool(tmp_path / "a", _files())
    remote = Logged(str(tmp_path / "store"))
    remote.stage_bytes = 3 * SMALL.pack_size  # batches of three packs
    stats = push_objects(src, remote, RemoteIndex(remote, str(tmp_path / "ac")), by_oid,
                         SMALL.pack_size, RETRY)
    assert stats.packs >= 5, "the files should fill several batches"
    ops = remote.log
    at = {(op, name): i for i, (op, name) in enumerate(ops)}
    packs = [name for op, name in ops if op == "stage"]
    assert len(packs) == stats.packs
    for name in packs:  # staged, then published, then its index put
        assert at[("stage", name)] < at[("publish", name)] < at[("put", name[:-5] + ".idx")]
    # batching happened: the first three packs were all written before the first was published
    first_publish = min(i for i, (op, _) in enumerate(ops) if op == "publish")
    assert sum(op == "stage" for op, _ in ops[:first_publish]) == 3
    # the manifests' pack is staged only after every other pack is indexed
    last = packs[-1]
    assert all(at[("put", p[:-5] + ".idx")] < at[("stage", last)] for p in packs[:-1])
    assert _temp_files(tmp_path / "store") == []
    _fetched_whole(remote, by_oid, tmp_path)


def test_a_failed_fsync_writes_the_pack_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An I/O error from fsync (a fault no real file system gives on demand, hence patched) drops
    the temp file and the pack is written again the plain way; the data still arrives whole."""
    src, by_oid = make_pool(tmp_path / "a", _files())
    real_fsync, calls = os.fsync, {"n": 0}

    def flaky_fsync(fd: int) -> None:  # the second fsync of a pack's temp file in the store fails
        if os.readlink(f"/proc/self/fd/{fd}").startswith(f"{tmp_path}/store/packs/.staged-"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.EIO, "Input/output error")
        real_fsync(fd)

    monkeypatch.setattr(local.os, "fsync", flaky_fsync)
    remote = FolderRemote(str(tmp_path / "store"))
    push_objects(src, remote, RemoteIndex(remote, str(tmp_path / "ac")), by_oid, SMALL.pack_size, RETRY)
    monkeypatch.setattr(local.os, "fsync", real_fsync)
    assert calls["n"] > 2 and _temp_files(tmp_path / "store") == []
    _fetched_whole(remote, by_oid, tmp_path)


def test_a_push_that_fails_mid_batch_leaves_no_temp_files_and_can_be_rerun(tmp_path: Path) -> None:
    src, by_oid = make_pool(tmp_path / "a", _files())
    remote = Logged(str(tmp_path / "store"), fail_stage_at=3)
    rindex = RemoteIndex(remote, str(tmp_path / "ac"))
    with pytest.raises(RemoteError, match="refused"):
        push_objects(src, remote, rindex, by_oid, SMALL.pack_size, RETRY)
    store = tmp_path / "store"
    assert _temp_files(store) == [] and not list(store.rglob("*.idx"))
    remote.fail_stage_at = 0
    push_objects(src, remote, rindex, by_oid, SMALL.pack_size, RETRY)
    _fetched_whole(remote, by_oid, tmp_path)


def test_what_a_killed_push_staged_is_collected_by_the_next_push(tmp_path: Path) -> None:
    """A push killed between writing a pack and publishing it leaves a hidden staged file named
    after the pack, which the push had listed as pending: the next push deletes it."""
    src, by_oid = make_pool(tmp_path / "a", _files())
    remote = FolderRemote(str(tmp_path / "store"))
    rindex = RemoteIndex(remote, str(tmp_path / "ac"))
    name = "packs/pack-" + "ab" * 16 + ".pack"
    remote.stage(name, b"half of a pack")  # then the process died: neither published nor discarded
    rindex.set_pending({name})
    assert _temp_files(tmp_path / "store") == [".staged-pack-" + "ab" * 16 + ".pack"]
    push_objects(src, remote, rindex, by_oid, SMALL.pack_size, RETRY)
    assert _temp_files(tmp_path / "store") == [] and not remote.exists(name)
    assert rindex.pending() == set()


def test_a_big_batch_of_small_packs_holds_no_descriptor_per_pack(tmp_path: Path) -> None:
    """A batch stages as many packs as fit in ``stage_bytes``: with small packs, thousands. Each
    staged pack lets go of its folder until it is published, so the process's descriptor limit
    (lowered to 256 for the test) is no bound on the batch."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # 256 more than are open now: earlier tests of the same worker may leave descriptors open
    # (test_transfer.py's pools and clients: ~160), and the test failed after them
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(len(os.listdir("/proc/self/fd")) + 256, hard), hard))
    try:
        remote = FolderRemote(str(tmp_path / "store"))
        staged = [remote.stage(f"packs/pack-{i:032x}.pack", b"p%d" % i) for i in range(600)]
        for s in staged:
            s.publish()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert len(remote.list("packs/")) == 600 and _temp_files(tmp_path / "store") == []
    assert remote.get(f"packs/pack-{599:032x}.pack") == b"p599"
