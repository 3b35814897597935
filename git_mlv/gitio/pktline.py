"""pkt-line framing, as git's protocol-common.txt defines it (shared/notes/git-filter-protocol.md).

4 hex digits give the packet length including themselves; ``0000`` is a flush. Payloads are at most
65516 bytes. We never send the empty packet ``0004``.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from ..errors import MlvError

MAX_PAYLOAD = 65516
FLUSH = b"0000"
_SEND_AT = 1 << 20  # bytes gathered per writev (one syscall; the kernel feeds git's pipe as git reads)
_IOV_MAX = 1024  # pieces per writev (Linux's IOV_MAX)


class ProtocolError(MlvError):
    """The other side broke pkt-line framing."""


class PktReader:
    """Reads packets from a binary stream."""

    def __init__(self, stream: BinaryIO) -> None:
        self._f = stream

    def read_length(self) -> int | None:
        """The payload length of the next packet, whose payload is left to read; None for a
        flush packet; EOFError at a clean end of stream."""
        head = self._f.read(4)
        if not head:
            raise EOFError
        if len(head) < 4:
            raise ProtocolError("truncated pkt-line header")
        try:
            n = int(head, 16)
        except ValueError:
            raise ProtocolError(f"bad pkt-line header {head!r}") from None
        if n == 0:
            return None
        if n < 4 or n > MAX_PAYLOAD + 4:
            raise ProtocolError(f"bad pkt-line length {n}")
        return n - 4

    def read_exact(self, n: int) -> bytes:
        """The next ``n`` payload bytes."""
        data = self._f.read(n)
        while len(data) < n:  # a raw stream may return less than asked before its end
            more = self._f.read(n - len(data))
            if not more:
                raise ProtocolError("truncated pkt-line")
            data += more
        return data

    def read_into(self, view: memoryview) -> None:
        """Fill ``view`` with the next payload bytes (no intermediate bytes object)."""
        got = 0
        while got < len(view):
            # typing's BinaryIO lacks readinto; every stream we are given has it (the filter's
            # BufferedReader over git's pipe, tests' BytesIO)
            k = self._f.readinto(view[got:])  # type: ignore[attr-defined]
            if not k:
                raise ProtocolError("truncated pkt-line")
            got += k

    def read_packet(self) -> bytes | None:
        """The next payload; None for a flush packet; EOFError at a clean end of stream."""
        n = self.read_length()
        return None if n is None else self.read_exact(n)

    def read_text_list(self) -> list[str]:
        """Text packets up to the next flush, trailing LF removed."""
        lines: list[str] = []
        while True:
            pkt = self.read_packet()
            if pkt is None:
                return lines
            lines.append(pkt.decode("utf-8", errors="surrogateescape").removesuffix("\n"))

    def read_kv(self) -> dict[str, str]:
        """``key=value`` text packets up to the next flush (values may contain ``=``)."""
        out: dict[str, str] = {}
        for line in self.read_text_list():
            k, _, v = line.partition("=")
            out[k] = v
        return out

    def content(self) -> ContentStream:
        """A file-like view of the binary packets up to the next flush."""
        return ContentStream(self)


class ContentStream:
    """Reads packet payloads as one byte stream, ending at the flush packet.

    ``readinto`` is what the chunker uses: payload bytes go from the reader's buffer straight
    into the caller's, without a bytes object per packet (bench/RESULTS.md, write4).
    ``drain`` consumes whatever the reader left unread.
    """

    def __init__(self, reader: PktReader) -> None:
        self._r = reader
        self._left = 0  # payload bytes of the current packet not read yet
        self.done = False

    def _more(self) -> bool:
        """True when payload bytes are waiting (reads the next packet's header if needed)."""
        while not self._left:
            if self.done:
                return False
            n = self._r.read_length()
            if n is None:
                self.done = True
                return False
            self._left = n
        return True

    def readinto(self, b: memoryview | bytearray) -> int:
        """Fill ``b`` as far as the stream allows; 0 at the end."""
        view = memoryview(b).cast("B")
        n = 0
        while n < len(view) and self._more():
            k = min(len(view) - n, self._left)
            self._r.read_into(view[n : n + k])
            self._left -= k
            n += k
        return n

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes (all when negative)."""
        parts = []
        want = size if size >= 0 else float("inf")
        got = 0
        while got < want and self._more():
            k = int(min(want - got, self._left))
            parts.append(self._r.read_exact(k))
            self._left -= k
            got += k
        return b"".join(parts)

    def drain(self) -> None:
        """Skip to the flush that ends this content."""
        while self._more():
            k = min(self._left, 1 << 20)
            self._r.read_exact(k)
            self._left -= k


class PktWriter:
    """Writes packets to a binary stream (buffered; call ``flush_pkt`` at message ends).

    On a real file descriptor (git's pipe) packets are gathered as a list of header and payload
    pieces, the payloads as views of the caller's bytes, and handed to the kernel with one
    ``os.writev`` per ~1 MiB: no payload byte is copied in Python on its way to the pipe (a
    buffered writer copied each into its buffer first). Payloads must not change until sent.
    Streams without a descriptor (tests' BytesIO) are written to as they are.
    """

    def __init__(self, stream: BinaryIO) -> None:
        self._f = stream
        self._fd: int | None
        try:
            self._fd = stream.fileno()
        except (AttributeError, OSError):  # io.UnsupportedOperation is an OSError
            self._fd = None
        else:
            stream.flush()  # what was buffered before us goes first
        self._parts: list[bytes | memoryview] = []
        self._size = 0

    def _put(self, part: bytes | memoryview) -> None:
        if self._fd is None:
            self._f.write(part)
            return
        self._parts.append(part)
        self._size += len(part)
        if self._size >= _SEND_AT or len(self._parts) >= _IOV_MAX:
            self._send()

    def _send(self) -> None:
        parts, self._parts, self._size = self._parts, [], 0
        assert self._fd is not None
        while parts:
            n = os.writev(self._fd, parts)  # a pipe may take less than all (a signal, a full pipe)
            i = 0
            while i < len(parts) and n >= len(parts[i]):
                n -= len(parts[i])
                i += 1
            parts = parts[i:]
            if parts and n:
                parts[0] = memoryview(parts[0])[n:]

    def packet(self, data: bytes | memoryview) -> None:
        """One data packet (must be non-empty and at most MAX_PAYLOAD)."""
        self._put(b"%04x" % (len(data) + 4))
        self._put(data)

    def text(self, line: str) -> None:
        """One text packet, LF-terminated."""
        self.packet(line.encode("utf-8", errors="surrogateescape") + b"\n")

    def flush_pkt(self, push: bool = True) -> None:
        """A flush packet, and (``push``) everything buffered handed to git.

        Inside one response, ``push=False``: each push wakes git, and on two cores every wake-up is
        a context switch (measured: a 50k-file clone spent ~40 % of the filter's time in them).
        """
        self._put(FLUSH)
        if push:
            if self._fd is None:
                self._f.flush()
            elif self._parts:
                self._send()

    def content(self, data: bytes | memoryview) -> None:
        """``data`` split into as many packets as needed (nothing for empty data)."""
        view = memoryview(data)
        for i in range(0, len(view), MAX_PAYLOAD):
            self.packet(view[i : i + MAX_PAYLOAD])
