"""PyTorch checkpoints (``torch.save``'s zip format: ``.pt``, ``.pth``, ``.ckpt``, a zipped
``pytorch_model.bin``), read with no framework and **without running the pickle**.

The archive holds ``<name>/data.pkl`` (the saved object: a state dict, a Lightning checkpoint...)
and one member ``<name>/data/<key>`` per tensor storage, stored uncompressed. The pickle is read
by safepickle.py's unpickler, which imports nothing: every global it names becomes an inert
placeholder except the few that describe tensors (``torch._utils._rebuild_tensor_v2``,
``_rebuild_parameter``, ``torch.*Storage``, added here); a pickle cannot make it call anything
else, so a hostile checkpoint summarised by ``git diff`` runs no code (the rule of torch's own
``weights_only`` loading).

Facts: ``tensors``, ``parameters``, ``tensor PATH DTYPE SHAPE`` for each tensor (PATH: dict keys
joined with ``.``, list items ``[i]``), ``value PATH V`` for each plain number, string or bool
(an epoch, a learning rate), then per tensor ``PATH min/max/mean/std/nan`` (numeric dtypes) and
``PATH sha256`` (16 hex digits of its values' bytes), each tensor read through a memory map of
its storage. At most ``MAX_ITEMS`` tensors and values are listed.
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import zipfile
from typing import Any

from . import Summary
from .arrays import ArrayStats, row_blocks, shape_text
from .fallback import NotThisFormat
from .fmt import plain
from .safepickle import SafeUnpickler, load, walk
from .stats import _label

MAX_PICKLE = 64 << 20  # a state dict's pickle is kilobytes; tensors live in the storages
MAX_ITEMS = 1000
# storage class -> numpy dtype (little-endian); BFloat16 is widened to float32 on the fly
_STORAGES = {"DoubleStorage": "<f8", "FloatStorage": "<f4", "HalfStorage": "<f2",
             "BFloat16Storage": "<u2", "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2",
             "CharStorage": "i1",
             "ByteStorage": "u1", "BoolStorage": "?", "ComplexFloatStorage": "<c8",
             "ComplexDoubleStorage": "<c16"}
_NAMES = {"DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
          "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32",
          "ShortStorage": "int16", "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
          "ComplexFloatStorage": "complex64", "ComplexDoubleStorage": "complex128"}


class _StorageType:
    def __init__(self, name: str) -> None:
        self.name = name


class _Storage:
    def __init__(self, kind: str, key: str) -> None:
        self.kind, self.key = kind, key


class _Tensor:
    def __init__(self, storage: Any, offset: Any, size: Any, stride: Any) -> None:
        if not isinstance(storage, _Storage):
            raise NotThisFormat("a tensor whose storage is not in the archive")
        self.storage = storage
        self.offset = int(offset)
        self.size = tuple(int(x) for x in size)
        self.stride = tuple(int(x) for x in stride)


def _rebuild_tensor(storage: Any, offset: Any, size: Any, stride: Any, *rest: Any) -> _Tensor:
    return _Tensor(storage, offset, size, stride)


def _rebuild_parameter(data: Any, *rest: Any) -> Any:
    return data


class _Unpickler(SafeUnpickler):
    """Imports nothing (safepickle.py); knows torch's tensor builders and storage ids."""

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        if full == "torch._utils._rebuild_tensor_v2":
            return _rebuild_tensor
        if full in ("torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state"):
            return _rebuild_parameter
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        return super().find_class(module, name)

    def persistent_load(self, pid: Any) -> Any:
        if isinstance(pid, tuple) and len(pid) >= 3 and pid[0] == "storage":
            kind = pid[1].name if isinstance(pid[1], _StorageType) else str(getattr(pid[1], "qualname", ""))
            return _Storage(kind.rsplit(".", 1)[-1], str(pid[2]))
        raise NotThisFormat(f"a persistent id this reader does not know: {str(pid)[:60]}")


def summarize(path: str) -> Summary:
    """Tensors and values of a ``torch.save`` archive, then statistics and digests per tensor."""
    size = os.path.getsize(path)
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise NotThisFormat("not a zip archive (torch.save's format before PyTorch 1.6 is not read)"
                            ) from None
    with zf:
        pkl = [i for i in zf.infolist() if i.filename.endswith("/data.pkl") or i.filename == "data.pkl"]
        if len(pkl) != 1:
            raise NotThisFormat("no data.pkl: not a torch.save archive")
        prefix = pkl[0].filename[: -len("data.pkl")]
        if pkl[0].file_size > MAX_PICKLE:
            raise NotThisFormat(f"data.pkl of {pkl[0].file_size} bytes is too large")
        has_order = prefix + "byteorder" in zf.NameToInfo
        order = zf.read(prefix + "byteorder").strip() if has_order else b"little"
        if order != b"little":
            raise NotThisFormat(f"byte order {order.decode(errors='replace')}: only little-endian is read")
        found = walk(load(zf.open(pkl[0]), _Unpickler), leaf=_Tensor)
        tensors: list[tuple[str, _Tensor]] = found.leaves
        values = found.values
        params = sum(math.prod(t.size) for _, t in tensors)
        facts = [f"tensors {len(tensors)}", f"parameters {params}"]
        facts += [f"tensor {_label(p or '.')} {_NAMES.get(t.storage.kind, t.storage.kind)} "
                  f"{shape_text(t.size)}" for p, t in tensors[:MAX_ITEMS]]
        facts += [f"value {_label(p or '.')} {plain(v)}" for p, v in values[:MAX_ITEMS]]
        hidden = max(0, len(tensors) - MAX_ITEMS) + max(0, len(values) - MAX_ITEMS)
        if hidden:
            facts.append(f"items not shown {hidden}")
        for p, t in tensors[:MAX_ITEMS]:
            facts += _tensor_facts(path, zf, prefix, _label(p or "."), t)
    return Summary("torch", size, facts)


def _tensor_facts(path: str, zf: zipfile.ZipFile, prefix: str, label: str, t: _Tensor) -> list[str]:
    import numpy as np

    member = f"{prefix}data/{t.storage.key}"
    info = zf.NameToInfo.get(member)
    if info is None:
        raise NotThisFormat(f"storage {t.storage.key} is not in the archive")
    np_type = _STORAGES.get(t.storage.kind)
    if np_type is None or info.compress_type != zipfile.ZIP_STORED:
        # a quantized or other storage, or a compressed member: the storage's bytes, no statistics
        h = hashlib.sha256()
        with zf.open(info) as f:
            while block := f.read(1 << 20):
                h.update(block)
        return [f"{label} storage sha256 {h.hexdigest()[:16]}"]
    dtype = np.dtype(np_type)
    count = info.file_size // dtype.itemsize
    need = t.offset + sum((n - 1) * s for n, s in zip(t.size, t.stride)) + 1 if all(t.size) else 0
    if t.offset < 0 or need > count or any(s < 0 for s in t.stride):
        raise NotThisFormat(f"tensor {label} lies outside its storage")
    st = ArrayStats()
    h = hashlib.sha256()
    if all(t.size) and count:
        storage = np.memmap(path, dtype=dtype, mode="r", offset=_data_offset(path, info), shape=(count,))
        view = np.lib.stride_tricks.as_strided(storage[t.offset:], shape=t.size,
                                               strides=tuple(s * dtype.itemsize for s in t.stride))
        for block in row_blocks(view):
            h.update(np.ascontiguousarray(block).tobytes())
            if t.storage.kind == "BFloat16Storage":  # bfloat16 is the top half of a float32
                block = (block.astype(np.uint32) << 16).view(np.float32)
            if dtype.kind != "c":
                st.update(block.reshape(-1))
    return st.facts(f"{label} ") + [f"{label} sha256 {h.hexdigest()[:16]}"]


def _data_offset(path: str, info: zipfile.ZipInfo) -> int:
    """Where a stored member's bytes start: after its local header (30 bytes, its name, its extra)."""
    with open(path, "rb") as f:
        f.seek(info.header_offset)
        head = f.read(30)
    if len(head) < 30 or head[:4] != b"PK\x03\x04":
        raise NotThisFormat(f"{info.filename}: damaged local header")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    return info.header_offset + 30 + name_len + extra_len
