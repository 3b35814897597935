"""Modes of a data remote shared by a group, folder and SFTP alike (docs/remotes.md "Backends").

What a push creates follows the remote's own folder, as git's objects follow a shared bare
repository: on top of the umask's (and, on a folder remote, the local ``core.sharedRepository``'s,
core/fsutil.py), a new folder gets the root's group bits, the others' read/search bits (never
others' write: a root in a world-writable folder does not make the data writable by all) and its
setgid bit (its files keep the root's group); a new file gets the group's read/write and the
others' read bits. Before, everything had the umask's modes (``packs/`` 0755, packs 0644) and a
second member of a team (``chmod 2775``, group ``team``) could not push.

SFTP: sftp-server creates with the server's umask; one ``stat`` of the root per connection and a
``chmod`` only where the bits differ (never under a folder that grants the group nothing beyond
the umask's). Best effort: a server or share that refuses modes keeps what it gives.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from typing import Any

from ..core.fsutil import dir_mode, file_mode


def share_of(mode: int) -> int:
    """What a remote root of mode ``mode`` passes on: its group bits, the others' read/search bits
    and its setgid bit."""
    return (stat.S_IMODE(mode) & 0o075) | (mode & stat.S_ISGID)


def file_share(share: int) -> int:
    """Of a root's ``share_of``, the bits a new file gets: the group's read/write, the others' read."""
    return share & 0o064


# -- folder remotes (remotes/local.py) -----------------------------------------------------------
def modes_under(root_mode: int) -> tuple[int, int]:
    """(folder mode, file mode) for what a push creates under a root of mode ``root_mode``: the
    umask's and ``core.sharedRepository``'s, plus what the root passes on (``share_of``)."""
    share = share_of(root_mode)
    return dir_mode() | share, file_mode() | file_share(share)


def make_root(path: str) -> None:
    """Create a new folder remote's folder (and missing parents), as `git mlv remote add` does:
    with the mode of ``core.sharedRepository`` (core/fsutil.dir_mode), and the group bits of a
    parent that is a team's shared folder (setgid and group-writable, as git's ``--shared``
    folders are): a root made with the umask's 0755 there kept the rest of the group out."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        return
    if os.path.lexists(path):  # os.mkdir's FileExistsError said nothing: the remote took a file
        raise NotADirectoryError(errno.ENOTDIR, "a file, not a folder", path)
    parent = os.path.dirname(path)
    make_root(parent)
    try:
        os.mkdir(path)
    except FileExistsError:
        return
    team = team_bits(parent)
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if (mode | dir_mode() | team) != mode:
        with contextlib.suppress(OSError):  # a share without modes (CIFS): as it gives
            os.chmod(path, mode | dir_mode() | team)


def widen_tops(root_fd: int, mode: int) -> None:
    """``widen_fd`` the remote's top folders this user owns, once a process (a write may go to one
    without passing through another: a member's next push writes no ``repos/`` entry, and the
    folder stayed closed to the rest of the group)."""
    for top in ("packs", "repos", "runcache"):
        try:
            fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=root_fd)
        except OSError:
            continue
        try:
            widen_fd(fd, mode)
        finally:
            os.close(fd)


def team_bits(parent: str) -> int:
    """The group bits (and setgid) of ``parent`` when it is a team's shared folder (setgid and
    group-writable, as git's ``--shared`` folders are): what a remote's root made in it gets."""
    try:
        up = os.stat(parent).st_mode
    except OSError:
        return 0
    return up & (0o070 | stat.S_ISGID) if up & stat.S_ISGID and up & 0o020 else 0


def widen_fd(fd: int, mode: int) -> int:
    """Add ``mode``'s bits to the folder ``fd`` when it lacks some and this user owns it (a
    folder made by an older git-mlv, with the umask's mode; a root made so in a team's folder);
    another's folder is left as it is. Its mode after."""
    st = os.fstat(fd)
    want = stat.S_IMODE(st.st_mode) | mode
    if want != stat.S_IMODE(st.st_mode) and st.st_uid == os.geteuid():
        try:
            os.fchmod(fd, want)
            return st.st_mode | want
        except OSError:
            pass  # a file system without modes (a CIFS share): writing will say what is wrong
    return st.st_mode


# -- SFTP remotes (remotes/ssh.py) --------------------------------------------------------------
def share_bits(sftp: Any, root: str) -> int:
    """``share_of`` the SFTP remote's folder ``root``; 0 when it cannot be read (not made yet: the
    umask's modes, as before)."""
    try:
        mode = sftp.stat(root or ".").st_mode or 0
    except OSError:
        return 0
    return share_of(mode)


def widen_file(f: Any, given: int, share: int) -> None:
    """Give the open remote file ``f`` (mode ``given``) the group's read/write and the others'
    read bits of ``share``."""
    have = stat.S_IMODE(given)
    want = have | file_share(share)
    if want != have:
        with contextlib.suppress(OSError):
            f.chmod(want)


def widen_folder(sftp: Any, path: str, share: int) -> None:
    """Give the remote folder ``path``, just made, the bits of ``share``."""
    if not share & ~0o055:  # nothing beyond what the usual umask gives (0755)
        return
    try:
        have = stat.S_IMODE(sftp.stat(path).st_mode or 0)
    except OSError:
        return
    want = have | share
    if want != have:
        with contextlib.suppress(OSError):
            sftp.chmod(path, want)
