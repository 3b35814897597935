"""The uploads of a clone not yet indexed on a remote (``<pool>/remotes/<name>/pending``), and the
lock that keeps one push from collecting another's (docs/remotes.md "Transfer").

A push names its packs in ``pending`` before the first goes up; the next push deletes those that
never got an index (a crash's leftovers). Two pushes of one pool at once (two terminals, the
pre-push hooks of two linked worktrees, clones sharing ``mlv.pool``) read the same list: before,
the second took the first's packs in flight for leftovers and deleted them, and when it deleted
one between the first's pack and index uploads, the first then committed an index naming no pack,
said the data was pushed, and a clone found it missing.

Every process that uploads holds ``push.lock`` (in the cache folder) shared from the moment it
may name packs until it closes the remote; collecting takes it exclusively, without waiting, and
is skipped (left to the next push) while another upload is live. ``pending`` itself is changed by
read-modify-write under ``pending.lock``, held only for that: concurrent pushes keep each other's
names. Best effort, as the cache folder is: the locks stay in ``<pool>/remotes/<name>`` when the
state moved to a scratch folder (opened read-only: flock needs no write access); where no lock
file can be opened at all, the list is kept as before, and collecting goes on.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterable, Iterator

from ..core.fsutil import open_lock_file
from ..errors import MlvError
from .cachedir import CacheFolder

PENDING = "pending"
PUSH_LOCK = "push.lock"
PENDING_LOCK = "pending.lock"


class PendingUploads:
    """The ``pending`` list of one remote's cache folder and this process's hold on ``push.lock``."""

    def __init__(self, folder: CacheFolder, lock_dir: str) -> None:
        self.folder = folder
        # the cache folder itself, also once the state moved to a scratch folder (a read-only
        # .git): that copy of ``pending`` still names the uploads of the clone's other pushes
        self.lock_dir = lock_dir
        self._fd: int | None = None  # our descriptor of push.lock (None: not opened yet)
        self._opened = False
        self._held = False  # shared (or exclusive while collecting) lock taken

    def _lock_file(self, name: str) -> int | None:
        path = os.path.join(self.lock_dir, name)
        try:
            return open_lock_file(path)
        except (OSError, MlvError):
            try:
                return os.open(path, os.O_RDONLY)  # flock needs no write access
            except OSError:
                return None

    def _push_fd(self) -> int | None:
        if not self._opened:
            self._opened = True
            self._fd = self._lock_file(PUSH_LOCK)
        return self._fd

    def may_collect(self) -> bool:
        """Take ``push.lock`` exclusively if no other upload holds it (True: collect, then call
        ``hold``); False while another process of this pool uploads to this remote."""
        fd = self._push_fd()
        if fd is None:
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._held = True
        return True

    def hold(self) -> None:
        """Hold ``push.lock`` shared until ``close`` (from exclusive: a conversion; else waits
        only for a collection under way, which is short)."""
        fd = self._push_fd()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_SH)
            self._held = True

    def read(self) -> set[str]:
        """The names in ``pending``."""
        try:
            with open(os.path.join(self.folder.dir, PENDING), encoding="utf-8") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    def replace(self, names: Iterable[str]) -> None:
        """Write ``pending`` as ``names`` (a collector, holding ``push.lock`` exclusively)."""
        with self._pending_locked():
            self._write(set(names))

    def add(self, names: Iterable[str]) -> None:
        """Add ``names`` (uploads about to start); holds ``push.lock`` shared from now on."""
        names = set(names)
        if not names:
            return
        if not self._held:
            self.hold()
        with self._pending_locked():
            self._write(self.read() | names)

    def remove(self, names: Iterable[str]) -> None:
        """Remove ``names`` (indexed on the remote now) and keep everyone else's."""
        names = set(names)
        if names:
            with self._pending_locked():
                self._write(self.read() - names)

    def _write(self, names: set[str]) -> None:
        self.folder.write_state(PENDING, "".join(f"{n}\n" for n in sorted(names)).encode())

    @contextlib.contextmanager
    def _pending_locked(self) -> Iterator[None]:
        fd = self._lock_file(PENDING_LOCK)
        if fd is None:
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def close(self) -> None:
        """Let go of ``push.lock``."""
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._opened, self._held = None, False, False
