"""``foreach`` and ``matrix`` stages of a ``dvc.yaml``, written out as plain stages for ``migrate
from-dvc`` (docs/migrate.md).

DVC generates one stage per item (dvc/parsing/__init__.py): ``foreach`` over a list of scalars
names them ``NAME@VALUE``, over a list of lists or mappings ``NAME@INDEX``, over a mapping
``NAME@KEY``; ``matrix`` (a mapping of lists) names each combination ``NAME@V1-V2`` (``AXIS`` +
index for a non-scalar value). In the stage (``do:`` for foreach, the rest of the stage for
matrix), ``${item}``, ``${item.field}``, ``${item[0]}`` and ``${key}`` stand for the item; a string
that is only one of them takes the value itself (a list of deps), otherwise the value is written
into the string as DVC writes it (``true``/``false`` for booleans).

Only what is written in the ``dvc.yaml`` itself is expanded. A ``foreach``/``matrix`` whose items
come from ``${...}`` (params.yaml, ``vars``) is refused: written out, the list would no longer
follow the params file. Other ``${...}`` left in a generated stage are converted by the caller
as any templating is (migrate_dvcvars.py).

A ``.gitmlv`` stage name is letters, digits, ``_`` and ``-`` (pipeline/spec.py): ``NAME@KEY``
becomes ``NAME-KEY`` with every other character turned into ``-`` (``prep@data/a.csv`` ->
``prep-data-a-csv``), made unique with a number when two would meet; ``dvc.lock``'s entries,
keyed by DVC's names, are found through the returned map.
"""

from __future__ import annotations

import copy
import itertools
import re
from collections.abc import Mapping
from typing import Any

from .migrate_rewrite import MigrateError

JOIN = "@"
_REF = re.compile(r"(?<!\\)\$\{(?P<inner>[^}]*)\}")  # DVC's KEYCRE: \${ is an escape
_NOT_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class ExpandError(MigrateError):
    """A foreach/matrix stage that cannot be written out; the message names it and what to do."""


def expand(defined: Mapping[Any, Any], where: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``defined`` (a dvc.yaml's ``stages``) with its foreach/matrix groups written out:
    ({stage name: stage}, {DVC's generated name: the name given here}). Plain stages keep their
    name and their place; generated ones take the group's place, in DVC's order."""
    taken = {str(n) for n, st in defined.items() if not _is_group(st)}
    out: dict[str, Any] = {}
    names: dict[str, str] = {}
    for name, st in defined.items():
        name = str(name)
        if not _is_group(st):
            out[name] = st
            continue
        for key, stage in _generate(name, st, f"{where}: stage {name!r}"):
            dvc_name = f"{name}{JOIN}{key}"
            ours = _unique(_NOT_NAME.sub("-", f"{name}-{key}").strip("-") or name, taken)
            taken.add(ours)
            names[dvc_name] = ours
            out[ours] = stage
    return out, names


def _is_group(st: Any) -> bool:
    return isinstance(st, dict) and ("foreach" in st or "matrix" in st)


def _unique(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    return next(f"{name}-{i}" for i in itertools.count(2) if f"{name}-{i}" not in taken)


def _generate(name: str, st: dict[str, Any], where: str) -> list[tuple[str, Any]]:
    """(key, stage) of each item of a foreach/matrix group, in DVC's order."""
    if "foreach" in st:
        if "matrix" in st or "do" not in st:
            raise ExpandError(f"{where}: foreach needs `do:` (and no `matrix:`), as DVC says")
        items = _literal(st["foreach"], where, "foreach")
        if isinstance(items, Mapping):
            pairs = [(_to_str(k), {"item": v, "key": _to_str(k)}) for k, v in items.items()]
        elif isinstance(items, list):
            composite = any(isinstance(v, (list, dict)) for v in items)
            pairs = [(str(i) if composite else _to_str(v), {"item": v}) for i, v in enumerate(items)]
        else:
            raise ExpandError(f"{where}: foreach is not a list or a mapping")
        template = st["do"]
    else:
        if "do" in st:
            raise ExpandError(f"{where}: matrix takes the stage's own keys, not `do:`, as DVC says")
        axes = _literal(st["matrix"], where, "matrix")
        if not isinstance(axes, Mapping) or not all(isinstance(v, list) for v in axes.values()):
            raise ExpandError(f"{where}: matrix is not a mapping of lists")
        template = {k: v for k, v in st.items() if k != "matrix"}
        pairs = []
        for combo in itertools.product(*(list(enumerate(v)) for v in axes.values())):
            item = {str(axis): v for axis, (_, v) in zip(axes, combo)}
            key = "-".join(f"{axis}{i}" if isinstance(v, (list, dict)) else _to_str(v)
                           for axis, (i, v) in zip(axes, combo))
            pairs.append((key, {"item": item, "key": key}))
    # one stage per key, as DVC's mapping of them has (a value listed twice is one stage)
    return [(key, _fill(copy.deepcopy(template), ctx, f"{where}@{key}")) for key, ctx in dict(pairs).items()]


def _literal(value: Any, where: str, what: str) -> Any:
    if isinstance(value, str) and _REF.search(value):
        raise ExpandError(f"{where}: its {what} items come from {value}, which from-dvc does not write "
                          "out (the stages would no longer follow the params file); list the items in "
                          "dvc.yaml, or write each stage out, first")
    return value


def _fill(node: Any, ctx: dict[str, Any], where: str) -> Any:
    """``node`` with ``${item...}`` and ``${key}`` replaced (keys of mappings too)."""
    if isinstance(node, str):
        return _fill_str(node, ctx, where)
    if isinstance(node, list):
        return [_fill(v, ctx, where) for v in node]
    if isinstance(node, dict):
        return {_fill(k, ctx, where) if isinstance(k, str) else k: _fill(v, ctx, where)
                for k, v in node.items()}
    return node


def _fill_str(s: str, ctx: dict[str, Any], where: str) -> Any:
    refs = [m for m in _REF.finditer(s) if _head(m.group("inner")) in ctx]
    if not refs:
        return s
    if len(refs) == 1 and refs[0].group(0) == s:  # the whole string: the value itself
        return _select(refs[0].group("inner"), ctx, where)
    out, at = [], 0
    for m in refs:
        value = _select(m.group("inner"), ctx, where)
        if isinstance(value, (list, dict)):
            raise ExpandError(f"{where}: {m.group(0)} is a {type(value).__name__} inside a string; "
                              "from-dvc writes only single values into strings")
        out += [s[at:m.start()], _to_str(value)]
        at = m.end()
    return "".join(out) + s[at:]


def _head(expr: str) -> str:
    return re.split(r"[.\[]", expr.strip(), maxsplit=1)[0]


def _select(expr: str, ctx: dict[str, Any], where: str) -> Any:
    """``item.a[0].b``: walk mappings by key and lists by index."""
    parts = [p for p in expr.strip().replace("[", ".").replace("]", "").split(".")]
    value: Any = ctx
    for p in parts:
        if isinstance(value, Mapping) and p in value:
            value = value[p]
        elif isinstance(value, list) and p.lstrip("-").isdigit() and -len(value) <= int(p) < len(value):
            value = value[int(p)]
        else:
            raise ExpandError(f"{where}: ${{{expr}}} names nothing in the item")
    return value


def _to_str(v: Any) -> str:
    """A value as DVC writes it into a string (dvc/parsing/interpolate.py: to_str)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)
