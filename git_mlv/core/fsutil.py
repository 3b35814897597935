"""Small file-system helpers: atomic writes and advisory locks."""

from __future__ import annotations

import fcntl
import os
import tempfile


def atomic_write(path: str, data: bytes) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never a mix."""
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


_UMASK: int | None = None


def umask() -> int:
    """The process's umask (read once: setting it to read it is not thread-safe to repeat)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def try_lock(path: str, create: bool = False) -> int | None:
    """Take an exclusive flock on ``path`` without waiting; the fd, or None if someone holds it
    (or, without ``create``, if the file does not exist)."""
    try:
        fd = os.open(path, os.O_RDWR | (os.O_CREAT if create else 0), 0o644)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def lock_fd(fd: int) -> None:
    """Block until we hold an exclusive flock on ``fd``."""
    fcntl.flock(fd, fcntl.LOCK_EX)


def unlock(fd: int) -> None:
    """Release and close a lock taken by try_lock."""
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
