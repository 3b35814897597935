"""DVC's ``${...}`` templating of a ``dvc.yaml`` stage, converted for ``migrate from-dvc``
(docs/migrate.md, "Templating").

DVC fills ``${KEY}`` (dvc/parsing) from, in this order, the ``params.yaml`` beside the
``dvc.yaml``, the top-level ``vars`` (a file, ``FILE:K1,K2`` for some of its keys, or a mapping
written inline) and the stage's own ``vars`` (files relative to its ``wdir``). Converted:

- in ``cmd``, a value from a file becomes a reference git-mlv reads at every run (``${KEY}`` for the
  root's ``params.yaml``, ``${FILE:KEY}`` otherwise; docs/pipelines.md), so the command keeps
  following the file and the key becomes a parameter of the stage; an inline value is written in
  (it is part of the stage's definition either way); ``\\${`` stays as it is (git-mlv reads it as DVC);
- in paths (``deps``, ``outs``, ``params``, ``wdir``...), the value is written in, and a value from a
  file is named in the summary (a path in ``.gitmlv`` is plain: editing the file no longer moves it);
  the same key in ``cmd`` is written in too, so that the command keeps writing the declared output.

A value that cannot follow the file (a list index ``${x[0]}``) is written in and named; a mapping or a
list inside a string, or a key no source has, is an error naming the stage.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from typing import Any

from ..errors import MlvError
from ..pipeline.readers import parse
from ..pipeline.template import DEFAULT_FILE, to_str
from .migrate_rewrite import MigrateError

_REF = re.compile(r"(?P<escape>\\)?\$\{(?P<inner>[^}]*)\}")  # DVC's KEYCRE: \${ is an escape
Read = Callable[[str], "bytes | None"]


class VarsError(MigrateError):
    """A templated stage from-dvc cannot convert; the message names it and what to do."""


class Context:
    """Where each value of a ``dvc.yaml``'s templating comes from: (root-relative file or None for
    an inline mapping, its document), first match wins, as DVC forbids redefining a key."""

    def __init__(self, sources: list[tuple[str | None, Any]]) -> None:
        self.sources = sources

    @classmethod
    def of_yaml(cls, yaml_path: str, doc: Any, read: Read | None) -> Context:
        """The context of a ``dvc.yaml`` (its params.yaml and top-level ``vars``)."""
        here = posixpath.dirname(yaml_path)
        ctx = cls([])
        default = posixpath.join(here, DEFAULT_FILE)
        if read is not None and (data := read(default)) is not None:
            ctx.sources.append((default, _parse(default, data, yaml_path)))
        vars_ = doc.get("vars") if isinstance(doc, dict) else None
        return ctx.with_vars(vars_, here, read, yaml_path)

    def with_vars(self, vars_: Any, base: str, read: Read | None, where: str) -> Context:
        """This context and the ``vars`` list (files relative to ``base``)."""
        sources = list(self.sources)
        for item in vars_ or []:
            if isinstance(item, dict):
                sources.append((None, item))
            elif isinstance(item, str):
                name, _, keys = item.partition(":")
                path = posixpath.normpath(posixpath.join(base, name))
                data = read(path) if read is not None else None
                if data is None:
                    if read is None:
                        continue
                    raise VarsError(f"{where}: vars file {path!r} does not exist")
                doc = _parse(path, data, where)
                if keys and isinstance(doc, dict):
                    doc = {k: doc[k] for k in (k.strip() for k in keys.split(",")) if k in doc}
                sources.append((path, doc))
            else:
                raise VarsError(f"{where}: cannot read vars entry {item!r}")
        return Context(sources)

    def lookup(self, expr: str) -> tuple[str | None, Any] | None:
        """(file or None, value) of ``expr`` (``a.b``, ``a[0]``), or None when no source has it."""
        parts = [p for p in expr.strip().replace("[", ".").replace("]", "").split(".")]
        for file, doc in self.sources:
            value, found = doc, True
            for p in parts:
                if isinstance(value, dict) and p in value:
                    value = value[p]
                elif isinstance(value, list) and p.lstrip("-").isdigit() and \
                        -len(value) <= int(p) < len(value):
                    value = value[int(p)]
                else:
                    found = False
                    break
            if found:
                return file, value
        return None


def _parse(path: str, data: bytes, where: str) -> Any:
    try:
        return parse(path, data)
    except MlvError as e:
        raise VarsError(f"{where}: {e}") from None


def has_refs(node: Any) -> bool:
    """True when a string of ``node`` (keys too) holds a ``${...}`` DVC would fill."""
    if isinstance(node, str):
        return any(not m.group("escape") for m in _REF.finditer(node))
    if isinstance(node, dict):
        return any(has_refs(k) or has_refs(v) for k, v in node.items())
    if isinstance(node, list):
        return any(has_refs(v) for v in node)
    return False


def fill_paths(node: Any, ctx: Context, where: str, notes: list[str], frozen: set[str]) -> Any:
    """``node`` (a stage without its cmd) with every ``${...}`` written in; a value from a file is
    named in ``notes`` and its key put in ``frozen``. A string that is only one reference takes the
    value itself (a list of deps)."""
    if isinstance(node, list):
        return [fill_paths(v, ctx, where, notes, frozen) for v in node]
    if isinstance(node, dict):
        return {fill_paths(k, ctx, where, notes, frozen): fill_paths(v, ctx, where, notes, frozen)
                for k, v in node.items()}
    if not isinstance(node, str) or not has_refs(node):
        return node
    refs = [m for m in _REF.finditer(node) if not m.group("escape")]
    if len(refs) == 1 and refs[0].group(0) == node:
        return _value(refs[0], ctx, where, notes, frozen)
    return _REF.sub(lambda m: m.group(0) if m.group("escape") else _scalar(
        m, _value(m, ctx, where, notes, frozen), where), node)


def _value(m: re.Match[str], ctx: Context, where: str, notes: list[str], frozen: set[str]) -> Any:
    got = ctx.lookup(m.group("inner"))
    if got is None:
        raise VarsError(f"{where}: {m.group(0)} names nothing in params.yaml or vars")
    file, value = got
    if file is not None:
        frozen.add(m.group("inner").strip())
        note = (f"{m.group(0)} written as {to_str(value)!r} (from {file}) in its paths and command: "
                "editing it no longer changes them")
        if note not in notes:
            notes.append(note)
    return value


def _scalar(m: re.Match[str], value: Any, where: str) -> str:
    if isinstance(value, (list, dict)) or value is None:
        what = "null" if value is None else f"a {type(value).__name__}"
        raise VarsError(f"{where}: {m.group(0)} is {what} inside a string; from-dvc writes only single "
                        "values into strings (DVC's dict unpacking is not converted): write the arguments "
                        "out first")
    return to_str(value)


def fill_cmd(cmd: str, ctx: Context, where: str, notes: list[str], frozen: set[str]) -> tuple[str, str]:
    """(the cmd for ``.gitmlv``, the cmd as DVC runs it): values from files become git-mlv
    references, inline ones and those of keys in ``frozen`` (written into a path) are written in."""
    ours, theirs, at = [], [], 0
    for m in _REF.finditer(cmd):
        ours.append(cmd[at:m.start()])
        theirs.append(cmd[at:m.start()])
        at = m.end()
        if m.group("escape"):
            ours.append(m.group(0))
            theirs.append(m.group(0)[1:])
            continue
        got = ctx.lookup(m.group("inner"))
        if got is None:
            raise VarsError(f"{where}: {m.group(0)} names nothing in params.yaml or vars")
        file, value = got
        text = _scalar(m, value, where)
        theirs.append(text)
        key = m.group("inner").strip()
        if file is None or key in frozen:  # a path holds the value: so must the cmd
            ours.append(text)
        elif "[" in key:  # git-mlv keys reach into mappings only
            ours.append(text)
            notes.append(f"{m.group(0)} written into the command as {text!r} (from {file}; git-mlv "
                         "references do not index lists): editing it no longer reruns the stage")
        else:
            ours.append("${" + (key if file == DEFAULT_FILE else f"{file}:{key}") + "}")
    ours.append(cmd[at:])
    theirs.append(cmd[at:])
    return "".join(ours), "".join(theirs)
