"""The storage boundary: one small ``Remote`` interface that every backend implements.

A remote is dumb storage of named blobs (DESIGN.md §3 "Remote layout")::

    packs/pack-<32 hex>.pack    packs in the local pool's format (core/pack.py)
    packs/pack-<32 hex>.idx     their indexes (core/index.py); the index is the pack's commit point
    packs/midx-<32 hex>.midx    multi-pack indexes (core/midx.py): they commit the packs they name too
    runcache/<64 hex>           run-cache entries: the oid of the entry object, as text
    repos/<40 or 64 hex>        the repositories served, by root commit (ops/remote_repos.py)

Backends only move bytes and classify failures. They never retry: a backend raises a
``RemoteError`` whose ``retryable`` flag says whether trying again may help, and
``remotes.transfer`` decides (restic's ``IsPermanentError``, STYLE.md).
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import cast

from ..errors import CorruptObject, MlvError


class Staged:
    """An object ``Remote.stage`` wrote: ``publish`` or ``discard`` it, once. This base is the
    object already put (both do nothing)."""

    def publish(self) -> None:
        """Make the object durable and visible under its name."""

    def discard(self) -> None:
        """Give up on an object not yet published (what a backend can take back, it does)."""


class RemoteError(MlvError):
    """A remote operation failed; ``retryable`` says whether trying again may help."""

    exit_code = 5

    def __init__(self, message: str, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class RemoteNotFound(RemoteError):
    """The named object does not exist on the remote (never retryable)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False)


@dataclass(frozen=True)
class FileSlice:
    """``length`` bytes of a local file from ``offset``, read only when they are sent.

    A pushed pack is runs of the local packs' bytes: as slices, a pack goes out without being
    copied into memory first (folder remotes copy them in the kernel with ``copy_file_range``).
    """

    path: str
    offset: int
    length: int

    def __len__(self) -> int:
        return self.length

    def pieces(self, size: int = 1 << 20) -> Iterator[bytes]:
        """The bytes, ``size`` at a time."""
        with open(self.path, "rb", buffering=0) as f:
            pos, end = self.offset, self.offset + self.length
            while pos < end:
                buf = os.pread(f.fileno(), min(size, end - pos), pos)
                if not buf:
                    raise CorruptObject(f"{self.path}: shorter than expected; run `git mlv fsck`")
                pos += len(buf)
                yield buf


@dataclass(frozen=True)
class ObjectInfo:
    """What a listing says about one object."""

    size: int
    mtime: float  # seconds since the epoch, by the storage's clock


#: what ``put`` stores: bytes, or parts (bytes or local file slices) stored back to back.
Part = bytes | FileSlice
Data = bytes | Sequence[Part]


def parts_of(data: Data) -> Sequence[Part]:
    """The parts of ``data``."""
    if isinstance(data, bytes | bytearray | memoryview):
        return (cast(bytes, data),)
    return data


def size_of(data: Data) -> int:
    """Total length of ``data``."""
    return sum(len(p) for p in parts_of(data))


def pieces_of(data: Data, size: int = 1 << 20) -> Iterator[bytes | memoryview]:
    """The bytes of ``data`` in order, at most ``size`` at a time, reading file slices lazily."""
    for part in parts_of(data):
        if isinstance(part, FileSlice):
            yield from part.pieces(size)
        else:
            view = memoryview(part)
            for i in range(0, len(view), size):
                yield view[i:i + size]


def read_at(data: Data, offset: int, length: int) -> bytes:
    """``length`` bytes of ``data`` from ``offset`` (reading only the file slices involved)."""
    out: list[bytes] = []
    pos = 0
    end = offset + length
    for part in parts_of(data):
        n = len(part)
        lo, hi = max(offset, pos), min(end, pos + n)
        if lo < hi:
            if isinstance(part, FileSlice):
                out.extend(FileSlice(part.path, part.offset + lo - pos, hi - lo).pieces(1 << 24))
            else:
                out.append(bytes(memoryview(part)[lo - pos:hi - pos]))
        pos += n
        if pos >= end:
            break
    return out[0] if len(out) == 1 else b"".join(out)


def join(data: Data) -> bytes:
    """``data`` as one bytes object."""
    parts = parts_of(data)
    if len(parts) == 1 and isinstance(parts[0], bytes):
        return parts[0]
    return b"".join(pieces_of(data, 1 << 24))


# Why each rule exists (borgstore's validate_name does the same):
# - relative, no "." / ".." / empty parts: a name must never climb out of the remote's root folder or
#   prefix, whatever a damaged listing or a hostile index says;
# - a small alphabet: the same name must be valid on a file system, in an S3 key and over SFTP;
# - known top-level folders with hex where an id is expected: anything else is a bug in the caller.
_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")
_PACK = re.compile(r"packs/(pack-[0-9a-f]{32}\.(pack|idx)|midx-[0-9a-f]{32}\.midx)\Z")
_RUNCACHE = re.compile(r"runcache/[0-9a-f]{64}\Z")
_REPOS = re.compile(r"repos/([0-9a-f]{40}|[0-9a-f]{64})\Z")  # a root commit (docs/remotes.md)
_TOP = ("packs", "runcache", "repos")


def validate_name(name: str) -> str:
    """Check an object name at the boundary; returns it, or raises ``RemoteError``."""
    parts = name.split("/")
    if not name or name.startswith("/") or any(not _PART.match(p) for p in parts):
        raise RemoteError(f"invalid remote object name {name!r} (must be relative, without '..')")
    if parts[0] not in _TOP:
        raise RemoteError(f"invalid remote object name {name!r} (unknown folder {parts[0]!r})")
    if not (_PACK.match(name) or _RUNCACHE.match(name) or _REPOS.match(name)):
        raise RemoteError(f"invalid remote object name {name!r} (expected a hex id)")
    return name


def is_pack_name(name: str) -> bool:
    """True for ``packs/pack-<32 hex>.pack`` or ``.idx`` or ``packs/midx-<32 hex>.midx``: anything
    else in ``packs/`` is a stray."""
    return bool(_PACK.match(name))


def validate_prefix(prefix: str) -> str:
    """Check a listing prefix: a known folder name followed by ``/``."""
    if prefix.endswith("/") and prefix[:-1] in _TOP:
        return prefix
    raise RemoteError(f"invalid remote listing prefix {prefix!r} (expected e.g. 'packs/')")


class Remote(ABC):
    """Named blobs on some storage. Names are checked with ``validate_name`` before use.

    Implementations must make ``put`` atomic (readers see the old object or the whole new one,
    never a part) and be safe to call from several threads at once.
    """

    #: a URL-like description for messages
    url: str = ""
    #: the remote's configured name, for messages that name a setting (mlv-remote.NAME.KEY)
    name: str = "NAME"
    #: how many transfers to run at once against this backend
    parallelism: int = 4
    #: unneeded bytes between two wanted objects of one pack that cost less to read than another
    #: request: a fetch reads across such a gap (remotes/fetch.py). Sized for a round trip to S3
    #: or an SFTP server; a backend whose requests cost less sets less.
    range_gap: int = 512 * 1024
    #: bytes of packs a push writes (``stage``) before it publishes and indexes them; 0: each pack
    #: is published and indexed as soon as it is written. Also what an interrupted push can lose.
    stage_bytes: int = 0

    @abstractmethod
    def exists(self, name: str) -> bool:
        """True when the object exists."""

    @abstractmethod
    def get(self, name: str) -> bytes:
        """The whole object; ``RemoteNotFound`` when absent."""

    @abstractmethod
    def get_range(self, name: str, offset: int, length: int) -> bytes:
        """``length`` bytes from ``offset``; fewer only when the object ends first."""

    @abstractmethod
    def put(self, name: str, data: Data) -> None:
        """Store ``data`` (its parts back to back) under ``name`` atomically, replacing any previous
        object. Called again with the same ``data`` on a retry."""

    def stage(self, name: str, data: Data) -> Staged:
        """Write ``data`` for ``name`` now and publish it later: ``publish()`` makes the object
        durable and visible under ``name``, ``discard()`` drops what it left behind. A push stages
        a batch of packs, then publishes each before writing its index, so that a backend whose
        durability costs a wait (the folder remote's fsync) waits for writes already under way,
        not for each in turn. Here (every backend whose ``put`` is durable once it returns), the
        object is put now: publishing does nothing, and a discarded object stays, as after an
        interrupted ``put`` (a pack without an index, which the next push collects)."""
        self.put(name, data)
        return Staged()

    @abstractmethod
    def list_info(self, prefix: str) -> dict[str, ObjectInfo]:
        """``{name: ObjectInfo}`` of the objects directly under folder ``prefix`` (e.g. ``"packs/"``):
        size, and the time the storage says the object was written (for gc's grace period)."""

    def list_staged(self, prefix: str) -> dict[str, ObjectInfo]:
        """What ``stage`` wrote under ``prefix`` and nobody published (a push killed between the
        two), by the name each would have had; ``delete(name)`` removes it. Nothing here: only a
        backend whose ``stage`` leaves something invisible behind has any."""
        return {}

    def list(self, prefix: str) -> dict[str, int]:
        """``{name: size}`` of the objects directly under folder ``prefix``."""
        return {name: info.size for name, info in self.list_info(prefix).items()}

    @abstractmethod
    def delete(self, name: str) -> None:
        """Remove the object; no error when it is already gone."""

    def close(self) -> None:  # noqa: B027 - optional: only backends with connections override it
        """Release connections."""

    def __enter__(self) -> Remote:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
