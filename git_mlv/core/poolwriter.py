"""Writing into the pool: files are chunked, hashed, compressed and appended to a pack that is indexed
when it is full or when the writer closes (docs/formats.md#pack, #index, #consolidation).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import threading
from collections import deque
from concurrent.futures import Future
from typing import TYPE_CHECKING

from . import index as idx
from .chunker import Chunker, Readable
from .compress import CODEC_RAW, choose, compress
from .fsutil import open_lock_file, unlock
from .hashing import digest
from .manifest import Manifest
from .pack import KIND_CHUNK, KIND_MANIFEST, Entry, PackWriter
from .pointer import Pointer

if TYPE_CHECKING:
    from .pool import Pool

_INLINE_CHUNKS = 4  # files of up to this many chunks (~256 KiB) are stored without threads
# The codec is chosen from a sample once every this many chunks of a file (~1 MiB), not for each
# chunk: the two trial compressions of a choice cost a third of compressing the CSV chunk itself
# (bench/RESULTS.md, write4, lever 2), and a file's content rarely changes kind within a MiB. A
# chunk that does not compress with the choice is still stored raw.
_CHOOSE_EVERY = 16
# Chunks are handed to the pool's threads ~512 KiB at a time, not one by one: two futures per
# 64 KiB chunk held the GIL ~0.4 s of a scale-0.25 commit in submit() alone (py-spy --gil,
# bench/RESULTS.md, write4); the speed3 helper measured the same on checkout's read-ahead.
_TASK_BYTES = 512 << 10
_Prepared = tuple[bytes, int, int, "bytes | memoryview | None"]  # chunk id, length, codec, stored


def _update(whole: hashlib._Hash, pieces: list[memoryview]) -> None:
    for piece in pieces:
        whole.update(piece)


class PoolWriter:
    """Adds files to the pool; new chunks go into a pack that is indexed when full or closed.

    Every ``add_*`` call flushes before it returns, so the data is on disk (in a pack another
    process can scan, or repair after a crash) before git records the pointer. Thread-safe: the
    filter's background fetch and its clean can write at once (one pack, one object at a time).
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
        self._gc_fd: int | None = None
        if gc_shared_lock:  # gc itself holds the lock exclusively and passes False
            self._gc_fd = open_lock_file(os.path.join(pool.root, "gc.lock"))
            fcntl.flock(self._gc_fd, fcntl.LOCK_SH)

    def _open_pack(self) -> PackWriter:
        if self.pack is None:
            self.pool._ensure_loaded()
            self.pack_path = os.path.join(self.pool.pack_dir, f"pack-{secrets.token_hex(16)}.pack")
            self.pack = PackWriter(self.pack_path)
            self._lock_fd = self.pack.lock_fd
        return self.pack

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
            if k in self.pending or (not force and self.pool.packset.locate_key(k) is not None):
                return False
            pack = self._open_pack()
            self.pending[k] = pack.append(oid, kind, codec, raw_len, stored)
            self.new_bytes += len(stored)
            if pack.size >= self.settings.pack_size:
                self.commit()  # packs stay tens of MiB even for a file of many GB
        return True

    def _prepare(self, data: memoryview, codec: int) -> _Prepared:
        cid = digest(data)
        if self.has(cid, KIND_CHUNK):
            return cid, len(data), 0, None
        codec, stored = compress(data, self.settings.compression_level, codec)
        return cid, len(data), codec, stored

    def _prepare_all(self, batch: list[tuple[memoryview, int]]) -> list[_Prepared]:
        return [self._prepare(data, codec) for data, codec in batch]

    def add_stream(self, stream: Readable) -> Pointer:
        """Chunk, hash, compress and store ``stream``; returns its pointer once the data is safe.

        Three stages overlap: this thread reads and cuts; the pool's threads hash and compress
        chunks, ~512 KiB of them per task; one more thread hashes the whole file in order. The
        first few chunks are held back: a small file is handled right here, without thread
        hand-offs (measured: they cost more than the parallelism gives on files of a few chunks),
        and a one-chunk file is hashed once, since its id is its chunk's id.
        """
        size = 0
        chunks: list[tuple[bytes, int]] = []
        window: deque[Future[list[_Prepared]]] = deque()
        depth = 2 * max(1, self.settings.threads) + 2
        whole = hashlib.sha256()
        hashing: deque[Future[None]] = deque()

        def store(prepared: _Prepared) -> None:
            cid, n, codec, stored = prepared
            chunks.append((cid, n))
            if stored is not None:
                self.add_object(cid, KIND_CHUNK, codec, n, stored)

        level = self.settings.compression_level
        codec = CODEC_RAW

        def pick(data: memoryview, i: int) -> int:
            nonlocal codec
            if i % _CHOOSE_EVERY == 0:
                codec = choose(data, level)
            return codec

        batch: list[tuple[memoryview, int]] = []
        batch_bytes = 0

        def submit() -> None:
            nonlocal batch, batch_bytes
            hashing.append(self.pool.hasher.submit(_update, whole, [data for data, _ in batch]))
            window.append(self.pool.executor.submit(self._prepare_all, batch))
            batch, batch_bytes = [], 0
            while len(hashing) > depth:
                hashing.popleft().result()
            while len(window) >= depth:
                for prepared in window.popleft().result():
                    store(prepared)

        def add(data: memoryview, i: int) -> None:
            nonlocal batch_bytes
            batch.append((data, pick(data, i)))
            batch_bytes += len(data)
            if batch_bytes >= _TASK_BYTES:
                submit()

        count = 0
        held: list[memoryview] = []  # the first chunks, handled here if the file ends soon
        for data in self._chunker.cut_stream(stream):
            count += 1
            size += len(data)
            if count <= _INLINE_CHUNKS:
                held.append(data)
                continue
            for i, h in enumerate(held):
                add(h, i)
            held = []
            add(data, count - 1)
        if batch:
            submit()
        for i, h in enumerate(held):  # the file ended within its first few chunks
            if count > 1:
                whole.update(h)
            store(self._prepare(h, pick(h, i)))
        while window:
            for prepared in window.popleft().result():
                store(prepared)
        while hashing:
            hashing.popleft().result()
        if count <= 1:
            oid = chunks[0][0] if chunks else whole.digest()
        else:
            oid = whole.digest()
            body = Manifest(size, tuple(chunks)).encode()
            codec, stored = compress(body, self.settings.compression_level)
            self.add_object(oid, KIND_MANIFEST, codec, len(body), stored)
        self.flush()
        return Pointer(oid.hex(), size)

    def add_bytes(self, data: bytes) -> Pointer:
        """Store a small in-memory file."""
        import io

        return self.add_stream(io.BytesIO(data))

    def add_path(self, path: str) -> Pointer:
        """Store the file at ``path``."""
        with open(path, "rb") as f:
            return self.add_stream(f)

    def flush(self) -> None:
        """Push written data to the OS; roll over to a new pack when this one is full."""
        with self._mutex:
            if self.pack is None:
                return
            self.pack.flush()
            if self.pack.size >= self.settings.pack_size:
                self.commit()

    def commit(self) -> None:
        """Finish the current pack and write its index: from now on every reader sees it."""
        with self._mutex:
            pack = self.pack
            if pack is None:
                return
            pack.finish()
            index_path = self.pack_path[:-5] + ".idx"
            idx.write(index_path, pack.entries)
            self.pool.packset.add_index(self.pack_path, idx.IndexFile(index_path))
            if self._lock_fd is not None:
                unlock(self._lock_fd)
            self.committed.append(self.pack_path)
            self.pack = None
            self._lock_fd = None
            self.pending = {}

    def close(self) -> None:
        """Commit what was written, consolidate the pool if packs piled up, let gc run again."""
        with self._mutex:
            self.commit()
            if self.committed and self._gc_fd is not None and self.settings.auto_packs > 0:
                from .consolidate import auto_consolidate

                auto_consolidate(self.pool)
            if self._gc_fd is not None:
                os.close(self._gc_fd)
                self._gc_fd = None
            if self.pool._writer is self:
                self.pool._writer = None
