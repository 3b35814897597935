"""The clean/smudge logic behind git's filter: content <-> pool + pointer (DESIGN.md §5).

- clean stores the content before it answers git, so no pointer is ever committed without its data;
  content that already is a valid pointer is returned unchanged.
- smudge streams verified content from the pool; when the data is missing it fetches it from the
  default remote in the background (git's ``delay``), or writes the pointer and warns.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from ..core import index as idx
from ..core.fsutil import open_lock_file
from ..core.gclock import lock_shared
from ..core.hashing import digest
from ..core.pack import KIND_CHUNK, KIND_MANIFEST
from ..core.pointer import MAX_SIZE, Pointer
from ..core.pointer_text import VERSION
from ..core.pool import Location
from ..errors import CorruptObject, MissingObject, MlvError
from ..gitio.quotepath import named
from .context import Workspace
from .delayed import FETCH_BATCH, Fetcher, record, unpack
from .scope import FetchScope, fetch_scope

if TYPE_CHECKING:
    from .cleanahead import CleanAhead
    from .racyclean import RacyClean

_WARN_LIMIT = 10  # name this many missing files, then count the rest
# git-lfs's pointer text (docs: git-lfs's spec.md): under filter=mlv it is a file never brought over
_LFS_POINTER = b"version https://git-lfs.github.com/spec/v1\n"
# Our pointer as git hands it over when a ``text``/``eol`` attribute set after our ``-text`` made
# it convert LFs to CRLFs (core.autocrlf=true, Git for Windows' default): ops/eol.py.
_CRLF_HEAD = f"version {VERSION}\r\n".encode()


def _parse(blob: bytes) -> tuple[Pointer | None, bytes]:
    """Our pointer in ``blob`` and its text, also when git turned its LFs into CRLFs: a smudge
    then wrote the pointer text, and a clean stored that text as the file's data."""
    pointer = Pointer.try_parse(blob)
    if pointer is None and blob.startswith(_CRLF_HEAD) and len(blob) <= 2 * MAX_SIZE:
        text = blob.replace(b"\r\n", b"\n")
        pointer = Pointer.try_parse(text)
        if pointer is not None:
            return pointer, text
    return pointer, blob


class Readable(Protocol):
    """What clean reads from: git's pkt-line content stream, or a binary file (stdin)."""

    def readinto(self, b: memoryview | bytearray, /) -> int | None: ...


class _Prefixed:
    """A stream that first returns ``head``, then the rest of ``tail``."""

    def __init__(self, head: bytes, tail: Readable) -> None:
        self._head = memoryview(head)
        self._tail = tail

    def readinto(self, b: memoryview | bytearray) -> int:
        view = memoryview(b).cast("B")
        n = 0
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
        if n < len(view):
            n += self._tail.readinto(view[n:]) or 0
        return n


def _read_head(stream: Readable, n: int) -> bytes:
    buf = bytearray(n)
    got = 0
    while got < n:  # a raw file may return less than asked before its end
        k = stream.readinto(memoryview(buf)[got:])
        if not k:
            break
        got += k
    return bytes(buf[:got])


# Files git reads from trees by their text (attributes, ignores, submodules, mailmap) and our own
# configuration: as pointers, a clone would not know what to filter, what to ignore, where the
# data remote is. Any folder's .gitattributes and .gitignore; the others at the top only.
_CONFIG_ANYWHERE = (".gitattributes", ".gitignore")
_CONFIG_AT_TOP = (".gitmodules", ".mailmap", ".gitmlv", ".gitmlv.lock")


def is_config_file(pathname: str) -> bool:
    """True for a path that clean keeps as it is, whatever the patterns say."""
    return pathname in _CONFIG_AT_TOP or pathname.rsplit("/", 1)[-1] in _CONFIG_ANYWHERE


def _read_all(stream: Readable) -> bytes:
    out = bytearray()
    buf = bytearray(1 << 16)
    while True:
        n = stream.readinto(buf)
        if not n:
            return bytes(out)
        out += buf[:n]


class PoolFilter:
    """A FilterHandler (gitio.filter_process) over a workspace's pool."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.pool = ws.pool
        self.missing_paths: list[str] = []
        self.pointers_seen: list[bytes] = []  # for the pointer cache (gitio/pointer_cache.py)
        self._fetcher: Fetcher | None = None
        self._listed: dict[str, bytes] = {}  # delayed paths listed available: their records
        self._located: dict[str, Location] = {}  # ... and where a one-chunk file's data is
        self._has_remote: bool | None = None  # a default data remote? (asked once: _default_remote)
        self._scope: FetchScope | None = None
        self.out_of_scope = 0  # files left as pointers on purpose (mlv.fetchInclude/Exclude)
        self.lfs_pointers = 0  # git-lfs pointers met under filter=mlv (warned about)
        self.damaged_paths = 0  # files left pointers because their data here is damaged (warned)
        self._gc_fd: int | None = None  # gc.lock held shared (_hold_gc_lock)
        self._racy: RacyClean | None = None  # created at the first clean of more than a head
        self._ahead: CleanAhead | None = None  # created at the first clean (None: not possible here)
        self._ahead_checked = False
        self._fetched_now = False  # fetch_now opened the default remote (closed at close)
        self._fetch_failed = False  # ... and failed: not tried again in this git command
        self._verb: str | None = None  # the git command served (gitio/caller.py), read once
        self._read_only: MlvError | None = None  # why the pool is not writable here, if it is not

    # -- clean -------------------------------------------------------------------------------
    def clean(self, pathname: str, content: Readable) -> bytes:
        """Store ``content``; the pointer git should keep (docs/pointer-spec.md, rule 12: the
        files git and git-mlv read as text are kept as they are, whatever the patterns say)."""
        if is_config_file(pathname):
            return _read_all(content)
        head = _read_head(content, MAX_SIZE)
        if not head:
            return b""  # an empty file is its own pointer (git skips filters on empty files in diff)
        if len(head) < MAX_SIZE:
            pointer, text = _parse(head)  # (with CRLFs: a checkout wrote it as pointer text)
            if pointer is not None:
                self._seen(text)
                return text  # already a pointer (e.g. a file whose data was never fetched)
        if head.startswith(b"format "):  # `git blame FILE` cleans textconv's summary of FILE
            from .summarycache import is_summary_of

            more = _read_head(content, 1 << 20)
            if is_summary_of(head + more, pathname):
                return head + more
            content = _Prefixed(more, content)
        ahead = self._clean_ahead()
        if ahead is not None:
            ahead.note(pathname)
        small = self.ws.settings.chunk_min
        whole = len(head) < MAX_SIZE  # the content ended within its head
        if not whole and small >= MAX_SIZE:
            head += _read_head(content, small + 1 - MAX_SIZE)
            whole = len(head) <= small
        oid: bytes | None = None  # the hash of ``head`` when it is the whole file
        if whole and len(head) <= small and self._hold_gc_lock():  # one chunk: its id is the oid
            oid = digest(head)
            if self.pool.locate(oid, KIND_CHUNK) is not None:
                # stored already (a racily clean file re-read after a checkout, a `touch`): the
                # pointer, without importing the writer (FastCDC, thread pools: ~30 ms of a
                # one-file checkout's filter, bench/RESULTS.md one5)
                data = Pointer(oid.hex(), len(head)).encode()
                self._seen(data)
                return data
        stream: Readable = _Prefixed(head, content)
        if ahead is not None:
            guessed = self._guessed(ahead, pathname, head, whole, content)
            if isinstance(guessed, bytes):
                return guessed
            stream = guessed or stream
        if not whole and self._hold_gc_lock():  # maybe a racily clean file: check, don't re-cut
            if self._racy is None:
                from .racyclean import RacyClean

                self._racy = RacyClean(self.ws)
            answer = self._racy.clean(pathname, stream)
            if isinstance(answer, bytes):
                self._seen(answer)
                return answer
            stream = answer
        if self._hold_gc_lock() and self._read_only is not None:  # not ours to write: stored data only
            return self._stored_already(stream, self._read_only)
        w = self.pool.writer()
        # whole: all of it is ``head`` (a guess that missed compared ``head`` alone)
        pointer = w.add_bytes(head, oid) if whole else w.add_stream(stream)  # type: ignore[arg-type]
        data = pointer.encode()
        self._seen(data)
        return data

    def _stored_already(self, stream: Readable, refused: MlvError) -> bytes:
        """The pointer of ``stream`` when its data is in the pool already (a racily clean file in a
        read-only repository, or another user's: `git diff`, `git mlv status` re-read it), else
        ``refused``, the error that opening the pool for writing gave."""
        h, size = hashlib.sha256(), 0
        buf = bytearray(1 << 20)
        while True:
            n = stream.readinto(buf)
            if not n:
                break
            h.update(memoryview(buf)[:n])
            size += n
        oid = h.hexdigest()
        if not self.pool.has_file(oid):
            raise refused
        data = Pointer(oid, size).encode()
        self._seen(data)
        return data

    def _guessed(self, ahead: CleanAhead, pathname: str, head: bytes, whole: bool,
                 content: Readable) -> bytes | Readable | None:
        """The stored pointer if git sent exactly the bytes stored ahead, else the stream to clean."""
        guess = ahead.take(pathname)
        if guess is None or len(head) > len(guess[1]):
            return None
        pointer, stored = guess
        data = head if whole else head + _read_head(content, len(stored) + 1 - len(head))
        if data != stored:
            return _Prefixed(data, content)  # changed since, or other bytes: a normal clean
        from .racyclean import trace  # the filter's trace of its answers (MLV_CLEAN_TRACE)

        trace("ahead", pathname)
        answer = pointer.encode()
        self._seen(answer)
        return answer

    def _clean_ahead(self) -> CleanAhead | None:
        """Stores small files ahead of git's requests (ops/cleanahead.py), given a second core."""
        if not self._ahead_checked:
            self._ahead_checked = True
            root = self.ws.repo.worktree
            if root is not None and self.ws.settings.threads > 1:
                from .cleanahead import CleanAhead

                self._ahead = CleanAhead(root, self._store_ahead if self._hold_gc_lock() else
                                         lambda data: self.pool.writer().add_bytes(data))
        return self._ahead

    def _store_ahead(self, data: bytes) -> Pointer:
        """Store a file's bytes for CleanAhead; one already stored (a refresh of racily clean
        files) costs a hash, not the writer (held: the gc lock, taken before the worker starts).
        The writer is given that hash: it is the file's id, and a one-chunk file's chunk id."""
        oid = digest(data)
        if self.pool.has_file(oid.hex()):
            return Pointer(oid.hex(), len(data))
        return self.pool.writer().add_bytes(data, oid)

    def _hold_gc_lock(self) -> bool:
        """Hold the pool's ``gc.lock`` shared from now to the end, as a writer does: gc then never
        deletes an object this filter found present and so did not store again. False when
        that is not possible here (no pool yet, a read-only one): the writer then decides."""
        if self._gc_fd is None:
            path = os.path.join(self.pool.root, "gc.lock")
            try:
                if not os.path.isdir(self.pool.root):
                    return False
                try:
                    fd = open_lock_file(path)
                except MlvError as e:  # read-only, another user's pool: flock needs no write access,
                    fd = os.open(path, os.O_RDONLY)  # and a clean then only finds stored data
                    self._read_only = e
                lock_shared(fd)
            except (OSError, MlvError):
                return False
            self._gc_fd = fd
        return True

    # -- smudge ------------------------------------------------------------------------------
    def smudge(self, pathname: str, blob: bytes) -> Iterable[bytes] | None:
        """Content for ``blob``; None when its data is missing here."""
        pointer, blob = _parse(blob)
        if pointer is None:
            if blob.startswith(_LFS_POINTER):
                self._lfs_pointer(pathname)
            return [blob]  # not ours: committed before the path was tracked
        loc = self._located.pop(pathname, None) if self._located else None
        if loc is not None and loc.entry.id.hex() == pointer.oid:
            self._seen(blob)
            return [self.pool.read_chunk(loc)]  # a delayed file, located when it was listed
        chunks = self.pool.resolve(pointer.oid, refresh=True)
        if chunks is None:
            return None  # noted when git gets it: a clone asks for every file twice
        self._seen(blob)
        if sum(n for _, n in chunks) != pointer.size:
            raise CorruptObject(f"stored data of {pointer.oid[:12]} does not have the pointer's size; "
                                "run `git mlv fsck`")
        return self.pool.iter_file(pointer.oid, chunks)

    def _lfs_pointer(self, pathname: str) -> None:
        """Say that a file is git-lfs pointer text, not data (it is checked out as that text)."""
        self.lfs_pointers += 1
        if self.lfs_pointers <= _WARN_LIMIT:
            print(f"git-mlv: warning: {named(pathname)} holds a git-lfs pointer, not data: `git mlv migrate "
                  "from-lfs` brings git-lfs files over (with git-lfs's objects here)", file=sys.stderr)

    def _seen(self, pointer: bytes) -> None:
        """Note a pointer git stores or holds, for the pointer cache; written every 50,000 so
        that a clone of many files stays flat in memory."""
        self.pointers_seen.append(pointer)
        if len(self.pointers_seen) >= 50_000:
            self._remember_pointers()

    def _remember_pointers(self) -> None:
        if self.pointers_seen:  # git stores each as a blob: status and walks then need not read them
            from ..gitio.pointer_remember import remember_pointers

            remember_pointers(self.ws.repo, self.pointers_seen)
            self.pointers_seen = []

    def in_scope(self, pathname: str) -> bool:
        """True when ``pathname``'s data may be downloaded (docs/fetch-scope.md)."""
        if self._scope is None:
            self._scope = fetch_scope(self.ws)
        return self._scope(pathname)

    def missing(self, pathname: str, blob: bytes) -> bytes:
        """Leave the pointer in place and say how to get the data (out of the fetch scope: silently,
        the user asked for it; `git mlv status` counts them)."""
        pointer, text = _parse(blob)
        if pointer is not None:
            self._seen(text)
        if not self.in_scope(pathname):
            self.out_of_scope += 1
            return blob
        self.missing_paths.append(pathname)
        if len(self.missing_paths) <= _WARN_LIMIT:
            if self._archiving():
                print(f"git-mlv: warning: data of {named(pathname)} is not here; the archive holds its "
                      "pointer text", file=sys.stderr)
            else:
                print(f"git-mlv: warning: data of {named(pathname)} is not here; the file stays a "
                      "pointer until you run `git mlv pull`", file=sys.stderr)
        return blob

    def _archiving(self) -> bool:
        """True when the git command served is `git archive` (or a remote's, upload-archive): a
        file left as a pointer is pointer text in the archive, which a pull does not change."""
        if self._verb is None:
            from ..gitio.caller import caller_args, verb

            self._verb = verb(caller_args()) or ""
        return self._verb in ("archive", "upload-archive", "upload-archive--writer")

    def damaged(self, pathname: str, blob: bytes, error: MlvError) -> bytes:
        """Leave the pointer in place of data that is damaged here, and say so (the rest of the
        checkout goes on; `git mlv fsck` says what is damaged and how to repair it)."""
        self.damaged_paths += 1
        if self.damaged_paths <= _WARN_LIMIT:
            why = str(error)
            if isinstance(error, MissingObject):  # its manifest is here: a pull would not fetch it
                why = (f"{why.partition(';')[0]} (its manifest is); `git mlv fsck --repair` brings "
                       "the file back from the data remote")
            print(f"git-mlv: warning: {named(pathname)} stays a pointer: {why}", file=sys.stderr)
        return blob

    def delay(self, pathname: str, blob: bytes) -> bool:
        """Fetch in the background from the default remote, if there is one and the path is in
        the fetch scope."""
        if not self.in_scope(pathname):
            return False
        fetcher = self._get_fetcher()
        if fetcher is None:
            return False
        pointer, blob = _parse(blob)
        if pointer is None:
            return False
        fetcher.add(record(pathname, pointer, blob))
        return True

    def fetch_now(self, pathname: str, blob: bytes) -> Iterable[bytes] | None:
        """Content for a file whose data is not here, fetched from the default remote before
        answering: for git commands that cannot wait for a file (``git diff v1.0``, ``git show``,
        ``cat-file --filters`` offer no delay), as a checkout would have fetched it. None when the
        path is out of the fetch scope, there is no default remote, or the fetch fails (warned)."""
        pointer, _ = _parse(blob)
        if pointer is None or self._fetch_failed or not self.in_scope(pathname) \
                or (self._fetcher is not None and self._fetcher.failed) or not self._default_remote():
            return None
        from . import sync_fetch

        self._fetched_now = True
        try:
            sync_fetch.fetch_oids(self.ws, [pointer.oid], sizes={pointer.oid: pointer.size})
        except MlvError as e:
            # offline, or the remote refuses: once is enough (a `git log -p` asks file after file)
            self._fetch_failed = True
            print(f"git-mlv: warning: could not fetch the data of {named(pathname)} (no further "
                  f"file is tried in this command): {e}", file=sys.stderr)
            return None
        return self.smudge(pathname, blob)

    def available(self) -> list[str]:
        """Paths whose fetch finished (fetched or not), waiting for at least one; at most
        FETCH_BATCH at a time (git asks again until none is left)."""
        if self._fetcher is None:
            return []
        out = []
        self._located.clear()  # git smudged every path of the last answer before asking again
        recs = self._fetcher.wait_ready(FETCH_BATCH)
        files = [unpack(rec) for rec in recs]
        for rec, (path, _, _, _), loc in zip(recs, files, self._locate_one_chunk(files)):
            self._listed[path] = rec
            if loc is not None:
                self._located[path] = loc
            out.append(path)
        return out

    def _locate_one_chunk(self, files: list[tuple[str, bytes, str, int]]) -> list[Location | None]:
        """For each listed file, where its data is when it is one chunk (else None): one
        vectorised search for the whole answer instead of two lookups through every pack's index
        per smudge (``Pool.resolve``, then ``iter_file``): 2.2 s of a scale-1 clone's samples."""
        raws = [bytes.fromhex(oid) for _, _, oid, _ in files]
        if not raws:
            return []
        import numpy as np

        from ..core.sortedrows import in_key_order

        keys = np.array([idx.key(r, KIND_MANIFEST) for r in raws] + [idx.key(r, KIND_CHUNK) for r in raws],
                        dtype=f"S{idx.KEY_SIZE}")
        # a band of the pool's indexes at a time: their pages count in RSS once touched (issue 9)
        locs = in_key_order(keys, self.pool.locate_keys, self.pool.drop_pages)
        n = len(raws)
        return [c if m is None and c is not None and c.entry.raw_len == size else None
                for m, c, (_, _, _, size) in zip(locs[:n], locs[n:], files)]

    def take_delayed(self, pathname: str) -> bytes | None:
        """The pointer blob of a delayed path listed available (forgotten once taken)."""
        rec = self._listed.pop(pathname, None)
        return None if rec is None else unpack(rec)[1]

    def _default_remote(self) -> bool:
        """Whether a default data remote is configured: asked once per git command (it reads
        ``.gitmlv`` with ``git config``), for the delayed fetches and for ``fetch_now`` alike."""
        if self._has_remote is None:
            try:
                from . import sync

                self._has_remote = sync.default_remote_name(self.ws) is not None
            except ImportError:  # a build without remotes
                self._has_remote = False
            except MlvError as e:  # .gitmlv unreadable: checkouts go on, without fetching
                print(f"git-mlv: warning: {e}; nothing is fetched in this command", file=sys.stderr)
                self._has_remote = False
        return self._has_remote

    def _where_from(self) -> str:
        """What brings missing data: `git mlv pull`; with no data remote, in a clone of a repository
        on this machine (`git clone /data/project`), sharing its pool (ops/remote_folder.py)."""
        from .remote_folder import shared_pool_hint

        return ((not self._default_remote() and shared_pool_hint(self.ws, lead="there is no data remote: "))
                or "`git mlv pull` fetches them and says why any cannot be had")

    def _get_fetcher(self) -> Fetcher | None:
        if self._fetcher is None and self._default_remote():
            self._fetcher = Fetcher(self.ws)
        return self._fetcher

    def close(self) -> None:
        """Commit the pack; end with one line that sums up the files left as pointers."""
        fetcher_done = self._fetcher is not None and self._fetcher.stop()
        if fetcher_done or self._fetched_now:
            from . import sync_fetch

            sync_fetch.close_fetch(self.ws)  # the remote index's pages go before the pool consolidates
        self._listed.clear()
        self._located.clear()
        n = len(self.missing_paths)
        if n:
            more = f" ({n - _WARN_LIMIT} not named above)" if n > _WARN_LIMIT else ""
            if self._archiving():
                print(f"git-mlv: {n} file(s) archived as pointer text, their data not here{more}; "
                      "`git mlv pull` fetches them (and says why any cannot be had), then archive "
                      "again", file=sys.stderr)
            else:
                print(f"git-mlv: {n} file(s) left as pointers, their data not here{more}; "
                      f"{self._where_from()}", file=sys.stderr)
        if self._ahead is not None:
            self._ahead.close()
        self._remember_pointers()
        if self._racy is not None:
            self._racy.close()
        self.ws.close()
        if self._gc_fd is not None:
            os.close(self._gc_fd)
            self._gc_fd = None
