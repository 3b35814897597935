"""Textconv's summaries of tables and arrays, kept by content (docs/formats.md#summary-cache).

`git log -p` over a table's history starts `git mlv textconv` for each side of each version, and a
table's summary costs pyarrow's import and a pass over the data (~0.25 s a side here); the same
versions shown again are read back instead. Imports stay light: the readers are imported only on
a miss. A hit imports no more than this module, ``inspect``'s package and ``detect`` (no
dataclasses, no OpenSSL for a small file): `git log -p` starts one textconv per side per commit.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import Any

from ..inspect import Kind, detect, summarize_as

VERSION = "27"  # of the summary text: raised whenever a summary's lines change
_KEPT = ("table", "columnar", "array", "document")
_DIR = os.path.join("mlv", "summaries")
_WORD = re.compile(r"[a-z0-9_]+")
_ENTRY = re.compile(r"([0-9a-f]{62})-([a-z0-9_]+(?:\.[a-z0-9_]+)?)")
_OID_LINE = re.compile(r"^sha256 [0-9a-f]{64}$", re.MULTILINE)  # not a column named sha256
_TMP_AGE = 3600  # a temporary entry this old belongs to no running textconv (each takes < 1 s)


def summary_text(path: str, name: str | None = None) -> str:
    """The summary of the file at ``path`` (``name`` gives its format), from the cache of the
    repository whose worktree top is the current directory when it has it, else computed (and
    kept there, for the kinds worth keeping)."""
    kind = detect(path, name or path)
    fmt = _format(kind)
    common = _common_git_dir() if kind.family in _KEPT and fmt is not None else None
    if common is None or fmt is None:
        return naming_content(_summarize(path, kind)[0], path, kind)
    oid = file_oid(path)
    entry = os.path.join(common, _DIR, "v" + VERSION, oid[:2], f"{oid[2:]}-{fmt}")
    try:
        with open(entry, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        pass
    text, keep = _summarize(path, kind)
    text = naming_content(text, path, kind, oid)
    if not keep:
        return text
    try:
        from ..core.fsutil import FileSystemError, atomic_write, makedirs  # a miss only: a hit writes none

        makedirs(os.path.dirname(entry))  # core.sharedRepository's mode, as the pool's folders
        atomic_write(entry, text.encode("utf-8"))
    except (OSError, FileSystemError):  # FileSystemError: fsutil's words for an OSError
        pass  # a cache: a read-only repository or a full disk only means it is computed next time
    return text


def naming_content(text: str, path: str, kind: Kind, oid: str | None = None) -> str:
    """``text`` ending in ``sha256 OID`` of the file's bytes, unless a line of it names the oid
    already (a fallback's).

    git prints nothing at all for two equal summaries, not even the file's header: one value fixed
    in a Parquet file, inside its column's min and max (a summary read from the footer alone), or
    two CSV cells swapped, or a value changed deep in a big JSON document showed an empty `git diff`
    and `git log -p` while `git status` said modified and `git diff --stat` counted a change."""
    if _OID_LINE.search(text):
        return text
    return text + f"sha256 {oid if oid is not None else file_oid(path)}\n"


# Readers in C++ (pyarrow above all) can die on a damaged file where Python cannot catch it: an
# exception thrown past the bindings aborts the process (a Parquet footer's unknown codec: signal
# 6, pyarrow 19), and git diff then stops ("external diff died"). These read in a child process.
_NATIVE = ("table", "columnar", "array", "document")  # a .json may be JSON Lines: pyarrow


def _summarize(path: str, kind: Kind) -> tuple[str, bool]:
    """(the summary's text, whether it may be kept): read by a forked child for the kinds whose
    readers are native code, so that a reader that crashes costs a note, not the diff. The child
    is forked before the reader is imported here (this process stays single-threaded and light);
    an exception in it is raised again by reading in this process."""
    if kind.family not in _NATIVE or not hasattr(os, "fork") or threading.active_count() > 1:
        return summarize_as(path, kind).text(), True
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its own summary, or nothing and exit 1 when it raised
        code = 1
        try:
            os.close(rfd)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 2)  # a dying reader's words ("terminate called ...") are not the user's
            data = summarize_as(path, kind).text().encode("utf-8")
            while data:
                data = data[os.write(wfd, data):]
            code = 0
        finally:
            os._exit(code)
    os.close(wfd)
    chunks = []
    with os.fdopen(rfd, "rb") as r:
        while block := r.read(1 << 16):
            chunks.append(block)
    _, status = os.waitpid(pid, 0)
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
        return b"".join(chunks).decode("utf-8"), True
    if os.WIFSIGNALED(status):
        import signal

        from ..inspect import fallback

        sig = signal.Signals(os.WTERMSIG(status)).name
        note = f"not a readable {kind.name} file: its reader crashed on it ({sig})"
        return fallback.summarize(path, note=note).text(), False  # a later reader may do better
    return summarize_as(path, kind).text(), True  # it raised: raise it here (or read it here)


# Below this size the interpreter's own sha256 (no OpenSSL: loading libcrypto costs ~4 ms of CPU,
# a tenth of a cache hit) hashes the file sooner than OpenSSL's (~160 MB/s against ~830 MB/s here)
_BUILTIN_SHA_MAX = 512 << 10


def file_oid(path: str) -> str:
    """The sha256 of the file's bytes (64 hex): its oid, as in its pointer."""
    try:
        small = os.path.getsize(path) < _BUILTIN_SHA_MAX
    except OSError:
        small = False  # open() below says what is wrong
    h = _builtin_sha256() if small else None
    if h is None:
        import hashlib

        h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _builtin_sha256() -> Any:
    """The interpreter's own sha256 (CPython: ``_sha2`` from 3.12, ``_sha256`` before), or None."""
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            from _sha256 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
        except ImportError:
            return None
    return sha256()


def _format(kind: Kind) -> str | None:
    """The ``<format>`` part of an entry's name (``csv``, ``csv.gzip``); None when a name is not
    ``[a-z0-9_]+`` (not kept: the name must say nothing else)."""
    words = [kind.name] + ([kind.compression] if kind.compression else [])
    return ".".join(words) if all(_WORD.fullmatch(w) for w in words) else None


class Pruned:
    """What pruning the summary cache removed (or would remove)."""

    def __init__(self) -> None:
        self.entries = 0
        self.bytes = 0


def prune(common_dir: str, live: Callable[[list[str]], list[bool]], dry_run: bool = False) -> Pruned:
    """Remove the entries whose oid ``live`` (oids -> kept?) says no to, everything that is not an
    entry of this version, and stale temporary files; then empty folders
    (docs/formats.md#summary-cache). Entry by entry, each removal atomic: a kill leaves a cache
    whose every entry is whole. A folder of entries at a time is asked of ``live``."""
    top = os.path.join(common_dir, _DIR)
    out = Pruned()
    if not os.path.isdir(top):
        return out
    import time

    current = os.path.join(top, "v" + VERSION)
    now = time.time()
    for here, _dirs, files in os.walk(top, topdown=False):
        named: list[tuple[str, str]] = []  # (file, oid) of this version's entries here
        gone: list[str] = []
        ours = os.path.dirname(here) == current and re.fullmatch(r"[0-9a-f]{2}", os.path.basename(here))
        for f in files:
            m = _ENTRY.fullmatch(f) if ours else None
            if m is not None:
                named.append((f, os.path.basename(here) + m.group(1)))
            elif f.startswith(".tmp-") and f.endswith(".part"):
                if _age(os.path.join(here, f), now) > _TMP_AGE:
                    gone.append(f)
            else:
                gone.append(f)
        if named:
            keep = live([oid for _, oid in named])
            gone += [f for (f, _), k in zip(named, keep) if not k]
        for f in gone:
            _remove(os.path.join(here, f), out, dry_run)
        if not dry_run and here != top:
            try:
                os.rmdir(here)  # only when empty; a textconv that makes it again just recomputes
            except OSError:
                pass
    return out


def _age(path: str, now: float) -> float:
    try:
        return now - os.lstat(path).st_mtime
    except OSError:
        return 0.0


def _remove(path: str, out: Pruned, dry_run: bool) -> None:
    try:
        size = os.lstat(path).st_size
        if not dry_run:
            os.unlink(path)
    except OSError:
        return  # gone meanwhile, or not ours to remove: a cache
    out.entries += 1
    out.bytes += size


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
