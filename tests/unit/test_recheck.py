"""core/recheck.same_file: a stream proven to be a stored file chunk by chunk, or handed back whole
(exactly its bytes, whatever was already consumed) for the normal clean."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from git_mlv.core.pool import Pool
from git_mlv.core.recheck import same_file
from git_mlv.core.settings import Settings

SMALL = Settings(chunk_avg=1024, chunk_min=256, chunk_max=4096, pack_size=64 * 1024)
DATA = random.Random(6).randbytes(200_000)  # ~190 chunks, ~12 tasks of 4 largest chunks


def _changes() -> dict[str, bytes]:
    mid = len(DATA) // 2
    return {"first byte": b"\0" + DATA[1:],
            "middle byte": DATA[:mid] + bytes([DATA[mid] ^ 1]) + DATA[mid + 1:],
            "last byte": DATA[:-1] + bytes([DATA[-1] ^ 1]), "shorter": DATA[:-5], "longer": DATA + b"more",
            "empty": b"", "chunk shorter": DATA[:mid] + DATA[mid + 1:] + b"x"}


@pytest.fixture
def stored(tmp_path: Path) -> Iterator[tuple[Pool, list[tuple[bytes, int]]]]:
    with Pool(str(tmp_path), SMALL) as pool:
        pointer = pool.writer().add_bytes(DATA)
        pool.writer().close()
        yield pool, pool.file_chunks(pointer.oid)


def test_the_same_bytes_are_proven(stored: tuple[Pool, list[tuple[bytes, int]]]) -> None:
    pool, chunks = stored
    assert same_file(pool, chunks, io.BytesIO(DATA)) is None


@pytest.mark.parametrize("change", sorted(_changes()))
def test_a_difference_hands_back_exactly_the_stream(stored: tuple[Pool, list[tuple[bytes, int]]], change: str,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    pool, chunks = stored
    other = _changes()[change]
    read_back: list[int] = []
    real = pool.iter_file
    monkeypatch.setattr(pool, "iter_file", lambda oid, c: (read_back.append(len(c)), real(oid, c))[1])
    rest = same_file(pool, chunks, io.BytesIO(other))
    assert rest is not None
    out = bytearray()
    buf = bytearray(777)  # an odd size: pieces straddle the replayed chunks and held buffers
    while n := rest.readinto(buf):
        out += buf[:n]
    assert bytes(out) == other
    if change in ("last byte", "longer"):  # consumed chunks came back from the pool
        assert read_back and read_back[0] > 100
