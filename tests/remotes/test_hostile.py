"""Hostile or damaged remotes (issue 8): whatever a remote holds, a fetch never stores a wrong byte,
never touches a file outside the remote, reports every file it could not bring with a reason, and
stays within bounds of time and memory that do not depend on what the remote claims.

The parsers (listing, indexes, manifests, pack entries) are shared by every backend, so the
property tests run on the folder backend, where any byte can be tampered with; one pass per backend
tampers through the Remote API.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import tempfile
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from git_mlv.core import index as idx
from git_mlv.core.compress import compress
from git_mlv.core.manifest import Manifest
from git_mlv.core.pack import END_MAGIC, HEADER, KIND_MANIFEST, MAGIC, TRAILER, VERSION, Entry, encode_entry
from git_mlv.core.pool import Pool
from git_mlv.errors import MlvError
from git_mlv.remotes.cache import RemoteIndex
from git_mlv.remotes.fetch import fetch_files
from git_mlv.remotes.local import FolderRemote
from git_mlv.remotes.transfer import push_objects
from tests.helpers import random_bytes
from tests.remotes.test_transfer import RETRY, SMALL, files_set, make_pool, read_all

TIME_LIMIT = 10.0  # seconds per fetch; the honest fetch of this data takes ~0.1 s
MEMORY_LIMIT = 48 << 20  # bytes of Python allocations at the peak; the data is ~0.6 MB


class Template:
    """A folder remote holding ``files`` (oid -> bytes), pushed once, copied for each example."""

    def __init__(self, root: Path, files: dict[str, bytes]) -> None:
        self.root, self.files = root, files

    def __repr__(self) -> str:  # hypothesis prints the arguments of a failing example: keep it short
        return f"Template({self.root}, {len(self.files)} files)"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    base = tmp_path_factory.mktemp("hostile")
    src, by_oid = make_pool(base / "src", files_set(seed=40))
    remote = FolderRemote(str(base / "store"))
    push_objects(src, remote, RemoteIndex(remote, str(base / "src-cache")), by_oid, SMALL.pack_size, RETRY)
    src.close()
    return Template(base / "store", by_oid)


def _packs(store: Path) -> list[Path]:
    """The remote's packs and indexes (not the strays a tampering may have added)."""
    return sorted(p for p in (store / "packs").iterdir()
                  if re.fullmatch(r"pack-[0-9a-f]{32}\.(pack|idx)", p.name) and not p.is_symlink())


def _entries(index: bytes) -> list[Entry]:
    """The records of index bytes; [] for bytes an earlier tampering left unreadable."""
    if len(index) < 16:
        return []
    count = idx.HEADER.unpack_from(index, 0)[2]
    if len(index) != 16 + 53 * count + 32:
        return []
    out = []
    for i in range(count):
        k = index[16 + 33 * i:16 + 33 * (i + 1)]
        off = 16 + 33 * count + 20 * i
        o, s, r, c = struct.unpack_from("<QIIB", index, off)
        out.append(Entry(k[:32], k[32], c, o, s, r))
    return out


def _forge_index(entries: list[Entry]) -> bytes:
    """An index with a valid checksum over whatever records we like (idx.encode keeps them)."""
    return idx.encode(entries)


# -- tamperings: each takes the remote's folder, a random source and the files -------------------
def truncate(store: Path, rnd: st.DataObject) -> None:
    packs = [p for p in _packs(store) if p.suffix == ".pack"]
    p = rnd.draw(st.sampled_from(packs))
    size = p.stat().st_size
    os.truncate(p, rnd.draw(st.integers(0, max(0, size - 1))))


def flip(store: Path, rnd: st.DataObject) -> None:
    p = rnd.draw(st.sampled_from(_packs(store)))
    data = bytearray(p.read_bytes())
    if data:
        pos = rnd.draw(st.integers(0, len(data) - 1))
        data[pos] ^= 1 << rnd.draw(st.integers(0, 7))
        p.write_bytes(bytes(data))


def stray(store: Path, rnd: st.DataObject) -> None:
    name = rnd.draw(st.sampled_from([
        "README", "pack-ZZ.idx", "pack-ZZ.pack", "pack-" + "ab" * 16 + ".idx", "pack-x.pack.bak",
        "PACK-" + "cd" * 16 + ".idx", "pack-" + "ef" * 17 + ".idx", "pack-" + "ef" * 17 + ".pack",
    ]))
    (store / "packs" / name).write_bytes(rnd.draw(st.binary(max_size=200)))
    if name.endswith(".idx"):  # with a partner: what made every fetch fail before
        (store / "packs" / (name[:-4] + ".pack")).write_bytes(b"x")


def symlink(store: Path, rnd: st.DataObject) -> None:
    secret = store.parent / "secret"
    victim = rnd.draw(st.sampled_from(_packs(store)))
    how = rnd.draw(st.sampled_from(["replace", "extra"]))
    if how == "replace":
        victim.unlink()
        victim.symlink_to(secret)
    else:
        extra = store / "packs" / ("pack-" + rnd.draw(st.binary(min_size=16, max_size=16)).hex()
                                   + victim.suffix)
        if not extra.exists() and not extra.is_symlink():
            extra.symlink_to(victim if rnd.draw(st.booleans()) else secret)


def bogus_records(store: Path, rnd: st.DataObject) -> None:
    """Rewrite an index with valid checksum but records that overlap, overshoot or lie."""
    p = rnd.draw(st.sampled_from([p for p in _packs(store) if p.suffix == ".idx"]))
    entries = _entries(p.read_bytes())
    if not entries:
        return
    i = rnd.draw(st.integers(0, len(entries) - 1))
    e = entries[i]
    how = rnd.draw(st.sampled_from(["overlap", "huge", "raw_len", "offset"]))
    if how == "overlap" and len(entries) > 1:
        j = (i + 1) % len(entries)
        o = entries[j]
        entries[j] = Entry(o.id, o.kind, o.codec, e.offset + rnd.draw(st.integers(1, 60)), o.stored_len,
                           o.raw_len)
    elif how == "huge":
        entries[i] = Entry(e.id, e.kind, e.codec, e.offset, 0xFFFF_FFFF, 0xFFFF_FFFF)
    elif how == "raw_len":
        entries[i] = Entry(e.id, e.kind, e.codec, e.offset, e.stored_len,
                           rnd.draw(st.integers(0, 0xFFFF_FFFF)))
    else:
        entries[i] = Entry(e.id, e.kind, e.codec, rnd.draw(st.integers(0, 1 << 40)), e.stored_len, e.raw_len)
    p.write_bytes(_forge_index(entries))


def lying_manifest(store: Path, rnd: st.DataObject, files: dict[str, bytes]) -> None:
    """Hide the real manifests and serve a tiny one that lists one chunk a million times."""
    for p in _packs(store):
        if p.suffix == ".idx" and any(e.kind == KIND_MANIFEST for e in _entries(p.read_bytes())):
            p.unlink()
    big = max(files, key=lambda o: len(files[o]))
    chunk = files[big][:4096]
    times = rnd.draw(st.sampled_from([1000, 1_000_000]))
    body = Manifest(len(chunk) * times, ((hashlib.sha256(chunk).digest(), len(chunk)),) * times).encode()
    codec, stored = compress(body, 3)
    pack = HEADER.pack(MAGIC, VERSION, 0) + encode_entry(bytes.fromhex(big), KIND_MANIFEST, codec,
                                                         len(body), stored) + TRAILER.pack(END_MAGIC, 1)
    name = store / "packs" / ("pack-" + "9f" * 16)
    name.with_suffix(".pack").write_bytes(pack)
    entry = Entry(bytes.fromhex(big), KIND_MANIFEST, codec, HEADER.size, len(stored), len(body))
    name.with_suffix(".idx").write_bytes(idx.encode([entry]))


TAMPER = {"truncate": truncate, "flip": flip, "stray": stray, "symlink": symlink,
          "bogus_records": bogus_records}


def _fetch_and_check(store: Path, work: Path, files: dict[str, bytes]) -> None:
    """The claims every fetch from any remote must keep."""
    secret = store.parent / "secret"
    before = secret.read_bytes(), secret.stat().st_mtime_ns
    remote = FolderRemote(str(store))
    dst = Pool(str(work / "pool"), SMALL)
    sizes = {oid: len(data) for oid, data in files.items()}
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        got = fetch_files(dst, remote, RemoteIndex(remote, str(work / "cache")), files, RETRY, sizes=sizes)
    except MlvError:  # a clear error is an acceptable answer; a wrong byte or a hang is not
        got = None
    finally:
        elapsed = time.monotonic() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    dst.writer().commit()
    assert elapsed < TIME_LIMIT, f"fetch took {elapsed:.1f} s"
    assert peak < MEMORY_LIMIT, f"fetch peaked at {peak >> 20} MiB"
    assert (secret.read_bytes(), secret.stat().st_mtime_ns) == before  # nothing outside touched
    dst.refresh()
    for oid, data in files.items():
        if dst.has_file(oid, refresh=True):
            assert read_all(dst, oid) == data  # never a wrong byte
    if got is not None:
        for oid in files:
            assert oid in got.present or got.failed.get(oid), f"{oid[:12]}: no reason given"
    dst.close()


def _copy(template: Template, work: Path) -> Path:
    store = work / "store"
    shutil.copytree(template.root, store, symlinks=True)
    (work / "secret").write_bytes(b"outside the remote: must never be read into or written")
    return store


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), kinds=st.lists(st.sampled_from(sorted(TAMPER)), min_size=1, max_size=3))
def test_any_tampering_keeps_the_claims(template: Template, data: st.DataObject, kinds: list[str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        store = _copy(template, work)
        for kind in kinds:
            TAMPER[kind](store, data)
        _fetch_and_check(store, work, template.files)


@pytest.mark.parametrize("times", [1000, 1_000_000])
def test_a_manifest_listing_one_chunk_a_million_times_costs_nothing(template: Template, tmp_path: Path,
                                                                     times: int) -> None:
    store = _copy(template, tmp_path)

    class Fixed:
        def draw(self, _: object) -> int:
            return times

    lying_manifest(store, Fixed(), template.files)  # type: ignore[arg-type]
    _fetch_and_check(store, tmp_path, template.files)


def test_a_stray_name_in_packs_is_skipped_with_a_warning(template: Template, tmp_path: Path) -> None:
    store = _copy(template, tmp_path)
    (store / "packs" / "pack-ZZ.idx").write_bytes(b"junk")
    (store / "packs" / "pack-ZZ.pack").write_bytes(b"junk")
    remote = FolderRemote(str(store))
    dst = Pool(str(tmp_path / "pool"), SMALL)
    got = fetch_files(dst, remote, RemoteIndex(remote, str(tmp_path / "c")), template.files, RETRY)
    assert got.present == set(template.files)
    assert any("pack-ZZ" in w and "not a pack name" in w for w in got.warnings)
    dst.close()


def test_overlapping_records_are_reported_not_dropped(template: Template, tmp_path: Path) -> None:
    store = _copy(template, tmp_path)
    p = next(p for p in _packs(store) if p.suffix == ".idx" and len(_entries(p.read_bytes())) > 2)
    entries = sorted(_entries(p.read_bytes()), key=lambda e: e.offset)
    a, b = entries[0], entries[1]
    entries[1] = Entry(b.id, b.kind, b.codec, a.offset + 10, b.stored_len, b.raw_len)
    p.write_bytes(_forge_index(entries))
    remote = FolderRemote(str(store))
    dst = Pool(str(tmp_path / "pool"), SMALL)
    got = fetch_files(dst, remote, RemoteIndex(remote, str(tmp_path / "c")), template.files, RETRY)
    assert any("overlap" in m for m in got.damaged)
    dst.close()


def test_a_symlink_in_a_folder_remote_is_never_followed(template: Template, tmp_path: Path) -> None:
    store = _copy(template, tmp_path)
    outside = tmp_path / "outside.idx"
    victim = next(p for p in _packs(store) if p.suffix == ".idx")
    shutil.copy(victim, outside)
    victim.unlink()
    victim.symlink_to(outside)  # a link to a perfectly good index: still not followed
    remote = FolderRemote(str(store))
    assert victim.name not in {n.split("/")[-1] for n in remote.list("packs/")}
    with pytest.raises(MlvError, match="symbolic link"):
        remote.get("packs/" + victim.name)
    # a push never writes through a link planted where it will write
    target = tmp_path / "target"
    target.write_bytes(b"keep me")
    (store / "runcache").mkdir()
    link = store / "runcache" / ("ab" * 32)
    link.symlink_to(target)
    remote.put("runcache/" + "ab" * 32, b"new")
    assert target.read_bytes() == b"keep me" and link.read_bytes() == b"new" and not link.is_symlink()


def test_tampering_on_every_backend(backend, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Through the Remote API alone: a truncated pack and a flipped byte, on folder, S3 and SFTP."""
    files = {"a": random_bytes(120_000, seed=61), "b": random_bytes(90_000, seed=62),
             "c": random_bytes(800, seed=63)}
    src, by_oid = make_pool(tmp_path / "src", files)
    remote = backend.open()
    push_objects(src, remote, RemoteIndex(remote, str(tmp_path / "sc")), by_oid, 64 * 1024, RETRY)
    packs = sorted(n for n in remote.list("packs/") if n.endswith(".pack"))
    assert len(packs) >= 3
    remote.put(packs[0], remote.get(packs[0])[: 100])  # truncated
    data = bytearray(remote.get(packs[1]))
    data[len(data) // 2] ^= 0x10
    remote.put(packs[1], bytes(data))  # one flipped bit
    dst = Pool(str(tmp_path / "dst"), SMALL)
    got = fetch_files(dst, remote, RemoteIndex(remote, str(tmp_path / "dc")), by_oid, RETRY,
                      sizes={o: len(d) for o, d in by_oid.items()})
    dst.writer().commit()
    assert got.damaged
    for oid, content in by_oid.items():
        if dst.has_file(oid, refresh=True):
            assert read_all(dst, oid) == content
        else:
            assert got.failed[oid]
    dst.close()
    remote.close()


@pytest.mark.slow
def test_clone_and_pull_name_each_file_that_stayed_a_pointer_and_why(repo: Path, tmp_path: Path) -> None:
    from tests.helpers import git, mlv, write

    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    for i in range(3):
        write(repo / f"f{i}.bin", random_bytes(60_000, seed=70 + i))
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    mlv("push", cwd=repo)
    victim = max((tmp_path / "store" / "packs").glob("*.pack"), key=lambda p: p.stat().st_size)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 1
    victim.write_bytes(bytes(data))
    clone = tmp_path / "clone"
    res = git("clone", str(repo), str(clone), cwd=tmp_path)
    summary = [x for x in res.stderr.decode().splitlines() if "left as pointers" in x]
    assert len(summary) == 1 and summary[0].startswith("git-mlv: 1 file(s)")  # one closing line
    res = mlv("pull", cwd=clone, check=False)
    assert res.returncode == 3
    err = res.stderr.decode()
    stayed = [x for x in err.splitlines() if "stays a pointer:" in x]
    assert len(stayed) == 1 and "damaged" in stayed[0] and victim.name in stayed[0]
    assert "git-mlv: 1 file(s) stayed pointers" in err
