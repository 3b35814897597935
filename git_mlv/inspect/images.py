"""Images: format, dimensions and mode from the header alone, with no imaging library.

A few dozen bytes of each format's header say what a data scientist checks first (did the
resize happen, did RGBA become RGB); the sha256 says whether the pixels changed. Parsing them
here saves a Pillow dependency and its import time on every ``git diff``.
"""

from __future__ import annotations

import os
import struct

from . import Summary
from .detect import Kind
from .fallback import NotThisFormat, digest

_PNG_MODES = {0: "L", 2: "RGB", 3: "P", 4: "LA", 6: "RGBA"}
_JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
# SOF markers (baseline, progressive, lossless...); C4 (DHT), C8 (JPG) and CC (DAC) are not frames
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def dimensions(path: str, kind: Kind) -> tuple[int, int, str]:
    """(width, height, mode) of an image; NotThisFormat when the header does not parse."""
    with open(path, "rb") as f:
        head = f.read(64)
        try:
            if kind.name == "png":
                if head[12:16] != b"IHDR":
                    raise NotThisFormat("no IHDR chunk")
                w, h, bits, color = struct.unpack(">IIBB", head[16:26])
                mode = _PNG_MODES.get(color, f"color type {color}")
                return w, h, mode if bits == 8 else f"{mode} {bits}-bit"
            if kind.name == "gif":
                w, h = struct.unpack("<HH", head[6:10])
                return w, h, "P"
            if kind.name == "bmp":
                w, h = struct.unpack("<ii", head[18:26])
                (bits,) = struct.unpack("<H", head[28:30])
                return w, abs(h), {1: "1", 8: "P", 24: "RGB", 32: "RGBA"}.get(bits, f"{bits}-bit")
            if kind.name == "webp":
                return _webp(head)
            if kind.name == "jpeg":
                return _jpeg(f)
        except struct.error:
            raise NotThisFormat("header cut short") from None
    raise NotThisFormat(f"no reader for {kind.name}")


def _webp(head: bytes) -> tuple[int, int, str]:
    chunk = head[12:16]
    if chunk == b"VP8 ":
        w, h = struct.unpack("<HH", head[26:30])
        return w & 0x3FFF, h & 0x3FFF, "RGB"
    if chunk == b"VP8L":
        (bits,) = struct.unpack("<I", head[21:25])
        alpha = (bits >> 28) & 1
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "RGBA" if alpha else "RGB"
    if chunk == b"VP8X":
        flags = head[20]
        w = int.from_bytes(head[24:27], "little") + 1
        h = int.from_bytes(head[27:30], "little") + 1
        return w, h, "RGBA" if flags & 0x10 else "RGB"
    raise NotThisFormat(f"unknown WebP chunk {chunk!r}")


def _jpeg(f: object) -> tuple[int, int, str]:
    """Walk the markers to the first frame header (APPn segments such as EXIF come first)."""
    import io

    assert isinstance(f, io.BufferedReader)
    f.seek(2)
    for _ in range(1000):
        b = f.read(1)
        while b == b"\xff":  # fill bytes
            b = f.read(1)
        if not b:
            break
        marker = b[0]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            continue
        if marker == 0xD9:
            break
        seg = f.read(2)
        if len(seg) < 2:
            break
        (length,) = struct.unpack(">H", seg)
        if marker in _SOF:
            _, h, w, comps = struct.unpack(">BHHB", f.read(6))
            return w, h, _JPEG_MODES.get(comps, f"{comps} components")
        f.seek(length - 2, 1)
        b = f.read(1)
        if b != b"\xff":
            break
        f.seek(-1, 1)
    raise NotThisFormat("no frame header found")


def summarize(path: str, kind: Kind) -> Summary:
    """width, height, mode, and the sha256 of the file (a TIFF: its pages too, tiff.py)."""
    if kind.name == "tiff":
        from . import tiff

        return tiff.summarize(path)
    w, h, mode = dimensions(path, kind)
    oid, _ = digest(path)
    return Summary(kind.name, os.path.getsize(path),
                   [f"width {w}", f"height {h}", f"mode {mode}", f"sha256 {oid}"])
