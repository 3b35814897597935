"""Writing into the pool: files are chunked, hashed, compressed and appended to a pack that is indexed
when it is full or when the writer closes (docs/formats.md#pack, #index, #consolidation).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING

from . import index as idx
from .chunker import Chunker, Readable
from .compress import choose, compress
from .fsutil import open_lock_file, unlock
from .gclock import lock_shared
from .hashing import digest
from .manifest import Manifest
from .pack import KIND_CHUNK, KIND_MANIFEST, Encoded, Entry, PackWriter, entry_header
from .packset import Location
from .pointer import Pointer

if TYPE_CHECKING:
    from .pool import Pool

_INLINE_CHUNKS = 4  # files of up to this many chunks (~256 KiB) are stored without threads
# The codec is chosen from a sample once every this many chunks of a file (~1 MiB), not for each
# chunk: the two trial compressions of a choice cost a third of compressing the CSV chunk itself
# (bench/RESULTS.md, write4, lever 2), and a file's content rarely changes kind within a MiB. A
# chunk that does not compress with the choice is still stored raw. Such a run of chunks is also
# what one task of the pool's threads handles (~1 MiB: hash, choose, compress, CRC and entry
# header), and what the reading thread appends to the pack with one write: per chunk, that thread
# only cuts (bench/RESULTS.md, commit5: it was the commit's busiest thread).
_CHOOSE_EVERY = 16
# A chunk's id, length, codec, stored bytes (None: already in the pool), the pack entry's header,
# and the writer's generation when the chunk was looked up (see PoolWriter._generation).
_Prepared = tuple[bytes, int, int, "bytes | memoryview | None", bytes, int]


def _update(whole: hashlib._Hash, pieces: list[memoryview]) -> None:
    for piece in pieces:
        whole.update(piece)


class PoolWriter:
    """Adds files to the pool; new chunks go into a pack that is indexed when full or closed.

    Every ``add_*`` call flushes before it returns, so the data is on disk (in a pack another
    process can scan, or repair after a crash) before git records the pointer. Thread-safe: the
    filter's background fetch and its clean can write at once (one pack, one object at a time).

    A pack that fills up is sealed (trailer, fsync, index) on a thread of its own while the next
    pack fills: the fsync of 64 MiB took ~0.13 s here, and a commit of 1 GB waited for a dozen of
    them (bench/RESULTS.md, seal). At most one pack is being sealed at a time; until its index is
    in the pool's view, its objects are found through ``find``. ``commit`` and ``close`` wait for it.
    """

    def __init__(self, pool: Pool, gc_shared_lock: bool = True) -> None:
        self.pool = pool
        self.settings = pool.settings
        self.pack: PackWriter | None = None
        self.pack_path = ""
        self._lock_fd: int | None = None
        self.pending: dict[bytes, Entry] = {}
        self.committed: list[str] = []  # packs this writer indexed
        self._chunker = Chunker(self.settings)
        self.new_bytes = 0
        self._mutex = threading.RLock()
        # Counts this writer's pack commits. A chunk looked up (pool, then ``pending``) in the
        # current generation needs only ``pending`` checked again before it is appended: nothing
        # else of this writer's can have reached the pool's indexes since. Without it, every new
        # chunk was looked up twice, and a miss searches every pack index written so far (a
        # bisection each; ~10 indexes by the end of a 1 GB commit).
        self._generation = 0
        # The pack being appended to and its entries, as one value (``find`` reads it unlocked),
        # and the pack being sealed on ``_sealer`` (at most one; empty when none).
        self._live: tuple[str, dict[bytes, Entry]] | None = None
        self._sealing: tuple[tuple[str, dict[bytes, Entry]], ...] = ()
        self._sealer: threading.Thread | None = None
        self._seal_error: BaseException | None = None
        self._gc_fd: int | None = None
        if gc_shared_lock:  # gc itself holds the lock exclusively and passes False
            self._gc_fd = open_lock_file(os.path.join(pool.root, "gc.lock"))
            lock_shared(self._gc_fd)

    def _open_pack(self) -> PackWriter:
        if self.pack is None:
            self.pool._ensure_loaded()
            self.pack_path = os.path.join(self.pool.pack_dir, f"pack-{secrets.token_hex(16)}.pack")
            self.pack = PackWriter(self.pack_path)
            self._lock_fd = self.pack.lock_fd
            self._live = (self.pack_path, self.pending)
        return self.pack

    def find(self, k: bytes) -> Location | None:
        """Where this writer put the object of index key ``k`` in a pack not yet in the pool's
        view (the one it appends to, the one being sealed), or None. Safe from any thread: the
        sealed pack is added to the view before it leaves ``_sealing``, and ``_sealing`` is looked
        at after the live pack, which a seal moves there first."""
        live = self._live
        if live is not None:
            e = live[1].get(k)
            if e is not None:
                return Location(live[0], e)
        for path, entries in self._sealing:
            e = entries.get(k)
            if e is not None:
                return Location(path, e)
        return None

    def packs_indexed(self) -> int:
        """How many packs this writer has moved into the pool's view so far (a seal adds the pack's
        index there before the pack leaves ``find``): a lookup that asks the view first and this
        writer second asks the view again when this changed in between (``Pool.contains``)."""
        return len(self.committed)

    def own_packs(self) -> list[str]:
        """The packs this writer has not finished (a pool refresh must not take them for orphans)."""
        live = self._live
        return [path for path, _ in self._sealing] + ([live[0]] if live is not None else [])

    def has(self, oid: bytes, kind: int) -> bool:
        """True when the object is stored or pending in our pack."""
        return self.pool.locate(oid, kind) is not None

    def add_object(self, oid: bytes, kind: int, codec: int, raw_len: int, stored: bytes | memoryview,
                   force: bool = False) -> bool:
        """Store an already verified, already encoded object unless present; True if written.

        ``force`` writes it even if another pack has it (gc copying live objects out of a pack).
        """
        k = idx.key(oid, kind)
        with self._mutex:
            if k in self.pending or (not force and self._in_done_pack(k)):
                return False
            head = entry_header(oid, kind, codec, raw_len, stored)
            self._append([(oid, kind, codec, raw_len, stored, head)])
        return True

    def _append(self, items: list[Encoded]) -> None:
        """Append objects known to be absent (caller holds the mutex); commit the pack when full."""
        pack = self._open_pack()
        for e in pack.append_many(items):
            self.pending[idx.key(e.id, e.kind)] = e
            self.new_bytes += e.stored_len
        if pack.size >= self.settings.pack_size:
            self._seal()  # packs stay tens of MiB even for a file of many GB

    def _store_run(self, run: list[_Prepared]) -> None:
        """Append the new chunks of a prepared run with one write (duplicates dropped)."""
        with self._mutex:
            items: list[Encoded] = []
            keys: set[bytes] = set()
            for cid, n, codec, stored, head, generation in run:
                if stored is None:
                    continue
                k = idx.key(cid, KIND_CHUNK)
                if k in keys or k in self.pending:
                    continue
                if generation != self._generation and self._in_done_pack(k):
                    continue  # a pack of ours was sealed after the lookup, and holds it
                keys.add(k)
                items.append((cid, KIND_CHUNK, codec, n, stored, head))
            if items:
                self._append(items)

    def _in_done_pack(self, k: bytes) -> bool:
        """True when a pack of ours that is no longer appended to holds ``k``: the one being sealed
        first, then the pool's view (which a sealed pack enters before it leaves ``_sealing``)."""
        return any(k in entries for _, entries in self._sealing) or \
            self.pool.packset.locate_key(k) is not None

    def _prepare_run(self, run: list[memoryview], only_id: bytes | None = None) -> list[_Prepared]:
        """Hash each chunk of a run; compress those the pool lacks with the codec the run's first
        chunk chooses (chosen only when one needs it: a run already stored costs its hashes).
        ``only_id``: the id of a run of one chunk, known already.

        A full run is looked up with one search of each index for all its chunks: one per chunk
        held the GIL for a numpy call per index (every pack sealed so far in the command) while
        the reading thread waited for it, 1.0 s of a 5.9 s commit of the workload's v1 (15,648
        lookups, bench/RESULTS.md, commit8)."""
        level = self.settings.compression_level
        codec: int | None = None
        out: list[_Prepared] = []
        generation = self._generation  # read before the lookups: see _store_run
        ids = [only_id] if only_id is not None else [digest(data) for data in run]
        if len(ids) > _INLINE_CHUNKS:
            here = self.pool.contains([idx.key(cid, KIND_CHUNK) for cid in ids]).tolist()
        else:
            here = [self.has(cid, KIND_CHUNK) for cid in ids]
        for data, cid, stored_already in zip(run, ids, here):
            if stored_already:
                out.append((cid, len(data), 0, None, b"", generation))
                continue
            if codec is None:
                codec = choose(run[0], level)
            chosen, stored = compress(data, level, codec)
            head = entry_header(cid, KIND_CHUNK, chosen, len(data), stored)
            out.append((cid, len(data), chosen, stored, head, generation))
        return out

    def add_stream(self, stream: Readable) -> Pointer:
        """Chunk, hash, compress and store ``stream``; returns its pointer once the data is safe."""
        return self._add_chunks(self._chunker.cut_stream(stream), None)

    def add_bytes(self, data: bytes, oid: bytes | None = None) -> Pointer:
        """Store an in-memory file, cut where it lies (no copy). ``oid``: its sha256, when the
        caller hashed these very bytes already (clean ahead does, to look the file up first):
        it is not hashed again (a one-chunk file's chunk id is that same hash)."""
        return self._add_chunks(self._chunker.cut_bytes(data), oid)

    def _add_chunks(self, cut: Iterator[memoryview], oid: bytes | None) -> Pointer:
        """Hash, compress and store a file's chunks; returns its pointer once the data is safe.

        Three stages overlap: this thread reads, cuts and appends to the pack; the pool's threads
        hash, compress and frame runs of ``_CHOOSE_EVERY`` chunks; one more thread hashes the whole
        file in order. The first few chunks are held back: a small file is handled right here,
        without thread hand-offs (measured: they cost more than the parallelism gives on files of
        a few chunks), and a one-chunk file is hashed once, since its id is its chunk's id.
        """
        size = 0
        count = 0
        chunks: list[tuple[bytes, int]] = []
        window: deque[Future[list[_Prepared]]] = deque()
        depth = 2 * max(1, self.settings.threads) + 2
        whole = hashlib.sha256()
        hashing: deque[Future[None]] = deque()
        run: list[memoryview] = []
        known = oid is not None  # the file's hash is given: no whole-file hashing

        def collect(prepared: list[_Prepared]) -> None:
            chunks.extend((p[0], p[1]) for p in prepared)
            self._store_run(prepared)

        def submit() -> None:
            nonlocal run
            if not known:
                hashing.append(self.pool.hasher.submit(_update, whole, run))
            window.append(self.pool.executor.submit(self._prepare_run, run))
            run = []
            while len(hashing) > depth:
                hashing.popleft().result()
            while len(window) >= depth:
                collect(window.popleft().result())

        for data in cut:
            count += 1
            size += len(data)
            run.append(data)
            if count > _INLINE_CHUNKS and len(run) == _CHOOSE_EVERY:
                submit()
        if count > _INLINE_CHUNKS:
            if run:
                submit()
            while window:
                collect(window.popleft().result())
            while hashing:
                hashing.popleft().result()
        else:  # the file ended within its first few chunks
            if count > 1 and not known:
                _update(whole, run)
            collect(self._prepare_run(run, oid if count == 1 else None))
        if oid is None:
            oid = chunks[0][0] if count == 1 else whole.digest()
        if count > 1:
            body = Manifest(size, tuple(chunks)).encode()
            codec, stored = compress(body, self.settings.compression_level)
            self.add_object(oid, KIND_MANIFEST, codec, len(body), stored)
        self.flush()
        return Pointer(oid.hex(), size)

    def add_path(self, path: str) -> Pointer:
        """Store the file at ``path``."""
        with open(path, "rb") as f:
            return self.add_stream(f)

    def flush(self) -> None:
        """Push written data to the OS; roll over to a new pack when this one is full. Raises what
        sealing the last full pack raised (a full disk), once."""
        with self._mutex:
            if self._seal_error is not None:
                self._wait_sealed()
            if self.pack is None:
                return
            self.pack.flush()
            if self.pack.size >= self.settings.pack_size:
                self._seal()

    def commit(self) -> None:
        """Finish the current pack and write its index, and wait for any pack being sealed: from
        now on every reader, in any process, sees what this writer wrote."""
        with self._mutex:
            self._seal()
            self._wait_sealed()

    def _seal(self) -> None:
        """Hand the current pack to a thread that finishes it (trailer, fsync) and writes its
        index; the next append opens a new pack (the caller holds the mutex)."""
        pack = self.pack
        if pack is None:
            return
        self._wait_sealed()  # one at a time: memory stays bounded, and a failure surfaces here
        path, entries, lock = self.pack_path, self.pending, self._lock_fd
        # before the live pack goes: ``find`` looks there next (a pack whose seal failed stays)
        self._sealing = (*self._sealing, (path, entries))
        self._live = None
        self.pack, self._lock_fd, self.pending = None, None, {}
        self._generation += 1
        # not a daemon: an interpreter that exits lets the seal finish (else the next process
        # repairs the pack from its entries, as after a crash)
        self._sealer = threading.Thread(target=self._finish_pack, args=(pack, path, lock), name="mlv-seal")
        self._sealer.start()

    def _finish_pack(self, pack: PackWriter, path: str, lock: int | None) -> None:
        """On ``_sealer``: make ``pack`` durable and indexed, then let go of it."""
        try:
            pack.finish()
            index_path = path[:-5] + ".idx"
            idx.write(index_path, pack.entries)
            self.pool.packset.add_index(path, idx.IndexFile(index_path))
        except BaseException as e:  # noqa: BLE001 - raised in the writer's thread (_wait_sealed)
            # the pack stays found through ``_sealing`` and locked; once this process ends, the
            # next one repairs and indexes it (core/packset.py, as after a crash)
            self._seal_error = e
            return
        self.committed.append(path)
        self._sealing = tuple(s for s in self._sealing if s[0] != path)
        if lock is not None:
            unlock(lock)

    def _wait_sealed(self) -> None:
        """Wait for the pack being sealed, if any; raise what sealing it raised (once)."""
        t = self._sealer
        if t is not None:
            t.join()
            self._sealer = None
        err, self._seal_error = self._seal_error, None
        if err is not None:
            raise err

    def _packs_piled_up(self) -> bool:
        """True when ``mlv.autoPacks`` packs are outside the midx (``auto_consolidate`` checks
        again under its lock): most commands write a pack or two and must not pay for the
        consolidation module's import to learn that nothing is due."""
        limit = self.settings.auto_packs
        if limit <= 0:
            return False
        self.pool.refresh()
        return len(self.pool.packset.uncovered()) >= limit

    def close(self) -> None:
        """Commit what was written, consolidate the pool if packs piled up, let gc run again."""
        with self._mutex:
            self.commit()
            if self.committed and self._gc_fd is not None and self._packs_piled_up():
                from .consolidate import auto_consolidate  # with numpy: ~0.15 s, only when due

                auto_consolidate(self.pool)
            if self._gc_fd is not None:
                os.close(self._gc_fd)
                self._gc_fd = None
            if self.pool._writer is self:
                self.pool._writer = None
