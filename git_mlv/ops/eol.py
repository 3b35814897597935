"""Pointers git wrote with CRLF line ends: a ``text`` or ``eol`` attribute overriding ``-text``.

git converts line ends *before* it hands a blob to the smudge filter. Our patterns say ``-text``,
but a later line (``* text=auto eol=crlf``) or a folder's own ``.gitattributes`` (``*.csv text``)
overrides it; with ``core.autocrlf=true`` (Git for Windows' default) or ``eol=crlf`` the pointer
then reaches the filter as ``version ...\\r\\noid ...\\r\\n``, which is not a pointer (pointer-spec
rule 8), and is written as it came: the work tree holds pointer text, git shows it modified and
`git commit -a` would store that text as the file's data. ``git mlv status`` names these files.
"""

from __future__ import annotations

import os
import stat as stat_mod

from ..core.pointer import Pointer
from ..core.pointer_text import MAX_SIZE
from ..gitio import walk
from .context import Workspace


def converted_pointers(ws: Workspace, paths: list[str]) -> list[str]:
    """Those of ``paths`` (tracked files git reports modified: usually few) whose work-tree file
    is the pointer text of a tracked file with each LF turned into CRLF."""
    if not paths or ws.repo.worktree is None:
        return []
    top = ws.repo.top + os.sep
    out = []
    for e, pb in walk.index_pointers(ws.repo, paths):
        try:
            st = os.lstat(top + e.path)
            # every line gains one CR: longer than the pointer, at most twice as long
            if not stat_mod.S_ISREG(st.st_mode) or not pb.length < st.st_size <= 2 * MAX_SIZE:
                continue
            with open(top + e.path, "rb") as f:
                text = f.read(2 * MAX_SIZE + 1)
        except OSError:
            continue
        if b"\r\n" in text and Pointer.try_parse(text.replace(b"\r\n", b"\n")) is not None:
            out.append(e.path)
    return sorted(out)


HINT = ("a `text` or `eol` attribute set after git-mlv's `-text` (a later line such as `* text=auto`, "
        "or a folder's own .gitattributes) lets git convert them; give them `-text` again as the "
        "last line that applies (`git check-attr text eol -- PATH` shows what does), then "
        "`git checkout -- PATH` writes their data")
