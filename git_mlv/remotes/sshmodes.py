"""Modes on an SFTP remote shared by a group: what a push creates follows the remote folder's
group bits, as on a folder remote (remotes/local.py, docs/remotes.md "Backends").

sftp-server creates files and folders with the server's umask (0644 and 0755 under the usual
022), so in a team's folder (``chmod 2775``, group ``team``) the first member's push made
``packs/`` 0755 and its packs 0644: the others' pushes, consolidations and ``gc --remote`` could
not add or delete there. Now a file gets, on top of what the server gave it, the group's read and
write bits and the others' read bit of the remote's folder; a folder a push makes gets its group
bits, the others' read/search bits (never others' write) and its setgid bit. One ``stat`` of the
root per connection; a ``chmod`` only where the bits differ (never under a folder that grants the
group nothing beyond the umask's). Best effort: a server that refuses modes keeps what it gives.
"""

from __future__ import annotations

import contextlib
import stat
from typing import Any


def share_bits(sftp: Any, root: str) -> int:
    """The group bits, the others' read/search bits and the setgid bit of the remote's folder
    ``root``; 0 when it cannot be read (not made yet: the umask's modes, as before)."""
    try:
        mode = sftp.stat(root or ".").st_mode or 0
    except OSError:
        return 0
    return (stat.S_IMODE(mode) & 0o075) | (mode & stat.S_ISGID)


def widen_file(f: Any, given: int, share: int) -> None:
    """Give the open remote file ``f`` (mode ``given``) the group's read/write and the others'
    read bits of ``share``."""
    have = stat.S_IMODE(given)
    want = have | (share & 0o064)
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
