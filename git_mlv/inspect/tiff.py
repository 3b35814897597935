"""TIFF (and BigTIFF) images: pages, dimensions, mode, sample type and compression from the image
file directories (IFDs) alone, with no imaging library (as images.py for PNG/JPEG).

A microscopy stack or a satellite tile is a TIFF of many pages, often of 16-bit or float samples:
what a data scientist checks is how many pages, their size, their sample type and compression. Each
IFD is a few hundred bytes, read with a seek: memory and time follow the number of pages, never the
pixels (the sha256 says whether those changed).
"""

from __future__ import annotations

import os
import struct
from typing import BinaryIO

from . import Summary
from .fallback import NotThisFormat, digest

MAX_PAGES = 100_000  # IFDs walked; a chain longer than this (or one that loops) is a note
MAX_LISTED = 20  # pages whose facts differ from the first page's, listed one a line

_WIDTH, _HEIGHT, _BITS, _COMPRESSION, _PHOTOMETRIC, _SAMPLES, _EXTRA, _FORMAT = (
    256, 257, 258, 259, 262, 277, 338, 339)
# type -> (struct code, size) of the values an IFD entry can hold
_TYPES = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 16: ("Q", 8), 6: ("b", 1), 8: ("h", 2), 9: ("i", 4),
          17: ("q", 8)}
_COMPRESSIONS = {1: "none", 2: "ccitt rle", 3: "ccitt g3", 4: "ccitt g4", 5: "lzw", 6: "old jpeg",
                 7: "jpeg", 8: "deflate", 32773: "packbits", 32946: "deflate", 34712: "jpeg 2000",
                 34887: "lerc", 34925: "lzma", 50000: "zstd", 50001: "webp", 50002: "jpeg xl"}
_SAMPLE_TYPES = {1: "uint", 2: "int", 3: "float", 4: "void", 5: "complex int", 6: "complex float"}


def summarize(path: str) -> Summary:
    """pages, then the first page's width, height, mode, dtype and compression, then each later
    page whose facts differ (up to MAX_LISTED), then the file's sha256."""
    with open(path, "rb") as f:
        try:
            pages = _pages(f, os.path.getsize(path))
        except struct.error:
            raise NotThisFormat("a page directory cut short") from None
    first = pages[0]
    facts = [f"pages {len(pages)}", f"width {first[0]}", f"height {first[1]}", f"mode {first[2]}",
             f"dtype {first[3]}", f"compression {first[4]}"]
    other = [(i, p) for i, p in enumerate(pages) if p != first]
    for i, (w, h, mode, dtype, comp) in other[:MAX_LISTED]:
        facts.append(f"page {i} width {w} height {h} mode {mode} dtype {dtype} compression {comp}")
    if len(other) > MAX_LISTED:
        facts.append(f"pages differing from the first {len(other)}")
    oid, _ = digest(path)
    facts.append(f"sha256 {oid}")
    return Summary("tiff", os.path.getsize(path), facts)


def _pages(f: BinaryIO, size: int) -> list[tuple[int, int, str, str, str]]:
    """(width, height, mode, dtype, compression) of each IFD, in the order of the chain."""
    head = f.read(16)
    order = {b"II": "<", b"MM": ">"}.get(head[:2])
    if order is None or len(head) < 8:
        raise NotThisFormat("no TIFF header")
    (version,) = struct.unpack(order + "H", head[2:4])
    if version == 42:
        big = False
        (offset,) = struct.unpack(order + "I", head[4:8])
    elif version == 43 and len(head) == 16:
        big = True
        (offset,) = struct.unpack(order + "Q", head[8:16])
    else:
        raise NotThisFormat(f"unknown TIFF version {version}")
    pages: list[tuple[int, int, str, str, str]] = []
    seen = set()
    while offset:
        if offset in seen or len(pages) >= MAX_PAGES:
            raise NotThisFormat(f"its chain of pages loops or is longer than {MAX_PAGES}")
        seen.add(offset)
        tags, offset = _ifd(f, order, big, offset, size)
        pages.append(_facts(tags))
    if not pages:
        raise NotThisFormat("no page")
    return pages


def _ifd(f: BinaryIO, order: str, big: bool, offset: int, size: int
         ) -> tuple[dict[int, tuple[int, ...]], int]:
    """The tags this page's facts need (tag -> values) and the next IFD's offset (0: none)."""
    count_fmt, entry_size, value_size, next_fmt = ("Q", 20, 8, "Q") if big else ("H", 12, 4, "I")
    if offset + struct.calcsize(count_fmt) > size:
        raise NotThisFormat(f"a page directory at {offset}, past the end")
    f.seek(offset)
    (n,) = struct.unpack(order + count_fmt, f.read(struct.calcsize(count_fmt)))
    if offset + n * entry_size > size:  # a damaged count: never read (or allocate) past the file
        raise NotThisFormat(f"a page directory of {n} entries, past the end")
    block = f.read(n * entry_size + struct.calcsize(next_fmt))
    if len(block) < n * entry_size + struct.calcsize(next_fmt):
        raise NotThisFormat("a page directory cut short")
    tags: dict[int, tuple[int, ...]] = {}
    for i in range(n):
        e = block[i * entry_size:(i + 1) * entry_size]
        tag, typ = struct.unpack(order + "HH", e[:4])
        if tag not in (_WIDTH, _HEIGHT, _BITS, _COMPRESSION, _PHOTOMETRIC, _SAMPLES, _EXTRA, _FORMAT):
            continue
        if typ not in _TYPES:
            raise NotThisFormat(f"tag {tag} of type {typ}")
        code, width = _TYPES[typ]
        (count,) = struct.unpack(order + "Q", e[4:12]) if big else struct.unpack(order + "I", e[4:8])
        count = min(count, 16)  # one value per sample is all a page's facts need
        raw = e[12:20] if big else e[8:12]
        if count * width > value_size:  # the values are elsewhere: raw holds their offset
            (where,) = struct.unpack(order + ("Q" if big else "I"), raw)
            f.seek(where)
            raw = f.read(count * width)
            if len(raw) < count * width:
                raise NotThisFormat(f"tag {tag}'s values past the end")
        tags[tag] = struct.unpack(order + code * count, raw[:count * width])
    (nxt,) = struct.unpack(order + next_fmt, block[n * entry_size:])
    return tags, nxt


def _facts(tags: dict[int, tuple[int, ...]]) -> tuple[int, int, str, str, str]:
    """(width, height, mode, dtype, compression) of a page from its tags (TIFF's defaults where a
    tag is absent: 1 sample of 1 bit, unsigned, uncompressed, 0 is black)."""
    if _WIDTH not in tags or _HEIGHT not in tags:
        raise NotThisFormat("a page without width or height")
    samples = tags.get(_SAMPLES, (1,))[0]
    bits = tags.get(_BITS, (1,))
    kinds = tags.get(_FORMAT, (1,))
    names = [_SAMPLE_TYPES.get(kinds[min(i, len(kinds) - 1)], f"sample format {kinds[0]} ") + str(b)
             for i, b in enumerate(bits)]
    dtype = names[0] if len(set(names)) == 1 else ",".join(names)
    (comp,) = tags.get(_COMPRESSION, (1,))[:1]
    return tags[_WIDTH][0], tags[_HEIGHT][0], _mode(tags, samples, bits[0]), dtype, \
        _COMPRESSIONS.get(comp, str(comp))


def _mode(tags: dict[int, tuple[int, ...]], samples: int, bits: int) -> str:
    """PIL's names, as images.py writes them (L, LA, RGB, RGBA, P, CMYK, 1), the bit depth after
    them when it is not 8; anything else: its photometric interpretation and samples."""
    photometric = tags.get(_PHOTOMETRIC, (1,))[0]
    extra = len(tags.get(_EXTRA, ()))
    base = {(0, 1): "L", (1, 1): "L", (0, 2): "LA", (1, 2): "LA", (2, 3): "RGB", (2, 4): "RGBA",
            (3, 1): "P", (5, 4): "CMYK", (6, 3): "YCbCr", (8, 3): "LAB"}.get((photometric, samples))
    if base is None:
        return f"photometric {photometric} samples {samples}" + (f" extra {extra}" if extra else "")
    if base in ("L", "P") and bits == 1:
        return "1"
    return base if bits == 8 else f"{base} {bits}-bit"
