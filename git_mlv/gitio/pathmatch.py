"""Matching paths against ``.gitattributes`` patterns, as git does (gitattributes(5), wildmatch).

- A pattern without a ``/`` (a trailing one aside) matches a file's name at any depth: ``*.bin``.
- Otherwise it matches the whole path from the root (a leading ``/`` is dropped): ``data/*.csv``;
  ``*`` and ``?`` stop at ``/``; ``**/`` is any number of folders, ``/**`` everything inside.
- ``[...]`` classes (``[[:space:]]`` too) and ``\\`` escapes as in git.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

_CLASSES = {
    "alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "blank": " \\t", "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9", "graph": "!-~", "lower": "a-z", "print": " -~", "punct": "!-/:-@\\[-`{-~",
    "space": " \\t\\n\\r\\f\\v", "upper": "A-Z", "xdigit": "0-9a-fA-F",
}


def _bracket(pat: str, i: int) -> tuple[str, int]:
    """Translate the class starting at pat[i] == '['; returns (regex, index after it)."""
    j = i + 1
    negate = j < len(pat) and pat[j] in "!^"
    if negate:
        j += 1
    parts: list[str] = []
    first = True
    while j < len(pat):
        c = pat[j]
        if c == "]" and not first:
            body = "".join(parts)
            return (f"[^/{body}]" if negate else f"[{body}]"), j + 1
        first = False
        if c == "[" and pat.startswith("[:", j):
            end = pat.find(":]", j + 2)
            if end > 0 and pat[j + 2:end] in _CLASSES:
                parts.append(_CLASSES[pat[j + 2:end]])
                j = end + 2
                continue
        if c == "\\" and j + 1 < len(pat):
            j += 1
            c = pat[j]
        if c in "\\]^-[" and not (c == "-" and parts and j + 1 < len(pat) and pat[j + 1] != "]"):
            parts.append("\\" + c)
        else:
            parts.append(c)
        j += 1
    return re.escape("["), i + 1  # no closing bracket: a literal '['


def _translate(pat: str) -> str:
    out: list[str] = []
    i = 0
    n = len(pat)
    while i < n:
        c = pat[i]
        if c == "*":
            if pat.startswith("**", i) and (i == 0 or pat[i - 1] == "/"):
                end = i + 2
                if end == n:  # "/**" at the end (or "**" alone): everything
                    out.append(".*")
                    i = end
                    continue
                if pat[end] == "/":  # "**/": zero or more folders
                    out.append("(?:.*/)?")
                    i = end + 1
                    continue
            while i < n and pat[i] == "*":
                i += 1
            out.append("[^/]*")
            continue
        if c == "?":
            out.append("[^/]")
        elif c == "[":
            rx, i = _bracket(pat, i)
            out.append(rx)
            continue
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pat[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> tuple[bool, re.Pattern[str]]:
    """(matches the basename only, compiled regex) for one gitattributes pattern."""
    if pattern.endswith("/"):  # a folder pattern: gitattributes never applies it to files
        return False, re.compile(r"(?!)")
    basename_only = "/" not in pattern
    try:
        return basename_only, re.compile(_translate(pattern.removeprefix("/")) + r"\Z", re.DOTALL)
    except re.error:  # a range upside down, `[z-a]`: git's wildmatch matches no character with
        # it; here the pattern matches nothing (before: "internal error: bad character range"
        # from every command that read the pattern, e.g. mlv.fetchExclude)
        return basename_only, re.compile(r"(?!)")


def matches(pattern: str, path: str) -> bool:
    """True when the gitattributes ``pattern`` applies to ``path`` (root-relative, ``/``-separated)."""
    basename_only, rx = compile_pattern(pattern)
    return rx.match(path.rsplit("/", 1)[-1] if basename_only else path) is not None


def ignore_matches(pattern: str, path: str) -> bool:
    """gitignore matching: the pattern matches ``path`` or one of its leading folders (git ignores
    everything below an ignored folder); a pattern ending in ``/`` matches folders only."""
    folder_only = pattern.endswith("/")
    pat = pattern.rstrip("/")
    if not pat:
        return False
    parts = path.split("/")
    for n in range(1, len(parts) + 1):
        if folder_only and n == len(parts):
            break
        if matches(pat, "/".join(parts[:n])):
            return True
    return False


class PathFilter:
    """``--include`` / ``--exclude`` patterns: a path is chosen when an include matches and no
    exclude does (git-lfs's migrate semantics)."""

    def __init__(self, include: Iterable[str], exclude: Iterable[str] = ()) -> None:
        self.include = list(include)
        self.exclude = list(exclude)

    def __call__(self, path: str) -> bool:
        """True when ``path`` is chosen."""
        return any(matches(p, path) for p in self.include) and not any(
            matches(p, path) for p in self.exclude)
