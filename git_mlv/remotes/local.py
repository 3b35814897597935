"""A remote in a folder: a local path, a mounted share, or ``file://``."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat

from ..core.fsutil import fs_error, start_writeback, umask
from .base import (
    Data,
    FileSlice,
    ObjectInfo,
    Remote,
    RemoteError,
    RemoteNotFound,
    Staged,
    parts_of,
    validate_name,
    validate_prefix,
)
from .sharemodes import modes_under, team_bits, widen_fd, widen_tops

# What to do when the data remote's own file system refuses a write (a push): fs_error's hints
# name the local pool's remedies (`git mlv gc`, "work in a writable clone"), which free nothing there.
_REMOTE_HINTS = {
    errno.ENOSPC: ("no space left on the data remote's device",
                   "free space there (`git mlv gc --remote {name}` drops data no ref needs), then push "
                   "again: only what is missing is sent"),
    errno.EDQUOT: ("disk quota exceeded on the data remote",
                   "free space there (`git mlv gc --remote {name}`) or ask for a larger quota, then push "
                   "again"),
    errno.EROFS: ("read-only file system",
                  "the data remote is mounted read-only: remount it read-write to push (fetching from "
                  "it works as it is)"),
}
_STAGED = ".staged-"  # prefix of a staged object's file (hidden: listings skip dot files)


class FolderRemote(Remote):
    """Objects are files under ``root``; ``put`` writes a temp file, fsyncs it and renames it.

    Symbolic links inside the root are never followed (the root itself may be one: that is the
    user's choice). Every name is opened component by component with ``O_NOFOLLOW`` relative to
    the root's descriptor, so a link planted in ``packs/`` cannot make a push write, or a fetch
    read, anything outside the remote.

    Modes follow the root, as git's objects follow a shared repository's config: new folders and
    files get the group and other bits the root grants (a root ``chmod 2775`` by a team: folders
    ``g+rwxs``, files ``g+rw``), on top of the umask's and of the local ``core.sharedRepository``'s
    (core/fsutil.py); a folder this user owns that lacks those bits (made by an older git-mlv)
    gets them at the next write. Before, everything had the umask's mode (0755 folders), and a
    second member of the group could not push ("permission denied writing .../packs").
    """

    # Two threads keep one disk busy while the other copies; more only add seeks (2-core machine).
    parallelism = 2
    # A ranged read here (open, pread, close) costs ~35 us, what copying ~60 KB out of the page cache
    # costs (0.6 ms a MB, measured on this machine): a wider gap reads more than it saves. With the
    # 512 KiB of a network remote, the clone of a 1,000-push history read each pack nearly whole
    # once per batch (its files' chunks lie among older versions), 3.6x the tree's bytes.
    range_gap = 64 * 1024
    # Packs are written a GiB at a time before their fsyncs (``stage``): see there.
    stage_bytes = 1 << 30

    def __init__(self, root: str, create_root: bool = True, typed: str | None = None) -> None:
        self.root = os.path.abspath(os.path.expanduser(root))
        self.url = self.root
        self.typed = typed  # the URL as configured (a relative one is named in messages)
        # False (what commands use): a write to a root that does not exist is refused instead of
        # creating it: an unmounted share or a moved folder would otherwise take the data into a
        # new local folder (hidden under the mount point once it is back), and a push would say
        # it succeeded. `git mlv remote add` creates a new remote's folder.
        self.create_root = create_root
        self._modes: tuple[int, int] | None = None  # (folder mode, file mode): see the class doc
        self._root_mode = 0  # the root's mode, once a write looked

    def _gone(self) -> RemoteError:
        typed = self.typed or ""
        if typed and not typed.startswith(("/", "~", "file:")):
            # a relative path in .gitmlv names another folder from a clone made elsewhere
            return RemoteError(
                f"data remote folder {self.url} does not exist: its URL '{typed}' is relative to "
                "this repository's root; if the remote is elsewhere here, point this clone at it "
                f"(`git config mlv-remote.{self.name}.url /ABS/PATH`); if it is a new remote, "
                "create it (mkdir -p) and try again")
        return RemoteError(f"data remote folder {self.url} does not exist (a share not mounted? "
                           "moved?); if it is a new remote, create it (mkdir -p) and try again")

    def _error(self, e: OSError, what: str) -> RemoteError:
        if e.errno == errno.ENOTDIR and os.path.lexists(self.root) and not os.path.isdir(self.root):
            # before: "/x/afile: packs/: Not a directory"
            return RemoteError(f"data remote {self.url} is a file, not a folder: point the remote at a "
                               f"folder (`git mlv remote modify {self.name} url PATH`)")
        if isinstance(e, FileNotFoundError):
            return RemoteNotFound(f"{self.url}: {what} does not exist")
        if e.errno == errno.ELOOP or (e.errno == errno.ENOTDIR and "symlink" in str(e)):
            return RemoteError(f"{self.url}: {what} is a symbolic link; a folder remote must not "
                               "contain links (remove it)")
        where = os.path.join(self.url, what)
        if e.errno in (errno.EACCES, errno.EPERM):
            return RemoteError(self._denied(what))
        if e.errno in _REMOTE_HINTS:  # fs_error's hints are about the local pool and worktree
            words, todo = _REMOTE_HINTS[e.errno]
            return RemoteError(f"{words} writing {where}; " + todo.format(name=self.name))
        translated = fs_error(e, where)
        if translated is not None:
            return RemoteError(str(translated))
        # EIO, ESTALE (NFS) and friends: a share that comes back may work on the next try
        return RemoteError(f"{self.url}: {what}: {e.strerror or e}", retryable=True)

    def _denied(self, what: str) -> str:
        """Permission denied on ``what``: whose folder refused, and how a team shares one (a
        folder remote made by another member of the group with the umask's 0755, before
        git-mlv widened modes, kept the others out)."""
        folder = self.root
        for part in what.split("/")[:-1]:
            if not os.path.isdir(os.path.join(folder, part)):
                break
            folder = os.path.join(folder, part)
        try:
            st = os.stat(folder)
            import pwd

            try:
                owner = pwd.getpwuid(st.st_uid).pw_name
            except KeyError:
                owner = f"uid {st.st_uid}"
            whose = f": {folder} belongs to {owner} (mode {stat.S_IMODE(st.st_mode):04o})"
        except OSError:
            whose = ""
        return (f"permission denied on {os.path.join(self.url, what)}{whose}; to share a folder "
                f"remote with a group, its owner runs `chmod -R g+rwX {self.root}; find {self.root} "
                "-type d -exec chmod g+s {} +` (git-mlv then keeps what it adds group-writable)")

    def _dir_fd(self, parts: list[str], create: bool = False) -> int:
        """A descriptor of folder ``root/parts...``, no component a symlink."""
        if create and self.create_root:
            os.makedirs(self.root, exist_ok=True)
        elif create and not os.path.isdir(self.root):
            raise self._gone()
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            if create and self._modes is None:
                self._root_mode = widen_fd(fd, team_bits(os.path.dirname(self.root)))
                self._modes = modes_under(self._root_mode)
                widen_tops(fd, self._modes[0])
            for part in parts:
                if create:
                    try:
                        os.mkdir(part, 0o777, dir_fd=fd)
                    except FileExistsError:
                        pass
                nxt = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
                os.close(fd)
                fd = nxt
                if create and self._modes is not None:
                    widen_fd(fd, self._modes[0])
        except OSError as e:
            os.close(fd)
            if e.errno == errno.ENOTDIR:  # O_NOFOLLOW|O_DIRECTORY on a link: ENOTDIR or ELOOP
                raise OSError(errno.ELOOP, "a symlink or not a folder", part) from None
            raise
        return fd

    def _open(self, name: str, flags: int, mode: int = 0o666) -> int:
        *folders, base = validate_name(name).split("/")
        dfd = self._dir_fd(folders)
        try:
            return os.open(base, flags | os.O_NOFOLLOW, mode, dir_fd=dfd)
        finally:
            os.close(dfd)

    def exists(self, name: str) -> bool:
        """True when the file exists (a symlink does not count)."""
        *folders, base = validate_name(name).split("/")
        try:
            dfd = self._dir_fd(folders)
        except OSError:
            return False
        try:
            st = os.stat(base, dir_fd=dfd, follow_symlinks=False)
        except OSError:
            return False
        finally:
            os.close(dfd)
        return stat.S_ISREG(st.st_mode)

    def get(self, name: str) -> bytes:
        """The whole file."""
        try:
            fd = self._open(name, os.O_RDONLY)
        except OSError as e:
            raise self._error(e, name) from None
        try:
            with os.fdopen(fd, "rb") as f:
                return f.read()
        except OSError as e:
            raise self._error(e, name) from None

    def get_range(self, name: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset``."""
        try:
            fd = self._open(name, os.O_RDONLY)
        except OSError as e:
            raise self._error(e, name) from None
        try:
            parts = []
            while length > 0:  # pread may return less than asked for on big reads
                buf = os.pread(fd, min(length, 16 << 20), offset)
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
        self._write(name, data, durable=True).publish()

    def stage(self, name: str, data: Data) -> Staged:
        """The temp file written and its writeback started; ``publish`` fsyncs and renames it.

        Measured on a loop-mounted ext4 (bench/RESULTS.md, push7): 14 packs of 64 MiB, each
        fsynced as it was written, 0.8-4.0 s; written with their writeback started, fsynced after
        the last, 0.6-2.7 s in the same rounds."""
        return self._write(name, data, durable=False)

    def _write(self, name: str, data: Data, durable: bool) -> _TempFile:
        *folders, base = validate_name(name).split("/")
        # A staged file is named after its object, so that deleting the object deletes it too: a
        # push killed between stage and publish leaves names the next push collects (its pending
        # list), not anonymous temp files.
        tmp = f".tmp-{secrets.token_hex(8)}" if durable else f"{_STAGED}{base}"
        try:
            dfd = self._dir_fd(folders, create=True)
        except OSError as e:
            raise self._error(e, name) from None
        staged = _TempFile(self, name, dfd, tmp, base)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o666, dir_fd=dfd)
            try:
                if self._modes is not None and self._modes[1] != 0o666 & ~umask():
                    with contextlib.suppress(OSError):  # a share without modes (CIFS): as it gives
                        os.fchmod(fd, self._modes[1])
                for part in parts_of(data):
                    if isinstance(part, FileSlice):
                        _copy_slice(part, fd)
                    else:
                        _write_all(fd, part)
                if durable:
                    os.fsync(fd)
                    staged.synced = True
                else:
                    start_writeback(fd)
            finally:
                os.close(fd)
        except BaseException as e:
            staged.discard()
            if isinstance(e, OSError):
                raise self._error(e, name) from None
            raise
        if not durable:
            staged.park()
        return staged

    def list_info(self, prefix: str) -> dict[str, ObjectInfo]:
        """Regular files directly under ``prefix`` with size and mtime, skipping temp files of
        unfinished writes and symbolic links."""
        return self._scan(prefix, staged=False)

    def list_staged(self, prefix: str) -> dict[str, ObjectInfo]:
        """The staged files under ``prefix`` never published, by their objects' names."""
        return self._scan(prefix, staged=True)

    def _scan(self, prefix: str, staged: bool) -> dict[str, ObjectInfo]:
        folder = validate_prefix(prefix).rstrip("/")
        out: dict[str, ObjectInfo] = {}
        try:
            dfd = self._dir_fd([folder])
        except FileNotFoundError:
            if not self.create_root and not os.path.isdir(self.root):
                raise self._gone() from None  # not an empty remote: no remote at all
            return {}
        except OSError as e:
            raise self._error(e, prefix) from None
        try:
            with os.scandir(dfd) as it:
                for d in it:
                    if staged != d.name.startswith(_STAGED) or (not staged and d.name.startswith(".")):
                        continue
                    if not d.is_file(follow_symlinks=False):
                        continue
                    st = d.stat(follow_symlinks=False)
                    name = d.name[len(_STAGED):] if staged else d.name
                    out[prefix + name] = ObjectInfo(st.st_size, st.st_mtime)
        except OSError as e:
            raise self._error(e, prefix) from None
        finally:
            os.close(dfd)
        return out

    def delete(self, name: str) -> None:
        """Remove the file if present (a symlink is removed, not what it points to), and what
        ``stage`` left of it if a push died before publishing it."""
        *folders, base = validate_name(name).split("/")
        try:
            dfd = self._dir_fd(folders)
        except FileNotFoundError:
            return
        except OSError as e:
            raise self._error(e, name) from None
        try:
            for gone in (base, f"{_STAGED}{base}"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(gone, dir_fd=dfd)
        except OSError as e:
            raise self._error(e, name) from None
        finally:
            os.close(dfd)


class _TempFile(Staged):
    """A folder remote's object written to a temp file beside its name, not yet renamed to it.

    A staged file does not keep its folder open between ``stage`` and ``publish`` (a push stages
    up to a GiB of packs: with small packs, thousands of descriptors); the folder is opened again,
    link by link as always, to publish or discard it."""

    def __init__(self, remote: FolderRemote, name: str, dfd: int, tmp: str, base: str) -> None:
        self.remote, self.name, self.dfd, self.tmp, self.base = remote, name, dfd, tmp, base
        self.synced = False
        self.done = False

    def park(self) -> None:
        """Let go of the folder's descriptor until ``publish`` or ``discard``."""
        self._close()

    def publish(self) -> None:
        """fsync (the data is durable before the rename makes it visible), then rename; a
        symlink planted at the target is replaced by the file, never written through."""
        try:
            dfd = self._folder()
            if not self.synced:
                fd = os.open(self.tmp, os.O_RDONLY | os.O_NOFOLLOW, dir_fd=dfd)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            os.replace(self.tmp, self.base, src_dir_fd=dfd, dst_dir_fd=dfd)
        except OSError as e:
            self.discard()
            raise self.remote._error(e, self.name) from None
        self.done = True
        self._close()

    def discard(self) -> None:
        """Remove the temp file."""
        if self.done:
            return
        self.done = True
        try:
            os.unlink(self.tmp, dir_fd=self._folder())
        except OSError:
            pass  # gone already; or the folder is unreachable, and so is the file
        self._close()

    def _folder(self) -> int:
        if self.dfd < 0:
            self.dfd = self.remote._dir_fd(self.name.split("/")[:-1])
        return self.dfd

    def _close(self) -> None:
        if self.dfd >= 0:
            os.close(self.dfd)
            self.dfd = -1


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _copy_slice(part: FileSlice, out: int) -> None:
    """Copy a slice of a local file in the kernel (no user-space copy); plain reads if unsupported.

    ``copy_file_range`` first (the same file system: it may share extents); across file systems
    Linux refuses it (EXDEV) and ``sendfile`` copies through the page cache instead: measured here
    on a push of 222 MB of packs into a loop-mounted ext4, 0.18 s of CPU against 0.32-0.40 s for
    8 MiB reads and writes (bench/RESULTS.md, write4). Both advance ``out``'s file position, so a
    method that fails part-way is continued by the next from where it stopped.
    """
    src = os.open(part.path, os.O_RDONLY)
    try:
        pos, end = part.offset, part.offset + part.length
        for copy in (_copy_file_range, _sendfile):
            try:
                while pos < end:
                    n = copy(src, out, pos, end - pos)
                    if n == 0:
                        break
                    pos += n
            except OSError:  # EXDEV/ENOSYS/EINVAL on old kernels and some file systems
                continue
            if pos < end:
                raise OSError(f"{part.path}: shorter than expected")
            return
        for piece in FileSlice(part.path, pos, end - pos).pieces(8 << 20):
            _write_all(out, piece)
    finally:
        os.close(src)


def _copy_file_range(src: int, out: int, pos: int, count: int) -> int:
    return os.copy_file_range(src, out, count, pos)


def _sendfile(src: int, out: int, pos: int, count: int) -> int:
    return os.sendfile(out, src, pos, count)
