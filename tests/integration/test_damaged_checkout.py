"""A damaged object in the pool costs its own file, not the checkout: the file stays a pointer with
a warning, every other file is written, and `git status` stays clean (docs/formats.md)."""

from __future__ import annotations

import hashlib
from pathlib import Path

from git_mlv.core.pack import ENTRY_SIZE, KIND_CHUNK, KIND_MANIFEST
from git_mlv.core.pointer import Pointer
from git_mlv.core.pool import Pool
from tests.helpers import git, mlv, random_bytes, write


def _flip(pool_dir: Path, oid: str, kind: int, at: str) -> None:
    """Flip one bit of the stored bytes of file ``oid``'s chunk or manifest entry."""
    pool = Pool(str(pool_dir))
    try:
        if kind == KIND_MANIFEST:
            loc = pool.locate(bytes.fromhex(oid), KIND_MANIFEST)
        else:
            chunks = pool.resolve(oid)
            assert chunks is not None and len(chunks) > 2
            cid = chunks[{"first": 0, "middle": len(chunks) // 2, "last": -1}[at]][0]
            loc = pool.locate(cid, KIND_CHUNK)
        assert loc is not None
        data = bytearray(Path(loc.pack).read_bytes())
        data[loc.entry.offset + ENTRY_SIZE + loc.entry.stored_len // 2] ^= 0x08
        Path(loc.pack).write_bytes(bytes(data))
    finally:
        pool.close()


def test_a_damaged_file_stays_a_pointer_and_the_checkout_goes_on(repo: Path) -> None:
    files = {f"data/f{i}.bin": random_bytes(60_000 + 1_000 * i, seed=300 + i) for i in range(8)}
    for path, data in files.items():
        write(repo / path, data)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    oid = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
    damaged = {"data/f2.bin": (KIND_CHUNK, "first"), "data/f4.bin": (KIND_CHUNK, "middle"),
               "data/f5.bin": (KIND_CHUNK, "last"), "data/f6.bin": (KIND_MANIFEST, "")}
    for path, (kind, at) in damaged.items():
        _flip(repo / ".git" / "mlv", oid[path], kind, at)
    for path in files:
        (repo / path).unlink()
    proc = git("checkout", "--", "data", cwd=repo)  # before: "smudge filter mlv failed", rc 128
    err = proc.stderr.decode()
    for path, data in files.items():
        if path in damaged:
            assert Pointer.parse((repo / path).read_bytes()).oid == oid[path]
            assert f"'{path}' stays a pointer" in err
        else:
            assert (repo / path).read_bytes() == data
    assert git("status", "--porcelain", cwd=repo).stdout == b""


def test_a_file_missing_a_chunk_stays_a_pointer_and_fsck_repair_brings_it_back(
        repo: Path, tmp_path: Path) -> None:
    """A file whose manifest is here but one chunk is not (a pull would skip it: the manifest says
    it is present) stays a pointer at checkout, and the warning names the command that helps."""
    import numpy as np

    from git_mlv.core import index as idx
    from git_mlv.core.consolidate import consolidate

    data = random_bytes(90_000, seed=77)
    write(repo / "data" / "big.bin", data)
    mlv("remote", "add", "store", str(tmp_path / "store"), "--default", cwd=repo)
    git("add", "-A", cwd=repo)
    git("commit", "-q", "-m", "data", cwd=repo)
    mlv("push", "-q", cwd=repo)
    oid = hashlib.sha256(data).hexdigest()
    pool = Pool(str(repo / ".git" / "mlv"))
    try:
        chunks = pool.resolve(oid)
        assert chunks is not None and len(chunks) > 2
        gone = idx.key(chunks[1][0], KIND_CHUNK)
        packs = pool.packs()
        keys = np.unique(np.concatenate([np.asarray(pool.index_of(p).keys) for p in packs]))
        assert consolidate(pool, merge=packs, keep=keys[keys != gone]) is not None
    finally:
        pool.close()
    (repo / "data" / "big.bin").unlink()
    proc = git("checkout", "--", "data", cwd=repo)
    assert Pointer.parse((repo / "data" / "big.bin").read_bytes()).oid == oid
    assert "fsck --repair" in proc.stderr.decode()
    assert git("status", "--porcelain", cwd=repo).stdout == b""
    mlv("fsck", "--repair", cwd=repo)
    (repo / "data" / "big.bin").unlink()
    git("checkout", "--", "data", cwd=repo)
    assert (repo / "data" / "big.bin").read_bytes() == data
