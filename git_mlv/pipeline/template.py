"""Parameter values in a stage's ``cmd``: ``${KEY}`` and ``${FILE:KEY}`` (docs/pipelines.md, "Values
from parameter files in cmd").

``${KEY}`` names a key of ``params.yaml`` at the repository root, ``${FILE:KEY}`` a key of FILE.
Each reference is a parameter of the stage (``FILE:KEY``), read again at every run; ``\\${`` is
not a reference: the backslash goes and ``${...}`` reaches the shell as written.
"""

from __future__ import annotations

import re
from typing import Any

DEFAULT_FILE = "params.yaml"
# a backslash before `${` escapes it (DVC's KEYCRE, dvc/parsing/interpolate.py); `}` ends the reference
_REF = re.compile(r"(?P<escape>\\)?\$\{(?P<inner>[^}]*)\}")
_KEY = re.compile(r"[^\s=:${}\[\]]+\Z")


class TemplateError(ValueError):
    """A ``${...}`` that is not a reference to a key; the message says which and why."""


def references(cmd: str) -> list[tuple[str, str]]:
    """The (``${...}`` as written, ``FILE:KEY``) references of ``cmd``, in order, without escaped
    ones; TemplateError for a malformed one."""
    out = []
    for m in _REF.finditer(cmd):
        if m.group("escape"):
            continue
        out.append((m.group(0), entry(m.group("inner"), m.group(0))))
    return out


def entry(inner: str, shown: str) -> str:
    """``FILE:KEY`` of the inside of ``${...}``; TemplateError when it is not one."""
    file, sep, key = inner.rpartition(":")
    if not sep:
        file = DEFAULT_FILE
    if not _KEY.match(key) or key.startswith(".") or key.endswith(".") or ".." in key:
        raise TemplateError(f"{shown} is not ${{KEY}} or ${{FILE:KEY}} (a key such as train.lr; "
                            "write \\${ for a literal ${ )")
    if sep and (not file or file != file.strip()):
        raise TemplateError(f"{shown}: no file before ':'")
    return f"{file}:{key}"


def param_entries(cmd: str) -> list[str]:
    """The distinct ``FILE:KEY`` parameters ``cmd`` names (empty when it names none or is malformed:
    validation reports that)."""
    try:
        return list(dict.fromkeys(e for _, e in references(cmd)))
    except TemplateError:
        return []


def to_str(value: Any) -> str:
    """A value as DVC writes it into a string (dvc/parsing/interpolate.py: to_str)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render(cmd: str, value_of: dict[str, Any]) -> str:
    """``cmd`` with each reference replaced by ``value_of[FILE:KEY]`` (flattened values: a key
    with a mapping value has only entries below it) and each ``\\${`` unescaped; TemplateError
    naming the reference for a missing or non-scalar value."""

    def one(m: re.Match[str]) -> str:
        if m.group("escape"):
            return m.group(0)[1:]
        name = entry(m.group("inner"), m.group(0))
        if name not in value_of:
            file, key = name.split(":", 1)
            if any(k.startswith(name + ".") for k in value_of):
                raise TemplateError(f"{m.group(0)} in its cmd is a mapping; name one of its keys "
                                    f"(${{{m.group('inner')}.KEY}})")
            raise TemplateError(f"{m.group(0)} in its cmd: no parameter {key!r} in {file}")
        value = value_of[name]
        if value is None or isinstance(value, (list, dict)):
            what = "null" if value is None else f"a {type(value).__name__}"
            raise TemplateError(f"{m.group(0)} in its cmd is {what}; only a single value (a string, "
                                "a number, a boolean) can be written into a command")
        return to_str(value)

    return _REF.sub(one, cmd)
