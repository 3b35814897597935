"""Read versioned data from Python, without a checkout (docs/api.md).

    import git_mlv.api as mlv

    with mlv.open("data/train.csv", rev="v1.0") as f:     # text; mode="rb" for bytes
        df = pandas.read_csv(f)
    weights = mlv.read("model.bin", rev="v2.0", mode="rb")
    table = pyarrow.parquet.read_table(mlv.open("data/t.parquet", rev="main", mode="rb"))
    mlv.params_show(rev="v1.0"), mlv.metrics_show(rev="v2.0")

The names and arguments are DVC's (``dvc.api.open``, ``read``, ``params_show``, ``metrics_show``),
so that a notebook moving from DVC changes its import. ``path`` is relative to the repository's
root; ``rev`` is any git revision, None for the work tree. A tracked file's data comes from the
pool, chunk by chunk (each chunk checked as every local read is); data not here is fetched first
from the data remote (``remote``, default the repository's default data remote) and kept in the
pool, as ``git mlv pull`` would. A binary stream from the pool is seekable: Parquet and Arrow
readers jump to the footer without reading the file. ``repo`` is a local repository (default: the
one holding the current directory) or anything git clones (a URL, a bare repository): the file is
then downloaded as ``git mlv get`` does, into a temporary folder removed when the stream closes.

This module sits beside ``cli`` at the top of the layers: it calls ``ops`` and ``pipeline`` and
returns Python objects. Errors are exceptions: ``FileNotFoundError`` / ``IsADirectoryError`` for
the path, ``ValueError`` for an argument, and :class:`git_mlv.errors.MlvError` (message as the CLI
prints it) for everything git-mlv reports, e.g. an unknown revision or data on no remote.
"""

from __future__ import annotations

import bisect
import builtins
import io
import itertools
import os
import posixpath
import shutil
import tempfile
from collections.abc import Iterator
from typing import IO, Any

from .core.pointer import MAX_SIZE, Pointer
from .errors import CorruptObject, MissingObject, MlvError, NotARepository
from .ops.context import Workspace

__all__ = ["open", "read", "params_show", "metrics_show"]

_MODES = {"r": False, "rt": False, "rb": True}
PathArg = str | os.PathLike  # a path or a pathlib.Path


def open(path: PathArg, repo: PathArg | None = None, rev: str | None = None, remote: str | None = None,
         mode: str = "r", encoding: str | None = None, errors: str | None = None) -> IO[Any]:
    """``path`` of ``repo`` at ``rev`` as a read-only file object (also a context manager).

    ``mode`` "r" (text; ``encoding`` default UTF-8) or "rb" (bytes). Tracked data is read from the
    pool and fetched from ``remote`` when it is not here.
    """
    if mode not in _MODES:
        raise ValueError(f"mode {mode!r}: git-mlv opens files for reading only, \"r\" or \"rb\"")
    if _MODES[mode] and (encoding is not None or errors is not None):
        raise ValueError("binary mode takes no encoding or errors argument")
    rel = _clean(path)
    repo = os.fspath(repo) if repo is not None else None
    ws = _local(repo)
    raw: io.RawIOBase = _open_local(ws, rel, rev, remote) if ws is not None \
        else _open_fetched(repo or "", rel, rev)
    buffered = io.BufferedReader(raw, buffer_size=1 << 20)
    if _MODES[mode]:
        return buffered
    return io.TextIOWrapper(buffered, encoding=encoding or "utf-8", errors=errors)


def read(path: PathArg, repo: PathArg | None = None, rev: str | None = None, remote: str | None = None,
         mode: str = "r", encoding: str | None = None, errors: str | None = None) -> Any:
    """The whole content of ``path`` (``str``, or ``bytes`` with mode "rb"); see :func:`open`."""
    with open(path, repo, rev, remote, mode, encoding, errors) as f:
        return f.read()


def params_show(repo: PathArg | None = None, rev: str | None = None) -> dict[str, dict[str, Any]]:
    """The parameters the pipeline (``.gitmlv``) at ``rev`` names: ``{file: {key: value}}``, keys
    dotted as ``git mlv params diff`` shows them. ``rev`` None: the work tree."""
    from .pipeline import metrics
    from .pipeline.revisions import WORKSPACE

    ws = _need_local(repo, "params_show")
    with ws:
        return metrics.params_at(ws.repo, rev or WORKSPACE, ws.pool)


def metrics_show(repo: PathArg | None = None, rev: str | None = None) -> dict[str, dict[str, Any]]:
    """The metric files the pipeline at ``rev`` names: ``{file: {key: value}}`` (nested keys
    dotted, as ``git mlv metrics show`` prints them). ``rev`` None: the work tree. A metric file
    that does not parse raises :class:`MlvError`."""
    from .pipeline import metrics
    from .pipeline.revisions import WORKSPACE, verify

    ws = _need_local(repo, "metrics_show")
    with ws:
        label = rev or WORKSPACE
        if rev is not None:
            verify(ws.repo, rev)
        table = metrics.show(ws.repo, [label], ws.pool)
        if table.errors:
            raise MlvError(table.errors[0])
        return table.data.get(label, {})


# -- where the file is -----------------------------------------------------------------------------
def _clean(path: PathArg) -> str:
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str) or not path.strip():
        raise ValueError("path: give a file's path relative to the repository's root")
    rel = posixpath.normpath(path.replace(os.sep, "/"))
    if rel.startswith("/") or rel == ".." or rel.startswith("../") or rel == ".":
        raise ValueError(f"path {path!r}: give a file's path relative to the repository's root")
    return rel


def _local(repo: str | None) -> Workspace | None:
    """The workspace of a local repository with a work tree; None for anything git must clone."""
    if repo is not None and not os.path.isdir(repo):
        return None  # a URL (or a path that is not here: git clone says what is wrong with it)
    try:
        ws = Workspace.discover(repo)
    except NotARepository:
        if repo is None:
            raise
        return None  # a folder that is not a repository: let git clone say so
    if ws.repo.worktree is None:
        if repo is None:
            raise MlvError("this is a bare repository (or its .git folder): give repo= a clone with a "
                           "work tree, or this repository's URL")
        return None  # a bare repository: read like a remote one
    return ws


def _need_local(repo: PathArg | None, what: str) -> Workspace:
    ws = _local(os.fspath(repo) if repo is not None else None)
    if ws is None:
        raise MlvError(f"{what} reads a local repository with a work tree; clone {repo} first")
    return ws


def _open_local(ws: Workspace, rel: str, rev: str | None, remote: str | None) -> io.RawIOBase:
    try:
        if rev is None:
            return _open_worktree(ws, rel, remote)
        return _open_at(ws, rel, rev, remote)
    except BaseException:
        ws.close()
        raise


def _open_worktree(ws: Workspace, rel: str, remote: str | None) -> io.RawIOBase:
    full = os.path.join(ws.repo.top, *rel.split("/"))
    f = builtins.open(full, "rb", buffering=0)  # FileNotFoundError / IsADirectoryError as open's
    try:
        head = f.read(MAX_SIZE + 1)
        ptr = Pointer.try_parse(head) if len(head) <= MAX_SIZE else None
        if ptr is None:  # the data itself (or a file git-mlv does not track)
            f.seek(0)
            ws.close()
            return f  # type: ignore[return-value]
    except BaseException:
        f.close()
        raise
    f.close()
    return _pool_stream(ws, rel, ptr, remote, "the work tree")


def _open_at(ws: Workspace, rel: str, rev: str, remote: str | None) -> io.RawIOBase:
    from .gitio.catfile import CatFile
    from .pipeline.revisions import verify

    verify(ws.repo, rev)  # an unknown revision: the same one line as `git mlv metrics show`
    cat = CatFile(ws.repo)
    try:
        info = cat.info(f"{rev}:{rel}")
        if info is None:
            raise FileNotFoundError(f"{rel} does not exist at {rev}")
        kind, size = info
        if kind != "blob":
            raise IsADirectoryError(f"{rel} is a folder at {rev}, not a file")
        if size <= MAX_SIZE:
            text = cat.read(f"{rev}:{rel}") or b""
            ptr = Pointer.try_parse(text)
            cat.close()
            if ptr is None:
                ws.close()
                return io.BytesIO(text)  # type: ignore[return-value]
            return _pool_stream(ws, rel, ptr, remote, rev)
        got = cat.open(f"{rev}:{rel}")  # a big file git stores itself: streamed from git
        if got is None:
            raise FileNotFoundError(f"{rel} does not exist at {rev}")
        ws.close()
        return _BlobRaw(cat, got[1], size)
    except BaseException:
        cat.close()
        raise


def _pool_stream(ws: Workspace, rel: str, ptr: Pointer, remote: str | None, where: str) -> io.RawIOBase:
    pool = ws.pool
    chunks = pool.resolve(ptr.oid, refresh=True)
    if chunks is None:
        _fetch(ws, rel, ptr, remote, where)
        chunks = pool.resolve(ptr.oid, refresh=True)
        if chunks is None:
            raise MissingObject(f"the data of {rel} ({where}) did not arrive; run `git mlv fsck`")
    if sum(n for _, n in chunks) != ptr.size:
        raise CorruptObject(f"the data of {rel} in the pool is not {ptr.size} bytes; run `git mlv fsck`")
    return _PoolRaw(ws, chunks)


def _fetch(ws: Workspace, rel: str, ptr: Pointer, remote: str | None, where: str) -> None:
    from .ops import sync, sync_fetch

    name = remote or sync.default_remote_name(ws)
    if name is None:
        raise MissingObject(f"the data of {rel} ({where}) is not here and the repository has no "
                            "default data remote: `git mlv remote add NAME URL --default`, or name one "
                            "with remote=")
    try:
        got = sync_fetch.fetch_oids(ws, [ptr.oid], remote_name=name, sizes={ptr.oid: ptr.size})
        ws.pool.commit_written()  # indexed now: a notebook may never close the stream
    finally:
        sync_fetch.close_fetch(ws)
    if ptr.oid not in got:
        raise MissingObject(f"the data of {rel} ({where}) is neither here nor on data remote "
                            f"'{name}'; push it from a clone that has it")


def _open_fetched(url: str, rel: str, rev: str | None) -> io.RawIOBase:
    """``rel`` of the repository git clones from ``url``, downloaded as `git mlv get` does."""
    from .gitio.source import SourceError
    from .ops.imports import get

    scratch = tempfile.mkdtemp(prefix="git-mlv-open-")
    try:
        out = os.path.join(scratch, "file")
        try:
            get(url, rel, out=out, rev=rev or "", cwd=scratch)
        except SourceError as e:
            if str(e).startswith(f"{rel!r} is not in "):  # gitio/source.py: no such path there
                raise FileNotFoundError(str(e)) from None
            raise
        if os.path.isdir(out):
            raise IsADirectoryError(f"{rel} is a folder in {url}, not a file")
        f = builtins.open(out, "rb", buffering=0)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return _TempRaw(f, scratch)


# -- streams ---------------------------------------------------------------------------------------
class _PoolRaw(io.RawIOBase):
    """A pooled file, seekable: chunks are found by offset and read (checked) one at a time."""

    def __init__(self, ws: Workspace, chunks: list[tuple[bytes, int]]) -> None:
        super().__init__()
        self._ws, self._pool = ws, ws.pool
        self._ids = [cid for cid, _ in chunks]
        self._lens = [n for _, n in chunks]
        self._ends = list(itertools.accumulate(self._lens))
        self._size = self._ends[-1] if self._ends else 0
        self._pos = 0
        self._cur = -1  # index of the chunk in _data
        self._data = b""
        self._ahead: Iterator[bytes] | None = None  # chunks _cur + 1, ... read ahead

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        self._checkClosed()
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._checkClosed()
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}.get(whence)
        if base is None:
            raise ValueError(f"invalid whence ({whence})")
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, b: Any) -> int:
        self._checkClosed()
        if self._pos >= self._size:
            return 0
        i = bisect.bisect_right(self._ends, self._pos)
        if i != self._cur:
            data = self._chunk(i)
            if len(data) != self._lens[i]:
                raise CorruptObject(f"chunk {self._ids[i].hex()[:12]} is damaged; run `git mlv fsck`")
            self._cur, self._data = i, data
        off = self._pos - (self._ends[i] - self._lens[i])
        view = memoryview(b).cast("B")
        n = min(len(view), len(self._data) - off)
        view[:n] = self._data[off:off + n]
        self._pos += n
        return n

    def _chunk(self, i: int) -> bytes:
        """Chunk ``i``: read alone after a seek; read ahead on the pool's threads once the reads
        go in order (a whole-file read costs what a smudge does, not a lookup per chunk)."""
        from .core import chunkread

        if self._ahead is not None and i == self._cur + 1:
            data = next(self._ahead, None)
            if data is not None:
                return data
        if i == self._cur + 1 and i + 1 < len(self._ids):
            self._ahead = chunkread.read_ahead(self._pool, self._ids[i:])
            return next(self._ahead)
        self._ahead = None
        return self._pool.read_chunk(self._pool.locate_chunks([self._ids[i]])[0])

    def close(self) -> None:
        if not self.closed:
            self._data, self._ahead = b"", None
            self._ws.close()
        super().close()


class _BlobRaw(io.RawIOBase):
    """A blob git stores whole, streamed from ``git cat-file`` (not seekable)."""

    def __init__(self, cat: Any, stream: Any, size: int) -> None:
        super().__init__()
        self._cat, self._stream, self._left = cat, stream, size

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        self._checkClosed()
        view = memoryview(b).cast("B")
        n = self._stream.readinto(view[:self._left]) if self._left else 0
        self._left -= n
        return n

    def close(self) -> None:
        if not self.closed:
            self._cat.close()
        super().close()


class _TempRaw(io.FileIO):
    """A downloaded file whose temporary folder goes when it closes."""

    def __init__(self, f: io.FileIO, scratch: str) -> None:
        super().__init__(os.dup(f.fileno()), "rb", closefd=True)
        f.close()
        self._scratch = scratch

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self._scratch, ignore_errors=True)
