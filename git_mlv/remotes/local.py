"""A remote in a folder: a local path, a mounted share, or ``file://``."""

from __future__ import annotations

import errno
import os
import secrets

from .base import (
    Data,
    FileSlice,
    ObjectInfo,
    Remote,
    RemoteError,
    RemoteNotFound,
    parts_of,
    validate_name,
    validate_prefix,
)


class FolderRemote(Remote):
    """Objects are files under ``root``; ``put`` writes a temp file, fsyncs it and renames it."""

    # Two threads keep one disk busy while the other copies; more only add seeks (2-core machine).
    parallelism = 2

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self.url = self.root

    def _path(self, name: str) -> str:
        return os.path.join(self.root, *validate_name(name).split("/"))

    def _error(self, e: OSError, what: str) -> RemoteError:
        if isinstance(e, FileNotFoundError):
            return RemoteNotFound(f"{self.url}: {what} does not exist")
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return RemoteError(f"{self.url}: permission denied writing or reading {what}")
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            return RemoteError(f"{self.url}: no space left on the device")
        # EIO, ESTALE (NFS) and friends: a share that comes back may work on the next try
        return RemoteError(f"{self.url}: {what}: {e.strerror or e}", retryable=True)

    def exists(self, name: str) -> bool:
        """True when the file exists."""
        return os.path.exists(self._path(name))

    def get(self, name: str) -> bytes:
        """The whole file."""
        try:
            with open(self._path(name), "rb") as f:
                return f.read()
        except OSError as e:
            raise self._error(e, name) from None

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset``."""
        try:
            fd = os.open(self._path(name), os.O_RDONLY)
        except OSError as e:
            raise self._error(e, name) from None
        try:
            parts = []
            while length > 0:  # pread may return less than asked for on big reads
                buf = os.pread(fd, length, offset)
                if not buf:
                    break
                parts.append(buf)
                offset += len(buf)
                length -= len(buf)
            return b"".join(parts)
        finally:
            os.close(fd)

    def put(self, name: str, data: Data) -> None:
        """Write a temp file, fsync, rename: readers see the whole object or none of it.

        Files get the umask's permissions (not mkstemp's 0600): a folder remote is often shared.
        """
        path = self._path(name)
        tmp = os.path.join(os.path.dirname(path), f".tmp-{secrets.token_hex(8)}")
        try:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            try:
                try:
                    for part in parts_of(data):
                        if isinstance(part, FileSlice):
                            _copy_slice(part, fd)
                        else:
                            _write_all(fd, part)
                    os.fsync(fd)  # the data is durable before the rename makes it visible
                finally:
                    os.close(fd)
                os.replace(tmp, path)
            except BaseException:
                try:
                    os.unlink(tmp)
                except FileNotFoundError:
                    pass
                raise
        except OSError as e:
            raise self._error(e, name) from None

    def list_info(self, prefix: str) -> dict[str, ObjectInfo]:
        """Files directly under ``prefix``, skipping temp files of unfinished writes."""
        folder = os.path.join(self.root, validate_prefix(prefix))
        out: dict[str, ObjectInfo] = {}
        try:
            with os.scandir(folder) as it:
                for d in it:
                    if d.name.startswith(".") or not d.is_file():
                        continue
                    st = d.stat()
                    out[prefix + d.name] = ObjectInfo(st.st_size, st.st_mtime)
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise self._error(e, prefix) from None
        return out

    def delete(self, name: str) -> None:
        """Remove the file if present."""
        try:
            os.unlink(self._path(name))
        except FileNotFoundError:
            pass
        except OSError as e:
            raise self._error(e, name) from None


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _copy_slice(part: FileSlice, out: int) -> None:
    """Copy a slice of a local file in the kernel (no user-space copy); plain reads if unsupported."""
    src = os.open(part.path, os.O_RDONLY)
    try:
        pos, end = part.offset, part.offset + part.length
        while pos < end:
            try:
                n = os.copy_file_range(src, out, end - pos, pos)
            except OSError:  # EXDEV/ENOSYS/EINVAL on old kernels and some file systems
                for piece in FileSlice(part.path, pos, end - pos).pieces(8 << 20):
                    _write_all(out, piece)
                return
            if n == 0:
                raise OSError(f"{part.path}: shorter than expected")
            pos += n
    finally:
        os.close(src)
