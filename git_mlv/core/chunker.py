"""Content-defined chunking (FastCDC 2020 via pyfastcdc): an edit moves only the chunks around it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from pyfastcdc.cy import FastCDC

from .settings import Settings

# A stream is read in blocks of up to this many bytes; the chunks handed out are views of them.
# A file's blocks grow from 64 KiB eightfold, so that the thousands of small files of a commit do
# not each allocate and zero 4 MiB (bytearray(4 MiB) measured 169 us here, 64 KiB 1.3 us).
_BLOCK = 4 << 20
_FIRST = 64 << 10


class Readable(Protocol):
    """A binary stream that fills a buffer (a file, git's pkt-line content stream)."""

    def readinto(self, b: memoryview | bytearray, /) -> int | None: ...


class Chunker:
    """Cuts a byte stream into chunks whose boundaries depend only on nearby content."""

    def __init__(self, settings: Settings) -> None:
        self._cdc = FastCDC(
            settings.chunk_avg, min_size=settings.chunk_min, max_size=settings.chunk_max
        )
        self._max = settings.chunk_max

    def cut_stream(self, stream: Readable) -> Iterator[memoryview]:
        """Yield the chunks of ``stream`` as views of the blocks it was read into.

        Each view keeps its block alive and no block is written after it is cut, so a chunk may be
        handed to other threads without copying it (pyfastcdc's own ``cut_stream`` reuses one
        buffer; with each chunk copied out of it, it cut the workload's CSV at 603 MB/s against
        1,451 MB/s without the copy, bench/RESULTS.md, write4). The cuts are pyfastcdc's stream
        cuts exactly: a cut is taken only with at least ``chunk_max`` bytes after it in the block,
        or at the end of the stream, which is when its stream chunker cuts too
        (tests/unit/test_chunker.py).
        """
        carry = memoryview(b"")
        size = _FIRST
        while True:
            block = bytearray(max(size, len(carry) + self._max))
            block[: len(carry)] = carry
            filled = len(carry)
            eof = False
            view = memoryview(block)
            while filled < len(block):
                n = stream.readinto(view[filled:])
                if not n:
                    eof = True
                    break
                filled += n
            size = min(_BLOCK, size * 8)
            data = view[:filled]
            start = 0
            for chunk in self._cdc.cut_buf(data):
                if not eof and filled - chunk.offset < self._max:
                    break  # the rest may be cut differently once more bytes follow
                yield chunk.data
                start = chunk.offset + chunk.length
            if eof:
                return
            carry = data[start:]

    def cut_bytes(self, data: bytes) -> Iterator[memoryview]:
        """The chunks of an in-memory file, as views of ``data`` (the same cuts as ``cut_stream``
        makes of it; no block is allocated and nothing is copied)."""
        for chunk in self._cdc.cut_buf(data):
            yield chunk.data
