"""The clean/smudge logic behind git's filter: content <-> pool + pointer (DESIGN.md §5).

- clean stores the content before it answers git, so no pointer is ever committed without its data;
  content that already is a valid pointer is returned unchanged.
- smudge streams verified content from the pool; when the data is missing it fetches it from the
  default remote in the background (git's ``delay``), or writes the pointer and warns.
- small files git lets us delay are decoded on threads while git keeps asking (``prepare``): git's
  own work (reading its objects, writing files) then overlaps ours instead of waiting for it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

from ..core.fsutil import fs_error
from ..core.pointer import MAX_SIZE, Pointer
from ..core.pool import Location, Pool
from ..errors import CorruptObject, MlvError
from .context import Workspace
from .scope import FetchScope, fetch_scope

_WARN_LIMIT = 10  # name this many missing files, then count the rest
# Delayed decoding (``prepare``): files up to this size are decoded whole in memory on threads;
# larger ones stream, read ahead on the pool's threads. At most this many decoded bytes wait for
# git at once, so memory stays flat however many files a checkout writes.
_DECODE_FILE_MAX = 4 << 20
_DECODE_BUDGET = 64 << 20


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


class PoolFilter:
    """A FilterHandler (gitio.filter_process) over a workspace's pool."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.pool = ws.pool
        self.missing_paths: list[str] = []
        self.pointers_seen: list[bytes] = []  # for the pointer cache (gitio/pointer_cache.py)
        self._fetcher: _Fetcher | None = None
        self._fetch_checked = False
        self._scope: FetchScope | None = None
        self.out_of_scope = 0  # files left as pointers on purpose (mlv.fetchInclude/Exclude)
        self._decoder: _Decoder | None = None
        # Delayed paths (decoding or fetching) not yet reported to git, and those ready to report.
        self._cond = threading.Condition()
        self._waiting = 0
        self._ready: list[str] = []

    # -- clean -------------------------------------------------------------------------------
    def clean(self, pathname: str, content: Readable) -> bytes:
        """Store ``content``; the pointer git should keep."""
        head = _read_head(content, MAX_SIZE)
        if not head:
            return b""  # an empty file is its own pointer (git skips filters on empty files in diff)
        if len(head) < MAX_SIZE and Pointer.try_parse(head) is not None:
            self._seen(head)
            return head  # already a pointer (e.g. a file whose data was never fetched)
        pointer = self.pool.writer().add_stream(_Prefixed(head, content))  # type: ignore[arg-type]
        data = pointer.encode()
        self._seen(data)
        return data

    # -- smudge ------------------------------------------------------------------------------
    def smudge(self, pathname: str, blob: bytes) -> Iterable[bytes] | None:
        """Content for ``blob``; None when its data is missing here."""
        if self._decoder is not None:
            parts = self._decoder.take(pathname)
            if parts is not None:
                return parts
        pointer = Pointer.try_parse(blob)
        if pointer is None:
            return [blob]  # not ours: committed before the path was tracked
        self._seen(blob)
        chunks = self.pool.resolve(pointer.oid, refresh=True)
        if chunks is None:
            return None
        if sum(n for _, n in chunks) != pointer.size:
            raise CorruptObject(f"stored data of {pointer.oid[:12]} does not have the pointer's size; "
                                "run `git mlv fsck`")
        return self.pool.iter_file(pointer.oid, chunks)

    def prepare(self, pathname: str, blob: bytes) -> bool:
        """Start decoding a small file whose data is here, for git to take later; False when it
        is not one (not a pointer, too big, data missing, or the decoded-bytes budget is full)."""
        pointer = Pointer.try_parse(blob)
        if pointer is None or not pointer.size or pointer.size > _DECODE_FILE_MAX:
            return False
        if self._decoder is None:
            self._decoder = _Decoder(self.pool, self._report)
        if not self._decoder.has_room(pointer.size):
            return False
        chunks = self.pool.resolve(pointer.oid)  # a miss goes the usual way (smudge, then fetch)
        if chunks is None or sum(n for _, n in chunks) != pointer.size:
            return False  # smudge says what is wrong with it
        with self._cond:
            self._waiting += 1
        self._decoder.submit(pathname, self.pool.locate_chunks([cid for cid, _ in chunks]),
                             pointer.size)
        self._seen(blob)
        return True

    def _report(self, paths: list[str]) -> None:
        """Delayed paths are ready (decoded, fetched, or failed: git asks for them all the same)."""
        with self._cond:
            self._ready += paths
            self._waiting -= len(paths)
            self._cond.notify_all()

    def _seen(self, pointer: bytes) -> None:
        """Note a pointer git stores or holds, for the pointer cache; written every 50,000 so
        that a clone of many files stays flat in memory."""
        self.pointers_seen.append(pointer)
        if len(self.pointers_seen) >= 50_000:
            self._remember_pointers()

    def _remember_pointers(self) -> None:
        if self.pointers_seen:  # git stores each as a blob: status and walks then need not read them
            from ..gitio import walk

            walk.remember_pointers(self.ws.repo, self.pointers_seen)
            self.pointers_seen = []

    def in_scope(self, pathname: str) -> bool:
        """True when ``pathname``'s data may be downloaded (docs/fetch-scope.md)."""
        if self._scope is None:
            self._scope = fetch_scope(self.ws)
        return self._scope(pathname)

    def missing(self, pathname: str, blob: bytes) -> bytes:
        """Leave the pointer in place and say how to get the data (out of the fetch scope: silently,
        the user asked for it; `git mlv status` counts them)."""
        if not self.in_scope(pathname):
            self.out_of_scope += 1
            return blob
        self.missing_paths.append(pathname)
        if len(self.missing_paths) <= _WARN_LIMIT:
            print(f"git-mlv: warning: data of '{pathname}' is not here; the file stays a pointer "
                  "until you run `git mlv pull`", file=sys.stderr)
        return blob

    def delay(self, pathname: str, blob: bytes) -> bool:
        """Fetch in the background from the default remote, if there is one and the path is in
        the fetch scope."""
        if not self.in_scope(pathname):
            return False
        fetcher = self._get_fetcher()
        if fetcher is None:
            return False
        pointer = Pointer.try_parse(blob)
        if pointer is None:
            return False
        with self._cond:
            self._waiting += 1
        fetcher.add(pathname, pointer.oid, pointer.size)
        return True

    def available(self) -> list[str]:
        """Delayed paths now ready (decoded, or whose fetch finished, with data or not), waiting for
        at least one; [] when none is pending."""
        with self._cond:
            while not self._ready and self._waiting:
                self._cond.wait()
            ready, self._ready = self._ready, []
        return ready

    def _get_fetcher(self) -> _Fetcher | None:
        if not self._fetch_checked:
            self._fetch_checked = True
            try:
                from . import sync
            except ImportError:
                return None
            if sync.default_remote_name(self.ws) is not None:
                self._fetcher = _Fetcher(self.ws, self._report)
        return self._fetcher

    def close(self) -> None:
        """Commit the pack; end with one line that sums up the files left as pointers."""
        if self._fetcher is not None:
            self._fetcher.stop()
        if self._decoder is not None:
            self._decoder.stop()
        n = len(self.missing_paths)
        if n:
            more = f" ({n - _WARN_LIMIT} not named above)" if n > _WARN_LIMIT else ""
            print(f"git-mlv: {n} file(s) left as pointers, their data not here{more}; "
                  "`git mlv pull` fetches them and says why any cannot be had", file=sys.stderr)
        self._remember_pointers()
        self.ws.close()


class _Decoder:
    """Decodes whole small files on threads (zstd, crc32 and pread release the GIL), holding at
    most ``_DECODE_BUDGET`` decoded bytes until git takes them."""

    def __init__(self, pool: Pool, report: Callable[[list[str]], None]) -> None:
        self.pool = pool
        self._report = report
        self._threads = ThreadPoolExecutor(max(1, pool.settings.threads), thread_name_prefix="mlv-decode")
        self._jobs: dict[str, tuple[Future[list[bytes]], int]] = {}
        self._held = 0  # only the serving thread changes it

    def has_room(self, size: int) -> bool:
        """True when ``size`` more decoded bytes fit the budget."""
        return self._held + size <= _DECODE_BUDGET

    def submit(self, path: str, locs: list[Location], size: int) -> None:
        """Decode ``path``'s chunks; ``report`` names it when done (or failed)."""
        job = self._threads.submit(self._decode, locs)
        self._jobs[path] = (job, size)
        self._held += size
        job.add_done_callback(lambda _job: self._report([path]))

    def _decode(self, locs: list[Location]) -> list[bytes]:
        try:
            return [self.pool.read_chunk(loc) for loc in locs]  # each chunk checked (CRC, length)
        except OSError as e:  # an unreadable pack: that file fails, the others go on
            raise fs_error(e) or MlvError(f"cannot read the pool: {e}") from e

    def take(self, path: str) -> list[bytes] | None:
        """The decoded content of ``path`` (raising what decoding raised); None if not decoded here."""
        job = self._jobs.pop(path, None)
        if job is None:
            return None
        future, size = job
        self._held -= size
        return future.result()

    def stop(self) -> None:
        """Drop what git never took (it stopped asking) and end the threads."""
        self._threads.shutdown(wait=True, cancel_futures=True)
        self._jobs.clear()


class _Fetcher:
    """Downloads delayed blobs in batches on a background thread (parallelism lives in transfer)."""

    BATCH_WAIT = 0.05  # seconds to gather more requests before a batch starts

    def __init__(self, ws: Workspace, report: Callable[[list[str]], None]) -> None:
        self.ws = ws
        self._report = report
        self._cond = threading.Condition()
        self._queue: list[tuple[str, str, int]] = []
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="mlv-fetch", daemon=True)
        self._thread.start()

    def add(self, path: str, oid: str, size: int) -> None:
        with self._cond:
            self._queue.append((path, oid, size))
            self._cond.notify_all()

    def _run(self) -> None:
        from . import sync

        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if self._stopped and not self._queue:
                    return
            time.sleep(self.BATCH_WAIT)
            with self._cond:
                batch, self._queue = self._queue, []
            try:
                sync.fetch_oids(self.ws, [oid for _, oid, _ in batch],
                                sizes={oid: size for _, oid, size in batch})
            except Exception as e:  # noqa: BLE001 - any failure leaves pointers + a warning
                print(f"git-mlv: warning: could not fetch data: {e}", file=sys.stderr)
            finally:  # git waits for every delayed path: report them whatever happened
                # no refresh: the fetch wrote into ws.pool itself, whose reads see its writer at once
                self._report([p for p, _, _ in batch])

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
