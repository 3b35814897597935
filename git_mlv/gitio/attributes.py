"""The ``.gitattributes`` lines that route files through git-mlv."""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..core.fsutil import atomic_write

ATTRS = "filter=mlv diff=mlv merge=mlv -text"
FILENAME = ".gitattributes"


def literal(path: str) -> str:
    """A pattern that matches ``path`` itself and nothing else: gitattributes patterns are globs,
    so ``a[1].bin`` matched ``a1.bin``; its glob characters, and a ``#`` or ``!`` that would start
    a comment or a negation, are escaped with a backslash."""
    return "".join("\\" + c if c in "*?[]\\!#" else c for c in path)


def anchored(path: str, folder: bool = False) -> str:
    """The pattern of ``path`` from the repository's root, taken literally (``literal``): the
    file itself, or for a ``folder`` everything under it."""
    return f"/{literal(path)}/**" if folder else f"/{literal(path)}"


def _escape(pattern: str) -> str:
    # gitattributes splits on whitespace; git-lfs writes spaces as [[:space:]] too.
    return pattern.replace(" ", "[[:space:]]")


def _unescape(pattern: str) -> str:
    return pattern.replace("[[:space:]]", " ")


def _read(worktree: str) -> list[str]:
    try:
        with open(os.path.join(worktree, FILENAME), encoding="utf-8") as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def _is_ours(line: str) -> bool:
    parts = line.split()
    return len(parts) > 1 and not line.lstrip().startswith("#") and "filter=mlv" in parts[1:]


def patterns(worktree: str) -> list[str]:
    """Patterns the root ``.gitattributes`` routes through git-mlv, in file order."""
    return patterns_in(_read(worktree))


def patterns_in(lines: Sequence[str]) -> list[str]:
    """Patterns the ``.gitattributes`` lines ``lines`` route through git-mlv, in order."""
    return [_unescape(line.split()[0]) for line in lines if _is_ours(line)]


def track(worktree: str, pats: list[str]) -> list[str]:
    """Add a line for each pattern not yet tracked; returns the patterns added."""
    lines = _read(worktree)
    have = set(patterns(worktree))
    added = [p for p in dict.fromkeys(pats) if p not in have]
    if added:
        lines += [f"{_escape(p)} {ATTRS}" for p in added]
        atomic_write(os.path.join(worktree, FILENAME), ("\n".join(lines) + "\n").encode())
    return added


def untrack(worktree: str, pats: list[str]) -> list[str]:
    """Remove our lines for these patterns; returns the patterns removed."""
    lines = _read(worktree)
    drop = set(pats)
    kept, removed = [], []
    for line in lines:
        if _is_ours(line) and _unescape(line.split()[0]) in drop:
            removed.append(_unescape(line.split()[0]))
        else:
            kept.append(line)
    if removed:
        atomic_write(os.path.join(worktree, FILENAME), ("\n".join(kept) + "\n").encode() if kept else b"")
    return removed


UNSET = "!filter !diff !merge !text"


def with_patterns(text: bytes, include: Sequence[str], exclude: Sequence[str] = ()) -> bytes:
    """``.gitattributes`` content plus a line for every pattern it does not route through git-mlv
    yet, and an ``!filter ...`` line for every excluded pattern (a pure function of ``text``: a
    history rewrite gives every commit the same lines)."""
    lines = text.decode("utf-8", "surrogateescape").splitlines()
    have = {_unescape(line.split()[0]) for line in lines if _is_ours(line)}
    unset = {_unescape(line.split()[0]) for line in lines if line.split()[1:] == UNSET.split()}
    add = [f"{_escape(p)} {ATTRS}" for p in dict.fromkeys(include) if p not in have]
    add += [f"{_escape(p)} {UNSET}" for p in dict.fromkeys(exclude) if p not in unset]
    if not add:
        return text
    return ("\n".join(lines + add) + "\n").encode("utf-8", "surrogateescape")
