"""Per-chunk compression: zstd, zstd over byte-shuffled 32-bit words, or raw (docs/formats.md).

Model weights are mostly float32: their exponent bytes repeat while their mantissa bytes look random,
so zstd sees noise. Grouping byte 0 of every word, then byte 1, ... (the "shuffle" filter of Blosc and
HDF5) puts the repetitive bytes side by side: measured here, float32 weights go from ratio 1.25 to
1.80 at zstd level 1, and compress faster (shared/notes/measured-here.md). Each chunk is tried on a
small sample both ways (once per run of chunks of a file), and stored raw when neither pays.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ..errors import CorruptObject

if TYPE_CHECKING:
    import zstandard

# numpy and zstandard are imported where they are used, not here: a smudge of a raw chunk needs
# neither, and numpy's import was most of the filter's start-up (issue 9: a one-file checkout).

CODEC_RAW = 0
CODEC_ZSTD = 1
CODEC_SHUFFLE4_ZSTD = 2
CODECS = (CODEC_RAW, CODEC_ZSTD, CODEC_SHUFFLE4_ZSTD)
# Keep zstd's output only when it saves at least 1/32 of the chunk: below that, decompressing on every
# checkout costs more than the bytes saved (random "image" bytes come out at ratio 1.00).
_MIN_SAVING = 32
_SAMPLE = 4096  # bytes tried from the middle of a chunk; ~10 us a trial at level 1
# Shuffle only when it beats plain zstd on the sample by 5 % (4 KiB samples understate the gain: 8 %
# on a sample for 15 % on the chunk, float32 weights); CSV text compresses worse shuffled.
_SHUFFLE_GAIN = 0.95
# Byte-shuffled floats at the default level 1 are stored at zstd's fast level -1 instead: on the
# standard workload's float32 model (48 MB in 64 KiB pieces) -1 gave ratio 0.651 against 0.658 at
# level 1, compressed 1.4-1.6x and decompressed 1.7-2.7x faster (bench/RESULTS.md, issue 10 lever 4):
# the shuffled mantissa planes are noise that level 1's searches only waste time on. Plain zstd
# (CSV, text) keeps level 1: at -1 the CSV's ratio went from 0.45 to 0.79.
_SHUFFLED_LEVEL = -1

_local = threading.local()


def _compressor(level: int) -> zstandard.ZstdCompressor:
    cache = getattr(_local, "compressors", None)
    if cache is None:
        cache = _local.compressors = {}
    c = cache.get(level)
    if c is None:
        import zstandard

        # write_content_size: decompress() needs the size in the frame (shared/notes).
        c = cache[level] = zstandard.ZstdCompressor(level=level, write_content_size=True)
    return c


def _decompressor() -> zstandard.ZstdDecompressor:
    d = getattr(_local, "decompressor", None)
    if d is None:
        import zstandard

        d = _local.decompressor = zstandard.ZstdDecompressor()
    return d


# Both directions run in C when the package was built with a compiler (core/_shuffle.c: a byte loop
# gcc vectorises, 5-8 GB/s here, with the GIL released so reader and writer threads overlap) and in
# numpy otherwise: one byte plane at a time, a strided copy whose inner loop runs the length of the
# chunk (1.1-1.3 GB/s; one ``np.copyto`` through a transposed view, whose inner loop is the 4-byte
# word, ran 134 against 259 MB/s, bench/budget.py). bench/RESULTS.md, issue 10.
def _np_shuffle4(data: bytes | bytearray | memoryview) -> bytes:
    """numpy's ``shuffle4``, for a build without the C module."""
    import numpy as np

    n = len(data) - len(data) % 4
    words = np.frombuffer(data, dtype=np.uint8, count=n).reshape(-1, 4)
    out = bytearray(len(data))  # written in place: no second copy to append the tail
    np.copyto(np.frombuffer(out, dtype=np.uint8, count=n).reshape(4, -1).T, words)
    out[n:] = data[n:]
    return bytes(out)


def _np_unshuffle4(data: bytes | bytearray | memoryview) -> bytes:
    """numpy's ``unshuffle4``, for a build without the C module."""
    import numpy as np

    n = len(data) - len(data) % 4
    planes = np.frombuffer(data, dtype=np.uint8, count=n).reshape(4, -1)
    out = bytearray(len(data))
    words = np.frombuffer(out, dtype=np.uint8, count=n).reshape(-1, 4)
    for i in range(4):
        words[:, i] = planes[i]
    out[n:] = data[n:]
    return bytes(out)


try:
    from ._shuffle import shuffle4, unshuffle4

    ACCELERATED = True
except ImportError:  # installed without a C compiler: the same bytes, slower
    shuffle4, unshuffle4 = _np_shuffle4, _np_unshuffle4
    ACCELERATED = False


def _choose(data: bytes | memoryview, c: zstandard.ZstdCompressor) -> int:
    """The codec a sample from the middle of ``data`` says is worth it."""
    mid = (len(data) // 2) & ~3
    sample = data[mid : mid + _SAMPLE]
    limit = len(sample) - len(sample) // _MIN_SAVING
    plain = len(c.compress(sample))
    if plain >= len(sample):
        # zstd found neither matches nor a skewed byte histogram. Shuffling permutes the bytes, so
        # the histogram stays as flat; only matches between byte planes could appear, and on the
        # workloads measured none did (store byte-identical, bench/RESULTS.md, commit5). Skipping
        # the shuffled trial halves the choice for incompressible files (an image: ~100 us).
        return CODEC_RAW
    shuffled = len(c.compress(shuffle4(sample)))
    if shuffled < plain * _SHUFFLE_GAIN and shuffled <= limit:
        return CODEC_SHUFFLE4_ZSTD
    if plain <= limit:
        return CODEC_ZSTD
    return CODEC_RAW


def choose(data: bytes | memoryview, level: int) -> int:
    """The codec worth using for ``data`` at ``level``, judged on a sample from its middle.

    The writer asks once per run of chunks of a file, not per chunk (core/poolwriter.py): the two
    trial compressions cost a third of what compressing a CSV chunk costs (bench/RESULTS.md, write4).
    """
    if level <= 0 or len(data) < 64:
        return CODEC_RAW
    if len(data) < 2 * _SAMPLE:
        return CODEC_ZSTD
    return _choose(data, _compressor(level))


def compress(data: bytes | memoryview, level: int,
             codec: int | None = None) -> tuple[int, bytes | memoryview]:
    """(codec, stored bytes) for ``data``; level 0 stores raw.

    ``codec`` is the choice made for this chunk's neighbours (``choose``); None chooses from this
    chunk's own sample. Whatever the choice, a chunk that does not compress is stored raw.
    """
    if level <= 0 or len(data) < 64:
        return CODEC_RAW, data
    if codec is None:
        codec = choose(data, level)
    if codec == CODEC_RAW:
        return CODEC_RAW, data
    if codec == CODEC_SHUFFLE4_ZSTD:
        packed = _compressor(min(level, _SHUFFLED_LEVEL) if level <= 1 else level).compress(shuffle4(data))
    else:
        packed = _compressor(level).compress(data)
    if len(packed) > len(data) - len(data) // _MIN_SAVING:
        return CODEC_RAW, data
    return codec, packed


def decompress(codec: int, stored: bytes, raw_len: int) -> bytes:
    """The raw bytes of a stored chunk."""
    if codec == CODEC_RAW:
        return stored
    if codec in (CODEC_ZSTD, CODEC_SHUFFLE4_ZSTD):
        d = _decompressor()
        import zstandard  # loaded by _decompressor: a dictionary lookup

        try:
            raw = d.decompress(stored, max_output_size=raw_len)
        except zstandard.ZstdError as e:
            raise CorruptObject(f"damaged compressed chunk: {e}") from None
        return unshuffle4(raw) if codec == CODEC_SHUFFLE4_ZSTD else raw
    raise CorruptObject(f"unknown codec {codec}; upgrade git-mlv")
