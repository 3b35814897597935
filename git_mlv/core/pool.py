"""The object pool: chunks and manifests in packs under ``.git/mlv`` (DESIGN.md §3, docs/formats.md).

Readers see the packs through a ``PackSet`` (core/packset.py): the multi-pack index, the indexes of
packs written since the last consolidation, and packs a live writer is still appending to. Writing
is ``PoolWriter``'s (core/poolwriter.py); keeping the pile of packs small is core/consolidate.py's.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ..errors import CorruptObject, MissingObject
from . import index as idx
from .compress import decompress
from .fsutil import makedirs, try_lock
from .hashing import EMPTY_OID
from .manifest import Manifest, chunk_table
from .pack import (
    ENTRY_SIZE,
    HEADER,
    KIND_CHUNK,
    KIND_MANIFEST,
    MAGIC,
    SUPPORTED_VERSIONS,
    Entry,
    UnsupportedPack,
    check_stored,
    decode_entry_header,
    same_object,
    unsupported,
)
from .packset import Location, PackSet
from .poolfiles import _INLINE_CHUNKS, FileReads
from .settings import Settings

# Imported where used, not here (numpy, concurrent.futures with its logging, tempfile, the writer):
# a filter that smudges one small file needs none of them, and its start-up is most of a one-file
# checkout (issue 9, bench/RESULTS.md "read4").
if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from .poolwriter import PoolWriter

__all__ = ["Location", "Pool"]

_VANISHED_TRIES = 5  # looks at an object whose pack consolidations keep replacing (read_entry)


def _check_version(fd: int, path: str) -> None:
    """A pack opened for reading must be of a version we read (one ``pread`` per pack and process)."""
    head = os.pread(fd, HEADER.size, 0)
    if len(head) == HEADER.size:
        magic, version, _ = HEADER.unpack(head)
        if magic == MAGIC and version not in SUPPORTED_VERSIONS:
            raise UnsupportedPack(unsupported(path, version))


class Pool(FileReads):
    """Content-addressed storage of file data, deduplicated by chunk."""

    def __init__(self, root: str, settings: Settings | None = None) -> None:
        self.root = root
        self.settings = settings or Settings()
        self.pack_dir = os.path.join(root, "packs")
        self.tmp_dir = os.path.join(root, "tmp")  # files being written (gc deletes old ones)
        self.packset = PackSet(self.pack_dir)
        self._loaded = False
        self._handles: dict[str, int] = {}
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None
        self._hasher: ThreadPoolExecutor | None = None
        self._writer: PoolWriter | None = None
        # where the last one-chunk file ``resolve`` found is: the smudge that follows reads it
        # without a second search through every table (2,000 small files: 3 lookups each -> 2)
        self._last_single: tuple[bytes, Location] | None = None

    # -- loading -------------------------------------------------------------------------------
    def ensure_dirs(self) -> None:
        """Create the pool's folders."""
        makedirs(self.pack_dir)

    def refresh(self) -> None:
        """Pick up packs written by other processes since we last looked; repair orphans.

        Cheap when nothing changed: one ``stat`` of the pack folder (core/packset.py).
        """
        w = self._writer
        self.packset.refresh(w.own_packs() if w is not None else ())
        # only now: another thread that sees _loaded set looks keys up at once, and must find every
        # pack listed (marked first, a writer's thread missed stored chunks and stored them again)
        self._loaded = True

    def _ensure_loaded(self) -> None:
        if not self._loaded:
            with self._lock:
                if not self._loaded:
                    self.refresh()

    @property
    def hasher(self) -> ThreadPoolExecutor:
        """One thread for whole-file sha256, fed in order while other threads work on chunks."""
        if self._hasher is None:
            from concurrent.futures import ThreadPoolExecutor

            self._hasher = ThreadPoolExecutor(1)
        return self._hasher

    @property
    def executor(self) -> ThreadPoolExecutor:
        """Threads for hashing and (de)compression: zstd and hashlib release the GIL."""
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(max(1, self.settings.threads))
        return self._executor

    @property
    def reader(self) -> ThreadPoolExecutor:
        """Threads that decode a big file ahead of its consumer: one fewer than ``mlv.threads``
        (at least one), since whoever takes the bytes (git reading the filter's pipe, or a file
        write) keeps a core busy too. With two decoders beside git's reader on two cores, the
        threads' hand-offs cost more than the second decoder gave (bench/RESULTS.md, issue 10)."""
        if self._reader is None:
            from concurrent.futures import ThreadPoolExecutor

            self._reader = ThreadPoolExecutor(max(1, self.settings.threads - 1))
        return self._reader

    def drop_pages(self) -> None:
        """Hand back the index pages lookups touched (RSS only: the next lookup reads them again);
        for a long command's later phases that no longer look things up here."""
        self.packset.drop_pages()

    def close(self) -> None:
        """Finish any writer (consolidating if packs piled up), release files and threads."""
        if self._writer is not None:
            self._writer.close()
        for ex in (self._executor, self._hasher, self._reader):
            if ex is not None:
                ex.shutdown()
        self._executor = self._hasher = self._reader = None
        for fd in self._handles.values():
            os.close(fd)
        self._handles.clear()
        self.packset.close()
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

    def _locate_key(self, k: bytes, check_miss: bool = True) -> Location | None:
        w = self._writer
        if w is not None:
            loc = w.find(k)
            if loc is not None:
                return loc
        return self.packset.locate_key(k, check_miss)

    def _locate_file(self, raw: bytes) -> Location | None:
        """The manifest of file ``raw``, else its one chunk, else None.

        A one-chunk file has no manifest: that miss is normal, and must not make the reader check
        the whole midx (and import numpy for it) on a one-file smudge; only a file found under
        neither key does (``PackSet.midx_hid_it``)."""
        for _ in range(2):
            for kind in (KIND_MANIFEST, KIND_CHUNK):
                loc = self._locate_key(idx.key(raw, kind), check_miss=False)
                if loc is not None:
                    return loc
            if not self.packset.midx_hid_it():
                return None
        return None

    def locate_keys(self, keys: Iterable[bytes]) -> list[Location | None]:
        """``locate`` for many 33-byte keys at once (one ``searchsorted`` per table)."""
        import numpy as np

        self._ensure_loaded()
        arr = np.array(list(keys), dtype=f"S{idx.KEY_SIZE}")
        w = self._writer
        moved = w.packs_indexed() if w is not None else 0
        out = self.packset.locate_keys(arr)
        if w is not None:
            if w.own_packs():
                for i, loc in enumerate(out):
                    if loc is None:
                        out[i] = w.find(bytes(arr[i]))
            if w.packs_indexed() != moved:  # a seal moved a pack behind our back: see ``contains``
                miss = np.flatnonzero([loc is None for loc in out])
                for i, loc in zip(miss.tolist(), self.packset.locate_keys(arr[miss])):
                    out[i] = loc
        return out

    def contains(self, keys: Iterable[bytes] | np.ndarray) -> np.ndarray:
        """Boolean mask over 33-byte keys (or an S33 array): which are stored (vectorised; for
        transfer, gc and a big file's read)."""
        import numpy as np

        self._ensure_loaded()
        arr = keys if isinstance(keys, np.ndarray) else np.array(list(keys), dtype=f"S{idx.KEY_SIZE}")
        w = self._writer
        moved = w.packs_indexed() if w is not None else 0
        found = self.packset.contains(arr)
        if w is not None:
            if w.own_packs():
                for i in np.flatnonzero(~found).tolist():
                    if w.find(bytes(arr[i])) is not None:
                        found[i] = True
            # A seal that ended between the two looks moved its pack out of the writer after we
            # had asked the indexes: the indexes are asked again for what is still missing (an
            # object only ever moves from the writer to the indexes, and is in the indexes before
            # it leaves the writer). Else a fetch took the files of that pack for missing.
            if w.packs_indexed() != moved:
                miss = ~found
                found[miss] = self.packset.contains(arr[miss])
        return found

    def has_file(self, oid: str, refresh: bool = False) -> bool:
        """True when the whole content of file ``oid`` is in the pool."""
        if oid == EMPTY_OID:
            return True
        raw = bytes.fromhex(oid)
        self._ensure_loaded()
        if self._locate_file(raw) is not None:
            return True
        if refresh:
            self.refresh()
            return self._locate_file(raw) is not None
        return False

    def packs(self) -> list[str]:
        """Paths of the indexed packs."""
        self._ensure_loaded()
        return self.packset.packs()

    def index_of(self, pack: str) -> idx.IndexFile:
        """The index of an indexed pack."""
        return self.packset.index_of(pack)

    def journal(self) -> dict[bytes, Location]:
        """Entries of packs a live writer has not indexed yet."""
        self._ensure_loaded()
        return self.packset.journal()

    # -- reading -------------------------------------------------------------------------------
    def read_entry(self, loc: Location) -> tuple[Entry, bytes]:
        """The entry as its pack's header describes it, and its stored (maybe compressed) bytes.

        The header must match ``loc`` (id, kind, codec, lengths). When the pack was deleted under
        us (a consolidation), or the header disagrees with a midx record, the object is looked up
        again: after a refresh (up to ``_VANISHED_TRIES`` times), or from the pack indexes alone.
        """
        try:
            return self._read_at(loc)
        except FileNotFoundError:
            self.refresh()
        except CorruptObject:
            if not self.packset.from_midx(loc):
                raise
            self.packset.drop_midx()
        # consolidations can follow one another (several writers, each ending with one): look
        # again a few times; one retry lost that race in CI on a busy machine
        pack = loc.pack
        for _ in range(_VANISHED_TRIES):
            again = self._locate_key(idx.key(loc.entry.id, loc.entry.kind))
            if again is None:
                raise MissingObject(f"object {loc.entry.id.hex()[:12]} left the pool while it was "
                                    "read; run the command again")
            try:
                return self._read_at(again)
            except FileNotFoundError:
                pack = again.pack
                self.refresh()
        raise MissingObject(f"{pack} vanished while it was read; run the command again")

    def pack_fd(self, pack: str) -> int:
        """A read-only descriptor of ``pack`` (opened once per process, its version checked)."""
        fd = self._handles.get(pack)
        if fd is None:
            fd = os.open(pack, os.O_RDONLY)
            try:
                _check_version(fd, pack)
            except BaseException:
                os.close(fd)
                raise
            with self._lock:
                if pack in self._handles:
                    os.close(fd)
                    fd = self._handles[pack]
                else:
                    self._handles[pack] = fd
        return fd

    def let_go(self, packs: Iterable[str]) -> None:
        """Close this process's descriptors of ``packs``, deleted by it: the file system frees a
        deleted file's space only once no descriptor of it is open (gc on a full disk needs
        that room for its copies at once). No thread may be reading them."""
        with self._lock:
            for pack in packs:
                fd = self._handles.pop(pack, None)
                if fd is not None:
                    os.close(fd)

    def _read_at(self, loc: Location) -> tuple[Entry, bytes]:
        fd = self.pack_fd(loc.pack)
        e = loc.entry
        buf = os.pread(fd, ENTRY_SIZE + e.stored_len, e.offset)
        head = decode_entry_header(buf, e.offset)
        if not same_object(head, e) or len(buf) != ENTRY_SIZE + e.stored_len:
            raise CorruptObject(f"{loc.pack}: entry at {e.offset} is not what the index says")
        stored = buf[ENTRY_SIZE:]
        check_stored(head, stored, loc.pack)
        return head, stored

    def read_stored(self, loc: Location) -> bytes:
        """The stored (possibly compressed) bytes of the entry at ``loc``, header checked.

        If the object had to be found again (see ``read_entry``), its new copy is returned only
        when it is stored the same way (consolidation copies entries verbatim, so it is).
        """
        entry, stored = self.read_entry(loc)
        if (entry.codec, entry.raw_len) != (loc.entry.codec, loc.entry.raw_len):
            raise MissingObject(f"object {loc.entry.id.hex()[:12]} moved while it was read; "
                                "run the command again")
        return stored

    def read_object(self, oid: bytes, kind: int, refresh: bool = True) -> bytes:
        """The raw bytes of a stored object, checked as every local read is (``read_chunk``)."""
        loc = self.locate(oid, kind, refresh)
        if loc is None:
            raise MissingObject(f"object {oid.hex()} is not in the pool; run `git mlv pull`")
        entry, stored = self.read_entry(loc)
        return decompress(entry.codec, stored, entry.raw_len)

    def _find_file(self, oid: str, refresh: bool) -> tuple[bytes, Location] | None:
        """(raw oid, where its manifest or single chunk is), or None (``resolve``)."""
        raw = bytes.fromhex(oid)
        self._ensure_loaded()
        for again in (False, True) if refresh else (False,):
            if again:
                self.refresh()
            loc = self._locate_file(raw)
            if loc is not None:
                if loc.entry.kind != KIND_MANIFEST:
                    self._last_single = (raw, loc)
                return raw, loc
        return None

    def _manifest_bytes(self, loc: Location) -> bytes:
        entry, stored = self.read_entry(loc)  # found again if it moved: its entry then differs
        return decompress(entry.codec, stored, entry.raw_len)

    def resolve(self, oid: str, refresh: bool = False) -> list[tuple[bytes, int]] | None:
        """The (chunk id, length) list of file ``oid``, or None when its data is not here.

        One pass: the manifest if there is one, else the file is a single chunk. With ``refresh``,
        a miss looks again after picking up packs other processes wrote.
        """
        found = self._find_file(oid, refresh) if oid != EMPTY_OID else None
        if found is None:
            return [] if oid == EMPTY_OID else None
        raw, loc = found
        if loc.entry.kind == KIND_MANIFEST:
            return list(Manifest.decode(self._manifest_bytes(loc)).chunks)
        return [(raw, loc.entry.raw_len)]

    def chunk_ids(self, oid: str) -> list[bytes] | np.ndarray:
        """The chunk ids of file ``oid`` in order: for a file with a manifest, a V32 array viewing
        the manifest's bytes (``manifest.chunk_table``: 36 bytes a chunk, where ``resolve``'s
        tuples cost ~150: a 20 GiB file's checkout held 50 MB of them); raises MissingObject."""
        found = self._find_file(oid, refresh=True) if oid != EMPTY_OID else None
        if found is None:
            if oid == EMPTY_OID:
                return []
            raise MissingObject(f"data of {oid[:12]} is not in the pool; run `git mlv pull`")
        raw, loc = found
        if loc.entry.kind == KIND_MANIFEST:
            return chunk_table(self._manifest_bytes(loc))[1]["id"]
        return [raw]

    def file_chunks(self, oid: str) -> list[tuple[bytes, int]]:
        """The (chunk id, length) list of file ``oid``; raises MissingObject."""
        chunks = self.resolve(oid, refresh=True)
        if chunks is None:
            raise MissingObject(f"data of {oid[:12]} is not in the pool; run `git mlv pull`")
        return chunks

    def locate_chunks(self, ids: list[bytes]) -> list[Location]:
        """Locations of many chunks with one vectorised search per table; MissingObject if any lacks."""
        last = self._last_single
        if last is not None and len(ids) == 1 and last[0] == ids[0]:
            return [last[1]]  # found by ``resolve`` just before
        if len(ids) <= _INLINE_CHUNKS:  # numpy's per-call cost outweighs a few scalar searches
            self._ensure_loaded()
            found = [self._locate_key(idx.key(i, KIND_CHUNK)) for i in ids]
        else:
            found = self.locate_keys([idx.key(i, KIND_CHUNK) for i in ids])
        for i, loc in enumerate(found):
            if loc is None:
                raise MissingObject(f"chunk {ids[i].hex()[:12]} is not in the pool; run `git mlv pull`")
        return found  # type: ignore[return-value]

    def read_chunk(self, loc: Location) -> bytes:
        """The raw bytes of the chunk at ``loc``, checked: header CRC, id, kind and lengths as the
        index says, stored bytes against their CRC, then a decode that must give ``raw_len`` bytes.

        No sha256 here: the pool's own data needs protection from bit rot and torn writes, which the
        CRC gives at 2.3x sha256's speed; data from outside (remotes) is hashed against its id before
        it enters the pool, and fsck re-hashes everything (docs/formats.md#reading-is-verifying).
        """
        entry, stored = self.read_entry(loc)
        raw = decompress(entry.codec, stored, entry.raw_len)
        if len(raw) != entry.raw_len:
            raise CorruptObject(f"chunk {loc.entry.id.hex()} in {loc.pack} is damaged; "
                                "run `git mlv fsck`")
        return raw

    # -- writing -------------------------------------------------------------------------------
    def writer(self, gc_shared_lock: bool = True) -> PoolWriter:
        """The pool's writer (one per Pool, thread-safe); close the Pool or the writer to commit.

        A writer holds a shared lock on ``gc.lock`` for its life: gc takes it exclusively, so it never
        deletes an object a writer has just found present and decided not to write again.
        """
        w = self._writer
        if w is None:
            from .poolwriter import PoolWriter  # not at import: a smudge never writes (start-up, issue 9)

            with self._lock:
                if self._writer is None:
                    self.ensure_dirs()
                    self._writer = PoolWriter(self, gc_shared_lock)
                w = self._writer
        return w

    def commit_written(self) -> None:
        """Commit what was written, if a writer was opened: opening one only to commit nothing
        takes gc.lock, which a read-only pool refuses (a fetch that found everything here)."""
        if self._writer is not None:
            self._writer.commit()

    def flush_written(self) -> None:
        """``commit_written``'s flush: what was written becomes readable, nothing is opened."""
        if self._writer is not None:
            self._writer.flush()

    def gc_lock(self) -> int | None:
        """Take the pool's gc lock exclusively, without waiting; the fd, or None if writers are busy."""
        self.ensure_dirs()
        return try_lock(os.path.join(self.root, "gc.lock"), create=True)
