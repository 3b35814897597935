"""HDF5 files (Keras ``.h5`` models, scientific arrays, pandas' HDFStore, netCDF-4), read with h5py.

One line per group and dataset, in name order (h5py lists members by name), then each group's and
dataset's attributes, then per numeric dataset its statistics (streamed a block of rows at a time:
memory stays bounded whatever its size) and a slice of its bytes' sha256, so a fine-tune that
touched two layers of a Keras model shows exactly those two datasets in ``git diff``::

    groups 3
    datasets 4
    group /model_weights
    dataset /model_weights/dense/kernel float32 [784, 128] chunked gzip
    attr / keras_version "2.15.0"
    /model_weights/dense/kernel min -0.23
    ...
    /model_weights/dense/kernel sha256 5e0c4b1a9f3d2e77

A summary lists at most ``MAX_MEMBERS`` members and ``MAX_ATTRS`` attributes (then a count of
the others); attribute values are cut at 200 characters. Strings, compound and other non-numeric
datasets get their digest without statistics. h5py is imported here, once a file is HDF5.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from . import Summary
from .arrays import ArrayStats, numeric, row_blocks, shape_text
from .fmt import quoted, text
from .stats import _label

SIGNATURE = b"\x89HDF\r\n\x1a\n"
MAX_MEMBERS = 1000
MAX_ATTRS = 1000


def summarize(path: str) -> Summary:
    """Groups, datasets, attributes, then statistics and digests of each dataset's values."""
    import h5py

    size = os.path.getsize(path)
    with h5py.File(path, "r") as f:
        groups: list[str] = []
        datasets: list[Any] = []

        def visit(name: str, obj: Any) -> None:
            if isinstance(obj, h5py.Dataset):
                datasets.append(obj)
            elif isinstance(obj, h5py.Group):
                groups.append("/" + name)

        f.visititems(visit)  # every member once, by name; links to one object are listed once
        members = sorted([(g, None) for g in groups] + [(d.name, d) for d in datasets])
        facts = [f"groups {len(groups)}", f"datasets {len(datasets)}"]
        for name, d in members[:MAX_MEMBERS]:
            facts.append(f"group {_label(name)}" if d is None else
                         f"dataset {_label(name)} {_dtype(d)} {shape_text(d.shape or ())}{_layout(d)}")
        if len(members) > MAX_MEMBERS:
            facts.append(f"members not shown {len(members) - MAX_MEMBERS}")
        facts += _attributes(f, members)
        for name, d in members[:MAX_MEMBERS]:
            if d is not None:
                facts += _values(d, _label(name))
    return Summary("hdf5", size, facts)


def _dtype(d: Any) -> str:
    import h5py

    dt = d.dtype
    if h5py.check_string_dtype(dt) is not None:
        return "string"
    if dt.fields:
        return "compound(" + ", ".join(f"{text(n)} {dt.fields[n][0].str}" for n in dt.names) + ")"
    return dt.name if dt.kind in "biufc" else dt.str


def _layout(d: Any) -> str:
    """`` chunked gzip`` / `` contiguous``: how it is stored (a repack changes it, not the data)."""
    if d.chunks is None:
        return " contiguous" if d.shape else ""
    return " chunked" + (f" {d.compression}" if d.compression else "")


def _attributes(f: Any, members: list[tuple[str, Any]]) -> list[str]:
    out: list[str] = []
    shown = 0
    left = 0
    for name, d in [("/", f)] + [(n, d if d is not None else f[n]) for n, d in members[:MAX_MEMBERS]]:
        try:
            items = sorted(d.attrs.items())
        except (OSError, TypeError, ValueError, KeyError):  # an attribute of a type h5py cannot read
            out.append(f"attr {_label(name)} unreadable")
            continue
        for key, value in items:
            if shown >= MAX_ATTRS:
                left += 1
                continue
            out.append(f"attr {_label(name)} {_label(key)} {_value(value)}")
            shown += 1
    if left:
        out.append(f"attributes not shown {left}")
    return out


def _value(v: Any) -> str:
    import json

    import numpy as np

    if isinstance(v, np.ndarray):
        if v.size > 16:
            return f"array {v.dtype.name} {shape_text(v.shape)}"
        return text(json.dumps(_plain(v.tolist()), ensure_ascii=False, default=str), 200)
    v = _plain(v)
    if isinstance(v, str):
        return quoted(v, 200)
    return text(str(v), 200)


def _plain(v: Any) -> Any:
    """Bytes decoded (HDF5 stores many strings as bytes), inside lists too."""
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="backslashreplace")
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _values(d: Any, label: str) -> list[str]:
    """Statistics (numeric datasets) and the first 16 hex digits of the sha256 of the values'
    bytes in C order, read a block of rows at a time."""
    h = hashlib.sha256()
    st = ArrayStats() if numeric(d.dtype) else None
    if d.shape is None:  # an empty dataspace (h5py.Empty): nothing to read
        return [f"{label} empty"]
    if d.ndim == 0:
        value = d[()]
        raw = value.tobytes() if hasattr(value, "tobytes") else repr(value).encode()
        h.update(raw)
        if st is not None:
            import numpy as np

            st.update(np.asarray(value).reshape(1))
    else:
        for block in row_blocks(d):
            if st is not None:
                st.update(block.reshape(-1))
                h.update(block.tobytes())
            else:
                h.update(repr(block.tolist()).encode())  # strings, objects: their values as text
    facts = st.facts(f"{label} ") if st is not None else []
    return facts + [f"{label} sha256 {h.hexdigest()[:16]}"]
