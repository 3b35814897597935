"""Python pickles (``.pkl``, ``.pickle``: scikit-learn models, pandas objects, anything
``pickle.dump`` wrote), summarised **without running them** (safepickle.py).

Facts: ``protocol``, then ``object PATH CLASS`` for each object of a class (the estimator, its
sub-estimators and trees), ``value PATH V`` for each plain value (hyperparameters: ``value C
1.0``, ``value n_estimators 100``), ``array PATH DTYPE SHAPE`` for each numpy array (learned
coefficients), then per array ``PATH min/max/mean/std/nan`` (numeric dtypes) and ``PATH sha256``
(16 hex digits of its bytes). At most ``MAX_ITEMS`` of each kind are listed, then a count.
A file ``joblib.dump`` wrote (arrays' bytes after their wrappers; compressed or not) is read by
joblibfile.py's unpickler under the same rules.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from . import Summary, joblibfile
from .arrays import array_facts, dtype_text, numeric, row_blocks, shape_text
from .fallback import NotThisFormat
from .fmt import plain, text
from .safepickle import Found, load, walk
from .stats import _label

MAX_PICKLE = 256 << 20  # read whole into placeholders: a bigger pickle is summarised as bytes
MAX_ITEMS = 1000


def summarize(path: str) -> Summary:
    """Objects, values and arrays of a pickle, then statistics and digests per array."""
    size = os.path.getsize(path)
    if size > MAX_PICKLE:
        raise NotThisFormat(f"{size} bytes: larger than the {MAX_PICKLE >> 20} MiB read as a pickle")
    with open(path, "rb") as f:
        head = f.read(8)
        f.seek(0)
        packed = joblibfile.compression(head) if head[:1] != b"\x80" else None
        if packed is not None:  # joblib.dump(..., compress=...): the whole stream compressed
            stream = joblibfile.open_stream(f, packed, MAX_PICKLE)
            head = stream.peek(2)[:2]
            found = walk(joblibfile.load(stream, MAX_PICKLE))
            rest = stream.read(1)
        else:
            found, rest = _plain_or_joblib(f, size)
    if rest:
        raise NotThisFormat("bytes after the pickle's end")
    protocol = head[1] if head[:1] == b"\x80" else 0
    facts = [f"protocol {protocol}"] + ([f"compression {packed}"] if packed else [])
    lines: dict[str, list[str]] = {
        "object": [f"object {_label(p or '.')} {text(str(c), 200)}" for p, c in found.objects],
        "value": [f"value {_label(p or '.')} {plain(v)}" for p, v in found.values],
        "array": [f"array {_label(p or '.')} {_dtype(a.dtype)} {shape_text(a.shape)}"
                  for p, a in found.arrays],
    }
    for what, listed in lines.items():
        facts += listed[:MAX_ITEMS]
        if len(listed) > MAX_ITEMS:
            facts.append(f"{what}s not shown {len(listed) - MAX_ITEMS}")
    for p, arr in found.arrays[:MAX_ITEMS]:
        label = _label(p or ".")
        values = arr.ndarray()
        if values is not None and numeric(values.dtype):
            facts += array_facts(f"{label} ", values.dtype, values.shape,
                                 row_blocks(values.reshape(-1, order="A")))
        if arr.dtype is None or not arr.dtype.hasobject:  # an object array's items are values above
            facts.append(f"{label} sha256 {hashlib.sha256(arr.data).hexdigest()[:16]}")
    return Summary("pickle", size, facts)


def _plain_or_joblib(f: Any, size: int) -> tuple[Found, bytes]:
    """(what the pickle in ``f`` holds, a byte after its end if any): read by Python's unpickler,
    else (it stopped, or bytes follow the pickle: joblib writes arrays' bytes after their wrapper)
    again by joblib's rules; a pickle neither reads is the first reader's note."""
    try:
        found, rest = walk(load(f)), f.read(1)
    except NotThisFormat as e:
        first: NotThisFormat | None = e
    else:
        if not rest:
            return found, rest
        first = None
    f.seek(0)
    stream = joblibfile.open_stream(f, None, size)
    try:
        found, rest = walk(joblibfile.load(stream, size)), stream.read(1)
    except NotThisFormat:
        if first is not None:
            raise first from None
        raise  # bytes followed the pickle, and joblib's reader says what is wrong with them
    if first is not None and rest:
        raise first
    return found, rest


def _dtype(dt: Any) -> str:
    if dt is None:
        return "object"
    return dtype_text(dt)
