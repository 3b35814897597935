"""Object ids: sha256, as 32 raw bytes inside the pool and 64 hex digits everywhere a user sees them."""

from __future__ import annotations

import hashlib
import re

from ..errors import UsageError

EMPTY_OID = hashlib.sha256(b"").hexdigest()
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def digest(data: bytes | memoryview) -> bytes:
    """The raw 32-byte sha256 of ``data``."""
    return hashlib.sha256(data).digest()


def file_oid(path: str) -> str:
    """The sha256 hex of the file at ``path`` (its oid), read in 1 MiB pieces."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def to_raw(oid: str) -> bytes:
    """64 hex digits -> 32 bytes; a clear error for anything else."""
    if not _HEX64.match(oid):
        raise UsageError(f"not a sha256 object id: {oid!r}")
    return bytes.fromhex(oid)


def is_oid(text: str) -> bool:
    """True for 64 lowercase hex digits."""
    return bool(_HEX64.match(text))
