"""TFRecord files (``.tfrecord``, ``.tfrecords``, ``.tfrec``): TensorFlow's record log, read without
TensorFlow.

A file is a sequence of records, each ``uint64 length | uint32 masked CRC-32C of the length |
data | uint32 masked CRC-32C of the data`` (little-endian). The walk reads only each record's
12-byte header (a seek past the data), and checks the length's CRC (a damaged length, or a file
that is no TFRecord, is a note, not a walk through garbage); the data's CRC is not checked (the
file's sha256 says whether the content changed).

Facts: ``records N``, ``record bytes min/max/total``, and when the first record is a
``tf.train.Example`` (a protobuf), ``feature NAME TYPE`` for each of its features in name order
(``bytes``, ``float``, ``int64``; 1,000 at most): what a dataset's records hold.
"""

from __future__ import annotations

import os
import struct

from . import Summary
from .fallback import NotThisFormat
from .fmt import text

MAX_FEATURES = 1000
MAX_EXAMPLE = 64 << 20  # a first record read whole to list its features, up to this size
_KINDS = {1: "bytes", 2: "float", 3: "int64"}  # tf.train.Feature's oneof kind


def _crc32c_table() -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE: list[int] = []


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of ``data``, in Python: only record headers (8 bytes) are checked."""
    if not _TABLE:
        _TABLE.extend(_crc32c_table())
    c = 0xFFFFFFFF
    for b in data:
        c = _TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC: rotated right by 15 bits, plus a constant."""
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def summarize(path: str) -> Summary:
    """Records, their sizes, and the first record's features (see the module's docstring)."""
    size = os.path.getsize(path)
    records = total = 0
    low = high = 0
    first = b""
    with open(path, "rb") as f:
        pos = 0
        while pos < size:
            head = f.read(12)
            if len(head) < 12:
                raise NotThisFormat(f"record {records}: its header is cut short")
            length, crc = struct.unpack("<QI", head)
            if masked_crc(head[:8]) != crc:
                raise NotThisFormat(f"record {records}: its length does not match its CRC "
                                    "(damaged, or not a TFRecord file)")
            if pos + 16 + length > size:
                raise NotThisFormat(f"record {records}: {length} bytes, past the end of the file")
            if records == 0 and length <= MAX_EXAMPLE:
                first = f.read(length)
                f.seek(4, os.SEEK_CUR)
            else:
                f.seek(length + 4, os.SEEK_CUR)
            low = length if records == 0 else min(low, length)
            high = max(high, length)
            total += length
            records += 1
            pos += 16 + length
    facts = [f"records {records}"]
    if records:
        facts += [f"record bytes min {low}", f"record bytes max {high}", f"record bytes total {total}"]
    return Summary("tfrecord", size, facts + _features(first))


def _features(record: bytes) -> list[str]:
    """``feature NAME KIND`` of a tf.train.Example (``Example.features`` = 1, ``Features.feature``
    = 1, a map entry of key = 1 and a ``Feature`` = 2 whose field number is its kind); nothing
    when the record is not one."""
    from .onnxfile import _Wire

    if not record:
        return []
    w = _Wire(memoryview(record))
    found: dict[str, str] = {}
    try:
        for num, wire, features in w.fields(0, len(record)):
            if num != 1 or wire != 2:
                return []
            for n, t, entry in w.fields(*features):
                if n != 1 or t != 2:
                    return []
                key, kind = None, "?"
                for k, tt, v in w.fields(*entry):
                    if k == 1 and tt == 2:
                        key = w.string(v)
                    elif k == 2 and tt == 2:
                        kind = next((_KINDS.get(x, "?") for x, _, _ in w.fields(*v)), "empty")
                if key is None:
                    return []
                found[key] = kind
    except NotThisFormat:
        return []
    names = sorted(found)
    out = [f"feature {_label(n)} {found[n]}" for n in names[:MAX_FEATURES]]
    if len(names) > MAX_FEATURES:
        out.append(f"features not shown {len(names) - MAX_FEATURES}")
    return out


def _label(name: str) -> str:
    from .stats import _label as label

    return label(text(name, 200)) if name else '""'
