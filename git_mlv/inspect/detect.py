"""Which format a file is in: its magic bytes first, its name's extension where formats have no magic.

Magic wins over the name (a ``.bin`` that starts with ``PAR1...`` is Parquet); text formats
without magic (CSV, TSV, JSON Lines) are known by extension, under any compression pyarrow reads
(``.csv.gz``, ``.tsv.zst``...). git hands textconv a temporary file named ``XXXXXX_<basename>``,
so the extension survives.
"""

from __future__ import annotations

import os
import struct
from typing import NamedTuple

from ..core.pointer import MAX_SIZE, Pointer


class Kind(NamedTuple):
    """A file format: ``name`` (csv, parquet, npy...), its ``family``, and an outer compression.

    A named tuple, not a dataclass: ``dataclasses`` imports the stdlib's ``inspect`` (~9 ms of CPU),
    and textconv answering from the summary cache needs this class and nothing heavier."""

    name: str
    family: str  # "table", "columnar", "array", "image", "document", "bytes"
    compression: str | None = None  # pyarrow's name: gzip, bz2, zstd, lz4
    #: a ``.csv``'s field delimiter once sniffed from its head (tables.sniffed); None: not yet
    delimiter: str | None = None
    #: a CSV/TSV header that is not UTF-8 (Excel's Windows-1252: ``Qt\xe9``) or repeats a name
    #: (``x,x``: ``x``, ``x.1``), as the column names to read it with (tables.sniffed); None: a
    #: header pyarrow reads itself
    header: tuple[str, ...] | None = None
    #: the lines that header spans (a quoted name may hold a line end): the reader skips them
    header_lines: int = 0
    #: a CSV/TSV's text encoding when it is not UTF-8 (``utf-16``: a byte-order mark FF FE or FE FF
    #: starts it); its readers see it transcoded to UTF-8
    encoding: str | None = None

    @property
    def label(self) -> str:
        """``csv`` or ``csv (gzip)``."""
        return f"{self.name} ({self.compression})" if self.compression else self.name


_COMPRESSION_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"BZh", "bz2"),
    (b"\x04\x22\x4d\x18", "lz4"),
)
_COMPRESSION_EXT = {".gz": "gzip", ".gzip": "gzip", ".zst": "zstd", ".zstd": "zstd", ".bz2": "bz2",
                    ".lz4": "lz4"}
_TABLE_EXT = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
    (b"II*\x00", "tiff"),  # little-endian TIFF; then big-endian, and BigTIFF's two
    (b"MM\x00*", "tiff"),
    (b"II+\x00", "tiff"),
    (b"MM\x00+", "tiff"),
)

BYTES = Kind("binary", "bytes")
POINTER = Kind("pointer", "bytes")


def _split_ext(name: str) -> tuple[str, str | None]:
    """(the extension that names the format, the compression its outer extension names)."""
    base = os.path.basename(name).lower()
    stem, ext = os.path.splitext(base)
    comp = _COMPRESSION_EXT.get(ext)
    if comp:
        ext = os.path.splitext(stem)[1]
    return ext, comp


def detect(path: str, name: str | None = None) -> Kind:
    """The format of the file at ``path`` (``name`` supplies the extension; default ``path``)."""
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            head = f.read(MAX_SIZE if size < MAX_SIZE else 64)
            tail = b""
            if size >= 12:
                f.seek(size - 4)
                tail = f.read(4)
    except OSError:
        return BYTES
    return detect_head(head, tail, size, name or path)


_COLUMNAR_EXT = (".parquet", ".pq", ".arrow", ".arrows", ".ipc", ".feather")


def may_be_table(name: str) -> bool:
    """Whether a file of this name may be a table ``git mlv diff`` compares by content (judged by
    name alone: a diff fetches missing data for these, not for every model it only sizes up)."""
    ext, _ = _split_ext(name)
    return ext in _TABLE_EXT or ext in _COLUMNAR_EXT


def detect_head(head: bytes, tail: bytes, size: int, name: str) -> Kind:
    """The format of a file of ``size`` bytes that starts with ``head`` (at least 64 bytes, or
    the whole file when it is smaller than a pointer) and ends with ``tail`` (4 bytes)."""
    ext, ext_comp = _split_ext(name)
    if size < MAX_SIZE and Pointer.try_parse(head) is not None:
        return POINTER
    if head.startswith(b"PAR1") and tail == b"PAR1":
        return Kind("parquet", "columnar")
    if head.startswith(b"ARROW1"):
        return Kind("arrow", "columnar")
    if head.startswith(b"FEA1") and tail == b"FEA1":  # Feather V1 (pandas' to_feather before 2020)
        return Kind("feather-v1", "columnar")
    if head.startswith(b"\xff\xff\xff\xff") and ext in (".arrows", ".arrow", ".ipc", ".feather"):
        return Kind("arrow-stream", "columnar")
    if head.startswith(b"\x93NUMPY"):
        return Kind("npy", "array")
    if head.startswith(b"PK\x03\x04") and ext == ".npz":
        return Kind("npz", "array")
    if head.startswith(b"PK\x03\x04") and ext in (".pt", ".pth", ".ckpt", ".bin"):
        return Kind("torch", "array")  # torch.save's zip (a pytorch_model.bin too)
    for magic, image in _IMAGE_MAGIC:
        if head.startswith(magic):
            return Kind(image, "image")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Kind("webp", "image")
    if head.startswith(b"\x89HDF\r\n\x1a\n"):  # HDF5's signature (at 0: no user block)
        return Kind("hdf5", "array")
    if ext in (".pkl", ".pickle", ".joblib") and ext_comp is None:
        return Kind("pickle", "array")  # protocol 2+ starts b"\x80"; 0 and 1 have no magic
    if _looks_like_safetensors(head, size):
        return Kind("safetensors", "array")
    if ext == ".json" and ext_comp is None:
        return Kind("json", "document")  # one JSON value (jsondoc.py); JSON Lines are .jsonl
    named = _BY_NAME.get(ext)
    if named is not None and ext_comp is None:
        # no magic, but the name says what it should be (a truncated or damaged write): its
        # reader refuses it, and the summary's note says why instead of a bare "binary"
        return named
    magic_comp = next((c for m, c in _COMPRESSION_MAGIC if head.startswith(m)), None)
    table = _TABLE_EXT.get(ext)
    if table is not None and (magic_comp is None or ext_comp == magic_comp or ext_comp is None):
        return Kind(table, "table", magic_comp)
    return BYTES


_BY_NAME = {".parquet": Kind("parquet", "columnar"), ".pq": Kind("parquet", "columnar"),
            ".npy": Kind("npy", "array"), ".npz": Kind("npz", "array"),
            ".safetensors": Kind("safetensors", "array"), ".h5": Kind("hdf5", "array"),
            ".hdf5": Kind("hdf5", "array"), ".pt": Kind("torch", "array"), ".pth": Kind("torch", "array"),
            ".onnx": Kind("onnx", "array"),  # protobuf: no magic
            ".tfrecord": Kind("tfrecord", "array"), ".tfrecords": Kind("tfrecord", "array"),
            ".tfrec": Kind("tfrecord", "array")}


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    """safetensors: an 8-byte little-endian header length, then a JSON object that fits the file."""
    if len(head) < 10:
        return False
    (n,) = struct.unpack_from("<Q", head, 0)
    return 2 <= n <= size - 8 and head[8:9] == b"{"
