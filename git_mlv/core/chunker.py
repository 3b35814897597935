"""Content-defined chunking (FastCDC 2020 via pyfastcdc): an edit moves only the chunks around it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from pyfastcdc.cy import FastCDC

from .settings import Settings


class Chunker:
    """Cuts a byte stream into chunks whose boundaries depend only on nearby content."""

    def __init__(self, settings: Settings) -> None:
        self._cdc = FastCDC(
            settings.chunk_avg, min_size=settings.chunk_min, max_size=settings.chunk_max
        )

    def cut_stream(self, stream: BinaryIO) -> Iterator[bytes]:
        """Yield the chunks of ``stream`` as bytes (copied: pyfastcdc reuses its buffer)."""
        for chunk in self._cdc.cut_stream(stream):
            yield bytes(chunk.data)
