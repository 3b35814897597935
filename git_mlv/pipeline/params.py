"""Parameter values of stages: ``param = FILE:KEY`` entries resolved against a parameter file.

``FILE:KEY`` selects the key (``a.b.c`` reaches into nested mappings) and, when the value is a
mapping, every key below it; ``FILE`` alone selects every key of the file. Values are named
``FILE:flat.key`` in the lock and in diffs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..errors import MlvError
from .readers import flatten, parse, select
from .spec import Stage, parse_param
from .template import TemplateError, param_entries, references, render


class ParamError(MlvError):
    """A parameter a stage names cannot be read."""


def stage_values(
    stage: Stage, read: Callable[[str], bytes | None], strict: bool = True
) -> dict[str, Any]:
    """``{"FILE:key": value}`` for every param of ``stage`` (``${...}`` of its cmd too); ``read(path)``
    gives a file's bytes or None. With ``strict`` a missing file or key is a ParamError naming the
    stage, else it is skipped."""
    where = f"stage {stage.name!r}"
    out = values(stage.params, read, strict, where)
    if strict:  # a reference of cmd that cannot be read: named as written in cmd
        try:
            refs = references(stage.cmd)
        except TemplateError as e:
            raise ParamError(f"{where}: {e}") from None
        cached = _memo(read)
        for shown, entry in refs:
            try:
                out.update(values([entry], cached, True, where))
            except ParamError as e:
                raise ParamError(f"{where}: {shown} in its cmd: {str(e).removeprefix(where + ': ')} "
                                 f"(for the shell's own variable, write \\{shown})") from None
        return out
    out.update(values(param_entries(stage.cmd), read, strict, where))
    return out


def stage_command(stage: Stage, params: dict[str, Any]) -> str:
    """The command ``stage`` runs: its cmd with the ``${...}`` replaced by ``params`` (from
    ``stage_values``); ParamError naming the reference whose value cannot be written."""
    try:
        return render(stage.cmd, params)
    except TemplateError as e:
        raise ParamError(f"stage {stage.name!r}: {e}") from None


def _memo(read: Callable[[str], bytes | None]) -> Callable[[str], bytes | None]:
    seen: dict[str, bytes | None] = {}

    def cached(path: str) -> bytes | None:
        if path not in seen:
            seen[path] = read(path)
        return seen[path]

    return cached


def values(entries: Iterable[str], read: Callable[[str], bytes | None], strict: bool = True,
           where: str = "params", unparsed: dict[str, str] | None = None) -> dict[str, Any]:
    """Resolve ``FILE:KEY`` entries (see ``stage_values``). Not ``strict``, a file that does not
    parse is skipped like a missing one; ``unparsed`` then gets its path and the parse error."""
    docs: dict[str, dict[str, Any] | None] = {}
    out: dict[str, Any] = {}
    for entry in entries:
        file, key = parse_param(entry)
        if file not in docs:
            data = read(file)
            if data is None:
                docs[file] = None
            else:
                try:
                    docs[file] = flatten(parse(file, data))
                except MlvError as e:
                    if strict:
                        raise ParamError(f"{where}: {e}") from None
                    if unparsed is not None:
                        unparsed[file] = str(e)
                    docs[file] = None
        flat = docs[file]
        if flat is None:
            if strict:
                raise ParamError(f"{where}: parameter file {file!r} does not exist")
            continue
        chosen = select(flat, key)
        if not chosen and strict and key:
            raise ParamError(f"{where}: no parameter {key!r} in {file}")
        out.update({f"{file}:{k}": v for k, v in chosen.items()})
    return out
