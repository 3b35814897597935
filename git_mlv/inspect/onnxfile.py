"""ONNX models (``.onnx``): what ``git diff`` shows of an exported network, read from the
protobuf's wire format directly (no ``onnx`` package: it is not a dependency), memory-mapped.

Facts: ``ir version``, ``producer``, ``opset DOMAIN VERSION`` (``ai.onnx`` for the default
domain), ``graph NAME``, ``metadata KEY VALUE``, ``input``/``output NAME TYPE [DIMS]`` (a symbolic
dimension by its name, an unknown one ``?``), ``nodes N`` and ``op TYPE COUNT`` (sorted by type),
``initializers N``, ``parameters N`` (their elements), ``tensor NAME TYPE [DIMS]`` (1,000 at
most), then per tensor ``NAME min/max/mean/std/nan`` and ``NAME sha256`` (16 hex digits of its
stored bytes); a tensor stored outside the file (``save_as_external_data``) is ``NAME external
LOCATION``: that file is another file to git. A message the wire format cannot hold (a length past
the end, an unknown wire type) makes the file unreadable (a note).
"""

from __future__ import annotations

import hashlib
import math
import mmap
import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

from . import Summary
from .arrays import array_facts, row_blocks
from .fallback import NotThisFormat
from .fmt import text

MAX_TENSORS = 1000
MAX_VARINTS = 1 << 20  # int32/int64 data not in raw_data is decoded in Python: a stat up to this many
_DEPTH = 8  # messages read nested at most (a type in a type in a type...)

# TensorProto.DataType: (name written, numpy dtype of its little-endian raw bytes or None)
_TYPES: dict[int, tuple[str, str | None]] = {
    1: ("float", "<f4"), 2: ("uint8", "u1"), 3: ("int8", "i1"), 4: ("uint16", "<u2"), 5: ("int16", "<i2"),
    6: ("int32", "<i4"), 7: ("int64", "<i8"), 8: ("string", None), 9: ("bool", "?"), 10: ("float16", "<f2"),
    11: ("double", "<f8"), 12: ("uint32", "<u4"), 13: ("uint64", "<u8"), 14: ("complex64", None),
    15: ("complex128", None), 16: ("bfloat16", None), 17: ("float8e4m3fn", None),
    18: ("float8e4m3fnuz", None), 19: ("float8e5m2", None), 20: ("float8e5m2fnuz", None),
    21: ("uint4", None), 22: ("int4", None), 23: ("float4e2m1", None),
}


class _Wire:
    """Fields of protobuf messages in ``buf`` (a memoryview): (number, wire type, value), where a
    varint or fixed value is an int and a length-delimited one the (start, end) of its bytes."""

    def __init__(self, buf: memoryview) -> None:
        self.buf = buf

    def varint(self, pos: int, end: int) -> tuple[int, int]:
        out = shift = 0
        while True:
            if pos >= end or shift > 63:
                raise NotThisFormat("a varint runs past its message")
            b = self.buf[pos]
            pos += 1
            out |= (b & 0x7F) << shift
            if b < 0x80:
                return out, pos
            shift += 7

    def fields(self, start: int, end: int) -> Iterator[tuple[int, int, Any]]:
        pos = start
        while pos < end:
            key, pos = self.varint(pos, end)
            num, wire = key >> 3, key & 7
            if wire == 0:
                value, pos = self.varint(pos, end)
                yield num, wire, value
            elif wire == 2:
                n, pos = self.varint(pos, end)
                if pos + n > end:
                    raise NotThisFormat(f"field {num}: {n} bytes, past the end of its message")
                yield num, wire, (pos, pos + n)
                pos += n
            elif wire in (1, 5):
                size = 8 if wire == 1 else 4
                if pos + size > end:
                    raise NotThisFormat(f"field {num} runs past the end of its message")
                yield num, wire, int.from_bytes(self.buf[pos:pos + size], "little")
                pos += size
            else:
                raise NotThisFormat(f"field {num}: wire type {wire}, which protobuf does not have")

    def string(self, span: tuple[int, int]) -> str:
        return bytes(self.buf[span[0]:span[1]]).decode("utf-8", "backslashreplace")

    def varints(self, span: tuple[int, int]) -> list[int]:
        out, pos = [], span[0]
        while pos < span[1]:
            v, pos = self.varint(pos, span[1])
            out.append(v)
        return out


def _signed(v: int) -> int:
    """A varint as the int64 it encodes (negative numbers take ten bytes)."""
    return v - (1 << 64) if v >= 1 << 63 else v


def summarize(path: str) -> Summary:
    """The model's header, graph and tensors (see the module's docstring)."""
    size = os.path.getsize(path)
    if size == 0:
        raise NotThisFormat("empty")
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        view = memoryview(mm)
        try:
            facts = _model(_Wire(view), size, path)
        finally:
            view.release()
    return Summary("onnx", size, facts)


def _model(w: _Wire, size: int, path: str) -> list[str]:
    head: list[str] = []
    opsets: list[str] = []
    meta: list[str] = []
    producer = version = ""
    graph: tuple[int, int] | None = None
    for num, wire, v in w.fields(0, size):
        if num == 1 and wire == 0:
            head.append(f"ir version {v}")
        elif num == 2 and wire == 2:
            producer = w.string(v)
        elif num == 3 and wire == 2:
            version = w.string(v)
        elif num == 5 and wire == 0:
            head.append(f"model version {_signed(v)}")
        elif num == 7 and wire == 2:
            graph = v
        elif num == 8 and wire == 2:
            fields = {n: x for n, _, x in w.fields(*v)}
            domain = w.string(fields[1]) if isinstance(fields.get(1), tuple) else ""
            opsets.append(f"opset {text(domain or 'ai.onnx', 200)} {_signed(fields.get(2, 0))}")
        elif num == 14 and wire == 2:
            fields = {n: x for n, _, x in w.fields(*v)}
            key = w.string(fields[1]) if isinstance(fields.get(1), tuple) else ""
            value = w.string(fields[2]) if isinstance(fields.get(2), tuple) else ""
            meta.append(f"metadata {text(key, 200)} {text(value, 200)}")
    if graph is None:
        raise NotThisFormat("no graph")
    if producer or version:
        head.append(f"producer {text(producer, 200)}" + (f" {text(version, 200)}" if version else ""))
    return head + sorted(opsets) + _graph(w, graph, path, meta)


def _graph(w: _Wire, span: tuple[int, int], path: str, meta: list[str]) -> list[str]:
    name = ""
    ops: Counter[str] = Counter()
    nodes = 0
    inputs: list[str] = []
    outputs: list[str] = []
    tensors: list[tuple[int, int]] = []
    for num, wire, v in w.fields(*span):
        if wire != 2:
            continue
        if num == 1:
            nodes += 1
            op = next((w.string(x) for n, t, x in w.fields(*v) if n == 4 and t == 2), "")
            ops[op] += 1
        elif num == 2:
            name = w.string(v)
        elif num in (11, 12):
            (inputs if num == 11 else outputs).append(_value_info(w, v))
        elif num == 5:
            tensors.append(v)
    facts = [f"graph {text(name, 200)}"] + meta
    facts += [f"input {x}" for x in inputs] + [f"output {x}" for x in outputs]
    facts += [f"nodes {nodes}"] + [f"op {text(op, 200)} {n}" for op, n in sorted(ops.items())]
    listed: list[str] = []
    stats: list[str] = []
    parameters = 0
    for t in tensors:
        line, extra, count = _tensor(w, t, path)
        parameters += count
        if len(listed) < MAX_TENSORS:
            listed.append(line)
            stats += extra
    facts += [f"initializers {len(tensors)}", f"parameters {parameters}"] + listed
    if len(tensors) > MAX_TENSORS:
        facts.append(f"tensors not shown {len(tensors) - MAX_TENSORS}")
    return facts + stats


def _value_info(w: _Wire, span: tuple[int, int]) -> str:
    """``NAME TYPE [DIMS]`` of a graph's input or output."""
    name, kind = "", "?"
    for num, wire, v in w.fields(*span):
        if num == 1 and wire == 2:
            name = w.string(v)
        elif num == 2 and wire == 2:
            kind = _type(w, v, 0)
    return f"{_name(name)} {kind}"


def _type(w: _Wire, span: tuple[int, int], depth: int) -> str:
    """A TypeProto: ``float [batch, 3]``, ``sequence(...)``, ``map(int64, ...)``, ``optional(...)``."""
    if depth > _DEPTH:
        raise NotThisFormat("types nested too deeply")
    for num, wire, v in w.fields(*span):
        if wire != 2:
            continue
        if num in (1, 8):  # a tensor, a sparse tensor: elem_type, shape
            elem, dims = 0, None
            for n, t, x in w.fields(*v):
                if n == 1 and t == 0:
                    elem = x
                elif n == 2 and t == 2:
                    dims = [_dim(w, d) for k, tt, d in w.fields(*x) if k == 1 and tt == 2]
            kind = _TYPES.get(elem, (f"type{elem}", None))[0]
            out = kind if dims is None else f"{kind} [{', '.join(dims)}]"
            return out if num == 1 else f"sparse {out}"
        if num == 4:  # a sequence of elem_type
            inner = next((_type(w, x, depth + 1) for n, t, x in w.fields(*v) if n == 1 and t == 2), "?")
            return f"sequence({inner})"
        if num == 5:  # a map: key_type (a DataType), value_type
            key = value = "?"
            for n, t, x in w.fields(*v):
                if n == 1 and t == 0:
                    key = _TYPES.get(x, (f"type{x}", None))[0]
                elif n == 2 and t == 2:
                    value = _type(w, x, depth + 1)
            return f"map({key}, {value})"
        if num == 9:  # optional
            inner = next((_type(w, x, depth + 1) for n, t, x in w.fields(*v) if n == 1 and t == 2), "?")
            return f"optional({inner})"
    return "?"


def _dim(w: _Wire, span: tuple[int, int]) -> str:
    for num, wire, v in w.fields(*span):
        if num == 1 and wire == 0:
            return str(_signed(v))
        if num == 2 and wire == 2:
            return text(w.string(v), 60)
    return "?"


def _name(name: str) -> str:
    """A tensor's name as the first word of a fact: JSON-quoted when it has spaces or is empty."""
    from .stats import _label

    return _label(name)


def _tensor(w: _Wire, span: tuple[int, int], path: str) -> tuple[str, list[str], int]:
    """(``tensor NAME TYPE [DIMS]``, its statistics lines, its element count)."""
    import numpy as np

    dims: list[int] = []
    dtype = 0
    name = ""
    raw: tuple[int, int] | None = None
    typed: list[tuple[int, int, Any]] = []  # float_data, int32_data, int64_data, double_data...
    external: dict[str, str] = {}
    for num, wire, v in w.fields(*span):
        if num == 1:
            dims += [_signed(x) for x in w.varints(v)] if wire == 2 else [_signed(v)]
        elif num == 2 and wire == 0:
            dtype = v
        elif num == 8 and wire == 2:
            name = w.string(v)
        elif num == 9 and wire == 2:
            raw = v
        elif num in (4, 5, 7, 10, 11):
            typed.append((num, wire, v))
        elif num == 13 and wire == 2:
            kv = {n: w.string(x) for n, t, x in w.fields(*v) if t == 2}
            external[kv.get(1, "")] = kv.get(2, "")
    if any(d < 0 for d in dims):
        raise NotThisFormat(f"tensor {name}: a negative dimension {dims}")
    count = math.prod(dims)
    kind, np_type = _TYPES.get(dtype, (f"type{dtype}", None))
    label = _name(name)
    line = f"tensor {label} {kind} [{', '.join(map(str, dims))}]"
    if external:
        return line, [f"{label} external {text(external.get('location', '?'), 200)}"], count
    values: Any = None
    digest = hashlib.sha256()
    if raw is not None:
        digest.update(w.buf[raw[0]:raw[1]])
        if np_type is not None:
            dt = np.dtype(np_type)
            if raw[1] - raw[0] != count * dt.itemsize:
                raise NotThisFormat(f"tensor {name}: {raw[1] - raw[0]} bytes, its type and dims say "
                                    f"{count * dt.itemsize}")
            # a mapping of its own (file-backed pages, as arrays.py reads .npy): a view of the
            # wire's map would hold that map open
            values = np.memmap(path, dtype=dt, mode="r", offset=raw[0], shape=(count,)).reshape(dims) \
                if count else np.zeros(dims, dtype=dt)
    else:
        values = _typed_values(w, typed, np_type, count, digest)
        if values is not None:
            values = values.reshape(dims)
    stats = []
    if values is not None and values.dtype.kind in "biuf":
        stats = array_facts(f"{label} ", values.dtype, values.shape, row_blocks(values.reshape(-1)))
    return line, stats + [f"{label} sha256 {digest.hexdigest()[:16]}"], count


def _typed_values(w: _Wire, typed: list[tuple[int, int, Any]], np_type: str | None, count: int,
                  digest: Any) -> Any:
    """The values of a tensor stored in its typed fields (``float_data`` packed floats,
    ``int64_data`` varints...), or None when they are not what its type and dims say; the digest
    takes their bytes as stored."""
    import numpy as np

    for _, wire, v in typed:
        if wire == 2:
            digest.update(w.buf[v[0]:v[1]])
        else:
            digest.update(int(v).to_bytes(8, "little"))
    if np_type is None or not typed:
        return None
    num = typed[0][0]
    if num in (4, 10) and all(t == 2 for _, t, _ in typed):  # packed float32 / float64
        data = b"".join(bytes(w.buf[v[0]:v[1]]) for _, _, v in typed)
        values = np.frombuffer(data, dtype="<f4" if num == 4 else "<f8")
    elif count <= MAX_VARINTS:  # int32_data (also int8..uint16, bool, float16's bits), int64, uint64
        ints = [x for _, t, v in typed for x in (w.varints(v) if t == 2 else [v])]
        if num == 7:
            values = np.array([_signed(x) for x in ints], dtype=np.int64)
        elif num == 11:
            values = np.array(ints, dtype=np.uint64)
        elif num == 5 and np_type not in ("<f2",):
            values = np.array([_signed(x) for x in ints], dtype=np.int64).astype(np_type)
        else:
            return None
    else:
        return None
    return values if values.size == count else None
