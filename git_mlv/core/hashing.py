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


def to_raw(oid: str) -> bytes:
    """64 hex digits -> 32 bytes; a clear error for anything else."""
    if not _HEX64.match(oid):
        raise UsageError(f"not a sha256 object id: {oid!r}")
    return bytes.fromhex(oid)


def is_oid(text: str) -> bool:
    """True for 64 lowercase hex digits."""
    return bool(_HEX64.match(text))
