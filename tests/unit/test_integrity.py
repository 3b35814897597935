"""What a local read proves (docs/formats.md#reading-is-verifying): a flipped bit anywhere in a pack
entry is caught, whatever the codec; a crash's torn entry is cut off; another version's pack is refused
with one line and never repaired away."""

from __future__ import annotations

import io
import os
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from git_mlv.core import compress as cz
from git_mlv.core.pack import ENTRY, ENTRY_SIZE, HEADER, KIND_CHUNK, UnsupportedPack, scan
from git_mlv.core.pool import Pool
from git_mlv.core.settings import Settings
from git_mlv.errors import CorruptObject

ONE_CHUNK = Settings(chunk_avg=64 * 1024, chunk_min=32 * 1024, chunk_max=256 * 1024)


def _samples() -> dict[int, bytes]:
    """One small file per codec: random bytes (raw), text (zstd), smooth float32 (shuffle4+zstd)."""
    rng = random.Random(7)
    text = b"".join(b"%09d,%.6f,%.6f\n" % (i, rng.random(), rng.random()) for i in range(400))
    floats = np.cumsum(np.random.default_rng(7).normal(0, 1e-3, 5000)).astype(np.float32).tobytes()
    return {cz.CODEC_RAW: rng.randbytes(12_000), cz.CODEC_ZSTD: text, cz.CODEC_SHUFFLE4_ZSTD: floats}


def _offsets(stored_len: int) -> dict[str, int]:
    """One byte in every region of an entry: each header field, the payload's start, middle, end."""
    fields = {"id first": 0, "id last": 31, "kind": 32, "codec": 33, "reserved": 34, "raw_len": 36,
              "stored_len": 40, "stored crc": 44, "header crc": ENTRY.size}
    return {**fields, "payload start": ENTRY_SIZE, "payload middle": ENTRY_SIZE + stored_len // 2,
            "payload end": ENTRY_SIZE + stored_len - 1}


def read(root: Path, oid: str) -> bytes:
    out = io.BytesIO()
    with Pool(str(root), ONE_CHUNK) as pool:
        pool.write_file_to(oid, out)
    return out.getvalue()


@pytest.mark.parametrize("codec", [cz.CODEC_RAW, cz.CODEC_ZSTD, cz.CODEC_SHUFFLE4_ZSTD])
def test_a_flipped_bit_in_any_region_of_an_entry_is_caught_on_read(tmp_path: Path, codec: int) -> None:
    data = _samples()[codec]
    with Pool(str(tmp_path), ONE_CHUNK) as pool:
        oid = pool.writer().add_bytes(data).oid
    pack = next((tmp_path / "packs").glob("*.pack"))
    good = pack.read_bytes()
    (entry,), _, _ = scan(str(pack))
    assert (entry.kind, entry.codec) == (KIND_CHUNK, codec)  # the sample exercises its codec
    assert read(tmp_path, oid) == data
    for region, at in _offsets(entry.stored_len).items():
        for bit in (0, 7):
            bad = bytearray(good)
            bad[entry.offset + at] ^= 1 << bit
            pack.write_bytes(bytes(bad))
            with pytest.raises(CorruptObject):
                got = read(tmp_path, oid)
                same = "equal" if got == data else "changed"
                pytest.fail(f"flip of bit {bit} in {region} read back {same}")
    pack.write_bytes(good)
    assert read(tmp_path, oid) == data


def test_a_torn_entry_of_a_crashed_writer_is_cut_off(tmp_path: Path) -> None:
    """Repair keeps the whole entries before a torn one (its header written, its data not)."""
    with Pool(str(tmp_path), ONE_CHUNK) as pool:
        w = pool.writer()
        first = w.add_bytes(_samples()[cz.CODEC_RAW]).oid
        second = w.add_bytes(random.Random(3).randbytes(9_000)).oid
        path, pw, lock = w.pack_path, w.pack, w._lock_fd
        assert pw is not None and lock is not None
        (_, e2) = pw.entries
        with open(path, "rb") as f:
            bad = bytearray(f.read())
        bad[e2.offset + ENTRY_SIZE + 10] ^= 0x10  # a sector of the last entry never reached disk
        with open(path, "wb") as f:
            f.write(bytes(bad))
        os.close(lock)  # kill -9: the lock and the writer go
        os.close(pw._fd)
        w._lock_fd, w.pack, pool._writer = None, None, None
    with Pool(str(tmp_path), ONE_CHUNK) as fresh:
        assert fresh.has_file(first) and not fresh.has_file(second)
    assert read(tmp_path, first) == _samples()[cz.CODEC_RAW]


def test_another_versions_pack_is_refused_in_one_line_and_left_alone(tmp_path: Path) -> None:
    with Pool(str(tmp_path), ONE_CHUNK) as pool:
        oid = pool.writer().add_bytes(b"x" * 5000).oid
    pack = next((tmp_path / "packs").glob("*.pack"))
    raw = bytearray(pack.read_bytes())
    struct.pack_into("<I", raw, 8, 1)  # the version field: an older git-mlv's pack
    pack.write_bytes(bytes(raw))
    with pytest.raises(UnsupportedPack, match=r"pack version 1 was written by an older git-mlv") as e:
        read(tmp_path, oid)
    assert "\n" not in str(e.value)
    pack.with_suffix(".idx").unlink()  # and as a crash's leftover: never repaired nor deleted
    with Pool(str(tmp_path), ONE_CHUNK) as pool:
        assert not pool.has_file(oid)
    assert pack.read_bytes() == bytes(raw)
    assert HEADER.unpack_from(raw)[1] == 1


MANY_CHUNKS = Settings(chunk_avg=8192, chunk_min=8192, chunk_max=16384)


@pytest.mark.parametrize("codec", [cz.CODEC_RAW, cz.CODEC_SHUFFLE4_ZSTD])
def test_a_flipped_bit_in_a_big_files_chunk_is_caught_by_the_bulk_read(tmp_path: Path, codec: int) -> None:
    """A file of many chunks is read in runs of adjacent entries (core/chunkread.py): a flip in
    any region of one entry in the middle of a run is still caught."""
    data = (random.Random(3).randbytes(200_000) if codec == cz.CODEC_RAW else
            np.cumsum(np.random.default_rng(3).normal(0, 1e-3, 50_000)).astype(np.float32).tobytes())
    with Pool(str(tmp_path), MANY_CHUNKS) as pool:
        oid = pool.writer().add_bytes(data).oid
    pack = next((tmp_path / "packs").glob("*.pack"))
    good = pack.read_bytes()
    chunks = [e for e in scan(str(pack))[0] if e.kind == KIND_CHUNK]
    assert len(chunks) > 8 and chunks[len(chunks) // 2].codec == codec

    def read_all() -> bytes:
        with Pool(str(tmp_path), MANY_CHUNKS) as pool:
            return b"".join(pool.iter_file(oid))

    assert read_all() == data
    entry = chunks[len(chunks) // 2]
    for region, at in _offsets(entry.stored_len).items():
        bad = bytearray(good)
        bad[entry.offset + at] ^= 1 << 3
        pack.write_bytes(bytes(bad))
        with pytest.raises(CorruptObject):
            got = read_all()
            pytest.fail(f"flip in {region} read back {'equal' if got == data else 'changed'}")
    pack.write_bytes(good)
    assert read_all() == data


def test_the_checksum_is_zlibs_crc32_whoever_computes_it() -> None:
    """Entries are checked with ISA-L's CRC-32 (core/pack.py) but the format says zlib's: the same
    value on every length and alignment, else every pack written before would read as damaged."""
    import zlib

    from git_mlv.core.pack import crc32

    rng = random.Random(11)
    buf = rng.randbytes(300_000)
    for n in [0, 1, 3, 7, 15, 16, 63, 64, 255, 4096, 65_537, 262_144]:
        start = rng.randrange(0, 64)
        view = memoryview(buf)[start:start + n]
        assert crc32(view) == zlib.crc32(view), n
        assert crc32(bytes(view), 0xDEADBEEF) == zlib.crc32(bytes(view), 0xDEADBEEF), n
