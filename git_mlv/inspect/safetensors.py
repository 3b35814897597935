"""safetensors weights, read with no framework: the format is an 8-byte little-endian header
length, a JSON header ``{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}``
and the tensors' bytes back to back (https://github.com/huggingface/safetensors, "Format").

Per tensor: dtype, shape, statistics streamed through a memory map, and a slice of its sha256,
so a fine-tune that touched the last layers shows exactly those tensors in ``git diff``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import struct
from collections.abc import Iterator
from typing import Any

from . import Summary
from .arrays import BLOCK_ELEMENTS, ArrayStats, shape_text
from .fallback import NotThisFormat
from .fmt import text
from .stats import _label

MAX_HEADER = 100 << 20  # the reference implementation refuses larger headers too
# safetensors dtype -> numpy dtype string (little-endian); BF16 and F8 are widened on the fly
_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2",
           "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1", "BOOL": "?", "BF16": "<u2"}
# bytes per element of the dtypes the format lists, read or not (a tensor's size is checked)
_ITEMSIZE = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U64": 8,
             "U32": 4, "U16": 2, "U8": 1, "BOOL": 1, "F8_E4M3": 1, "F8_E5M2": 1}


def read_header(path: str) -> tuple[dict[str, Any], int]:
    """(the parsed JSON header, the offset where tensor data starts)."""
    with open(path, "rb") as f:
        raw = f.read(8)
        if len(raw) < 8:
            raise NotThisFormat("shorter than a safetensors header")
        (n,) = struct.unpack("<Q", raw)
        if n > MAX_HEADER:
            raise NotThisFormat(f"header of {n} bytes is too large")
        blob = f.read(n)
    try:
        header = json.loads(blob)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise NotThisFormat(f"header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise NotThisFormat("header is not a JSON object")
    return header, 8 + n


def _blocks(path: str, start: int, end: int, dtype: str) -> Iterator[Any]:
    import numpy as np

    np_type = np.dtype(_DTYPES[dtype])
    count = (end - start) // np_type.itemsize
    if count == 0:
        return
    mm = np.memmap(path, dtype=np_type, mode="r", offset=start, shape=(count,))
    for i in range(0, count, BLOCK_ELEMENTS):
        block = mm[i:i + BLOCK_ELEMENTS]
        if dtype == "BF16":  # bfloat16 is the top half of a float32
            block = (block.astype(np.uint32) << 16).view(np.float32)
        yield block


def summarize(path: str) -> Summary:
    """Tensors, parameters and metadata, then per-tensor statistics and digests."""
    size = os.path.getsize(path)
    header, base = read_header(path)
    meta = header.pop("__metadata__", None) or {}
    tensors: list[tuple[str, str, list[int], int, int]] = []
    for name, t in header.items():
        try:
            dtype, shape = str(t["dtype"]), [int(d) for d in t["shape"]]
            begin, end = (int(x) for x in t["data_offsets"])
        except (KeyError, TypeError, ValueError):
            raise NotThisFormat(f"tensor {name!r} has no dtype/shape/data_offsets") from None
        if not 0 <= begin <= end or base + end > size:
            raise NotThisFormat(f"tensor {name!r} lies outside the file")
        if any(d < 0 for d in shape):
            raise NotThisFormat(f"tensor {name!r} has a negative dimension {shape}")
        want = _ITEMSIZE.get(dtype)
        if want is not None and want * math.prod(shape) != end - begin:
            # what the reference implementation refuses too: the statistics would read other bytes
            raise NotThisFormat(f"tensor {name!r} holds {end - begin} bytes, its shape and dtype "
                                f"{dtype} {shape} say {want * math.prod(shape)}")
        tensors.append((name, dtype, shape, base + begin, base + end))
    tensors.sort(key=lambda t: t[0])
    params = sum(math.prod(shape) for _, _, shape, _, _ in tensors)
    facts = [f"tensors {len(tensors)}", f"parameters {params}"]
    facts += [f"metadata {_label(str(k))} {text(str(v))}" for k, v in sorted(meta.items())]
    facts += [f"tensor {_label(name)} {text(dtype)} {shape_text(shape)}"
              for name, dtype, shape, _, _ in tensors]
    with open(path, "rb") as f:
        for name, dtype, _, start, end in tensors:
            if dtype in _DTYPES:
                st = ArrayStats()
                for block in _blocks(path, start, end, dtype):
                    st.update(block)
                facts += st.facts(f"{_label(name)} ")
            facts.append(f"{_label(name)} sha256 {_digest(f, start, end)[:16]}")
    return Summary("safetensors", size, facts)


def _digest(f: Any, start: int, end: int) -> str:
    h = hashlib.sha256()
    f.seek(start)
    left = end - start
    while left > 0:
        data = f.read(min(1 << 20, left))
        if not data:
            break
        h.update(data)
        left -= len(data)
    return h.hexdigest()
