"""Pickles read without running them: what ``git diff`` shows of a scikit-learn ``model.pkl`` and of
the object inside a PyTorch checkpoint (torchfile.py).

``SafeUnpickler`` imports nothing. Every global a pickle names becomes an inert placeholder class
(a subclass of ``Opaque`` named after it) that records its arguments and state; a pickle can make
the unpickler call only those placeholders and the few builders listed here, never a function of
the pickle's choosing (``os.system``, ``builtins.eval``). numpy arrays (``_reconstruct`` and
``ndarray``'s state) and dtypes are rebuilt as ``Array`` records from their bytes; nothing of numpy
is run but ``numpy.dtype`` on a type code.

``walk`` lists what the object holds, by path: ``object PATH CLASS`` for each placeholder (an
estimator and its sub-estimators), ``value PATH V`` for plain numbers, strings and booleans (the
hyperparameters), and arrays, each with its dtype and shape.
"""

from __future__ import annotations

import collections
import math
import pickle
from collections.abc import Callable
from typing import Any

from .fallback import NotThisFormat


class Opaque:
    """What a global the unpickler does not know would have built: its name, arguments, state."""

    qualname = "object"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.state: Any = None

    def __setstate__(self, state: Any) -> None:
        self.state = state

    # what a placeholder receives from SETITEM(S) and APPEND(S) in a pickle (a dict or list subclass)
    def __setitem__(self, key: Any, value: Any) -> None:
        if not isinstance(self.state, dict):
            self.state = {}
        self.state[key] = value

    def append(self, value: Any) -> None:
        self.extend([value])

    def extend(self, values: Any) -> None:
        if not isinstance(self.state, list):
            self.state = []
        self.state.extend(values)


class Array:
    """A numpy array from a pickle: dtype, shape, order and its raw bytes (not yet an ndarray)."""

    def __init__(self, dtype: Any, shape: tuple[int, ...], fortran: bool, data: bytes) -> None:
        self.dtype, self.shape, self.fortran, self.data = dtype, shape, fortran, data

    def ndarray(self) -> Any:
        """The values (numpy reads the bytes; object arrays are never made)."""
        import numpy as np

        if self.dtype is None or self.dtype.hasobject:
            return None
        count = math.prod(self.shape)
        if count * self.dtype.itemsize != len(self.data):
            raise NotThisFormat(f"an array of {len(self.data)} bytes, its shape and dtype "
                                f"{self.dtype} {list(self.shape)} say {count * self.dtype.itemsize}")
        return np.frombuffer(self.data, dtype=self.dtype).reshape(self.shape,
                                                                   order="F" if self.fortran else "C")


class _DType(Opaque):
    qualname = "numpy.dtype"

    def dtype(self) -> Any:
        import numpy as np

        try:
            dt = np.dtype(str(self.args[0]))  # a type code such as 'f8' or 'U5': no code runs
        except (TypeError, ValueError, IndexError):
            return None
        state = self.state
        if isinstance(state, tuple) and len(state) > 1 and state[1] in ("<", ">") and dt.itemsize > 1:
            dt = dt.newbyteorder(state[1])
        if dt.kind == "V" and isinstance(state, tuple) and len(state) >= 6:
            sub = state[2]  # a subarray: (its element's dtype, its shape)
            if (isinstance(sub, tuple) and len(sub) == 2 and isinstance(sub[0], _DType)
                    and isinstance(sub[1], tuple) and all(isinstance(d, int) for d in sub[1])):
                base = sub[0].dtype()
                try:
                    return dt if base is None else np.dtype((base, sub[1]))
                except (TypeError, ValueError):  # a shape no dtype can have (a damaged pickle)
                    return dt
            return _record(state) or dt
        return dt


def _record(state: tuple[Any, ...]) -> Any:
    """A structured dtype from its pickled state (version, order, subarray, names, fields,
    itemsize...), field by field from their own type codes; None when the state is not one: such a
    record was ``|V12``, its fields unseen."""
    import numpy as np

    names, fields, itemsize = state[3], state[4], state[5]
    if not (isinstance(names, tuple) and isinstance(fields, dict) and isinstance(itemsize, int)):
        return None
    formats, offsets = [], []
    for n in names:
        entry = fields.get(n)
        if not (isinstance(n, str) and isinstance(entry, tuple) and len(entry) >= 2
                and isinstance(entry[0], _DType) and isinstance(entry[1], int)):
            return None
        sub = entry[0].dtype()
        if sub is None:
            return None
        formats.append(sub)
        offsets.append(entry[1])
    try:
        return np.dtype({"names": list(names), "formats": formats, "offsets": offsets, "itemsize": itemsize})
    except (TypeError, ValueError):
        return None


class _NDArray(Opaque):
    """``numpy.core.multiarray._reconstruct(ndarray, ...)``'s result; BUILD gives its state."""

    qualname = "numpy.ndarray"

    def __setstate__(self, state: Any) -> None:
        self.state = state
        if isinstance(state, tuple) and len(state) == 5:  # (version, shape, dtype, fortran, data)
            _, shape, dtype, fortran, data = state
            dt = dtype.dtype() if isinstance(dtype, _DType) else None
            if isinstance(data, (bytes, bytearray)) and isinstance(shape, tuple):
                self.array = Array(dt, tuple(int(n) for n in shape), bool(fortran), bytes(data))
            elif isinstance(data, list) and isinstance(shape, tuple) and dt is not None and dt.hasobject:
                # an array of Python objects (scikit-learn's feature_names_in_): its items are in
                # the pickle as any value is, and were left out of the summary with the array
                self.array = Array(dt, tuple(int(n) for n in shape), bool(fortran), b"")
                self.items = data


def _reconstruct(cls: Any, *args: Any) -> Any:
    return _NDArray()


def _scalar(dtype: Any, data: Any = None) -> Any:
    """``numpy.core.multiarray.scalar(dtype, bytes)``: a numpy scalar (``n_classes_``), as the
    plain number it holds; anything else stays a placeholder."""
    import numpy as np

    dt = dtype.dtype() if isinstance(dtype, _DType) else None
    if dt is not None and not dt.hasobject and dt.kind in "biufc" and isinstance(data, bytes) \
            and len(data) == dt.itemsize:
        return np.frombuffer(data, dtype=dt)[0].item()
    return type("scalar", (Opaque,), {"qualname": "numpy.scalar"})(dtype, data)


def _frombuffer(buf: Any, dtype: Any, shape: Any, order: Any = "C") -> Any:
    """``numpy.core.numeric._frombuffer(bytes, dtype, shape, order)``: an array (protocol 5)."""
    arr = _NDArray()
    dt = dtype.dtype() if isinstance(dtype, _DType) else None
    if isinstance(buf, (bytes, bytearray)) and isinstance(shape, tuple):
        arr.array = Array(dt, tuple(int(n) for n in shape), order == "F", bytes(buf))
    return arr


def _latin1(value: Any, encoding: str = "utf-8") -> Any:
    """``_codecs.encode(str, 'latin1')``, which protocols 0 and 1 write for a bytes object."""
    if isinstance(value, str) and encoding.lower() in ("latin1", "latin-1", "iso-8859-1"):
        return value.encode("latin-1")
    return type("encode", (Opaque,), {"qualname": "_codecs.encode"})(value, encoding)


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that imports nothing (see the module's docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        full = f"{module}.{name}"
        if name == "_reconstruct" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _reconstruct
        if name == "dtype" and module == "numpy":
            return _DType
        if name == "scalar" and module in ("numpy.core.multiarray", "numpy._core.multiarray"):
            return _scalar
        if name == "_frombuffer" and module in ("numpy.core.numeric", "numpy._core.numeric"):
            return _frombuffer  # protocol 5's arrays
        if full == "_codecs.encode":
            return _latin1  # how protocols 0 and 1 write bytes
        if full == "collections.OrderedDict":
            return collections.OrderedDict  # a mapping; BUILD may set attributes on it (torch does)
        return type(name, (Opaque,), {"qualname": full})  # inert: builds nothing but itself

    def persistent_load(self, pid: Any) -> Any:
        raise NotThisFormat("the pickle refers to data outside itself (a persistent id)")


def load(stream: Any, unpickler: Callable[[Any], Any] = SafeUnpickler) -> Any:
    """The object a pickle describes, made of placeholders; NotThisFormat if it does not parse.
    ``unpickler``: makes the unpickler of ``stream`` (joblib's reads the arrays after the pickle)."""
    try:
        return unpickler(stream).load()
    except NotThisFormat:
        raise
    except RecursionError:
        raise NotThisFormat("nested too deeply") from None
    except Exception as e:  # noqa: BLE001 - any malformed pickle: a note, never a failed diff
        raise NotThisFormat(f"{type(e).__name__}: {e}") from None


class Found:
    """What ``walk`` found, each list in the order met: (path, ...)."""

    def __init__(self) -> None:
        self.objects: list[tuple[str, str]] = []
        self.values: list[tuple[str, Any]] = []
        self.arrays: list[tuple[str, Array]] = []
        self.leaves: list[tuple[str, Any]] = []  # other records a caller asked for (torch tensors)


def walk(obj: Any, leaf: type | None = None, found: Found | None = None, path: str = "",
         depth: int = 0, limit: int = 100_000) -> Found:
    """Everything ``obj`` holds by path (dict keys joined with ``.``, items ``[i]``); objects of
    type ``leaf`` are collected, not entered. ``limit``: items visited at most (a pickle of a
    million floats is one array, not a million values, but a list of them is not)."""
    found = Found() if found is None else found
    stack = [(obj, path, depth)]
    seen = 0
    while stack and seen < limit:
        obj, path, depth = stack.pop()
        seen += 1
        if depth > 64:
            continue
        if leaf is not None and isinstance(obj, leaf):
            found.leaves.append((path, obj))
        elif isinstance(obj, (bool, int, float, str)):
            found.values.append((path, obj))
        elif isinstance(obj, _NDArray):
            array = getattr(obj, "array", None)
            if array is not None:
                found.arrays.append((path, array))
            items = getattr(obj, "items", None)
            if items is not None:  # an object array's items, by flat index
                stack += [(v, f"{path}[{i}]", depth + 1) for i, v in reversed(list(enumerate(items)))]
        elif isinstance(obj, dict):
            items = [(f"{path}.{k}" if path else str(k), v) for k, v in obj.items()]
            stack += [(v, p, depth + 1) for p, v in reversed(items)]
        elif isinstance(obj, (list, tuple)):
            stack += [(v, f"{path}[{i}]", depth + 1) for i, v in reversed(list(enumerate(obj)))]
        elif isinstance(obj, Opaque) and not isinstance(obj, _DType):
            found.objects.append((path, obj.qualname))
            inner = obj.state if obj.state is not None else (list(obj.args) if obj.args else None)
            if isinstance(inner, tuple) and len(inner) == 2 and isinstance(inner[1], dict) \
                    and (inner[0] is None or isinstance(inner[0], dict)):
                inner = {**(inner[0] or {}), **inner[1]}  # (the __dict__, the __slots__' values)
            if inner is not None:
                stack.append((inner, path, depth + 1))
    return found
