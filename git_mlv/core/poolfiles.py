"""Reading whole files out of the pool: streamed, restored into the work tree, written to a stream.

A mixin of ``Pool`` (core/pool.py), split from it to keep each module short: these methods use only
the pool's public reads (``chunk_ids``, ``locate_chunks``, ``read_chunk``, ``resolve``, ``tmp_dir``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from ..errors import CorruptObject, MlvError
from . import chunkread
from .crashpoint import crashpoint
from .fsutil import file_mode, fs_error, temp_dir_beside

if TYPE_CHECKING:
    from .pool import Pool

_INLINE_CHUNKS = 4  # files of up to this many chunks (~256 KiB) are read without threads


class FileReads:
    """``iter_file``, ``restore_to`` and ``write_file_to`` of a ``Pool``."""

    def iter_file(self, oid: str, chunks: list[tuple[bytes, int]] | None = None,
                  verify: bool = False) -> Iterator[bytes]:
        """The content of file ``oid`` in pieces, every chunk checked (``read_chunk``).

        The manifest is checked by its own checksum and was itself checked against the file's oid
        when it entered the pool (clean hashes the file; fetch verifies whole files), so a smudge
        does not hash the file again; ``verify`` does (fsck's deeper check). Chunks are read,
        decompressed and hashed ahead on the thread pool, in order.
        """
        pool = self._pool()
        ids = pool.chunk_ids(oid) if chunks is None else [cid for cid, _ in chunks]
        whole = hashlib.sha256() if verify else None
        pieces = chunkread.read_ahead(pool, ids) if len(ids) > _INLINE_CHUNKS else \
            map(pool.read_chunk, pool.locate_chunks([bytes(i) for i in ids]))
        for data in pieces:
            if whole is not None:
                whole.update(data)
            yield data
        if whole is not None and whole.hexdigest() != oid:
            raise CorruptObject(f"file {oid[:12]} does not hash to its id; run `git mlv fsck`")

    def restore_to(self, oid: str, path: str, executable: bool = False) -> None:
        """Write file ``oid`` at ``path`` atomically (temp file + rename), with the umask's mode."""
        import tempfile

        parent = os.path.dirname(path) or "."
        try:
            os.makedirs(parent, exist_ok=True)
            where = temp_dir_beside(self._pool().tmp_dir, parent)  # not the worktree (fsutil)
            fd, tmp = tempfile.mkstemp(dir=where, prefix=".mlv-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as f:
                    self.write_file_to(oid, f)
                crashpoint("restore-written")
                os.chmod(tmp, file_mode(executable))
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        except OSError as e:  # a full disk, no permission: one clear line (fsutil.fs_error)
            err = fs_error(e, path, self._size_hint(oid))
            if err is None:
                raise
            raise err from None

    def _size_hint(self, oid: str) -> int | None:
        """The size of file ``oid`` if its data is here (for "needed N more" in disk-full errors)."""
        try:
            chunks = self._pool().resolve(oid)
        except MlvError:
            return None
        return sum(n for _, n in chunks) if chunks is not None else None

    def write_file_to(self, oid: str, out: BinaryIO) -> int:
        """Write file ``oid`` to ``out``; returns its size."""
        n = 0
        for data in self.iter_file(oid):
            out.write(data)
            n += len(data)
        return n

    def _pool(self) -> Pool:
        return self  # type: ignore[return-value]  # a mixin of Pool only
