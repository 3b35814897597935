"""numpy arrays (``.npy``, ``.npz``): dtype and shape from the header, statistics streamed.

Statistics read the data in blocks of 4 Mi elements (16 MiB of float32) through a memory map or
the zip member's stream, so memory is bounded whatever the array's size; numpy computes them at
~1 GB/s here. Each array also gets a content digest (a slice of sha256 for ``.npy``, the CRC-32
the zip directory already holds for ``.npz`` members): two arrays with equal statistics but
different bytes still show as changed.
"""

from __future__ import annotations

import hashlib
import math
import os
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from tokenize import TokenError
from typing import IO, TYPE_CHECKING, Any

from . import Summary
from .detect import Kind
from .fallback import NotThisFormat
from .fmt import number, stat
from .stats import _label

if TYPE_CHECKING:
    import numpy as np

BLOCK_ELEMENTS = 4 << 20


class ArrayStats:
    """min, max, mean, std and NaN count of numeric values, fed block by block."""

    def __init__(self) -> None:
        self.count = 0
        self.nans = 0
        self.min: Any = None
        self.max: Any = None
        self.total = 0.0
        self.block_mean = 0.0  # mean and sum of squared deviations of what was folded in,
        self.m2 = 0.0  # merged block by block (Chan et al.), for std

    def update(self, block: np.ndarray) -> None:
        """Fold a 1-D numeric block in (NaNs counted, left out of the other statistics)."""
        import numpy as np

        if block.size == 0:
            return
        if block.dtype.kind == "f":
            bad = np.isnan(block)
            n_bad = int(bad.sum())
            if n_bad:
                self.nans += n_bad
                block = block[~bad]
                if block.size == 0:
                    return
        elif block.dtype.kind == "b":
            block = block.astype(np.uint8)
        lo, hi = block.min(), block.max()  # numpy scalars: printed at their own precision
        self.min = lo if self.min is None else min(self.min, lo)
        self.max = hi if self.max is None else max(self.max, hi)
        wide = block.astype(np.float64, copy=False)
        self.total += float(wide.sum())
        # std from squared deviations, not E[x^2] - E[x]^2: that difference of two big numbers
        # lost every digit of a small spread around a large mean (values near 1.7e9 with std 1
        # printed std 22.6); infinities give nan, as numpy's std does
        n, mean = block.size, float(wide.mean())
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: nan, said as "std nan"
            dev = wide - mean
            m2 = float(np.dot(dev, dev))
        total = self.count + n
        delta = mean - self.block_mean
        self.block_mean += delta * n / total
        self.m2 += m2 + delta * delta * self.count * n / total if self.count else m2
        self.count = total

    def facts(self, label: str) -> list[str]:
        """``<label> min ...`` lines (none when there were no values)."""
        out = []
        if self.count:
            mean = self.total / self.count
            var = self.m2 / self.count
            out += [f"{label}min {number(self.min)}", f"{label}max {number(self.max)}",
                    f"{label}mean {stat(mean)}", f"{label}std {stat(math.sqrt(var))}"]
        if self.nans:
            out.append(f"{label}nan {self.nans}")
        return out


def numeric(dtype: np.dtype) -> bool:
    """True for dtypes we compute statistics of (bool, integers, floats)."""
    return dtype.kind in "biuf" and not dtype.fields


def dtype_text(dtype: np.dtype) -> str:
    """A dtype as a fact: numbers, dates and objects by name (``float32``, ``datetime64[D]``), text
    and bytes by their code (``<U5``, ``|S2``), a record's fields as HDF5's compound types are
    written (``compound(a <i2, b <f8)``). The name of a structured dtype is ``void96`` and its
    code ``|V12``, and a text dtype's name counts bits (``str160`` for ``<U5``): a field renamed or
    retyped, or strings made longer, did not show in `git diff`."""
    from .fmt import text

    if dtype.fields:
        return "compound(" + ", ".join(f"{text(n)} {_field_text(dtype.fields[n][0])}"
                                       for n in dtype.names or ()) + ")"
    if dtype.subdtype is not None:
        return _field_text(dtype)
    return dtype.name if dtype.kind in "biufcmMO" else dtype.str


def _field_text(dtype: np.dtype) -> str:
    if dtype.fields:
        return dtype_text(dtype)
    if dtype.subdtype is not None:
        base, shape = dtype.subdtype
        return f"{_field_text(base)} {shape_text(shape)}"
    return dtype.str


def shape_text(shape: Iterable[int]) -> str:
    """``[3, 224, 224]``."""
    return "[" + ", ".join(str(int(d)) for d in shape) + "]"


def _header(f: IO[bytes]) -> tuple[tuple[int, ...], bool, np.dtype]:
    import numpy as np

    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            return np.lib.format.read_array_header_1_0(f, max_header_size=1 << 20)
        return np.lib.format.read_array_header_2_0(f, max_header_size=1 << 20)
    except (ValueError, SyntaxError, TokenError) as e:  # a damaged header: numpy tokenizes it
        raise NotThisFormat(str(e)) from None


def _blocks_from_stream(f: IO[bytes], dtype: np.dtype, count: int) -> Iterator[np.ndarray]:
    import numpy as np

    left = count
    while left > 0:
        n = min(BLOCK_ELEMENTS, left)
        raw = f.read(n * dtype.itemsize)
        if len(raw) < n * dtype.itemsize:
            raise NotThisFormat("data shorter than its header says")
        yield np.frombuffer(raw, dtype=dtype)
        left -= n


def _blocks_from_map(path: str, offset: int, dtype: np.dtype, count: int) -> Iterator[np.ndarray]:
    import numpy as np

    if count == 0:
        return
    if offset + count * dtype.itemsize > os.path.getsize(path):
        raise NotThisFormat("data shorter than its header says")
    mm = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(count,))
    for i in range(0, count, BLOCK_ELEMENTS):
        yield mm[i:i + BLOCK_ELEMENTS]


def row_blocks(a: Any) -> Iterator[Any]:
    """An array (numpy, a strided view, an h5py dataset: anything sliced along its first axis) a
    block of leading-axis rows at a time, ~``BLOCK_ELEMENTS`` values each, in C order: memory stays
    bounded whatever its size. A 0-d array is one block of one value."""
    if not a.shape:
        import numpy as np

        yield np.asarray(a[()]).reshape(1)
        return
    row = max(1, math.prod(int(n) for n in a.shape[1:]))
    step = max(1, BLOCK_ELEMENTS // row)
    for i in range(0, a.shape[0], step):
        yield a[i:i + step]


def array_facts(label: str, dtype: np.dtype, shape: tuple[int, ...], blocks: Iterator[np.ndarray] | None
                ) -> list[str]:
    """Statistics lines of one array (``blocks`` None: not numeric, nothing to compute)."""
    if blocks is None:
        return []
    st = ArrayStats()
    for b in blocks:
        st.update(b)
    return st.facts(label)


def summarize(path: str, kind: Kind) -> Summary:
    """An .npy or .npz file."""
    if kind.name == "npz":
        return _npz(path)
    return _npy(path)


def _npy(path: str) -> Summary:
    import numpy as np

    with open(path, "rb") as f:
        shape, fortran, dtype = _header(f)
        offset = f.tell()
    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
    facts = [f"dtype {dtype_text(dtype)}", f"shape {shape_text(shape)}",
             f"elements {count}"]
    if dtype.hasobject:
        facts.append("note pickled Python objects: not read")
    elif numeric(dtype):
        facts += array_facts("", dtype, shape, _blocks_from_map(path, offset, dtype, count))
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while data := f.read(1 << 20):
            h.update(data)
    facts.append(f"sha256 {h.hexdigest()}")
    return Summary("npy", os.path.getsize(path), facts)


def _npz(path: str) -> Summary:
    import numpy as np

    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as e:
        raise NotThisFormat(str(e)) from None
    with zf:
        infos = sorted(zf.infolist(), key=lambda i: i.filename)
        members = [i for i in infos if i.filename.endswith(".npy")]
        schema: list[str] = [f"arrays {len(members)}"]
        stats: list[str] = []
        for info in members:
            name = _label(info.filename[:-4])  # np.savez takes any name: "my array"
            try:
                with zf.open(info) as f:
                    shape, _, dtype = _header(f)
                    count = int(np.prod(shape, dtype=np.int64)) if shape else 1
                    schema.append(f"array {name} {dtype_text(dtype)} {shape_text(shape)}")
                    if numeric(dtype) and not dtype.hasobject:
                        stats += array_facts(f"{name} ", dtype, shape, _blocks_from_stream(f, dtype, count))
            # a damaged member: "Bad CRC-32"; RuntimeError: its flags say "encrypted"
            except (zipfile.BadZipFile, zlib.error, EOFError, RuntimeError) as e:
                raise NotThisFormat(f"{info.filename}: {e}") from None
            stats.append(f"{name} crc32 {info.CRC:08x}")
        # anything else in the archive is not an array, but is content all the same
        stats += [f"member {_label(i.filename)} crc32 {i.CRC:08x}" for i in infos
                  if not i.filename.endswith(".npy") and not i.is_dir()]
    return Summary("npz", os.path.getsize(path), schema + stats)
