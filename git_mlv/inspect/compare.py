"""Which values of two aligned columns differ, for flat and nested types: what ``rowdiff`` calls a
changed row.

Flat columns take one pyarrow kernel (``not_equal``) and stay as fast as they were. pyarrow has no
comparison kernel for nested types (``struct``, ``list``, ``map``: JSON objects and arrays in JSON
Lines, nested Parquet columns), so those are compared by content, still with kernels: a struct
field by field (matched by name: a JSON object's field order is not content, and a field missing
on one side is null there), a list by its length and then element by element, a map as the list
of its entries sorted by key (entry order is not content). Anything else nested (unions), or a
nested column against a flat one, is compared by its canonical JSON text (``canonical_text``),
one Python call a value.

Equality is that of the data: nulls equal nulls, NaN equals NaN, a value retyped between the
sides (int64 -> string) is compared as text.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .fmt import temporal

if TYPE_CHECKING:
    import pyarrow as pa


def differs(a: pa.Array, b: pa.Array) -> pa.Array:
    """Per row: True where the values of ``a`` and ``b`` differ (a boolean array without nulls)."""
    import pyarrow.compute as pc
    import pyarrow.types as pt

    if pt.is_nested(a.type) or pt.is_nested(b.type):
        return _nested_differs(a, b)
    a, b = _comparable(a), _comparable(b)
    if pt.is_null(a.type) and pt.is_null(b.type):  # a column with no value on either side
        import numpy as np
        import pyarrow as pa

        return pa.array(np.zeros(len(a), dtype=bool))
    if a.type != b.type:
        finer = finer_time(a.type, b.type)
        if finer is not None:
            a, b = a.cast(finer), b.cast(finer)
        elif _is_bytes(a.type) or _is_bytes(b.type):  # text that is not UTF-8 (Latin-1) on a side
            a, b = _as_bytes(a), _as_bytes(b)
        else:
            a, b = a.cast("string"), b.cast("string")
    try:
        ne = pc.not_equal(a, b)
    except NotImplementedError:  # no kernel (an interval, a run-end encoded column): by JSON text
        ne = pc.not_equal(_json_text(a), _json_text(b))
    if a.null_count or b.null_count:  # null == null; null != value
        ne = pc.or_(pc.fill_null(ne, False), pc.xor(pc.is_null(a), pc.is_null(b)))
    # NaN != NaN in IEEE; a NaN left as it was is no change. Checked only where values differ at
    # all (most columns of most partitions: nowhere), which keeps the join at ~1 kernel a column.
    if pt.is_floating(a.type) and pc.any(ne).as_py():
        both_nan = pc.and_(pc.fill_null(pc.is_nan(a), False), pc.fill_null(pc.is_nan(b), False))
        ne = pc.and_(ne, pc.invert(both_nan))
    return ne


_UNITS = ("s", "ms", "us", "ns")


def finer_time(a: pa.DataType, b: pa.DataType) -> pa.DataType | None:
    """Of two timestamp (same time zone), duration, time or date types that differ only in their
    unit, the finer one, which holds every value of both exactly; else None. A writer that moves
    from milliseconds to microseconds (or pandas' nanoseconds) changed no value: as text
    (``00:00:00.001`` against ``00:00:00.001000``) every value would differ."""
    import pyarrow.types as pt

    same_kind = ((pt.is_timestamp(a) and pt.is_timestamp(b) and a.tz == b.tz)
                 or (pt.is_duration(a) and pt.is_duration(b)) or (pt.is_time(a) and pt.is_time(b)))
    if same_kind:
        return a if _UNITS.index(a.unit) >= _UNITS.index(b.unit) else b
    if pt.is_date(a) and pt.is_date(b):
        return a if pt.is_date64(a) else b
    return None


def _is_bytes(t: pa.DataType) -> bool:
    import pyarrow.types as pt

    return pt.is_binary(t) or pt.is_large_binary(t) or pt.is_fixed_size_binary(t)


def _as_bytes(x: pa.Array) -> pa.Array:
    """``x`` as large_binary: bytes as they are, anything else as its text's UTF-8 bytes."""
    import pyarrow as pa

    return (x if _is_bytes(x.type) else x.cast(pa.string())).cast(pa.large_binary())


def _comparable(x: pa.Array) -> pa.Array:
    """``x`` in a type pyarrow compares: a float16 (which has no kernel) as float32, exactly."""
    import pyarrow as pa
    import pyarrow.types as pt

    return x.cast(pa.float32()) if pt.is_float16(x.type) else x


def _json_text(x: pa.Array) -> pa.Array:
    """Each value's canonical JSON text (nulls stay null), one Python call a value."""
    import pyarrow as pa

    return pa.array([None if v is None else canonical_json(v) for v in x.to_pylist()], pa.string())


def _listlike(t: pa.DataType) -> bool:
    import pyarrow.types as pt

    return pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t) or pt.is_map(t)


def _nested_differs(a: pa.Array, b: pa.Array) -> pa.Array:
    import pyarrow.compute as pc
    import pyarrow.types as pt

    one_null = pc.xor(pc.is_null(a), pc.is_null(b))
    both = pc.and_(pc.is_valid(a), pc.is_valid(b))
    if pt.is_struct(a.type) and pt.is_struct(b.type):
        ne = one_null
        names = [f.name for f in a.type] + [f.name for f in b.type if a.type.get_field_index(f.name) < 0]
        for name in names:
            d = differs(_field(a, name, b.type), _field(b, name, a.type))
            ne = pc.or_(ne, pc.and_(both, d))
        return ne
    if _listlike(a.type) and _listlike(b.type):
        return pc.or_(one_null, _list_differs(_entries_sorted(a), _entries_sorted(b), both))
    ta, tb = canonical_text(a), canonical_text(b)
    return pc.or_(one_null, pc.fill_null(pc.not_equal(ta, tb), False))


def _field(s: pa.Array, name: str, other: pa.StructType) -> pa.Array:
    """Field ``name`` of struct array ``s`` (null where ``s`` is); all nulls when ``s`` lacks it."""
    import pyarrow as pa
    import pyarrow.compute as pc

    i = s.type.get_field_index(name)
    if i >= 0:
        return pc.struct_field(s, [i])
    return pa.nulls(len(s), other.field(other.get_field_index(name)).type)


def _entries_sorted(x: pa.Array) -> pa.Array:
    """A map as a list of its entries sorted by key within each row (lists come back as they are)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.types as pt

    if not pt.is_map(x.type):
        return x
    entry = pa.struct([x.type.key_field, x.type.item_field])
    lists = x.cast(pa.list_(entry))
    values = lists.flatten()
    if not len(values):
        return lists
    try:
        keyed = pa.table({"row": pc.list_parent_indices(lists), "key": pc.struct_field(values, [0])})
        order = pc.sort_indices(keyed, sort_keys=[("row", "ascending"), ("key", "ascending")])
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):  # keys that do not sort: entries as stored
        return lists
    sizes = pc.fill_null(pc.list_value_length(lists), 0).to_numpy()
    offsets = pa.array(np.concatenate([[0], np.cumsum(sizes)]), pa.int32())
    return pa.ListArray.from_arrays(offsets, values.take(order), pa.list_(entry),
                                    mask=pc.is_null(lists))


def _list_differs(a: pa.Array, b: pa.Array, both: pa.Array) -> pa.Array:
    """Where both rows hold lists: True where the lengths or any pair of elements differ."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    same_len = pc.fill_null(pc.equal(pc.list_value_length(a), pc.list_value_length(b)), False)
    ne = pc.and_(both, pc.invert(same_len)).to_numpy(zero_copy_only=False).copy()
    rows = pc.indices_nonzero(pc.and_(both, same_len))
    if len(rows):
        la, lb = a.take(rows), b.take(rows)
        d = differs(la.flatten(), lb.flatten())
        if pc.any(d).as_py():
            parents = pc.list_parent_indices(la).filter(d)
            ne[rows.to_numpy()[np.unique(parents.to_numpy())]] = True
    return pa.array(ne, pa.bool_())


def _canonical(v: Any) -> Any:
    """A Python value from ``as_py`` in a form whose JSON text is the same for the same content."""
    if isinstance(v, dict):
        return {str(k): _canonical(x) for k, x in v.items()}
    if isinstance(v, list):
        if v and all(isinstance(e, tuple) for e in v):  # a map's (key, value) entries: a set
            pairs = [[_canonical(k), _canonical(x)] for k, x in v]
            return sorted(pairs, key=lambda p: json.dumps(p, sort_keys=True, default=str))
        return [_canonical(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    return v


def canonical_json(v: Any) -> str:
    """One value (from ``as_py``) as canonical JSON: object keys sorted, map entries sorted."""
    return json.dumps(_canonical(v), sort_keys=True, ensure_ascii=False, default=str)


def canonical_text(x: pa.Array) -> pa.Array:
    """Each value as text: its canonical JSON when nested (nulls stay null), pyarrow's cast
    otherwise (so that a flat value compares as it always did)."""
    import pyarrow as pa
    import pyarrow.types as pt

    if not pt.is_nested(x.type):
        return x.cast(pa.string())
    return pa.array([None if v is None else canonical_json(v) for v in x.to_pylist()], pa.string())


def _ns(t: pa.DataType) -> bool:
    """A timestamp, time or duration in nanoseconds, which Python's datetime cannot hold."""
    import pyarrow.types as pt

    return (pt.is_timestamp(t) or pt.is_time64(t) or pt.is_duration(t)) and t.unit == "ns"


def py_value(v: pa.Scalar) -> Any:
    """A value to show: maps as dicts (as a JSON object reads), as stored when a key repeats;
    a nanosecond time as its text (``fmt.temporal``)."""
    if _ns(v.type):
        return None if not v.is_valid else temporal(v.value, v.type)
    try:
        return _text_of_bytes(v.as_py(maps_as_pydicts="strict"))
    except (KeyError, TypeError):
        return _text_of_bytes(v.as_py())


def _text_of_bytes(v: Any) -> Any:
    """Bytes as a summary writes them (UTF-8, other bytes as ``\\xe9``: a Latin-1 CSV's text), so
    that text and JSON show ``caf\\xe9``, not Python's ``b'caf\\xe9'``; anything else as it is."""
    return v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else v


def py_list(x: pa.Array | pa.ChunkedArray) -> list[Any]:
    """The values of a flat column to show, nanosecond times as their text."""
    import pyarrow as pa

    if not _ns(x.type):
        return [_text_of_bytes(v) for v in x.to_pylist()]
    return [None if v is None else temporal(v, x.type) for v in x.cast(pa.int64()).to_pylist()]


def py_rows(t: pa.Table) -> list[dict[str, Any]]:
    """Rows to show, maps as dicts as in ``py_value``, nanosecond times as their text."""
    import pyarrow as pa

    if any(_ns(f.type) for f in t.schema):
        cols = [pa.array(py_list(c)) if _ns(f.type) else c for f, c in zip(t.schema, t.columns)]
        t = pa.Table.from_arrays(cols, names=t.column_names)
    try:
        rows = t.to_pylist(maps_as_pydicts="strict")
    except (KeyError, TypeError):
        rows = t.to_pylist()
    return [{k: _text_of_bytes(v) for k, v in r.items()} for r in rows]
