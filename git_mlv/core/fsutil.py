"""Small file-system helpers: atomic writes, advisory locks, file modes, and OS errors a user can act on.

File modes, one rule for every file git-mlv creates (pool packs and indexes, locks, caches, files
restored into the worktree): ``0666 & ~umask`` (``0777`` for executables), widened as git widens
repository files when ``core.sharedRepository`` is set (``group``: g+rw, ``all``: g+rw o+r, an octal
mode: exactly that), so a pool shared between users (``mlv.pool``) is readable by all of them.
Folders get the same treatment (and setgid when shared, as git does).

OS errors: disk full, quota, permission, read-only file system and too many open files are
expected conditions, not bugs. ``fs_error`` turns them into a ``FileSystemError``: one line naming
the path, how much was needed when known, and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import stat
from collections.abc import Iterable, Iterator
from typing import Any

from ..errors import MlvError


class FileSystemError(MlvError):
    """The file system refused a write or an open: full, over quota, read-only, not allowed."""

    exit_code = 6


NO_SPACE_TODO = "free some space (`git mlv gc` drops data nothing needs), then run the command again"
_HINTS = {
    errno.ENOSPC: ("no space left on the device", NO_SPACE_TODO),
    errno.EDQUOT: ("disk quota exceeded", "free some space or ask for a larger quota, then run the "
                                          "command again"),
    errno.EACCES: ("permission denied", "check the owner and permissions of that path"),
    errno.EPERM: ("operation not permitted", "check the owner and permissions of that path"),
    errno.EROFS: ("read-only file system", "remount it read-write or work in a writable clone"),
    errno.EMFILE: ("too many open files", "raise the limit (`ulimit -n 4096`) and run the command "
                                          "again"),
    errno.ENFILE: ("too many open files on this system", "close some programs and run the command "
                                                         "again"),
}


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


def fs_error(e: OSError, path: str | None = None, needed: int | None = None) -> FileSystemError | None:
    """The FileSystemError for ``e`` (None when it is not one of the expected conditions).

    Nothing is lost by these failures: every write is atomic or appends whole entries, so the
    message says to rerun once the cause is fixed.
    """
    hint = _HINTS.get(e.errno or 0)
    if hint is None:
        return None
    where = path or e.filename
    what, todo = hint
    need = f" (needed {_size(needed)} more)" if needed and e.errno in (errno.ENOSPC, errno.EDQUOT) else ""
    return FileSystemError(f"{what}{need} writing {where}; {todo}" if where else f"{what}{need}; {todo}")


@contextlib.contextmanager
def writing(path: str, needed: int | None = None) -> Iterator[None]:
    """Turn an expected OSError raised inside into a FileSystemError about ``path``."""
    try:
        yield
    except OSError as e:
        err = fs_error(e, path, needed)
        if err is None:
            raise
        raise err from None


# -- modes ------------------------------------------------------------------------------------------
_UMASK: int | None = None
_SHARED = 0  # 0: umask only; > 0: permission bits to add; < 0: the exact mode, negated


def umask() -> int:
    """The process's umask (read once: setting it to read it is not thread-safe to repeat)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


def set_shared(value: str | None) -> None:
    """Apply git's ``core.sharedRepository`` (``umask``/``false``, ``group``/``true``,
    ``all``/``world``/``everybody``, or an octal mode such as ``0640``) to files created from now on."""
    global _SHARED
    v = (value or "").strip().lower()
    if v in ("", "umask", "false", "0", "no", "off"):
        _SHARED = 0
    elif v in ("group", "true", "1", "yes", "on"):
        _SHARED = 0o660
    elif v in ("all", "world", "everybody", "2"):
        _SHARED = 0o664
    else:
        try:
            _SHARED = -(int(v, 8) & 0o666)
        except ValueError:
            _SHARED = 0  # git itself rejects such a value; do not guess


def shared() -> bool:
    """True when ``core.sharedRepository`` widens modes beyond the umask."""
    return _SHARED != 0


def file_mode(executable: bool = False) -> int:
    """The mode for a new file (see the module docstring)."""
    mode = (0o777 if executable else 0o666) & ~umask()
    if _SHARED < 0:
        tweak = -_SHARED
        if executable:
            tweak |= (tweak & 0o444) >> 2
        return tweak
    if _SHARED > 0:
        mode |= _SHARED | ((_SHARED & 0o444) >> 2 if executable else 0)
    return mode


def dir_mode() -> int:
    """The mode for a new folder."""
    mode = 0o777 & ~umask()
    if _SHARED:
        bits = -_SHARED if _SHARED < 0 else _SHARED
        mode = (mode if _SHARED > 0 else 0o700) | bits | ((bits & 0o444) >> 2) | stat.S_ISGID
    return mode


def makedirs(path: str) -> None:
    """``os.makedirs(path, exist_ok=True)``, new folders getting ``dir_mode()``."""
    if os.path.isdir(path):
        return
    parent = os.path.dirname(os.path.abspath(path))
    if parent != path:
        makedirs(parent)
    with writing(path):
        try:
            os.mkdir(path)
        except FileExistsError:
            return
        if _SHARED:
            os.chmod(path, dir_mode())


def fix_mode(fd: int, executable: bool = False) -> None:
    """Give a file created by mkstemp (0600) or ``os.open`` the mode the rule says."""
    os.fchmod(fd, file_mode(executable))


# -- writing --------------------------------------------------------------------------------------
def atomic_write(path: str, data: bytes, executable: bool = False, durable: bool = True) -> None:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never a mix.

    ``durable=False`` skips the fsync, for files that are only an optimisation and carry their own
    checksum (a crash may leave them empty or torn; their reader then ignores them).
    """
    atomic_write_pieces(path, (data,), len(data), executable, durable)


def atomic_write_pieces(path: str, pieces: Iterable[bytes | memoryview], size: int,
                        executable: bool = False, durable: bool = True) -> None:
    """``atomic_write`` of the concatenation of ``pieces`` (``size`` bytes in all), written as they
    come: a file built in parts is never held whole in memory (the pool's midx, issue 9)."""
    d = os.path.dirname(path) or "."
    with writing(path, size):
        import tempfile  # not at import: ~5 ms of every start-up (it loads shutil, random)

        fd, tmp = tempfile.mkstemp(dir=d, prefix=".tmp-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                for piece in pieces:
                    f.write(piece)
                f.flush()
                fix_mode(f.fileno(), executable)
                if durable:
                    os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise


def write_all(fd: int, data: bytes | memoryview, offset: int, *more: bytes | memoryview) -> None:
    """``pwrite`` all of ``data`` then each of ``more`` at ``offset`` (one ``pwritev`` of up to
    ``IOV_MAX`` pieces, no joined copy; a short write is continued, not dropped)."""
    views = [v for v in (memoryview(data), *(memoryview(m) for m in more)) if v.nbytes]
    while views:
        n = os.pwritev(fd, views[:_IOV_MAX], offset)
        offset += n
        while views and n >= views[0].nbytes:
            n -= views[0].nbytes
            views.pop(0)
        if views and n:
            views[0] = views[0][n:]


_IOV_MAX = os.sysconf("SC_IOV_MAX") if "SC_IOV_MAX" in os.sysconf_names else 1024


# -- locks ----------------------------------------------------------------------------------------
def open_lock_file(path: str) -> int:
    """Open (creating) a lock file with the rule's mode; a FileSystemError when that fails."""
    with writing(path):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        if _SHARED:
            with contextlib.suppress(OSError):  # someone else's lock file: theirs to set
                fix_mode(fd)
        return fd


def try_lock(path: str, create: bool = False) -> int | None:
    """Take an exclusive flock on ``path`` without waiting; the fd, or None if someone holds it
    (or, without ``create``, if the file does not exist)."""
    try:
        fd = open_lock_file(path) if create else os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    except OSError as e:  # another user's file, a read-only pool: we may read it, not lock it
        if create or e.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
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


_sync_file_range: Any = None  # libc's, looked up at the first call (Linux); False where there is none


def start_writeback(fd: int) -> None:
    """Ask the kernel to start writing ``fd``'s dirty pages to disk now, without waiting: a later
    fsync then waits for writes under way instead of starting them (``sync_file_range`` with
    ``SYNC_FILE_RANGE_WRITE``, as git's ``core.fsyncMethod=batch`` does). Nothing elsewhere, and
    never an error: it is only a hint."""
    global _sync_file_range
    if _sync_file_range is None:
        _sync_file_range = False
        try:
            import ctypes

            fn = ctypes.CDLL(None, use_errno=True).sync_file_range
            fn.argtypes = (ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint)
            _sync_file_range = fn
        except (ImportError, OSError, AttributeError):  # no ctypes, no libc by that name, not Linux
            pass
    if _sync_file_range:
        _sync_file_range(fd, 0, 0, 2)  # SYNC_FILE_RANGE_WRITE: the whole file


def temp_dir_beside(preferred: str, target_dir: str) -> str:
    """Where to write a temporary file that will be renamed into ``target_dir``: ``preferred``
    (created if needed) when it is on the same file system, so that the rename stays atomic; else
    ``target_dir`` itself. A worktree file restored from the pool is written in the pool's
    ``tmp/``: a temporary file left in the worktree by a ``kill -9`` sat under the tracked
    pattern, showed in ``git status`` and went into the next ``git add -A`` as data."""
    try:
        os.makedirs(preferred, exist_ok=True)
        if os.stat(preferred).st_dev == os.stat(target_dir).st_dev:
            return preferred
    except OSError:
        pass
    return target_dir


def sweep_temp(folder: str, older_than: float) -> None:
    """Delete what is in ``folder`` (files and folders) unchanged for ``older_than`` seconds:
    leftovers of processes killed while they wrote there."""
    import shutil
    import time

    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return
    now = time.time()
    for e in entries:
        with contextlib.suppress(FileNotFoundError):
            if now - e.stat(follow_symlinks=False).st_mtime <= older_than:
                continue
            if e.is_dir(follow_symlinks=False):
                shutil.rmtree(e.path, ignore_errors=True)
            else:
                os.unlink(e.path)
