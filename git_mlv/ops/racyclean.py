"""A racily clean file re-cleaned by verifying it against the pointer git's index already holds
(issue 10; the rule is docs/formats.md#racy-clean).

git re-reads a file through clean whenever its index entry's stat cannot prove it unchanged (the
file written in the index's own second, a `touch`, `git add -A`): for the benchmark's 330 MB CSV
that was a whole clean, 4-5 s of a checkout (bench/RESULTS.md, chk5). When the file's stat still
equals its entry's, the entry's pointer is the expected answer; core/recheck.py proves it (or
hands back the exact stream for the normal clean). Everything here only chooses what to compare
against: a wrong choice costs a normal clean, never a wrong pointer.
"""

from __future__ import annotations

import os
import stat as st
from typing import TYPE_CHECKING

from ..core.pointer import Pointer
from ..errors import MissingObject, MlvError

if TYPE_CHECKING:
    from ..core.chunker import Readable
    from ..gitio.indexentry import EntryFinder
    from .context import Workspace

# Files of fewer bytes than this many of the largest chunks (8 MiB at the default 256 KiB) are
# cleaned normally: the check's fixed costs (the index's mapping and search, one `git cat-file`, the
# manifest, thread hand-offs) are a few ms, what a normal clean of a few MB costs (bench/RESULTS.md,
# racy6). In chunks, not bytes, so that the suite's tiny chunks run it on small files.
RACY_MIN_CHUNKS = 32
_M32 = 0xFFFFFFFF
# Set by `git mlv pull` / `git mlv checkout` on the `git update-index` that re-stats the files they
# just wrote from the pool: every file that command cleans is one whose entry's pointer is the
# expected answer, though its stat is still the pointer file's (docs/formats.md#racy-clean)
RESTORED_ENV = "MLV_RESTORED"


def _same_stat(words: tuple[int, ...], s: os.stat_result) -> bool:
    """The entry's stat words against the file's, as git compares them (ctime, mtime to the
    nanosecond, inode, size; the index keeps the low 32 bits)."""
    return (words[0] == int(s.st_ctime) & _M32 and words[1] == s.st_ctime_ns % 1_000_000_000
            and words[2] == int(s.st_mtime) & _M32 and words[3] == s.st_mtime_ns % 1_000_000_000
            and words[5] == s.st_ino & _M32 and words[9] == s.st_size & _M32)


def trace(outcome: str, pathname: str) -> None:
    """With MLV_CLEAN_TRACE=FILE, append ``outcome<TAB>path`` (tests tell the answers apart: a
    verified, a clean-ahead and a normal answer store nothing new for an unchanged file)."""
    path = os.environ.get("MLV_CLEAN_TRACE")
    if path:
        with open(path, "a", encoding="utf-8", errors="surrogateescape") as f:
            f.write(f"{outcome}\t{pathname}\n")


class RacyClean:
    """Per filter process: git's index, read at the first big clean, and the check itself."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._finder: EntryFinder | None = None
        self._unusable = ws.repo.worktree is None  # a bare repository has no files to compare
        # (path, entry's stat) found to differ: git asks for the same file several times in one
        # command (`git status` of a changed file: refresh, diff, index write: 4 cleans); only the
        # first pays for the check
        self._differs: set[tuple[str, tuple[int, ...]]] = set()
        self._restored = os.environ.get(RESTORED_ENV) == "1"

    def _index(self) -> EntryFinder | None:
        if self._finder is None and not self._unusable:
            from ..gitio.indexentry import EntryFinder

            repo = self.ws.repo
            path = os.environ.get("GIT_INDEX_FILE") or os.path.join(repo.git_dir, "index")
            if not os.path.isabs(path):
                path = os.path.join(repo.top, path)
            sha256 = repo.config.get("extensions.objectformat") == "sha256"
            try:
                self._finder = EntryFinder(path, 32 if sha256 else 20)
            except (OSError, ValueError, MlvError):  # no index yet, version 4, truncated
                self._unusable = True
        return self._finder

    def expected(self, pathname: str) -> tuple[bytes, Pointer, tuple[int, ...]] | None:
        """The pointer blob git's index holds for ``pathname``, its pointer and the entry's stat,
        when the file is big and its stat still equals its entry's (or git-mlv just restored it);
        else None."""
        if self._unusable:
            return None
        try:
            s = os.lstat(os.path.join(self.ws.repo.top, pathname))
        except OSError:
            return None
        if s.st_size < RACY_MIN_CHUNKS * self.ws.settings.chunk_max or not st.S_ISREG(s.st_mode):
            return None
        finder = self._index()
        if finder is None:
            return None
        e = finder.stage0(os.fsencode(pathname))
        if e is None or e.skips_worktree or e.stat[6] & 0o170000 != 0o100000 \
                or not (self._restored or _same_stat(e.stat, s)) or (pathname, e.stat) in self._differs:
            return None
        try:
            blob = self.ws.repo.git("cat-file", "blob", e.oid.hex())
        except MlvError:
            return None
        pointer = Pointer.try_parse(blob)
        if pointer is None or pointer.size != s.st_size:
            return None
        return blob, pointer, e.stat

    def clean(self, pathname: str, stream: Readable) -> bytes | Readable:
        """The index's pointer blob when ``stream`` is proven to be its file; else a stream of
        exactly ``stream``'s bytes for the normal clean (``stream`` itself when none was read).
        The caller holds the pool's gc lock shared (nothing verified here can vanish before git
        records the answer)."""
        found = self.expected(pathname)
        if found is None:
            return stream
        blob, pointer, stat = found
        pool = self.ws.pool
        chunks = pool.resolve(pointer.oid)  # a damaged manifest fails clearly, as a damaged chunk does
        if not chunks or sum(n for _, n in chunks) != pointer.size:
            return stream
        from ..core.recheck import same_file

        try:
            rest = same_file(pool, chunks, stream)
        except MissingObject:
            return stream  # a chunk is not here (nothing was read yet)
        if rest is not None:
            self._differs.add((pathname, stat))
            trace("differs", pathname)
            return rest
        trace("verified", pathname)
        return blob

    def close(self) -> None:
        """Unmap the index."""
        if self._finder is not None:
            self._finder.close()
            self._finder = None
