"""Small immutable records without ``dataclasses``.

``dataclasses`` imports ``inspect`` (``ast``, ``dis``, ``tokenize``...) and builds each class's
methods with ``exec``: with the eight frozen dataclasses a filter start defined, that cost ~40 ms
of CPU of a ~130 ms one-file smudge at load 14 (`farm-bench`, bench/RESULTS.md one5), paid by
every filter and hook git starts. A record lists its fields in ``__slots__``; equality, hash and
repr come from them, as a frozen dataclass's do, and its attributes cannot be set after
``__init__`` (which sets them with ``object.__setattr__``, as a frozen dataclass's does).
"""

from __future__ import annotations

from typing import Any


class Record:
    """Base of an immutable record whose fields are its ``__slots__``, in order."""

    __slots__: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.__slots__)

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` (field name -> value), as ``dataclasses.replace`` makes."""
        return self.__class__(**{**{n: getattr(self, n) for n in self.__slots__}, **changes})

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined, no-any-return]

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.__slots__)
        return f"{self.__class__.__qualname__}({fields})"

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:  # copy and pickle: __init__ takes the fields
        return self.__class__, self._values()

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")
