"""``from-dvc`` and the files DVC's ``.gitignore`` lines hid inside its output folders.

``dvc add data/imgs`` writes ``/imgs`` to ``data/.gitignore``; the migration drops that line (git-mlv
tracks the folder's files), so files of such a folder DVC did not track become untracked. Those a
``.dvcignore`` kept out of DVC were meant to be versioned by nothing: the ``.dvcignore`` lines that
match them are appended to the ``.gitignore`` of the ``.dvcignore``'s own folder (both files have
gitignore syntax, patterns relative to their folder, so the lines mean the same there). Only those
lines: a ``.dvcignore`` line that keeps a source folder out of DVC's walks (``/src/``) must not hide
new source files from git. The files no line covers (added after ``dvc add``) are named in a
warning, since ``git add -A`` would store them as data.
"""

from __future__ import annotations

import os
import posixpath

from ..gitio.pathmatch import ignore_matches
from .context import Workspace

_SHOWN = 5  # untracked files named in a warning
DVCIGNORE = ".dvcignore"
_HEADER = "# from .dvcignore: files DVC ignored in its outputs (git mlv migrate from-dvc)\n"


def untracked_data(ws: Workspace) -> list[str]:
    """Untracked, not ignored files that `git add` would store as git-mlv data."""
    return [p.decode("utf-8", "surrogateescape") for p in ws.repo.git_records(
        "ls-files", "-z", "--others", "--exclude-standard", "--", ":(top,attr:filter=mlv)") if p]


def _lines(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return f.read().splitlines()
    except OSError:
        return []


def _line_matches(line: str, rel: str) -> bool:
    """Whether gitignore ``line`` (of a file in some folder) applies to ``rel`` (relative to that
    folder) or to a folder above it: git ignores everything below an ignored folder."""
    pattern = line.strip()
    if not pattern or pattern.startswith("#"):
        return False
    return ignore_matches(pattern.removeprefix("!").removeprefix("\\"), rel)


def _dvcignore_lines(top: str, files: list[str]) -> dict[str, list[str]]:
    """Folder (root-relative, "" for the root) -> the lines of its ``.dvcignore`` that apply to
    some of ``files``, in their order (a negation among them too, so the meaning is kept)."""
    found: dict[str, set[int]] = {}
    texts: dict[str, list[str]] = {}
    for path in files:
        folder = posixpath.dirname(path)
        while True:
            if folder not in texts:
                texts[folder] = _lines(os.path.join(top, folder, DVCIGNORE))
            rel = path[len(folder) + 1:] if folder else path
            hits = [i for i, line in enumerate(texts[folder]) if _line_matches(line, rel)]
            if hits:
                found.setdefault(folder, set()).update(hits)
            if not folder:
                break
            folder = posixpath.dirname(folder)
    return {f: [texts[f][i] for i in sorted(idx)] for f, idx in found.items()}


def _append(top: str, folder: str, lines: list[str]) -> list[str]:
    """Append ``lines`` (those not there yet) to ``folder``'s ``.gitignore``; the lines written."""
    path = os.path.join(top, folder, ".gitignore")
    have = _lines(path)
    new = [line for line in lines if line not in have]
    if not new:
        return []
    try:
        with open(path, "rb") as f:
            old = f.read()
    except FileNotFoundError:
        old = b""
    text = old + (b"\n" if old and not old.endswith(b"\n") else b"") + _HEADER.encode()
    text += "".join(line + "\n" for line in new).encode("utf-8", "surrogateescape")
    tmp = path + ".mlv-tmp"
    with open(tmp, "wb") as f:
        f.write(text)
    os.replace(tmp, path)  # appended, never clobbered: the old bytes come first, unchanged
    return new


def unhidden(ws: Workspace, before: set[str]) -> list[str]:
    """Lines for the summary about the files DVC's ``.gitignore`` lines hid in its output folders
    that the migration left untracked: the ``.dvcignore`` lines now in ``.gitignore`` files, and a
    warning naming the files still untracked."""
    new = [p for p in untracked_data(ws) if p not in before]
    if not new:
        return []
    top = ws.repo.top
    out = []
    written = {f: _append(top, f, lines) for f, lines in _dvcignore_lines(top, new).items()}
    written = {f: lines for f, lines in written.items() if lines}
    if written:
        where = ", ".join(posixpath.join(f, ".gitignore") for f in sorted(written))
        n = sum(len(lines) for lines in written.values())
        out.append(f"{n} line(s) of .dvcignore appended to {where}, so that git ignores the files DVC "
                   f"ignored in the converted outputs (e.g. {written[min(written)][0].strip()}): commit it")
        left = set(untracked_data(ws))
        new = [p for p in new if p in left]
    if new:
        more = f" and {len(new) - _SHOWN} more" if len(new) > _SHOWN else ""
        out.append(f"{len(new)} untracked file(s) in the converted outputs, which DVC's .gitignore lines hid "
                   f"(added after `dvc add`, or kept out of DVC by a .dvcignore line): "
                   f"{', '.join(new[:_SHOWN])}{more}; `git add` would store them as data: delete them or "
                   f"list them in .gitignore")
    return out
