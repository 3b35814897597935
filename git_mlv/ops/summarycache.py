"""Textconv's summaries of tables and arrays, kept by content (docs/formats.md#summary-cache).

`git log -p` over a table's history starts `git mlv textconv` for each side of each version, and a
table's summary costs pyarrow's import and a pass over the data (~0.25 s a side here); the same
versions shown again are read back instead. Imports stay light: the readers are imported only on
a miss.
"""

from __future__ import annotations

import hashlib
import os

from ..core.fsutil import atomic_write
from ..inspect import Kind, detect, summarize_as

VERSION = b"2"  # of the summary text: raised whenever a summary's lines change
_KEPT = ("table", "columnar", "array")
_DIR = os.path.join("mlv", "summaries")


def summary_text(path: str, name: str | None = None) -> str:
    """The summary of the file at ``path`` (``name`` gives its format), from the cache of the
    repository whose worktree top is the current directory when it has it, else computed (and
    kept there, for the kinds worth keeping)."""
    kind = detect(path, name or path)
    common = _common_git_dir() if kind.family in _KEPT else None
    if common is None:
        return summarize_as(path, kind).text()
    digest = key(path, kind)
    entry = os.path.join(common, _DIR, digest[:2], digest[2:])
    try:
        with open(entry, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        pass
    text = summarize_as(path, kind).text()
    try:
        os.makedirs(os.path.dirname(entry), exist_ok=True)
        atomic_write(entry, text.encode("utf-8"))
    except OSError:
        pass  # a cache: a read-only repository or a full disk only means it is computed next time
    return text


def key(path: str, kind: Kind) -> str:
    """The entry's name: sha256 of the version, the format and the file's bytes (64 hex)."""
    h = hashlib.sha256(b"mlv-summary " + VERSION + b"\0" + kind.name.encode() + b"\0"
                       + (kind.compression or "").encode() + b"\0")
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _common_git_dir() -> str | None:
    """The common git dir of the repository whose worktree top is the current directory (where
    git runs textconv), without starting git; None anywhere else."""
    here = os.getcwd()
    dot = os.path.join(here, ".git")
    if os.path.isdir(dot):
        git_dir = dot
    elif os.path.isfile(dot):  # a linked worktree or a submodule: "gitdir: PATH"
        try:
            with open(dot, encoding="utf-8") as f:
                line = f.readline().strip()
        except (OSError, UnicodeDecodeError):
            return None
        if not line.startswith("gitdir:"):
            return None
        git_dir = os.path.join(here, line[len("gitdir:"):].strip())
    else:
        return None
    try:
        with open(os.path.join(git_dir, "commondir"), encoding="utf-8") as f:
            git_dir = os.path.join(git_dir, f.read().strip())
    except (OSError, UnicodeDecodeError):
        pass
    return os.path.normpath(git_dir) if os.path.isdir(git_dir) else None


def is_summary_of(text: bytes, path: str) -> bool:
    """True when ``text`` is exactly the summary textconv prints for the file at ``path``.

    `git blame FILE` blames a "not yet committed" version of the work-tree file built by running
    textconv on the file and then the *clean filter* on textconv's output: stored as data, that
    summary became a pointer, every line showed as "Not Committed Yet", and a junk object went into
    the pool. The filter asks this of content that starts like a summary (``format ...``) and keeps
    it as it is when the answer is yes, so blame compares summaries with summaries."""
    try:
        return summary_text(path).encode("utf-8") == text
    except Exception:  # noqa: BLE001 - not a file we can summarise: not its summary either
        return False
