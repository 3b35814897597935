"""The chunker: its cuts are pyfastcdc's stream cuts exactly, whatever the reads return, and the
chunks it hands out are views that stay valid (no buffer reuse) while later chunks are cut."""

from __future__ import annotations

import io
import random

import pytest
from pyfastcdc.cy import FastCDC

from git_mlv.core import chunker as chunker_mod
from git_mlv.core.chunker import Chunker
from git_mlv.core.settings import Settings

SMALL = Settings(chunk_avg=1024, chunk_min=256, chunk_max=4096)


class Trickle(io.RawIOBase):
    """Returns fewer bytes than asked, of random lengths (a pipe, git's pkt-lines)."""

    def __init__(self, data: bytes, seed: int) -> None:
        self._b = io.BytesIO(data)
        self._rng = random.Random(seed)

    def readable(self) -> bool:
        return True

    def readinto(self, b: memoryview | bytearray) -> int:  # type: ignore[override]
        return self._b.readinto(memoryview(b)[: self._rng.randint(1, 9000)])


def kinds(n: int) -> list[bytes]:
    rng = random.Random(n)
    text = b"".join(b"%d,%.4f\n" % (i, i / 7) for i in range(n // 8 + 1))[:n]
    return [rng.randbytes(n), bytes(n), text]


@pytest.mark.parametrize("n", [0, 1, 255, 256, 4096, 8191, 8192, 8193, 50_000, 70_001])
def test_cuts_are_the_stream_chunkers(monkeypatch: pytest.MonkeyPatch, n: int) -> None:
    monkeypatch.setattr(chunker_mod, "_FIRST", 2048)  # many blocks, carried tails at every size
    monkeypatch.setattr(chunker_mod, "_BLOCK", 16384)
    cdc = FastCDC(SMALL.chunk_avg, min_size=SMALL.chunk_min, max_size=SMALL.chunk_max)
    for data in kinds(n):
        want = [bytes(c.data) for c in cdc.cut_stream(io.BytesIO(data))]
        assert [bytes(c) for c in Chunker(SMALL).cut_stream(io.BytesIO(data))] == want
        assert [bytes(c) for c in Chunker(SMALL).cut_stream(Trickle(data, n))] == want
        assert [bytes(c) for c in Chunker(SMALL).cut_bytes(data)] == want  # in place, same cuts


def test_default_sizes_across_real_blocks() -> None:
    s = Settings()
    cdc = FastCDC(s.chunk_avg, min_size=s.chunk_min, max_size=s.chunk_max)
    data = random.Random(5).randbytes(9 << 20) + bytes(1 << 20)
    want = [len(c.data) for c in cdc.cut_stream(io.BytesIO(data))]
    assert [len(c) for c in Chunker(s).cut_stream(io.BytesIO(data))] == want


def test_chunks_stay_valid_after_later_cuts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chunker_mod, "_FIRST", 2048)
    monkeypatch.setattr(chunker_mod, "_BLOCK", 16384)
    data = random.Random(2).randbytes(100_000)
    views = list(Chunker(SMALL).cut_stream(Trickle(data, 3)))  # all kept, then read
    assert len(views) > 20 and b"".join(bytes(v) for v in views) == data
