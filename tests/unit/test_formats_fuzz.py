"""Parsers of binary formats fail only with CorruptObject, whatever the bytes (hypothesis)."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from git_mlv.core import index as idx
from git_mlv.core.manifest import Manifest
from git_mlv.core.pack import ENTRY_SIZE, KIND_CHUNK, decode_entry_header, encode_entry, scan
from git_mlv.errors import CorruptObject


@given(st.binary(min_size=32, max_size=32), st.integers(0, 2), st.binary(max_size=300))
def test_entry_header_roundtrip(oid: bytes, codec: int, stored: bytes) -> None:
    raw = encode_entry(oid, KIND_CHUNK, codec, 12345, stored)
    e = decode_entry_header(raw[:ENTRY_SIZE], 16)
    assert (e.id, e.kind, e.codec, e.raw_len, e.stored_len) == (oid, KIND_CHUNK, codec, 12345, len(stored))
    assert raw[ENTRY_SIZE:] == stored


@given(st.binary(min_size=ENTRY_SIZE, max_size=ENTRY_SIZE))
def test_entry_header_garbage(raw: bytes) -> None:
    try:
        decode_entry_header(raw, 0)
    except CorruptObject:
        pass


@given(st.lists(st.tuples(st.binary(min_size=32, max_size=32), st.integers(1, 2**31)), max_size=40))
def test_manifest_roundtrip(chunks: list[tuple[bytes, int]]) -> None:
    m = Manifest(sum(n for _, n in chunks), tuple(chunks))
    assert Manifest.decode(m.encode()) == m


@given(st.binary(max_size=400), st.integers(0, 399), st.integers(0, 255))
def test_manifest_damage_is_detected(pad: bytes, pos: int, flip: int) -> None:
    data = bytearray(Manifest(10, ((b"a" * 32, 10),)).encode())
    if flip and pos < len(data):
        data[pos] ^= flip
        try:
            Manifest.decode(bytes(data))
            raise AssertionError("damage not detected")
        except CorruptObject:
            pass
    try:
        Manifest.decode(pad)
    except CorruptObject:
        pass


@settings(max_examples=50)
@given(st.binary(max_size=2000))
def test_scan_of_garbage_pack(data: bytes) -> None:
    d = Path(os.environ.get("TMPDIR", "/tmp"))
    path = d / f"fuzz-{os.getpid()}.pack"
    path.write_bytes(b"MLVPACK\0\x01\0\0\0\0\0\0\0" + data)
    try:
        entries, end, _ = scan(str(path))
        assert all(e.end <= end for e in entries)
    except CorruptObject:
        pass
    finally:
        path.unlink()


@settings(max_examples=50)
@given(st.binary(max_size=300))
def test_index_of_garbage(data: bytes) -> None:
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"fuzz-{os.getpid()}.idx"
    path.write_bytes(data)
    try:
        idx.IndexFile(str(path)).verify()
    except CorruptObject:
        pass
    finally:
        path.unlink()
