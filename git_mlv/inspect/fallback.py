"""Bytes of no known format, and pointers whose data is not here: size and sha256.

sha256 of the whole content is the file's oid (the id its pointer carries), streamed at ~1.2 GB/s
(notes/measured-here.md): the workload's 400 MB model in 0.71 s of CPU, start-up included
(bench/RESULTS.md).
"""

from __future__ import annotations

import hashlib

from ..core.pointer import MAX_SIZE, Pointer
from . import Summary
from .fmt import size_line


class NotThisFormat(ValueError):
    """The file does not parse as the format its name or magic announced."""


def digest(path: str) -> tuple[str, int]:
    """(sha256 hex, size) of the file at ``path``, read 1 MiB at a time."""
    h = hashlib.sha256()
    size = 0
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        while n := f.readinto(buf):
            h.update(view[:n])
            size += n
    return h.hexdigest(), size


def summarize(path: str, note: str | None = None) -> Summary:
    """size and sha256 (the oid), with an optional note on why there is nothing more."""
    oid, size = digest(path)
    facts = [f"sha256 {oid}"]
    if note:
        facts.append(f"note {note}")
    return Summary("binary", size, facts)


def pointer(path: str) -> Summary:
    """A pointer in place of the data: what it names, and how to get the data."""
    with open(path, "rb") as f:
        p = Pointer.try_parse(f.read(MAX_SIZE))
    if p is None:  # detect() said pointer: the file changed under us
        return summarize(path)
    return Summary("pointer", p.size, [
        f"sha256 {p.oid}",
        "note data not in the local pool: `git mlv pull` gets the checked-out files, "
        "`git mlv fetch --all` every revision's",
    ])


__all__ = ["NotThisFormat", "digest", "pointer", "size_line", "summarize"]
