"""The Remote contract: one suite, run against every backend (folder, S3 on SeaweedFS, SFTP on sshd)."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor

import pytest

from git_mlv.remotes.base import RemoteError, RemoteNotFound
from tests.helpers import random_bytes


def pack_name(ext: str = "pack") -> str:
    return f"packs/pack-{secrets.token_hex(16)}.{ext}"


@pytest.fixture
def remote(backend):  # type: ignore[no-untyped-def]
    r = backend.open()
    yield r
    r.close()


def test_put_get_exists_list_delete(remote) -> None:  # type: ignore[no-untyped-def]
    a, b = pack_name(), pack_name("idx")
    assert remote.list("packs/") == {}
    assert not remote.exists(a)
    remote.put(a, b"alpha" * 1000)
    remote.put(b, b"")
    assert remote.exists(a)
    assert remote.get(a) == b"alpha" * 1000
    assert remote.get(b) == b""
    assert remote.list("packs/") == {a: 5000, b: 0}
    assert remote.list("runcache/") == {}
    remote.delete(a)
    remote.delete(a)  # already gone: fine
    assert not remote.exists(a)
    assert remote.list("packs/") == {b: 0}


def test_missing_object(remote) -> None:  # type: ignore[no-untyped-def]
    name = pack_name()
    with pytest.raises(RemoteNotFound):
        remote.get(name)
    with pytest.raises(RemoteNotFound):
        remote.get_range(name, 0, 10)


def test_get_range(remote) -> None:  # type: ignore[no-untyped-def]
    data = random_bytes(100_000, seed=1)
    name = pack_name()
    remote.put(name, data)
    assert remote.get_range(name, 0, 10) == data[:10]
    assert remote.get_range(name, 12_345, 50_000) == data[12_345:62_345]
    assert remote.get_range(name, 99_990, 10) == data[-10:]
    assert remote.get_range(name, 99_990, 100) == data[-10:]  # short at the end


def test_put_replaces_atomically_and_leaves_no_temp_files(remote) -> None:  # type: ignore[no-untyped-def]
    name = f"runcache/{'a' * 64}"
    remote.put(name, b"first")
    remote.put(name, b"second, longer")
    assert remote.get(name) == b"second, longer"
    assert remote.list("runcache/") == {name: 14}


def test_staged_objects_publish_or_vanish_whole(remote) -> None:  # type: ignore[no-untyped-def]
    """``stage`` then ``publish``: the object reads back. ``stage`` then ``discard``: no temp
    object is left, and the name holds the whole object or nothing (a backend that put it at
    once keeps it, as an interrupted push's pack without an index)."""
    kept, dropped = pack_name(), pack_name()
    data = random_bytes(300_000, seed=8)
    staged = remote.stage(kept, [data[:1000], data[1000:]])
    staged.publish()
    assert remote.get(kept) == data
    remote.stage(dropped, data).discard()
    listed = remote.list("packs/")
    assert set(listed) <= {kept, dropped} and listed[kept] == len(data)
    if dropped in listed:
        assert remote.get(dropped) == data


def test_big_object_round_trip(remote) -> None:  # type: ignore[no-untyped-def]
    """Bigger than S3's multipart threshold, so the multipart path runs too."""
    from git_mlv.remotes.s3 import MULTIPART_SIZE

    data = random_bytes(MULTIPART_SIZE + 3_000_000, seed=2)
    name = pack_name()
    remote.put(name, data)
    assert remote.list("packs/")[name] == len(data)
    assert remote.get(name) == data
    assert remote.get_range(name, MULTIPART_SIZE - 5, 10) == data[MULTIPART_SIZE - 5:MULTIPART_SIZE + 5]


def test_parallel_puts_and_gets(remote) -> None:  # type: ignore[no-untyped-def]
    items = {pack_name(): random_bytes(50_000 + i, seed=i) for i in range(12)}
    with ThreadPoolExecutor(6) as ex:
        list(ex.map(lambda kv: remote.put(*kv), items.items()))
        got = dict(zip(items, ex.map(remote.get, items)))
    assert got == items
    assert remote.list("packs/") == {k: len(v) for k, v in items.items()}


@pytest.mark.parametrize("bad", [
    "../escape", "/etc/passwd", "packs/../../x", "packs/pack-zz.pack", "packs/pack-.pack",
    "other/pack-00000000000000000000000000000000.pack", "packs//x", "", "runcache/abc",
    "packs/pack-0123456789abcdef0123456789abcdef.pack/..",
])
def test_names_are_validated_before_any_io(remote, bad: str) -> None:  # type: ignore[no-untyped-def]
    for op in (lambda: remote.put(bad, b"x"), lambda: remote.get(bad), lambda: remote.exists(bad),
               lambda: remote.delete(bad)):
        with pytest.raises(RemoteError, match="invalid remote object name"):
            op()
    with pytest.raises(RemoteError, match="invalid remote listing prefix"):
        remote.list("../")


def test_list_info_gives_sizes_and_write_times(remote) -> None:  # type: ignore[no-untyped-def]
    import time

    a, b = pack_name(), pack_name("idx")
    remote.put(a, b"x" * 1234)
    remote.put(b, b"")
    info = remote.list_info("packs/")
    assert {n: i.size for n, i in info.items()} == {a: 1234, b: 0} == remote.list("packs/")
    for i in info.values():  # the storage's clock: same machine here, so close to ours
        assert abs(i.mtime - time.time()) < 300
    assert remote.list_info("runcache/") == {}
