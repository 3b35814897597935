"""The object pool: chunks and manifests in packs under ``.git/mlv`` (DESIGN.md §3, docs/formats.md).

Readers see every pack that has an index, plus packs a live writer is still appending to (found by
scanning their self-describing entries). A pack left without an index by a crash is repaired by the
next process that opens the pool: cut back to its last whole entry, given a trailer and an index.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import tempfile
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import BinaryIO

import numpy as np

from ..errors import CorruptObject, MissingObject, MlvError
from . import index as idx
from .chunker import Chunker
from .compress import compress, decompress
from .fsutil import file_mode, fs_error, makedirs, open_lock_file, try_lock, unlock
from .hashing import EMPTY_OID, digest
from .manifest import Manifest
from .pack import (
    ENTRY_SIZE,
    KIND_CHUNK,
    KIND_MANIFEST,
    TRAILER,
    Entry,
    PackWriter,
    decode_entry_header,
    scan,
)
from .pointer import Pointer
from .settings import Settings

_INLINE_CHUNKS = 4  # files of up to this many chunks (~256 KiB) are stored without threads


@dataclass(frozen=True)
class Location:
    """A stored object: the pack it is in and its entry there."""

    pack: str
    entry: Entry


class Pool:
    """Content-addressed storage of file data, deduplicated by chunk."""

    def __init__(self, root: str, settings: Settings | None = None) -> None:
        self.root = root
        self.settings = settings or Settings()
        self.pack_dir = os.path.join(root, "packs")
        self._indexes: dict[str, idx.IndexFile] = {}  # pack path -> index
        self._journal: dict[bytes, Location] = {}  # entries of live, unindexed packs
        self._scanned: dict[str, int] = {}  # live pack -> end of what we have scanned of it
        self._loaded = False
        self._handles: dict[str, int] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._hasher: ThreadPoolExecutor | None = None
        self._writer: PoolWriter | None = None

    # -- loading -------------------------------------------------------------------------------
    def ensure_dirs(self) -> None:
        """Create the pool's folders."""
        makedirs(self.pack_dir)

    def refresh(self) -> None:
        """Pick up packs written by other processes since we last looked; repair orphans."""
        with self._lock:
            self._load()

    def _load(self) -> None:
        self._loaded = True
        try:
            names = os.listdir(self.pack_dir)
        except FileNotFoundError:
            return
        live = set(names)
        own = self._writer.pack_path if self._writer and self._writer.pack else None
        gone = [p for p in self._scanned if os.path.basename(p) not in live or
                os.path.basename(p)[:-5] + ".idx" in live]
        if gone:  # a live pack got its index (or vanished): its entries are found there now
            for p in gone:
                del self._scanned[p]
            self._journal = {k: v for k, v in self._journal.items() if v.pack in self._scanned}
        for name in sorted(names):
            path = os.path.join(self.pack_dir, name)
            if name.endswith(".idx"):
                pack = path[:-4] + ".pack"
                if pack not in self._indexes and name[:-4] + ".pack" in live:
                    self._indexes[pack] = idx.IndexFile(path)
            elif name.endswith(".pack") and name[:-5] + ".idx" not in live and path != own:
                self._adopt_unindexed(path)
        for pack in [p for p in self._indexes if os.path.basename(p) not in live]:
            self._indexes.pop(pack).close()

    def _adopt_unindexed(self, path: str) -> None:
        fd = try_lock(path)
        if fd is None:  # a live writer owns it: read what it has written since we last looked
            try:
                entries, end, _ = scan(path, self._scanned.get(path, 0))
            except (CorruptObject, FileNotFoundError):
                return
            self._scanned[path] = end
            for e in entries:
                self._journal[idx.key(e.id, e.kind)] = Location(path, e)
            return
        self._scanned.pop(path, None)
        index_path = path[:-5] + ".idx"
        if os.path.exists(index_path):  # its writer finished after we listed the folder
            unlock(fd)
            if path not in self._indexes:
                self._indexes[path] = idx.IndexFile(index_path)
            return
        try:
            entries, end, _ = scan(path)
        except (CorruptObject, FileNotFoundError):
            entries, end = [], 0
        try:  # abandoned by a crash: repair it
            if not entries:
                os.unlink(path)
                return
            with open(path, "r+b") as f:
                f.truncate(end)
                f.seek(end)
                f.write(TRAILER.pack(b"MLVPEND\0", len(entries)))
                f.flush()
                os.fsync(f.fileno())
            idx.write(path[:-5] + ".idx", entries)
            self._indexes[path] = idx.IndexFile(path[:-5] + ".idx")
        except (OSError, MlvError):  # a full or read-only disk: read it as it is, repair it later
            for e in entries:
                self._journal[idx.key(e.id, e.kind)] = Location(path, e)
        finally:
            unlock(fd)

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self._load()

    @property
    def hasher(self) -> ThreadPoolExecutor:
        """One thread for whole-file sha256, fed in order while other threads work on chunks."""
        if self._hasher is None:
            self._hasher = ThreadPoolExecutor(1)
        return self._hasher

    @property
    def executor(self) -> ThreadPoolExecutor:
        """Threads for hashing and (de)compression: zstd and hashlib release the GIL."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max(1, self.settings.threads))
        return self._executor

    def close(self) -> None:
        """Finish any writer, release files and threads."""
        if self._writer is not None:
            self._writer.close()
        for ex in (self._executor, self._hasher):
            if ex is not None:
                ex.shutdown()
        self._executor = self._hasher = None
        for fd in self._handles.values():
            os.close(fd)
        self._handles.clear()
        for index in self._indexes.values():
            index.close()
        self._indexes.clear()
        self._loaded = False

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lookups -------------------------------------------------------------------------------
    def locate(self, oid: bytes, kind: int, refresh: bool = False) -> Location | None:
        """Where the object (oid, kind) is stored, or None."""
        self._ensure_loaded()
        k = idx.key(oid, kind)
        loc = self._locate_key(k)
        if loc is None and refresh:
            self.refresh()
            loc = self._locate_key(k)
        return loc

    def _locate_key(self, k: bytes) -> Location | None:
        w = self._writer
        if w is not None:
            e = w.pending.get(k)
            if e is not None:
                return Location(w.pack_path, e)
        for pack, index in tuple(self._indexes.items()):  # snapshot: a writer thread may add one
            i = index.find(k)
            if i >= 0:
                return Location(pack, index.entry(i))
        return self._journal.get(k)

    def contains(self, keys: Iterable[bytes]) -> np.ndarray:
        """Boolean mask over 33-byte keys: which are stored (vectorised; for transfer and gc)."""
        self._ensure_loaded()
        arr = np.array(list(keys), dtype=f"S{idx.KEY_SIZE}")
        found = np.zeros(len(arr), dtype=bool)
        for index in tuple(self._indexes.values()):
            found |= index.contains_many(arr)
        extra = set(self._journal)
        if self._writer is not None:
            extra |= set(self._writer.pending)
        if extra:
            for i, k in enumerate(arr.tolist()):
                if not found[i] and k in extra:
                    found[i] = True
        return found

    def has_file(self, oid: str, refresh: bool = False) -> bool:
        """True when the whole content of file ``oid`` is in the pool."""
        if oid == EMPTY_OID:
            return True
        raw = bytes.fromhex(oid)
        return (
            self.locate(raw, KIND_MANIFEST, refresh) is not None
            or self.locate(raw, KIND_CHUNK, refresh) is not None
        )

    def packs(self) -> list[str]:
        """Paths of the indexed packs."""
        self._ensure_loaded()
        return list(self._indexes)

    def index_of(self, pack: str) -> idx.IndexFile:
        """The index of an indexed pack."""
        return self._indexes[pack]

    def journal(self) -> dict[bytes, Location]:
        """Entries of packs a live writer has not indexed yet."""
        self._ensure_loaded()
        return dict(self._journal)

    # -- reading -------------------------------------------------------------------------------
    def read_stored(self, loc: Location) -> bytes:
        """The stored (possibly compressed) bytes of an entry, header checked."""
        fd = self._handles.get(loc.pack)
        if fd is None:
            fd = self._handles.setdefault(loc.pack, os.open(loc.pack, os.O_RDONLY))
        e = loc.entry
        buf = os.pread(fd, ENTRY_SIZE + e.stored_len, e.offset)
        head = decode_entry_header(buf[:ENTRY_SIZE], e.offset)
        if head.id != e.id or head.kind != e.kind or len(buf) != ENTRY_SIZE + e.stored_len:
            raise CorruptObject(f"{loc.pack}: entry at {e.offset} is not what the index says")
        return buf[ENTRY_SIZE:]

    def read_object(self, oid: bytes, kind: int, refresh: bool = True) -> bytes:
        """The raw bytes of a stored object, verified (chunk: sha256; manifest: its checksum)."""
        loc = self.locate(oid, kind, refresh)
        if loc is None:
            raise MissingObject(f"object {oid.hex()} is not in the pool; run `git mlv pull`")
        raw = decompress(loc.entry.codec, self.read_stored(loc), loc.entry.raw_len)
        if kind == KIND_CHUNK and digest(raw) != oid:
            raise CorruptObject(f"chunk {oid.hex()} in {loc.pack} is damaged; run `git mlv fsck`")
        return raw

    def resolve(self, oid: str, refresh: bool = False) -> list[tuple[bytes, int]] | None:
        """The (chunk id, length) list of file ``oid``, or None when its data is not here.

        One pass: the manifest if there is one, else the file is a single chunk. With ``refresh``,
        a miss looks again after picking up packs other processes wrote.
        """
        if oid == EMPTY_OID:
            return []
        raw = bytes.fromhex(oid)
        self._ensure_loaded()
        for again in (False, True) if refresh else (False,):
            if again:
                self.refresh()
            loc = self._locate_key(idx.key(raw, KIND_MANIFEST))
            if loc is not None:
                body = decompress(loc.entry.codec, self.read_stored(loc), loc.entry.raw_len)
                return list(Manifest.decode(body).chunks)
            loc = self._locate_key(idx.key(raw, KIND_CHUNK))
            if loc is not None:
                return [(raw, loc.entry.raw_len)]
        return None

    def file_chunks(self, oid: str) -> list[tuple[bytes, int]]:
        """The (chunk id, length) list of file ``oid``; raises MissingObject."""
        chunks = self.resolve(oid, refresh=True)
        if chunks is None:
            raise MissingObject(f"data of {oid[:12]} is not in the pool; run `git mlv pull`")
        return chunks

    def locate_chunks(self, ids: list[bytes]) -> list[Location]:
        """Locations of many chunks with one vectorised search per index; MissingObject if any lacks."""
        self._ensure_loaded()
        keys = np.array([idx.key(i, KIND_CHUNK) for i in ids], dtype=f"S{idx.KEY_SIZE}")
        found: list[Location | None] = [None] * len(ids)
        for pack, index in tuple(self._indexes.items()):
            if index.count == 0:
                continue
            pos = np.searchsorted(index.keys, keys)
            np.minimum(pos, index.count - 1, out=pos)
            for i in np.flatnonzero(index.keys[pos] == keys).tolist():
                if found[i] is None:
                    found[i] = Location(pack, index.entry(int(pos[i])))
        for i, loc in enumerate(found):
            if loc is None:
                loc = self._locate_key(idx.key(ids[i], KIND_CHUNK))  # journal or pending
                if loc is None:
                    raise MissingObject(f"chunk {ids[i].hex()[:12]} is not in the pool; run `git mlv pull`")
                found[i] = loc
        return found  # type: ignore[return-value]

    def read_chunk(self, loc: Location) -> bytes:
        """The raw bytes of the chunk at ``loc``, checked against its id."""
        raw = decompress(loc.entry.codec, self.read_stored(loc), loc.entry.raw_len)
        if digest(raw) != loc.entry.id:
            raise CorruptObject(f"chunk {loc.entry.id.hex()} in {loc.pack} is damaged; "
                                "run `git mlv fsck`")
        return raw

    def iter_file(self, oid: str, chunks: list[tuple[bytes, int]] | None = None,
                  verify: bool = False) -> Iterator[bytes]:
        """The content of file ``oid`` in pieces, every chunk checked against its sha256.

        The manifest is checked by its own checksum and was itself checked against the file's oid
        when it entered the pool (clean hashes the file; fetch verifies whole files), so a smudge
        does not hash the file again; ``verify`` does (fsck's deeper check). Chunks are read,
        decompressed and hashed ahead on the thread pool, in order.
        """
        if chunks is None:
            chunks = self.file_chunks(oid)
        whole = hashlib.sha256() if verify else None
        for data in self._read_ahead(self.locate_chunks([cid for cid, _ in chunks])):
            if whole is not None:
                whole.update(data)
            yield data
        if whole is not None and whole.hexdigest() != oid:
            raise CorruptObject(f"file {oid[:12]} does not hash to its id; run `git mlv fsck`")

    def _read_ahead(self, locs: list[Location]) -> Iterator[bytes]:
        """Verified chunk contents in order; read ahead on the pool's threads for big files."""
        if len(locs) <= _INLINE_CHUNKS:  # small files: thread hand-offs cost more than they give
            yield from map(self.read_chunk, locs)
            return
        window: deque[Future[bytes]] = deque()
        ahead = 4 * max(1, self.settings.threads)
        it = iter(locs)
        for loc in it:
            window.append(self.executor.submit(self.read_chunk, loc))
            if len(window) >= ahead:
                break
        while window:
            data = window.popleft().result()
            nxt = next(it, None)
            if nxt is not None:
                window.append(self.executor.submit(self.read_chunk, nxt))
            yield data

    def restore_to(self, oid: str, path: str, executable: bool = False) -> None:
        """Write file ``oid`` at ``path`` atomically (temp file + rename), with the umask's mode."""
        parent = os.path.dirname(path) or "."
        try:
            os.makedirs(parent, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=parent, prefix=".mlv-", suffix=".part")
            try:
                with os.fdopen(fd, "wb") as f:
                    self.write_file_to(oid, f)
                os.chmod(tmp, file_mode(executable))
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        except OSError as e:  # a full disk, no permission: one clear line (fsutil.fs_error)
            err = fs_error(e, path, self._size_hint(oid))
            if err is None:
                raise
            raise err from None

    def _size_hint(self, oid: str) -> int | None:
        """The size of file ``oid`` if its data is here (for "needed N more" in disk-full errors)."""
        try:
            chunks = self.resolve(oid)
        except MlvError:
            return None
        return sum(n for _, n in chunks) if chunks is not None else None

    def write_file_to(self, oid: str, out: BinaryIO) -> int:
        """Write file ``oid`` to ``out``; returns its size."""
        n = 0
        for data in self.iter_file(oid):
            out.write(data)
            n += len(data)
        return n

    # -- writing -------------------------------------------------------------------------------
    def writer(self, gc_shared_lock: bool = True) -> PoolWriter:
        """The pool's writer (one per Pool); close the Pool or the writer to commit its pack.

        A writer holds a shared lock on ``gc.lock`` for its life: gc takes it exclusively, so it never
        deletes an object a writer has just found present and decided not to write again.
        """
        if self._writer is None:
            self.ensure_dirs()
            self._writer = PoolWriter(self, gc_shared_lock)
        return self._writer

    def gc_lock(self) -> int | None:
        """Take the pool's gc lock exclusively, without waiting; the fd, or None if writers are busy."""
        self.ensure_dirs()
        return try_lock(os.path.join(self.root, "gc.lock"), create=True)


class PoolWriter:
    """Adds files to the pool; new chunks go into a pack that is indexed when full or closed.

    Every ``add_*`` call flushes before it returns, so the data is on disk (in a pack another
    process can scan, or repair after a crash) before git records the pointer.
    """

    def __init__(self, pool: Pool, gc_shared_lock: bool = True) -> None:
        self.pool = pool
        self.settings = pool.settings
        self.pack: PackWriter | None = None
        self.pack_path = ""
        self._lock_fd: int | None = None
        self.pending: dict[bytes, Entry] = {}
        self._chunker = Chunker(self.settings)
        self.new_bytes = 0
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

    def add_object(self, oid: bytes, kind: int, codec: int, raw_len: int, stored: bytes,
                   force: bool = False) -> bool:
        """Store an already verified, already encoded object unless present; True if written.

        ``force`` writes it even if another pack has it (gc copying live objects out of a pack).
        """
        k = idx.key(oid, kind)
        if k in self.pending or (not force and self.pool._locate_key(k) is not None):
            return False
        pack = self._open_pack()
        self.pending[k] = pack.append(oid, kind, codec, raw_len, stored)
        self.new_bytes += len(stored)
        if pack.size >= self.settings.pack_size:
            self.commit()  # packs stay tens of MiB even for a file of many GB
        return True

    def _prepare(self, data: bytes) -> tuple[bytes, int, int, bytes | None]:
        cid = digest(data)
        if self.has(cid, KIND_CHUNK):
            return cid, len(data), 0, None
        codec, stored = compress(data, self.settings.compression_level)
        return cid, len(data), codec, stored

    def add_stream(self, stream: BinaryIO) -> Pointer:
        """Chunk, hash, compress and store ``stream``; returns its pointer once the data is safe.

        Three stages overlap: this thread reads and cuts; the pool's threads hash and compress
        chunks; one more thread hashes the whole file in order. The first few chunks are held back:
        a small file is handled right here, without thread hand-offs (measured: they cost more than
        the parallelism gives on files of a few chunks), and a one-chunk file is hashed once, since
        its id is its chunk's id.
        """
        size = 0
        chunks: list[tuple[bytes, int]] = []
        window: deque[Future[tuple[bytes, int, int, bytes | None]]] = deque()
        depth = 2 * max(1, self.settings.threads) + 2
        whole = hashlib.sha256()
        hashing: deque[Future[None]] = deque()

        def store(prepared: tuple[bytes, int, int, bytes | None]) -> None:
            cid, n, codec, stored = prepared
            chunks.append((cid, n))
            if stored is not None:
                self.add_object(cid, KIND_CHUNK, codec, n, stored)

        def submit(data: bytes) -> None:
            hashing.append(self.pool.hasher.submit(whole.update, data))
            window.append(self.pool.executor.submit(self._prepare, data))
            while len(hashing) > depth:
                hashing.popleft().result()
            while len(window) >= depth:
                store(window.popleft().result())

        count = 0
        held: list[bytes] = []  # the first chunks, handled here if the file ends soon
        for data in self._chunker.cut_stream(stream):
            count += 1
            size += len(data)
            if count <= _INLINE_CHUNKS:
                held.append(data)
                continue
            for h in held:
                submit(h)
            held = []
            submit(data)
        for h in held:  # the file ended within its first few chunks
            if count > 1:
                whole.update(h)
            store(self._prepare(h))
        while window:
            store(window.popleft().result())
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
        if self.pack is None:
            return
        self.pack.flush()
        if self.pack.size >= self.settings.pack_size:
            self.commit()

    def commit(self) -> None:
        """Finish the current pack and write its index: from now on every reader sees it."""
        pack = self.pack
        if pack is None:
            return
        pack.finish()
        index_path = self.pack_path[:-5] + ".idx"
        idx.write(index_path, pack.entries)
        with self.pool._lock:
            self.pool._indexes[self.pack_path] = idx.IndexFile(index_path)
        if self._lock_fd is not None:
            unlock(self._lock_fd)
        self.pack = None
        self._lock_fd = None
        self.pending = {}

    def close(self) -> None:
        """Commit what was written and let gc run again."""
        self.commit()
        if self._gc_fd is not None:
            os.close(self._gc_fd)
            self._gc_fd = None
        if self.pool._writer is self:
            self.pool._writer = None
