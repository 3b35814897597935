"""TIFF page directories read by hand (inspect/tiff.py): BigTIFF in both byte orders, values stored
away from their entry, and damaged files (a chain that loops, a directory past the end, a count
that would allocate gigabytes) as notes, never errors."""

from __future__ import annotations

import struct
from pathlib import Path

from git_mlv.inspect import summarize


def _big_tiff(order: str, pages: int = 1) -> bytes:
    """A BigTIFF of ``pages`` 300x200 pages of 5 float32 samples, zstd; BitsPerSample and
    SampleFormat (5 shorts: more than an entry's 8 bytes) held after the directory."""
    tags = [(256, 3, [300]), (257, 4, [200]), (258, 3, [32] * 5), (259, 3, [50000]), (262, 3, [2]),
            (277, 3, [5]), (339, 3, [3] * 5)]
    out = bytearray((b"II" if order == "<" else b"MM") + struct.pack(order + "HHHQ", 43, 8, 0, 16))
    for p in range(pages):
        ifd = len(out)
        extra_at = ifd + 8 + 20 * len(tags) + 8
        extra = bytearray()
        entries = bytearray()
        for tag, typ, values in tags:
            code = "H" if typ == 3 else "I"
            raw = struct.pack(order + code * len(values), *values)
            if len(raw) <= 8:
                field = raw.ljust(8, b"\0")
            else:
                field = struct.pack(order + "Q", extra_at + len(extra))
                extra += raw
            entries += struct.pack(order + "HHQ", tag, typ, len(values)) + field
        nxt = extra_at + len(extra) if p < pages - 1 else 0
        out += struct.pack(order + "Q", len(tags)) + entries + struct.pack(order + "Q", nxt) + extra
    return bytes(out)


def test_big_tiff_in_both_byte_orders(tmp_path: Path) -> None:
    for order in "<>":
        f = tmp_path / f"b{order == '<'}.tif"
        f.write_bytes(_big_tiff(order, pages=2))
        lines = summarize(str(f)).lines()
        assert lines[:8] == ["format tiff", f"size {f.stat().st_size} ({f.stat().st_size} B)", "pages 2",
                             "width 300", "height 200", "mode photometric 2 samples 5", "dtype float32",
                             "compression zstd"], lines
        assert lines[8].startswith("sha256 ")


def test_damaged_tiffs_are_notes(tmp_path: Path) -> None:
    f = tmp_path / "d.tif"
    one = struct.pack("<HHII", 256, 3, 1, 5) + struct.pack("<HHII", 257, 3, 1, 5)
    cases = {
        b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 2) + one + struct.pack("<I", 8): "loops",
        b"II*\x00\x08\x00\x00\x00\x05": "past the end",
        b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 0xFFFF) + b"\0" * 20: "past the end",
        b"II+\x00\x08\x00\x00\x00" + struct.pack("<Q", 16) + struct.pack("<Q", 1 << 60): "past the end",
        b"II*\x00\x08\x00\x00\x00" + struct.pack("<H", 1) + struct.pack("<HHII", 256, 3, 1, 5)
        + b"\0" * 4: "without width or height",
        b"II\x2a\x00": "no TIFF header",
    }
    for data, why in cases.items():
        f.write_bytes(data)
        lines = summarize(str(f)).lines()
        assert lines[0] == "format binary" and lines[-1].startswith("note not a readable tiff file: "), lines
        assert why in lines[-1], (why, lines)
