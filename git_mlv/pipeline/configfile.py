"""Reading and writing files in git-config syntax (``.gitmlv``, ``.gitmlv.lock``).

git itself parses (``git config -f FILE -l -z`` or ``--blob=REV:FILE``), so quoting, escapes and
continuation lines mean exactly what they mean to git. Writing is ours: the ``[stage "..."]`` sections
are rendered canonically (sorted, fixed key order, values quoted only when needed) so that two tools
writing the same content write the same bytes, and diffs and merges stay clean.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from ..core.fsutil import atomic_write
from ..errors import MlvError
from ..gitio.git import GitError, Repo


class ConfigFileError(MlvError):
    """A git-config file of the pipeline is malformed."""


Items = list[tuple[str, str, str, str | None]]  # (section, subsection, variable, value)

# A section header: [name] or [name "sub"] or the old [name.sub] form.
_HEADER = re.compile(r'\s*\[\s*([A-Za-z0-9.-]+)\s*(?:"((?:[^"\\\n]|\\.)*)")?\s*\]')


def read_items(repo: Repo, path: str | None = None, blob: str | None = None,
               name: str | None = None) -> Items:
    """Every (section, subsection, variable, value) of a file, in file order.

    ``path`` is a file on disk; ``blob`` a ``REV:PATH`` spec or a blob id read from git objects
    (``name``: what an error calls it). Section and variable names come back lower-cased (git's
    rule); subsection names keep their case.
    """
    src = ["-f", path] if path is not None else [f"--blob={blob}"]
    try:
        raw = repo.git("config", *src, "-l", "-z")
    except GitError as e:
        where = name or blob or os.path.relpath(str(path), repo.worktree or ".")
        msg = str(e).removeprefix("git config: ").removeprefix("fatal: ")
        msg = re.sub(r" in (file|blob) .*$", "", msg)  # git names the file again, in full
        raise ConfigFileError(f"{where} is malformed: {msg}") from None
    items: Items = []
    for rec in raw.split(b"\0"):
        if not rec:
            continue
        key_b, nl, value_b = rec.partition(b"\n")
        key = key_b.decode("utf-8", errors="surrogateescape")
        value = value_b.decode("utf-8", errors="surrogateescape") if nl else None
        section, _, rest = key.partition(".")
        sub, dot, var = rest.rpartition(".")
        if not dot:
            sub, var = "", rest
        items.append((section, sub, var, value))
    return items


def quote(value: str) -> str:
    """A git-config value that reads back as ``value``: quoted and escaped only when needed."""
    if value and value == value.strip() and not any(c in value for c in '"\\#;\n\t\b'):
        return value
    esc = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    return '"' + esc.replace("\b", "\\b") + '"'


def render_section(section: str, sub: str, pairs: Iterable[tuple[str, str]]) -> str:
    """``[section "sub"]`` and one ``\\tkey = value`` line per pair."""
    name = sub.replace("\\", "\\\\").replace('"', '\\"')
    lines = [f'[{section} "{name}"]\n']
    lines += [f"\t{k} = {quote(v)}\n" for k, v in pairs]
    return "".join(lines)


def replace_sections(text: str, section: str, rendered: str) -> str:
    """``text`` with every ``[section ...]`` block removed and ``rendered`` appended.

    Lines of other sections (and comments before the first header) are kept byte for byte, so
    settings written by other tools (``[core]``, ``[remote "x"]``) survive our rewrites.
    """
    kept: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        m = _HEADER.match(line)
        if m:
            name = m.group(1).lower()
            inside = name == section or name.startswith(section + ".")
        if not inside:
            kept.append(line)
    head = "".join(kept).rstrip("\n")
    head = head + "\n" if head.strip() else ""
    return head + rendered


def save_sections(path: str, section: str, rendered: str) -> None:
    """Replace every ``[section ...]`` block of the file at ``path`` by ``rendered`` (atomically,
    and only when that changes the file), keeping every other line as it was."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        text = ""
    new = replace_sections(text, section, rendered)
    if new != text:
        atomic_write(path, new.encode("utf-8"))
