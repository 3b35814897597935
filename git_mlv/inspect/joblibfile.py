"""joblib's pickles (``joblib.dump``: scikit-learn's recommended way to save a model), read without
running them, as pickles.py reads any pickle.

joblib writes a numpy array as a ``NumpyArrayWrapper`` object (its dtype, shape and order), and
the array's bytes right after that object's BUILD opcode, outside the pickle's own opcodes
(after one byte giving a padding length, and the padding, since joblib 1.2); an array of Python
objects is a nested pickle there. Only joblib's own unpickler knew to read those bytes, so such a
file stopped Python's unpickler on the first array ("bytes after the pickle's end"). This
unpickler is Python's own pure-Python one (the C one reads ahead of the opcodes it runs) with
``SafeUnpickler``'s rules (nothing imported, nothing run) and the array bytes read as joblib reads
them. ``joblib.dump(..., compress=...)`` compresses the whole stream: zlib (its default), gzip,
bz2, xz and lzma are read with the standard library (lz4 is not). At most ``limit`` bytes are
read, decompressed or not: a small file that says it holds a huge array is a note, not a
memory error.

Older joblib files (before 0.10, arrays in ``.npy`` files beside the pickle) are not read.
"""

from __future__ import annotations

import io
import math
import pickle
from typing import IO, Any

from . import safepickle
from .fallback import NotThisFormat
from .safepickle import Array, Opaque, SafeUnpickler, _DType, _NDArray

_WRAPPER = "joblib.numpy_pickle.NumpyArrayWrapper"


def compression(head: bytes) -> str | None:
    """The compression of a joblib file that starts with ``head``: ``zlib``, ``gzip``, ``bz2``,
    ``xz``, ``lzma``, or None for a plain pickle."""
    if head[:1] == b"\x78" and len(head) >= 2 and (head[0] * 256 + head[1]) % 31 == 0:
        return "zlib"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"\x5d\x00\x00"):
        return "lzma"
    return None


class _Limited(io.RawIOBase):
    """At most ``limit`` bytes of ``raw`` (a stream), then NotThisFormat."""

    def __init__(self, raw: Any, limit: int) -> None:
        self.raw, self.left = raw, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        view = memoryview(buf)
        if not self.left:
            if self.raw.read(1):
                raise NotThisFormat("it holds more than the pickle reader reads")
            return 0
        data = self.raw.read(min(len(view), self.left))
        view[:len(data)] = data
        self.left -= len(data)
        return len(data)


def open_stream(f: IO[bytes], kind: str | None, limit: int) -> io.BufferedReader:
    """``f`` decompressed as ``kind`` says, read up to ``limit`` bytes."""
    raw: Any = f
    if kind == "zlib":
        raw = _Zlib(f)
    elif kind == "gzip":
        import gzip

        raw = gzip.GzipFile(fileobj=f, mode="rb")
    elif kind == "bz2":
        import bz2

        raw = bz2.BZ2File(f)
    elif kind in ("xz", "lzma"):
        import lzma

        raw = lzma.LZMAFile(f)
    return io.BufferedReader(_Limited(raw, limit), 1 << 16)


class _Zlib(io.RawIOBase):
    """A zlib stream decompressed as it is read (joblib's default compression)."""

    def __init__(self, f: IO[bytes]) -> None:
        import zlib

        self.f, self.z, self.pending = f, zlib.decompressobj(), b""

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        view = memoryview(buf)
        while not self.pending:
            if self.z.unconsumed_tail:  # input held back by the output limit: it comes first
                data = self.z.unconsumed_tail
            elif self.z.eof:
                break
            else:
                data = self.f.read(1 << 16)
                if not data:
                    self.pending = self.z.flush()
                    break
            self.pending = self.z.decompress(data, len(view))
        n = min(len(view), len(self.pending))
        view[:n] = self.pending[:n]
        self.pending = self.pending[n:]
        return n


class JoblibUnpickler(pickle._Unpickler):  # type: ignore[name-defined,misc]  # the pure-Python one
    """``SafeUnpickler``'s rules, and joblib's arrays read from the bytes after their wrapper."""

    find_class = SafeUnpickler.find_class
    persistent_load = SafeUnpickler.persistent_load
    dispatch = dict(pickle._Unpickler.dispatch)  # type: ignore[attr-defined]

    stack: list[Any]  # the pure-Python unpickler's, which typeshed does not declare

    def __init__(self, file: IO[bytes], limit: int) -> None:
        super().__init__(file)
        self.file, self.limit = file, limit

    def load_build(self) -> None:
        pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]
        top = self.stack[-1]
        if isinstance(top, Opaque) and top.qualname == _WRAPPER:
            self.stack[-1] = self._array(top)

    dispatch[pickle.BUILD[0]] = load_build  # type: ignore[assignment]

    def _array(self, wrapper: Opaque) -> Any:
        """The array whose bytes follow its wrapper in the file (joblib's ``read_array``)."""
        state = wrapper.state if isinstance(wrapper.state, dict) else {}
        dtype, shape, order = state.get("dtype"), state.get("shape"), state.get("order")
        dt = dtype.dtype() if isinstance(dtype, _DType) else None
        if dt is None or not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0
                                                                  for n in shape):
            raise NotThisFormat("a joblib array without a dtype and shape it can be read by")
        if dt.hasobject:  # a nested pickle of Python objects: read (never run) as the rest is
            return JoblibUnpickler(self.file, self.limit).load()
        if state.get("numpy_array_alignment_bytes") is not None:
            padding = self.file.read(1)
            self.file.read(int.from_bytes(padding, "little"))
        count = math.prod(shape)
        if count * dt.itemsize > self.limit:  # checked first: read() allocates what it is asked
            raise NotThisFormat(f"a joblib array of {list(shape)} {dt}: more bytes than the file holds")
        data = self.file.read(count * dt.itemsize)
        if len(data) != count * dt.itemsize:
            raise NotThisFormat(f"a joblib array of {list(shape)} {dt} cut short")
        arr = _NDArray()
        arr.array = Array(dt, shape, order == "F", data)
        return arr


def load(stream: IO[bytes], limit: int) -> Any:
    """The object of a joblib pickle (``stream``, of at most ``limit`` bytes), made of placeholders;
    NotThisFormat if it does not parse."""
    return safepickle.load(stream, lambda s: JoblibUnpickler(s, limit))
