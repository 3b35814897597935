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
