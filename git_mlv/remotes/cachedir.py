"""The folder a remote's cache lives in (``<pool>/remotes/<name>/``, remotes/cache.py), written
best effort.

The cache is an optimisation: a repository whose ``.git`` cannot be written (a read-only mount,
another user's clone, a full disk) still reads and pushes data. The first write the cache folder
refuses moves the cache to a scratch folder (``$TMPDIR/git-mlv-remote-cache-*``), seeded with the
small state files, and deleted by ``close``; index files cached already are read where they are.
Before, that first write ended the command: `git mlv status` said the remote "could not be asked",
`prune --dry-run` and `push` stopped with exit 6.
"""

from __future__ import annotations

import os
import shutil

from ..core.fsutil import FileSystemError, atomic_write, makedirs

# files of the cache folder besides url and packs/ (what a changed URL drops, a scratch copy seeds)
STATE = ("pending", "listed", "superseded", "compact-refused")
UNWRITABLE = (OSError, FileSystemError)  # what a write may raise (core/fsutil.writing)


class CacheFolder:
    """``dir`` (with ``packs/``) describing the remote at ``url``; ``cached``: the folder of the
    index files cached before (empty or elsewhere when they describe another URL)."""

    def __init__(self, path: str, url: str) -> None:
        self.dir = path
        self.url = url
        self.pack_dir = os.path.join(path, "packs")
        self.cached = self.pack_dir
        self.scratch: str | None = None  # the scratch folder, once the cache folder refused a write
        try:
            makedirs(self.pack_dir)
            self.same = self._check_url()
        except UNWRITABLE as e:  # read-only, not ours, full
            self.same = self._same_url()
            self._to_scratch(seed=self.same, error=e)
            if not self.same:
                self.cached = self.pack_dir  # the scratch's: nothing cached describes this URL

    def _same_url(self) -> bool:
        try:
            with open(os.path.join(self.dir, "url"), encoding="utf-8") as f:
                return f.read().strip() == self.url
        except OSError:
            return False

    def _check_url(self) -> bool:
        """True when the cache describes this URL; else empty it (and say False)."""
        if self._same_url():
            return True
        # another place now: nothing we knew holds
        for name in os.listdir(self.pack_dir):
            os.unlink(os.path.join(self.pack_dir, name))
        # and what it says about the old place: "listed" made status answer "from its
        # listing of 2 hours ago" about a place never listed (and claim every commit
        # unpushed); "superseded" would make a push delete, from the new place, packs named
        # like the old place's merged-away ones that no index names yet (a copy in progress)
        for name in STATE:
            if os.path.exists(os.path.join(self.dir, name)):
                os.unlink(os.path.join(self.dir, name))
        atomic_write(os.path.join(self.dir, "url"), self.url.encode() + b"\n")
        return False

    def _to_scratch(self, seed: bool, error: OSError | FileSystemError) -> None:
        """Go on in a scratch folder (the cache folder refused a write: ``error``, raised if the
        scratch folder cannot be made either); with ``seed``, copy the small state files there
        (their mtimes too: ``RemoteIndex.age`` reads "listed"'s)."""
        import tempfile

        old = self.dir
        try:
            scratch = tempfile.mkdtemp(prefix="git-mlv-remote-cache-")
            os.mkdir(os.path.join(scratch, "packs"))
        except OSError:
            raise error from None
        self.scratch = self.dir = scratch
        self.pack_dir = os.path.join(scratch, "packs")
        for name in STATE if seed else ():
            try:
                shutil.copy2(os.path.join(old, name), os.path.join(scratch, name))
            except OSError:
                pass
        atomic_write(os.path.join(scratch, "url"), self.url.encode() + b"\n", durable=False)

    def write_state(self, name: str, data: bytes) -> None:
        """Write a state file (``pending``, ``listed``...): best effort, in the scratch folder once
        the cache folder refused a write."""
        try:
            atomic_write(os.path.join(self.dir, name), data)
            return
        except UNWRITABLE as e:
            if self.scratch is not None:
                return  # even the scratch folder refuses: an optimisation lost, nothing else
            try:
                self._to_scratch(seed=True, error=e)
            except UNWRITABLE:
                return
        try:
            atomic_write(os.path.join(self.dir, name), data, durable=False)
        except UNWRITABLE:
            pass

    def store(self, name: str, data: bytes) -> str:
        """Write index file ``name`` (a base name) under ``packs/``; its path. Raises only when
        the scratch folder refuses it too (the file is then needed, not an optimisation)."""
        path = os.path.join(self.pack_dir, name)
        try:
            atomic_write(path, data)
            return path
        except UNWRITABLE as e:
            if self.scratch is not None:
                raise
            self._to_scratch(seed=True, error=e)
        path = os.path.join(self.pack_dir, name)
        atomic_write(path, data, durable=False)
        return path

    def close(self) -> None:
        """Delete the scratch folder, if there is one."""
        if self.scratch is not None:
            shutil.rmtree(self.scratch, ignore_errors=True)
