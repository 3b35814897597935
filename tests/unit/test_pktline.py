"""pkt-line framing (gitio/pktline.py)."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from git_mlv.gitio.pktline import MAX_PAYLOAD, PktReader, PktWriter, ProtocolError


def test_known_bytes() -> None:
    buf = io.BytesIO()
    w = PktWriter(buf)
    w.text("git-filter-server")
    w.flush_pkt()
    assert buf.getvalue() == b"0016git-filter-server\n0000"


@given(st.binary(max_size=3 * MAX_PAYLOAD + 10))
def test_content_roundtrip(data: bytes) -> None:
    buf = io.BytesIO()
    w = PktWriter(buf)
    w.content(data)
    w.flush_pkt()
    raw = buf.getvalue()
    assert b"0004" not in raw[:4]  # never an empty packet
    r = PktReader(io.BytesIO(raw))
    stream = r.content()
    assert stream.read() == data
    assert stream.done


@given(st.binary(max_size=200_000), st.integers(min_value=1, max_value=70_000))
def test_readinto_in_any_piece_size(data: bytes, piece: int) -> None:
    buf = io.BytesIO()
    w = PktWriter(buf)
    w.content(data)
    w.flush_pkt()
    stream = PktReader(io.BytesIO(buf.getvalue())).content()
    got = bytearray()
    b = bytearray(piece)
    while n := stream.readinto(b):
        got += b[:n]
    assert bytes(got) == data


@pytest.mark.parametrize("raw", [b"00", b"zzzz", b"0003", b"ffff", b"0010abc"])
def test_bad_framing_is_an_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        PktReader(io.BytesIO(raw)).read_packet()


def test_kv_values_may_contain_equals() -> None:
    buf = io.BytesIO()
    w = PktWriter(buf)
    w.text("pathname=a=b.bin")
    w.flush_pkt()
    assert PktReader(io.BytesIO(buf.getvalue())).read_kv() == {"pathname": "a=b.bin"}


def _through_pipe(data: bytes, texts: int) -> bytes:
    """Write ``texts`` text packets, ``data`` and flushes through PktWriter's writev path into a
    real pipe, read on a thread as git would; the bytes that came out."""
    import os
    import threading

    rfd, wfd = os.pipe()
    got = bytearray()

    def drain() -> None:
        while piece := os.read(rfd, 1 << 16):
            got.extend(piece)

    reader = threading.Thread(target=drain)
    reader.start()
    with open(wfd, "wb", buffering=1 << 20) as f:
        w = PktWriter(f)
        for i in range(texts):
            w.text(f"status={i}")
        w.flush_pkt(push=False)
        w.content(data)
        w.flush_pkt(push=False)
        w.flush_pkt()
    reader.join()
    os.close(rfd)
    return bytes(got)


def test_writev_path_keeps_order_and_bytes() -> None:
    """A real pipe (a descriptor): headers and payload views go out by writev, in order, whole;
    the same bytes as the buffered path writes."""
    data = bytes(range(256)) * 9000  # 2.3 MB: several writev batches, a full pipe on the way
    raw = _through_pipe(data, texts=3)
    buf = io.BytesIO()
    w = PktWriter(buf)
    for i in range(3):
        w.text(f"status={i}")
    w.flush_pkt()
    w.content(data)
    w.flush_pkt()
    w.flush_pkt()
    assert raw == buf.getvalue()
    r = PktReader(io.BytesIO(raw))
    assert r.read_text_list() == ["status=0", "status=1", "status=2"]
    assert r.content().read() == data


def test_writev_partial_writes_are_resumed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A writev that takes only part of what it is given (a signal, a pipe near full) must be
    resumed mid-piece. A real pipe does this only under a signal at the right moment, so os.writev
    is replaced here by one that writes at most 1,000 bytes per call (through the real fd)."""
    import os

    from git_mlv.gitio import pktline

    real = os.writev

    def stingy(fd: int, parts: list[bytes | memoryview]) -> int:
        joined = b"".join(bytes(p) for p in parts)[:1000]
        return real(fd, [joined])

    monkeypatch.setattr(pktline.os, "writev", stingy)
    data = bytes(range(256)) * 700
    raw = _through_pipe(data, texts=2)
    r = PktReader(io.BytesIO(raw))
    assert r.read_text_list() == ["status=0", "status=1"]
    assert r.content().read() == data
