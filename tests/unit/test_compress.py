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


def test_shuffled_floats_use_the_fast_level_and_plain_zstd_keeps_its_own() -> None:
    """At the default level 1, shuffle4 chunks are compressed at zstd level -1 (it keeps their ratio
    and is faster), plain zstd at level 1 (at -1 the CSV's ratio halves); other levels are kept as
    configured. Checked by compressing the same bytes with zstd at the expected level."""
    import zstandard

    def frame(data: bytes, level: int) -> bytes:
        return zstandard.ZstdCompressor(level=level, write_content_size=True).compress(data)

    rng = np.random.default_rng(1)
    weights = (np.cumsum(rng.standard_normal(16384, dtype=np.float32) * 1e-3)).astype(np.float32).tobytes()
    codec, stored = compress(weights, 1)
    assert codec == CODEC_SHUFFLE4_ZSTD
    assert stored == frame(shuffle4(weights), -1) != frame(shuffle4(weights), 1)
    codec3, stored3 = compress(weights, 3)
    assert codec3 == CODEC_SHUFFLE4_ZSTD and stored3 == frame(shuffle4(weights), 3)
    text = b"".join(b"%09d,%.6f,%.6f\n" % (i, i / 7, i / 3) for i in range(4000))
    codec, stored = compress(text, 1)
    assert codec == CODEC_ZSTD and stored == frame(text, 1)
    for c, s, raw in ((CODEC_SHUFFLE4_ZSTD, compress(weights, 1)[1], weights), (codec, stored, text)):
        assert decompress(c, s, len(raw)) == raw


def test_incompressible_data_is_judged_raw_without_the_shuffled_trial(monkeypatch) -> None:
    """When zstd cannot shrink the sample at all, shuffling (a permutation of the same bytes) is
    not tried: that trial was most of an image's codec choice (bench/RESULTS.md, commit5)."""
    from git_mlv.core import compress as c

    noise = random.Random(3).randbytes(64 * 1024)

    def no_shuffle(data: bytes) -> bytearray:
        raise AssertionError("shuffled trial on incompressible data")

    monkeypatch.setattr(c, "shuffle4", no_shuffle)
    assert c.choose(noise, 1) == CODEC_RAW
    monkeypatch.undo()
    floats = np.cumsum(np.random.default_rng(0).normal(size=16384)).astype(np.float32).tobytes()
    assert c.choose(floats, 1) == CODEC_SHUFFLE4_ZSTD  # the shuffled trial still runs when zstd can
