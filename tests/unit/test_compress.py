"""Compression codecs: every codec round-trips; the right one is chosen for the data."""

from __future__ import annotations

import random

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from git_mlv.core.compress import (
    CODEC_RAW,
    CODEC_SHUFFLE4_ZSTD,
    CODEC_ZSTD,
    compress,
    decompress,
    shuffle4,
    unshuffle4,
)


@given(st.binary(max_size=5000))
def test_shuffle_is_invertible(data: bytes) -> None:
    assert unshuffle4(shuffle4(data)) == data


@given(st.binary(max_size=40000), st.integers(0, 3))
def test_any_bytes_roundtrip(data: bytes, level: int) -> None:
    codec, stored = compress(data, level)
    assert decompress(codec, stored, len(data)) == data


def test_codec_choice() -> None:
    rnd = random.Random(0).randbytes(65536)
    assert compress(rnd, 1)[0] == CODEC_RAW
    text = b"".join(b"%09d,%.6f,%.6f\n" % (i, i / 7, i / 3) for i in range(4000))
    assert compress(text, 1)[0] == CODEC_ZSTD
    rng = np.random.default_rng(0)
    weights = (np.cumsum(rng.standard_normal(16384, dtype=np.float32) * 1e-3) + 0.05).astype(np.float32)
    codec, stored = compress(weights.tobytes(), 1)
    assert codec == CODEC_SHUFFLE4_ZSTD
    assert len(stored) < 0.8 * len(weights.tobytes())
    assert decompress(codec, stored, len(weights.tobytes())) == weights.tobytes()
