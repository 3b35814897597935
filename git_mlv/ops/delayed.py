"""Delayed files of a clone, as git's filter holds them between its two passes (ops/filter.py):
one compact bytes record per file, queued in 1 MiB segments, taken in batches of bounded bytes,
and fetched a batch at a time on a background thread (``Fetcher``)."""

from __future__ import annotations

import itertools
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..core import heap
from ..core.pointer import Pointer

if TYPE_CHECKING:
    from .context import Workspace

# Delayed files fetched in one batch, and paths listed available in one answer to git: the
# batch's Python objects (ids, sizes, lookups) stay a few MB, whatever the clone's size.
FETCH_BATCH = 20_000
# ... and at most this many bytes of files in one batch (one bigger file is a batch of its own):
# git gets a batch's files only once all of it is fetched and verified, so smaller batches let git
# write one while the next downloads. With one batch for the whole rest of a clone, fetch and
# smudge of the scale-1 workload's two big files ran one after the other (bench/RESULTS.md, clone4).
FETCH_BYTES = 64 << 20
_COMMON = struct.Struct("<BQ32s")  # a delayed file's record: 0, size, oid (a pointer without extras)
_OTHER = struct.Struct("<BI")  # 1, length of the pointer blob that follows (one with extra keys)


def record(pathname: str, pointer: Pointer, blob: bytes) -> bytes:
    """A delayed file as one bytes object (~100 bytes, against ~500 as a tuple of strings): a
    clone delays every file before git asks for any again (docs/design-notes.md, delayed smudge)."""
    path = pathname.encode("utf-8", "surrogateescape")
    if pointer.encode() == blob:
        return _COMMON.pack(0, pointer.size, bytes.fromhex(pointer.oid)) + path
    return _OTHER.pack(1, len(blob)) + blob + path


class Records:
    """A first-in first-out queue of records packed into 1 MiB segments: a clone holds a record
    for every file between git's two passes, ~70 bytes each here against ~120 as a list of bytes
    objects (freed in pieces, those also left the small-object heap fragmented; issue 9)."""

    _SEGMENT = 1 << 20
    _LEN = struct.Struct("<I")

    def __init__(self) -> None:
        self._segments: deque[bytearray] = deque()
        self._head = 0  # read position in the first segment
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def append(self, rec: bytes) -> None:
        """Add ``rec`` at the end."""
        if not self._segments or len(self._segments[-1]) + len(rec) + 4 > self._SEGMENT:
            self._segments.append(bytearray())
        seg = self._segments[-1]
        seg += self._LEN.pack(len(rec))
        seg += rec
        self._count += 1

    def __iter__(self) -> Iterator[bytes]:
        """The records from the head on, without taking them."""
        pos = self._head
        for seg in list(self._segments):
            while pos < len(seg):
                (n,) = self._LEN.unpack_from(seg, pos)
                yield bytes(seg[pos + 4:pos + 4 + n])
                pos += 4 + n
            pos = 0

    def take(self, limit: int) -> list[bytes]:
        """Remove and return up to ``limit`` records from the head."""
        out: list[bytes] = []
        while len(out) < limit and self._segments:
            seg = self._segments[0]
            if self._head >= len(seg):
                self._segments.popleft()
                self._head = 0
                continue
            (n,) = self._LEN.unpack_from(seg, self._head)
            out.append(bytes(seg[self._head + 4:self._head + 4 + n]))
            self._head += 4 + n
        if self._segments and self._head >= len(self._segments[0]):
            self._segments.popleft()
            self._head = 0
        self._count -= len(out)
        return out


def record_size(rec: bytes) -> int:
    """The file size of a record."""
    if rec[0] == 0:
        return int(_COMMON.unpack_from(rec)[1])
    return unpack(rec)[3]


def take_batch(queue: Records) -> list[bytes]:
    """The next batch from the head of ``queue``: at most FETCH_BATCH records and FETCH_BYTES
    bytes of files, or one file bigger than that."""
    total, n = 0, 0
    for rec in itertools.islice(queue, FETCH_BATCH):
        total += record_size(rec)
        if total > FETCH_BYTES:
            break
        n += 1
    return queue.take(max(n, 1))


def unpack(rec: bytes) -> tuple[str, bytes, str, int]:
    """(path, pointer blob, oid, size) of a record."""
    if rec[0] == 0:
        _, size, raw = _COMMON.unpack_from(rec)
        path = rec[_COMMON.size:].decode("utf-8", "surrogateescape")
        pointer = Pointer(raw.hex(), size)
        return path, pointer.encode(), pointer.oid, size
    _, n = _OTHER.unpack_from(rec)
    blob = rec[_OTHER.size:_OTHER.size + n]
    pointer = Pointer.parse(blob)
    return rec[_OTHER.size + n:].decode("utf-8", "surrogateescape"), blob, pointer.oid, pointer.size


_failed_remote: str | None = None  # set by a Fetcher whose fetch failed: see fetch_failed()


def fetch_failed() -> str | None:
    """The name of the default data remote a delayed fetch of this process failed to read from,
    else None. One filter process serves one git command, so this speaks for that command: the
    smudge record passes it on to its hooks (docs/formats.md#smudge-record)."""
    return _failed_remote


def note_failure(ws: Workspace) -> None:
    """Remember that a fetch from the default data remote failed in this process (fetch_failed)."""
    global _failed_remote
    from .remote_config import default_remote_name

    try:
        _failed_remote = default_remote_name(ws) or ""
    except Exception:  # noqa: BLE001 - .gitmlv unreadable now: the hook must not skip a remote
        _failed_remote = ""  # it cannot name ("" matches no remote)


class Fetcher:
    """Downloads delayed blobs in batches on a background thread (parallelism lives in transfer)."""

    BATCH_WAIT = 0.05  # seconds to gather more requests before a batch starts

    def __init__(self, ws: Workspace) -> None:
        heap.return_large_blocks()  # a clone: batch after batch of downloads and lookups
        self.ws = ws
        self._cond = threading.Condition()
        self._queue = Records()  # records (delayed.record) to fetch
        self._ready = Records()  # records whose fetch finished
        self._inflight = 0
        self._stopped = False
        # a failed batch (offline, the remote gone): later batches are not tried in this git
        # command, nor is git's retry of each file without delay (FilterHandler.fetch_now): one
        # warning, not one per batch, each after its own retries (an unreachable SSH host: ~4 s)
        self.failed = False
        self._batch: list[bytes] = []  # the records of the batch being fetched
        self._gone = False  # the thread ended without finishing (give_up): nothing more is fetched
        self._thread = threading.Thread(target=self._run, name="mlv-fetch", daemon=True)
        self._thread.start()

    def add(self, rec: bytes) -> None:
        with self._cond:
            (self._ready if self._gone else self._queue).append(rec)
            self._cond.notify_all()

    def _run(self) -> None:
        try:
            self._fetch_batches()
        except BaseException as e:  # noqa: BLE001 - anything escaping would leave git waiting
            self._give_up(e)  # for ever on files nobody fetches (wait_ready): pointers instead

    def _give_up(self, e: BaseException | None) -> None:
        """End the fetching for this command: every record queued or in flight is listed ready
        (it stays a pointer, named with the others at the end, unless its data arrived)."""
        with self._cond:
            if self._gone:
                return
            self._gone = self.failed = True
            for rec in self._batch:
                self._ready.append(rec)
            for rec in self._queue.take(len(self._queue)):
                self._ready.append(rec)
            self._batch, self._inflight = [], 0
            self._cond.notify_all()
        note_failure(self.ws)
        why = f"{type(e).__name__}: {e}" if e is not None else "its thread ended"
        print(f"git-mlv: warning: the background fetch stopped ({why}); nothing more is fetched in "
              "this command", file=sys.stderr)

    def _fetch_batches(self) -> None:
        from . import sync_fetch

        while True:
            with self._cond:
                while not self._queue and not self._stopped:
                    self._cond.wait()
                if self._stopped and not self._queue:
                    return
            time.sleep(self.BATCH_WAIT)
            with self._cond:
                batch = self._batch = take_batch(self._queue)
                self._inflight += len(batch)
                # the files of the next batches: those whose bytes this batch reads anyway come
                # along (a history's files lie among their older versions in the remote packs);
                # as many as the batch has, so the lookups stay proportional to the clone
                later = list(itertools.islice(self._queue, max(len(batch), 256)))
            try:
                if not self.failed:
                    upcoming = {oid: size for _, _, oid, size in map(unpack, later)}
                    files = [unpack(rec) for rec in batch]
                    sync_fetch.fetch_oids(self.ws, [oid for _, _, oid, _ in files],
                                          sizes={oid: size for _, _, oid, size in files},
                                          upcoming=upcoming)
                    del files, upcoming
                del later
            except Exception as e:  # noqa: BLE001 - any failure leaves pointers + a warning
                self.failed = True
                note_failure(self.ws)
                print(f"git-mlv: warning: could not fetch data (nothing more is fetched in this "
                      f"command): {e}", file=sys.stderr)
            sync_fetch.drop_fetch_pages(self.ws)  # the RSS of a clone then follows its batch, not its size
            # no refresh: the fetch wrote into ws.pool itself, whose reads see its writer at once
            with self._cond:
                self._inflight -= len(batch)
                for rec in batch:
                    self._ready.append(rec)
                self._batch = []
                self._cond.notify_all()

    WAIT_CHECK = 5.0  # seconds between checks that the thread is still there while git waits

    def wait_ready(self, limit: int) -> list[bytes]:
        with self._cond:
            while not self._ready and (self._queue or self._inflight):
                if not self._cond.wait(self.WAIT_CHECK) and not self._thread.is_alive():
                    self._give_up(None)  # cannot happen (_run gives up itself); never hang on it
            return self._ready.take(limit)

    def stop(self) -> bool:
        """Let the thread end once its queue is done; True when it has ended (it is waited for
        only when nothing is left to fetch: git closed the pipe after its last file)."""
        with self._cond:
            self._stopped = True
            idle = not self._queue and not self._inflight
            self._cond.notify_all()
        if idle:
            self._thread.join()
        return not self._thread.is_alive()
